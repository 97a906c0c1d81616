// 2-d convolution (cross-correlation, NCHW / OIHW) by im2col + gemm, and its two adjoints.
// With WebAssembly SIMD on, each kernel runs whole in the arena (`inArena`): the operands go in
// with one block copy each, im2col / col2im / transposes (./wasm/conv-module.ts) and the gemm
// work there on each other's output, and the result comes out with one copy; float32
// convolutions are computed in single precision. Otherwise the JS path below: internals in
// float64 (col buffers and accumulators are Float64Array, so the hot loops see one array type and
// float32 inputs get double accumulation for free), products through `product`. Dilation lives in
// im2col / col2im (the taps' offsets); groups split the images into (image, group) pairs, each
// multiplied by its group's filters (see `Geo`); padding is [[top, bottom], [left, right]].
import { ShapeError, fmt } from "../errors.ts";
import { checkConv, pairOption, type Pads, type Pair } from "./conv-spec.ts";
import { Tensor, promote, type Buffer, type DType } from "../tensor/tensor.ts";
import { gemm } from "./matmul.ts";
import { WASM_MIN_FLOPS, registerWasmModule, reserveArena, useWasmGemm, wasmEnabled, wasmGemm, wasmStats, wasmViews, type Precision } from "./wasm/gemm.ts";
import { DGEMM, SGEMM, gemmModuleBytes, nr, packABytes, packBBytes, scratchBytes } from "./wasm/gemm-module.ts";
import { GEO_FIELDS, convModuleBytes } from "./wasm/conv-module.ts";

type Fn = (...args: number[]) => void;
// An own instance of the gemm module over the shared memory: its gemm takes operands already in
// the arena (wasmGemm copies them in and C out on every call).
let gemmK: Record<"sgemm" | "dgemm", Fn> | undefined;
let convK: Record<"im2col32" | "col2im32" | "transpose32" | "im2col64" | "col2im64" | "transpose64", Fn> | undefined;
registerWasmModule(() => gemmModuleBytes(), (ex) => (gemmK = ex as typeof gemmK));
registerWasmModule(convModuleBytes, (ex) => (convK = ex as typeof convK));

/**
 * Validates conv2d arguments (on anything with a shape) with zero padding a number or [ph, pw]
 * on both sides, and returns the normalized pairs and the output shape (`checkConv` takes every
 * option).
 */
export function checkConv2d(
  x: { shape: readonly number[] },
  w: { shape: readonly number[] },
  stride: unknown,
  padding: unknown,
): { stride: [number, number]; padding: [number, number]; outShape: number[] } {
  const p = pairOption("conv2d", "padding", padding, 0);
  const spec = checkConv("conv2d", x, w, { stride, padding: p });
  return { stride: [spec.stride[0], spec.stride[1]], padding: p, outShape: spec.outShape };
}

/** Padding as a kernel takes it: [ph, pw] on both sides, or [[top, bottom], [left, right]]. */
export type PaddingArg = Pair | Pads;
const padsOf = (p: PaddingArg): Pads => (typeof p[0] === "number" ? [[p[0], p[0]], [p[1] as number, p[1] as number]] : (p as Pads));

/** Dilation and groups of a kernel call (default 1 and 1). */
export interface ConvExtras {
  readonly dilation?: Pair;
  readonly groups?: number;
}
const specOf = (stride: Pair, padding: PaddingArg, more: ConvExtras) => ({ stride, padding: padsOf(padding), dilation: more.dilation, groups: more.groups });

/**
 * c[co..] += A[m, k] * B[k, n] (A[i, p] = a[ao + i * ars + p * acs], b row-major at bo): in
 * WebAssembly SIMD when available and big enough (in single precision for float32 convolutions),
 * else the JS gemm.
 */
function product(
  prec: Precision, a: Float64Array, ao: number, ars: number, acs: number, b: Float64Array, bo: number,
  c: Float64Array, co: number, m: number, k: number, n: number,
): void {
  if (useWasmGemm(prec, m, k, n)) wasmGemm(prec, a, ao, ars, acs, b, bo, n, 1, c, co, m, k, n);
  else gemm(a, ao, ars, acs, b, bo, c, co, m, k, n);
}

const precisionOf = (dtype: DType): Precision => (dtype === "float32" ? "f32" : "f64");

/**
 * Geometry shared by the three kernels. With groups, the images are (image, group) pairs — x
 * [N, G·C, H, W] read as [N·G, C, H, W] and the output [N, G·O, OH, OW] as [N·G, O, OH, OW] —
 * and image k uses the filters of group k mod G: c and o are per group, n counts pairs.
 */
interface Geo {
  n: number; c: number; h: number; w: number;
  o: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  oh: number; ow: number;
  groups: number;
}

const geo = (xs: readonly number[], ws: readonly number[], s: Pair, p: Pads, d: Pair, groups: number): Geo => {
  const oh = Math.floor((xs[2]! + p[0][0] + p[0][1] - ((ws[2]! - 1) * d[0] + 1)) / s[0]) + 1;
  const ow = Math.floor((xs[3]! + p[1][0] + p[1][1] - ((ws[3]! - 1) * d[1] + 1)) / s[1]) + 1;
  return {
    n: xs[0]! * groups, c: xs[1]! / groups, h: xs[2]!, w: xs[3]!, o: ws[0]! / groups, kh: ws[2]!, kw: ws[3]!,
    sh: s[0], sw: s[1], ph: p[0][0], pw: p[1][0], dh: d[0], dw: d[1], oh, ow, groups,
  };
};

const f64 = (b: Buffer): Float64Array => (b instanceof Float64Array ? b : Float64Array.from(b));
const finish = (out: Float64Array, dtype: DType, shape: readonly number[]): Tensor =>
  new Tensor(dtype === "float64" ? out : Float32Array.from(out), shape);

/**
 * The range [lo, hi) of output columns whose input column ow*sw - pw + kj*dw lies inside [0, w):
 * everything outside it reads padding, so the inner loops need no bounds test.
 */
const colLo = (g: Geo, kj: number): number => Math.min(g.ow, Math.max(0, Math.ceil((g.pw - kj * g.dw) / g.sw)));
const colHi = (g: Geo, kj: number, lo: number): number =>
  Math.max(lo, Math.min(g.ow, Math.floor((g.w - 1 + g.pw - kj * g.dw) / g.sw) + 1));

/** col[(c, ki, kj), (oh, ow)] = x[img, c, oh*sh - ph + ki*dh, ow*sw - pw + kj*dw], zero in the padding. */
function im2col(x: Float64Array, xo: number, g: Geo, col: Float64Array): void {
  const { c: C, h: H, w: W, kh: KH, kw: KW, sh, sw, ph, pw, dh, dw, oh: OH, ow: OW } = g;
  let r = 0;
  for (let c = 0; c < C; c++)
    for (let ki = 0; ki < KH; ki++)
      for (let kj = 0; kj < KW; kj++, r++) {
        const lo = colLo(g, kj);
        const hi = colHi(g, kj, lo);
        for (let i = 0; i < OH; i++) {
          const d = (r * OH + i) * OW;
          const ih = i * sh - ph + ki * dh;
          if (ih < 0 || ih >= H) {
            col.fill(0, d, d + OW);
            continue;
          }
          const s = xo + (c * H + ih) * W - pw + kj * dw;
          for (let j = 0; j < lo; j++) col[d + j] = 0;
          for (let j = lo; j < hi; j++) col[d + j] = x[s + j * sw]!;
          for (let j = hi; j < OW; j++) col[d + j] = 0;
        }
      }
}

/** The adjoint of im2col: scatter-add col back into dx (padding entries are dropped). */
function col2im(col: Float64Array, g: Geo, dx: Float64Array, xo: number): void {
  const { c: C, h: H, w: W, kh: KH, kw: KW, sh, sw, ph, pw, dh, dw, oh: OH, ow: OW } = g;
  let r = 0;
  for (let c = 0; c < C; c++)
    for (let ki = 0; ki < KH; ki++)
      for (let kj = 0; kj < KW; kj++, r++) {
        const lo = colLo(g, kj);
        const hi = colHi(g, kj, lo);
        for (let i = 0; i < OH; i++) {
          const ih = i * sh - ph + ki * dh;
          if (ih < 0 || ih >= H) continue;
          const d = (r * OH + i) * OW;
          const s = xo + (c * H + ih) * W - pw + kj * dw;
          for (let j = lo; j < hi; j++) dx[s + j * sw] += col[d + j]!;
        }
      }
}

// ---- the WebAssembly path ------------------------------------------------------------------

/** The arena's regions for one call: byte offsets, 64-byte aligned, 16 bytes of slack after each
 * for the vector overruns of im2col. Region 0 is always the geometry block. */
const regions = (bytes: readonly number[]): { at: number[]; end: number } => {
  const at: number[] = [];
  let end = 0;
  for (const b of [GEO_FIELDS * 4, ...bytes]) {
    at.push(end);
    end = Math.ceil((end + b + 16) / 64) * 64;
  }
  return { at, end };
};

interface Arena {
  view: Float32Array | Float64Array;
  es: 4 | 8;
  gemm: Fn;
  im2col: Fn;
  col2im: Fn;
  transpose: Fn;
}

/**
 * The arena grown to `end` bytes with the geometry written at 0, or undefined (run JS) if
 * WebAssembly is off, not loaded, or the product per image (m x k x n) is too small to pay.
 */
function enter(prec: Precision, g: Geo, m: number, k: number, n: number, end: number): Arena | undefined {
  if (!wasmEnabled() || m * k * n < WASM_MIN_FLOPS[prec]) return undefined;
  // (reserving loads the modules on first use, which fills in gemmK and convK)
  if (!reserveArena(end) || gemmK === undefined || convK === undefined) return undefined;
  const v = wasmViews()!;
  new Int32Array(v.f32.buffer, 0, GEO_FIELDS).set([g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow, g.dh, g.dw]);
  return prec === "f32"
    ? { view: v.f32, es: 4, gemm: gemmK.sgemm, im2col: convK.im2col32, col2im: convK.col2im32, transpose: convK.transpose32 }
    : { view: v.f64, es: 8, gemm: gemmK.dgemm, im2col: convK.im2col64, col2im: convK.col2im64, transpose: convK.transpose64 };
}

const gemmShape = (prec: Precision) => (prec === "f32" ? SGEMM : DGEMM);
/** The gemm's last argument: replace C, or add to it. */
const OVERWRITE = 1;
const ACCUMULATE = 0;
const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

// The gemm runs an edge tile (a panel of fewer than MR rows of A, a sliver of fewer than NR
// columns of B) through a scratch tile with a copy in and out per tile; with m and n rounded up to
// whole tiles every tile is a full one. The padding rows of A and columns of B reach only the
// padding rows and columns of C, never read back; they are zeroed all the same, as stale arena
// bytes read as floats could be subnormals, which are slow to multiply.

/** Copies src into the arena at byte offset `at` (converting if the element types differ). */
const put = (a: Arena, at: number, src: Buffer): void => a.view.set(src, at / a.es);
const zero = (a: Arena, at: number, len: number): void => {
  a.view.fill(0, at / a.es, at / a.es + len);
};
const take = (a: Arena, at: number, len: number): Buffer => a.view.slice(at / a.es, at / a.es + len);

/** The offset (in elements) of image k's filters: group k mod G's [O, C*KH*KW] block. */
const filtersOf = (g: Geo, k: number, ckk: number): number => (k % g.groups) * g.o * ckk;

/** conv2d in the arena: per image, im2col then out[img] = w[its group] x col. */
function conv2dArena(xb: Buffer, wb: Buffer, g: Geo, prec: Precision): Buffer | undefined {
  const ckk = g.c * g.kh * g.kw, ohw = g.oh * g.ow, xsz = g.c * g.h * g.w;
  const s = gemmShape(prec);
  const es = s.es;
  const mp = roundUp(g.o, s.mr);
  // The last group's filters are followed by mp - O zero rows (the others by the next group's).
  const wRows = g.groups * g.o + mp - g.o;
  const { at, end } = regions([scratchBytes(s), packABytes(s, ckk), packBBytes(s, ckk, ohw), xb.length * es, wRows * ckk * es, ckk * ohw * es, g.n * mp * ohw * es]);
  const [geoAt, scratch, pA, pB, x, w, col, out] = at as [number, number, number, number, number, number, number, number];
  const a = enter(prec, g, g.o, ckk, ohw, end);
  if (!a) return undefined;
  put(a, x, xb);
  put(a, w, wb);
  zero(a, w + g.groups * g.o * ckk * es, (mp - g.o) * ckk);
  for (let img = 0; img < g.n; img++) {
    a.im2col(x + img * xsz * es, col, geoAt);
    a.gemm(w + filtersOf(g, img, ckk) * es, col, out + img * mp * ohw * es, mp, ckk, ohw, pA, pB, scratch, OVERWRITE);
    wasmStats.calls++;
  }
  if (mp === g.o) return take(a, out, g.n * g.o * ohw);
  // Each image's first O rows.
  const res = prec === "f32" ? new Float32Array(g.n * g.o * ohw) : new Float64Array(g.n * g.o * ohw);
  const o0 = out / es;
  for (let img = 0; img < g.n; img++) res.set(a.view.subarray(o0 + img * mp * ohw, o0 + (img * mp + g.o) * ohw), img * g.o * ohw);
  return res;
}

/** The input gradient in the arena: each group's w turned once, then per image dcol = w^T ct[img], col2im. */
function inputGradArena(cb: Buffer, wb: Buffer, g: Geo, prec: Precision): Buffer | undefined {
  const ckk = g.c * g.kh * g.kw, ohw = g.oh * g.ow, xsz = g.c * g.h * g.w;
  const s = gemmShape(prec);
  const es = s.es;
  const mp = roundUp(ckk, s.mr);
  const { at, end } = regions([scratchBytes(s), packABytes(s, g.o), packBBytes(s, g.o, ohw), cb.length * es, wb.length * es, g.groups * mp * g.o * es, mp * ohw * es, g.n * xsz * es]);
  const [geoAt, scratch, pA, pB, ct, w, wT, dcol, dx] = at as [number, number, number, number, number, number, number, number, number];
  const a = enter(prec, g, ckk, g.o, ohw, end);
  if (!a) return undefined;
  put(a, ct, cb);
  put(a, w, wb);
  for (let grp = 0; grp < g.groups; grp++) {
    const turned = wT + grp * mp * g.o * es;
    a.transpose(w + grp * g.o * ckk * es, turned, g.o, ckk, ckk, g.o);
    zero(a, turned + ckk * g.o * es, (mp - ckk) * g.o);
  }
  zero(a, dx, g.n * xsz);
  for (let img = 0; img < g.n; img++) {
    a.gemm(wT + (img % g.groups) * mp * g.o * es, ct + img * g.o * ohw * es, dcol, mp, g.o, ohw, pA, pB, scratch, OVERWRITE);
    wasmStats.calls++;
    a.col2im(dcol, dx + img * xsz * es, geoAt);
  }
  return take(a, dx, g.n * xsz);
}

/**
 * Which dw block image k adds into: with `batches` > 1 the images are that many consecutive
 * batches (per-example filter gradients under vmap), each with a dw of its own; within one,
 * image k's group is k mod G. Blocks are [O, C*KH*KW], batch-major then group.
 */
const blockOf = (g: Geo, k: number, batches: number): number => Math.floor(k / (g.n / batches)) * g.groups + (k % g.groups);

/** The weight gradient in the arena, as dw^T [ckk, O] += col[img] x ct[img]^T: turning ct[img]
 * ([O, OH*OW]) is cheaper than turning col[img] ([C*KH*KW, OH*OW]); dw^T is turned at the end.
 * One dw block per batch and group (see `blockOf`). */
function weightGradArena(xb: Buffer, cb: Buffer, g: Geo, prec: Precision, batches = 1): Buffer | undefined {
  const ckk = g.c * g.kh * g.kw, ohw = g.oh * g.ow, xsz = g.c * g.h * g.w;
  const s = gemmShape(prec);
  const es = s.es;
  const mp = roundUp(ckk, s.mr), np = roundUp(g.o, nr(s));
  const blocks = batches * g.groups;
  const { at, end } = regions([scratchBytes(s), packABytes(s, ohw), packBBytes(s, ohw, np), xb.length * es, cb.length * es, ohw * np * es, mp * ohw * es, mp * np * es, blocks * ckk * g.o * es]);
  const [geoAt, scratch, pA, pB, x, ct, ctT, col, dwT, dw] = at as [number, number, number, number, number, number, number, number, number, number];
  const a = enter(prec, g, g.o, ohw, ckk, end);
  if (!a) return undefined;
  put(a, x, xb);
  put(a, ct, cb);
  zero(a, ctT, ohw * np); // the transposes write columns [0, O) only
  const per = g.n / batches;
  for (let blk = 0; blk < blocks; blk++) {
    // the block's images: batch b's images of group grp
    const b = Math.floor(blk / g.groups), grp = blk % g.groups;
    const first = b * per + grp;
    if (first >= (b + 1) * per) zero(a, dwT, mp * np); // no image (otherwise the first one's product overwrites it)
    for (let img = first; img < (b + 1) * per; img += g.groups) {
      zero(a, col + ckk * ohw * es, (mp - ckk) * ohw); // (im2col's last vector may overrun into it)
      a.im2col(x + img * xsz * es, col, geoAt);
      a.transpose(ct + img * g.o * ohw * es, ctT, g.o, ohw, ohw, np);
      a.gemm(col, ctT, dwT, mp, ohw, np, pA, pB, scratch, img === first ? OVERWRITE : ACCUMULATE);
      wasmStats.calls++;
    }
    a.transpose(dwT, dw + blk * ckk * g.o * es, ckk, g.o, np, ckk);
  }
  return take(a, dw, blocks * g.o * ckk);
}

// ---- the kernels ----------------------------------------------------------------------------

/** conv2d of x [N, C, H, W] with w [O, C / groups, KH, KW]: per image (and group) w x im2col(x). */
export function conv2dKernel(x: Tensor, w: Tensor, stride: Pair, padding: PaddingArg, more: ConvExtras = {}): Tensor {
  const spec = checkConv("conv2d", x, w, specOf(stride, padding, more));
  const g = geo(x.shape, w.shape, spec.stride, spec.padding, spec.dilation, spec.groups);
  const dtype = promote(x.dtype, w.dtype);
  const prec = precisionOf(dtype);
  const inArena = conv2dArena(x.buf, w.buf, g, prec);
  if (inArena) return new Tensor(inArena, spec.outShape);
  const ckk = g.c * g.kh * g.kw;
  const ohw = g.oh * g.ow;
  const xb = f64(x.buf);
  const wb = f64(w.buf);
  const col = new Float64Array(ckk * ohw);
  const out = new Float64Array(g.n * g.o * ohw);
  // Per image: out[img] [O, OH*OW] = w [O, C*KH*KW] x col [C*KH*KW, OH*OW].
  for (let img = 0; img < g.n; img++) {
    im2col(xb, img * g.c * g.h * g.w, g, col);
    product(prec, wb, filtersOf(g, img, ckk), ckk, 1, col, 0, out, img * g.o * ohw, g.o, ckk, ohw);
  }
  return finish(out, dtype, spec.outShape);
}

/** dx = conv2d^T(ct) in x: per image dcol = w^T ct[img], then col2im. */
export function conv2dInputGradKernel(
  ct: Tensor, w: Tensor, xShape: readonly number[], stride: Pair, padding: PaddingArg, more: ConvExtras = {},
): Tensor {
  const spec = checkConv("conv2dInputGrad", { shape: xShape }, w, specOf(stride, padding, more));
  checkCt("conv2dInputGrad", ct, spec.outShape);
  const g = geo(xShape, w.shape, spec.stride, spec.padding, spec.dilation, spec.groups);
  const dtype = promote(ct.dtype, w.dtype);
  const prec = precisionOf(dtype);
  const inArena = inputGradArena(ct.buf, w.buf, g, prec);
  if (inArena) return new Tensor(inArena, xShape);
  const ckk = g.c * g.kh * g.kw;
  const ohw = g.oh * g.ow;
  const cb = f64(ct.buf);
  const wb = f64(w.buf);
  const dcol = new Float64Array(ckk * ohw);
  const dx = new Float64Array(g.n * g.c * g.h * g.w);
  for (let img = 0; img < g.n; img++) {
    dcol.fill(0);
    // w read transposed: row stride 1, column stride ckk.
    product(prec, wb, filtersOf(g, img, ckk), 1, ckk, cb, img * g.o * ohw, dcol, 0, ckk, g.o, ohw);
    col2im(dcol, g, dx, img * g.c * g.h * g.w);
  }
  return finish(dx, dtype, xShape);
}

/**
 * dw = conv2d^T(ct) in w: sum over images of ct[img] [O, OH*OW] x col[img]^T. With `batches`
 * > 1 the images are that many consecutive batches (per-example filter gradients under vmap):
 * the result is [batches, ...wShape], each batch's sum.
 */
export function conv2dWeightGradKernel(
  x: Tensor, ct: Tensor, wShape: readonly number[], stride: Pair, padding: PaddingArg, batches = 1, more: ConvExtras = {},
): Tensor {
  const spec = checkConv("conv2dWeightGrad", x, { shape: wShape }, specOf(stride, padding, more));
  checkCt("conv2dWeightGrad", ct, spec.outShape);
  const g = geo(x.shape, wShape, spec.stride, spec.padding, spec.dilation, spec.groups);
  const dtype = promote(x.dtype, ct.dtype);
  const prec = precisionOf(dtype);
  const dwShape = batches === 1 ? wShape : [batches, ...wShape];
  const inArena = weightGradArena(x.buf, ct.buf, g, prec, batches);
  if (inArena) return new Tensor(inArena, dwShape);
  const ckk = g.c * g.kh * g.kw;
  const ohw = g.oh * g.ow;
  const xb = f64(x.buf);
  const cb = f64(ct.buf);
  const col = new Float64Array(ckk * ohw);
  const dws = new Float64Array(batches * g.groups * g.o * ckk);
  const fast = useWasmGemm(prec, g.o, ohw, ckk);
  for (let img = 0; img < g.n; img++) {
    const dw = dws.subarray(blockOf(g, img, batches) * g.o * ckk);
    im2col(xb, img * g.c * g.h * g.w, g, col);
    // col^T as B: B[q, j] = col[j * ohw + q] (row stride 1, column stride ohw).
    if (fast) wasmGemm(prec, cb, img * g.o * ohw, ohw, 1, col, 0, 1, ohw, dw, 0, g.o, ohw, ckk);
    else gemmNT(cb, img * g.o * ohw, col, dw, g.o, ohw, ckk);
  }
  return finish(dws, dtype, dwShape);
}

/** A cotangent operand of the adjoints must have conv2d's output shape (on anything with a shape). */
export const checkCt = (op: string, ct: { readonly shape: readonly number[] }, want: readonly number[]): void => {
  if (ct.shape.length !== 4 || want.some((d, i) => ct.shape[i] !== d))
    throw new ShapeError(`${op}: cotangent ${fmt(ct.shape)} does not match the conv2d output shape ${fmt(want)}`);
};

/**
 * c[m, n] += a[m, k] * b[n, k]^T: rows of a and b are both contiguous, so each output is a dot
 * product; a 2x4 tile of accumulators lets every load feed two or four products.
 */
function gemmNT(a: Float64Array, ao: number, b: Float64Array, c: Float64Array, m: number, k: number, n: number): void {
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const r0 = ao + i * k, r1 = r0 + k;
    const c0 = i * n, c1 = c0 + n;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let q = 0; q < k; q++) {
        const u = a[r0 + q]!, v = a[r1 + q]!;
        const x0 = b[b0 + q]!, x1 = b[b1 + q]!, x2 = b[b2 + q]!, x3 = b[b3 + q]!;
        s00 += u * x0; s01 += u * x1; s02 += u * x2; s03 += u * x3;
        s10 += v * x0; s11 += v * x1; s12 += v * x2; s13 += v * x3;
      }
      c[c0 + j] += s00; c[c0 + j + 1] += s01; c[c0 + j + 2] += s02; c[c0 + j + 3] += s03;
      c[c1 + j] += s10; c[c1 + j + 1] += s11; c[c1 + j + 2] += s12; c[c1 + j + 3] += s13;
    }
    for (; j < n; j++) {
      const b0 = j * k;
      let s0 = 0, s1 = 0;
      for (let q = 0; q < k; q++) {
        const x = b[b0 + q]!;
        s0 += a[r0 + q]! * x;
        s1 += a[r1 + q]! * x;
      }
      c[c0 + j] += s0;
      c[c1 + j] += s1;
    }
  }
  for (; i < m; i++) {
    const r0 = ao + i * k;
    for (let j = 0; j < n; j++) {
      const b0 = j * k;
      let s = 0;
      for (let q = 0; q < k; q++) s += a[r0 + q]! * b[b0 + q]!;
      c[i * n + j] += s;
    }
  }
}
