// 2-d max / average pooling over NCHW, no padding, and the average-pool adjoint. Max pooling's
// gather and scatter (its value and its adjoint) run in WebAssembly when it is on
// (./wasm/pool-module.ts), finding each pick as they use it; else through `argmax` in JS.
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import { checkOptions, type OptionSpec } from "../options.ts";
import { Tensor, allocate, type DType } from "../tensor/tensor.ts";
import { scatterAddKernel, takeKernel } from "./shape-ops.ts";
import { registerWasmModule, reserveArena, wasmEnabled, wasmViews } from "./wasm/gemm.ts";
import { POOL_GEO_FIELDS, poolModuleBytes } from "./wasm/pool-module.ts";

const pair = (op: string, name: string, v: unknown): [number, number] => {
  const ok = (d: unknown): d is number => Number.isInteger(d) && (d as number) >= 1;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  throw new ValueError(`${op}: ${name} must be a positive integer or a pair [h, w] of them, got ${show(v)}`);
};

/** The options maxPool2d and avgPool2d accept (any other key is a ValueError): to support a new one, add its key. */
export const POOL2D_OPTIONS: OptionSpec = { size: "any", stride: "any" }; // values: checked below

/** Validates pooling options `{ size, stride? }` against x (anything with a shape). */
export function checkPool2d(
  op: string,
  x: { shape: readonly number[] },
  options: unknown,
): { size: [number, number]; stride: [number, number]; outShape: number[] } {
  const xs = x.shape;
  if (xs.length !== 4)
    throw new ShapeError(`${op}: x ${fmt(xs)} has rank ${xs.length}; x must be [N, C, H, W] (add batch/channel axes with reshape)`);
  if (typeof options !== "object" || options === null || !("size" in options))
    throw new ValueError(`${op}: options must be an object { size, stride? }, e.g. { size: 2 }, got ${show(options)}`);
  checkOptions(op, options, POOL2D_OPTIONS);
  const o = options as { size: unknown; stride?: unknown };
  const size = pair(op, "size", o.size);
  const stride = o.stride === undefined ? size : pair(op, "stride", o.stride);
  const h = xs[2]!;
  const w = xs[3]!;
  if (size[0] > h || size[1] > w)
    throw new ShapeError(`${op}: window ${size[0]}x${size[1]} is larger than the ${h}x${w} input of x ${fmt(xs)}; use a smaller size`);
  const oh = Math.floor((h - size[0]) / stride[0]) + 1;
  const ow = Math.floor((w - size[1]) / stride[1]) + 1;
  return { size, stride, outShape: [xs[0]!, xs[1]!, oh, ow] };
}

const outDims = (xs: readonly number[], size: readonly [number, number], stride: readonly [number, number]): [number, number] => [
  Math.floor((xs[2]! - size[0]) / stride[0]) + 1,
  Math.floor((xs[3]! - size[1]) / stride[1]) + 1,
];

/** Max over each window; argmax[j] is the flat x index of the first maximum (a NaN beats everything). */
export function maxPool2dKernel(
  x: Tensor, size: readonly [number, number], stride: readonly [number, number],
): { out: Tensor; argmax: Int32Array } {
  const [, , H, W] = x.shape as [number, number, number, number];
  const planes = x.shape[0]! * x.shape[1]!;
  const [OH, OW] = outDims(x.shape, size, stride);
  const [kh, kw] = size;
  const [sh, sw] = stride;
  const xb = x.buf;
  const out = allocate(x.dtype, planes * OH * OW);
  const argmax = new Int32Array(out.length);
  let j = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let i = 0; i < OH; i++)
      for (let jj = 0; jj < OW; jj++, j++) {
        const start = base + i * sh * W + jj * sw;
        let best = xb[start]!;
        let at = start;
        // Strict > keeps the first maximum; once a NaN is found nothing can beat it.
        scan: for (let a = 0; a < kh; a++) {
          const row = start + a * W;
          for (let b = 0; b < kw; b++) {
            if (best !== best) break scan;
            const v = xb[row + b]!;
            if (v > best || v !== v) {
              best = v;
              at = row + b;
            }
          }
        }
        out[j] = best;
        argmax[j] = at;
      }
  }
  return { out: new Tensor(out, [x.shape[0]!, x.shape[1]!, OH, OW]), argmax };
}

/** Mean over each window (summed in double). */
export function avgPool2dKernel(x: Tensor, size: readonly [number, number], stride: readonly [number, number]): Tensor {
  const [, , H, W] = x.shape as [number, number, number, number];
  const planes = x.shape[0]! * x.shape[1]!;
  const [OH, OW] = outDims(x.shape, size, stride);
  const [kh, kw] = size;
  const [sh, sw] = stride;
  const area = kh * kw;
  const xb = x.buf;
  const out = allocate(x.dtype, planes * OH * OW);
  let j = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let i = 0; i < OH; i++)
      for (let jj = 0; jj < OW; jj++, j++) {
        const start = base + i * sh * W + jj * sw;
        let s = 0;
        for (let a = 0; a < kh; a++) {
          const row = start + a * W;
          for (let b = 0; b < kw; b++) s += xb[row + b]!;
        }
        out[j] = s / area; // a division per window: the correctly rounded mean
      }
  }
  return new Tensor(out, [x.shape[0]!, x.shape[1]!, OH, OW]);
}

/** avgPool2dGrad's cotangent must have the pooled shape of x (on shapes alone: abstract evaluation too). */
export function checkPooledCt(
  ctShape: readonly number[], xShape: readonly number[], size: readonly [number, number], stride: readonly [number, number],
): void {
  const [N, C] = xShape as [number, number];
  const [OH, OW] = outDims(xShape, size, stride);
  if (ctShape.length !== 4 || ctShape[0] !== N || ctShape[1] !== C || ctShape[2] !== OH || ctShape[3] !== OW)
    throw new ShapeError(`avgPool2d (its gradient): cotangent ${fmt(ctShape)} does not match the pooled shape ${fmt([N, C, OH, OW])}`);
}

/** The adjoint of avgPool2d: each window gets ct/(kh*kw); overlapping windows add up (in double). */
export function avgPool2dGradKernel(
  ct: Tensor, xShape: readonly number[], size: readonly [number, number], stride: readonly [number, number],
): Tensor {
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [OH, OW] = outDims(xShape, size, stride);
  checkPooledCt(ct.shape, xShape, size, stride);
  const [kh, kw] = size;
  const [sh, sw] = stride;
  const inv = 1 / (kh * kw);
  const cb = ct.buf;
  const dx = new Float64Array(N * C * H * W);
  let j = 0;
  for (let pl = 0; pl < N * C; pl++) {
    const base = pl * H * W;
    for (let i = 0; i < OH; i++)
      for (let jj = 0; jj < OW; jj++, j++) {
        const g = cb[j]! * inv;
        const start = base + i * sh * W + jj * sw;
        for (let a = 0; a < kh; a++) {
          const row = start + a * W;
          for (let b = 0; b < kw; b++) dx[row + b] += g;
        }
      }
  }
  return new Tensor(ct.dtype === "float64" ? dx : Float32Array.from(dx), xShape);
}

// ---- max pooling's selections (see ../primitives/select.ts) ---------------------------------

type Fn = (...args: number[]) => void;
let poolK: Record<"gather32" | "scatter32" | "gather64" | "scatter64", Fn> | undefined;
registerWasmModule(poolModuleBytes, (ex) => (poolK = ex as typeof poolK));

/** Below this many input elements the copies in and out cost more than the JS loop saves. */
const POOL_MIN = 256;

interface PoolArena {
  view: Float32Array | Float64Array;
  es: 4 | 8;
  run: Fn;
  /** Byte offsets of x, the second operand, the third (out or c) and the end. */
  at: [number, number, number];
}

/**
 * The arena for one selection over x, computed in `dtype` (the dtype of the values moved), or
 * undefined (run JS). x is compared in that precision, so a float64 x with float32 values stays
 * in JS (narrowing could create ties); widening float32 is exact.
 */
function poolArena(
  x: Tensor, dtype: DType, second: number, third: number, size: readonly [number, number], stride: readonly [number, number], scatter: boolean,
): PoolArena | undefined {
  if (x.size < POOL_MIN || !wasmEnabled() || (x.dtype !== dtype && x.dtype !== "float32")) return undefined;
  const es = dtype === "float32" ? 4 : 8;
  const geo = align(POOL_GEO_FIELDS * 4);
  const xAt = geo;
  const secondAt = align(xAt + x.size * es);
  const thirdAt = align(secondAt + second * es);
  if (!reserveArena(align(thirdAt + third * es)) || poolK === undefined) return undefined;
  const v = wasmViews()!;
  const [, , H, W] = x.shape as [number, number, number, number];
  const [OH, OW] = outDims(x.shape, size, stride);
  new Int32Array(v.f32.buffer, 0, POOL_GEO_FIELDS).set([x.shape[0]! * x.shape[1]!, H, W, size[0], size[1], stride[0], stride[1], OH, OW]);
  const view = es === 4 ? v.f32 : v.f64;
  view.set(x.buf, xAt / es);
  const run = es === 4 ? (scatter ? poolK.scatter32 : poolK.gather32) : scatter ? poolK.scatter64 : poolK.gather64;
  return { view, es, run, at: [xAt, secondAt, thirdAt] };
}

const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** The values of v (x's shape) at x's max-pool picks, shaped like the pooled output, in v's dtype. */
export function maxPool2dGatherKernel(x: Tensor, v: Tensor, size: readonly [number, number], stride: readonly [number, number]): Tensor {
  const [OH, OW] = outDims(x.shape, size, stride);
  const shape = [x.shape[0]!, x.shape[1]!, OH, OW];
  const n = x.shape[0]! * x.shape[1]! * OH * OW;
  const same = v.buf === x.buf && v.dtype === x.dtype;
  const a = poolArena(x, v.dtype, same ? 0 : v.size, n, size, stride, false);
  if (a) {
    const [xAt, vAt, outAt] = a.at;
    if (!same) a.view.set(v.buf, vAt / a.es);
    a.run(xAt, same ? xAt : vAt, outAt, 0);
    return new Tensor(a.view.slice(outAt / a.es, outAt / a.es + n), shape);
  }
  const { out, argmax } = maxPool2dKernel(x, size, stride);
  if (same) return out;
  return new Tensor(takeKernel(new Tensor(v.buf, [v.size]), argmax, [n], 0).buf, shape);
}

/** Zeros shaped like x with c (the pooled shape) added at x's max-pool picks, in c's dtype. */
export function maxPool2dScatterKernel(x: Tensor, c: Tensor, size: readonly [number, number], stride: readonly [number, number]): Tensor {
  const a = poolArena(x, c.dtype, x.size, c.size, size, stride, true);
  if (a) {
    const [xAt, dxAt, cAt] = a.at;
    a.view.fill(0, dxAt / a.es, dxAt / a.es + x.size);
    a.view.set(c.buf, cAt / a.es);
    a.run(xAt, dxAt, cAt, 0);
    return new Tensor(a.view.slice(dxAt / a.es, dxAt / a.es + x.size), x.shape);
  }
  const { argmax } = maxPool2dKernel(x, size, stride);
  return new Tensor(scatterAddKernel(new Tensor(c.buf, [c.size]), argmax, [argmax.length], 0, x.size).buf, x.shape);
}
