// 2-d max / average pooling over NCHW, and the average-pool adjoint. Max pooling's gather and
// scatter (its value and its adjoint) run in WebAssembly when it is on (./wasm/pool-module.ts),
// finding each pick as they use it; else through `argmax` in JS. Padding is made explicit: the
// input copied into a padded one (−∞ for max pooling, zeros for average pooling, which divides
// by the whole window) and pooled without padding, its adjoint cropped back — so the kernels
// without padding, W6's, stay as they are.
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import { padsOption, type Pads } from "./conv-spec.ts";
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
export const POOL2D_OPTIONS: OptionSpec = { size: "any", stride: "any", padding: "any" }; // values: checked below

type Pair = readonly [number, number];
const NO_PADDING: Pads = [[0, 0], [0, 0]];
const padded = (p: Pads): boolean => p[0][0] !== 0 || p[0][1] !== 0 || p[1][0] !== 0 || p[1][1] !== 0;

/**
 * Validates pooling options `{ size, stride?, padding? }` against x (anything with a shape).
 * Padding is a number, [ph, pw] or [[top, bottom], [left, right]], each side smaller than the
 * window (so that every window holds an element of x).
 */
export function checkPool2d(
  op: string,
  x: { shape: readonly number[] },
  options: unknown,
): { size: [number, number]; stride: [number, number]; padding: Pads; outShape: number[] } {
  const xs = x.shape;
  if (xs.length !== 4)
    throw new ShapeError(`${op}: x ${fmt(xs)} has rank ${xs.length}; x must be [N, C, H, W] (add batch/channel axes with reshape)`);
  if (typeof options !== "object" || options === null || !("size" in options))
    throw new ValueError(`${op}: options must be an object { size, stride?, padding? }, e.g. { size: 2 }, got ${show(options)}`);
  checkOptions(op, options, POOL2D_OPTIONS);
  const o = options as { size: unknown; stride?: unknown; padding?: unknown };
  const size = pair(op, "size", o.size);
  const stride = o.stride === undefined ? size : pair(op, "stride", o.stride);
  const padding = padsOption(op, o.padding, false) as Pads;
  for (const a of [0, 1] as const)
    if (padding[a][0] >= size[a] || padding[a][1] >= size[a])
      throw new ValueError(
        `${op}: padding [[${padding[0].join(", ")}], [${padding[1].join(", ")}]] is not smaller than the window ${size[0]}x${size[1]} ` +
          "on every side; a window would hold padding only — use less padding",
      );
  const h = xs[2]! + padding[0][0] + padding[0][1];
  const w = xs[3]! + padding[1][0] + padding[1][1];
  if (size[0] > h || size[1] > w)
    throw new ShapeError(`${op}: window ${size[0]}x${size[1]} is larger than the ${h}x${w} ${padded(padding) ? "padded " : ""}input of x ${fmt(xs)}; use a smaller size`);
  const [oh, ow] = outDims(xs, size, stride, padding);
  return { size, stride, padding, outShape: [xs[0]!, xs[1]!, oh, ow] };
}

const outDims = (xs: readonly number[], size: Pair, stride: Pair, padding: Pads = NO_PADDING): [number, number] => [
  Math.floor((xs[2]! + padding[0][0] + padding[0][1] - size[0]) / stride[0]) + 1,
  Math.floor((xs[3]! + padding[1][0] + padding[1][1] - size[1]) / stride[1]) + 1,
];

/** x [N, C, H, W] with `value` around each plane ([N, C, H + top + bottom, W + left + right]), in `dtype`. */
function padPlanes(x: Tensor, p: Pads, value: number, dtype: DType = x.dtype): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const PH = H + p[0][0] + p[0][1], PW = W + p[1][0] + p[1][1];
  const out = allocate(dtype, N * C * PH * PW);
  out.fill(value);
  const xb = x.buf;
  for (let pl = 0; pl < N * C; pl++)
    for (let r = 0; r < H; r++) {
      const from = (pl * H + r) * W;
      out.set(xb.subarray(from, from + W), (pl * PH + r + p[0][0]) * PW + p[1][0]);
    }
  return new Tensor(out, [N, C, PH, PW]);
}

/** The inverse of padPlanes: the [H, W] inside of each padded plane. */
function cropPlanes(t: Tensor, p: Pads): Tensor {
  const [N, C, PH, PW] = t.shape as [number, number, number, number];
  const H = PH - p[0][0] - p[0][1], W = PW - p[1][0] - p[1][1];
  const out = allocate(t.dtype, N * C * H * W);
  for (let pl = 0; pl < N * C; pl++)
    for (let r = 0; r < H; r++) {
      const from = (pl * PH + r + p[0][0]) * PW + p[1][0];
      out.set(t.buf.subarray(from, from + W), (pl * H + r) * W);
    }
  return new Tensor(out, [N, C, H, W]);
}

/**
 * Max over each window, padding counting as −∞; argmax[j] is the flat x index of the first
 * maximum (a NaN beats everything), or −1 where that is padding (a window of −∞ values only).
 */
export function maxPool2dKernel(x: Tensor, size: Pair, stride: Pair, padding: Pads = NO_PADDING): { out: Tensor; argmax: Int32Array } {
  if (!padded(padding)) return maxPoolUnpadded(x, size, stride);
  const [, , H, W] = x.shape as [number, number, number, number];
  const xp = padPlanes(x, padding, -Infinity);
  const { out, argmax } = maxPoolUnpadded(xp, size, stride);
  const [, , PH, PW] = xp.shape as [number, number, number, number];
  for (let j = 0; j < argmax.length; j++) {
    const at = argmax[j]!;
    const pl = Math.floor(at / (PH * PW));
    const r = Math.floor((at % (PH * PW)) / PW) - padding[0][0];
    const c = (at % PW) - padding[1][0];
    argmax[j] = r < 0 || r >= H || c < 0 || c >= W ? -1 : (pl * H + r) * W + c;
  }
  return { out, argmax };
}

function maxPoolUnpadded(x: Tensor, size: Pair, stride: Pair): { out: Tensor; argmax: Int32Array } {
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

/** Mean over each window (summed in double); padding counts as zeros (the divisor is the whole window). */
export function avgPool2dKernel(x: Tensor, size: Pair, stride: Pair, padding: Pads = NO_PADDING): Tensor {
  if (padded(padding)) return avgPool2dKernel(padPlanes(x, padding, 0), size, stride);
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
export function checkPooledCt(ctShape: readonly number[], xShape: readonly number[], size: Pair, stride: Pair, padding: Pads = NO_PADDING): void {
  const [N, C] = xShape as [number, number];
  const [OH, OW] = outDims(xShape, size, stride, padding);
  if (ctShape.length !== 4 || ctShape[0] !== N || ctShape[1] !== C || ctShape[2] !== OH || ctShape[3] !== OW)
    throw new ShapeError(`avgPool2d (its gradient): cotangent ${fmt(ctShape)} does not match the pooled shape ${fmt([N, C, OH, OW])}`);
}

/** The adjoint of avgPool2d: each window gets ct/(kh*kw); overlapping windows add up (in double); padding's share is dropped. */
export function avgPool2dGradKernel(ct: Tensor, xShape: readonly number[], size: Pair, stride: Pair, padding: Pads = NO_PADDING): Tensor {
  if (padded(padding)) {
    checkPooledCt(ct.shape, xShape, size, stride, padding);
    const [N, C, H, W] = xShape as [number, number, number, number];
    const paddedShape = [N, C, H + padding[0][0] + padding[0][1], W + padding[1][0] + padding[1][1]];
    return cropPlanes(avgPool2dGradKernel(ct, paddedShape, size, stride), padding);
  }
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

/** The values of v (x's shape) at x's max-pool picks, shaped like the pooled output, in v's dtype (0 at a pick in the padding). */
export function maxPool2dGatherKernel(x: Tensor, v: Tensor, size: Pair, stride: Pair, padding: Pads = NO_PADDING): Tensor {
  if (padded(padding)) {
    const xp = padPlanes(x, padding, -Infinity);
    return maxPool2dGatherKernel(xp, v === x ? xp : padPlanes(v, padding, 0), size, stride);
  }
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
  const { out, argmax } = maxPoolUnpadded(x, size, stride);
  if (same) return out;
  return new Tensor(takeKernel(new Tensor(v.buf, [v.size]), argmax, [n], 0).buf, shape);
}

/** Zeros shaped like x with c (the pooled shape) added at x's max-pool picks, in c's dtype (a pick in the padding drops its share). */
export function maxPool2dScatterKernel(x: Tensor, c: Tensor, size: Pair, stride: Pair, padding: Pads = NO_PADDING): Tensor {
  if (padded(padding)) return cropPlanes(maxPool2dScatterKernel(padPlanes(x, padding, -Infinity), c, size, stride), padding);
  const a = poolArena(x, c.dtype, x.size, c.size, size, stride, true);
  if (a) {
    const [xAt, dxAt, cAt] = a.at;
    a.view.fill(0, dxAt / a.es, dxAt / a.es + x.size);
    a.view.set(c.buf, cAt / a.es);
    a.run(xAt, dxAt, cAt, 0);
    return new Tensor(a.view.slice(dxAt / a.es, dxAt / a.es + x.size), x.shape);
  }
  const { argmax } = maxPoolUnpadded(x, size, stride);
  return new Tensor(scatterAddKernel(new Tensor(c.buf, [c.size]), argmax, [argmax.length], 0, x.size).buf, x.shape);
}
