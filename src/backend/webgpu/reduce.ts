// Reductions on the GPU: one thread per output element walks the reduced elements (the kept
// coordinates give a base offset, the reduced ones an offset each). sum; logsumexp (max, then
// Σ exp(x − max)); logSoftmax, whose thread writes its whole row of x − logsumexp; and the max/min
// selections (the first extremum, as the CPU kernels pick it): gather reads v there, scatter
// writes c there into zeros; argReduce writes its position along the axis.
import type { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";
import { HELPERS } from "./wgsl-expr.ts";

/** How the threads walk x: the kept axes (outputs) and the reduced axes, with x's strides. */
export interface Walk {
  readonly outputs: number;
  readonly count: number;
  readonly info: Uint32Array;
  readonly kept: number;
  readonly reduced: number;
}

/** How output elements walk x when `axes` are reduced. */
export const walk = (shape: readonly number[], axes: readonly number[]): Walk => {
  const strides = new Array<number>(shape.length);
  let n = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = n;
    n *= shape[i]!;
  }
  const keptAxes = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outputs = keptAxes.reduce((p, a) => p * shape[a]!, 1);
  const count = axes.reduce((p, a) => p * shape[a]!, 1);
  // info: [outputs, count, keptShape, keptStride, reducedShape, reducedStride]
  const info = Uint32Array.from([
    outputs, count,
    ...keptAxes.map((a) => shape[a]!), ...keptAxes.map((a) => strides[a]!),
    ...axes.map((a) => shape[a]!), ...axes.map((a) => strides[a]!),
  ]);
  return { outputs, count, info, kept: keptAxes.length, reduced: axes.length };
};

/** WGSL: `base` (offset of output `i`'s first element) and fn `at(r)` (offset of its r-th reduced element). */
const prologue = (kept: number, reduced: number): string => `${HELPERS}
@group(0) @binding(0) var<storage, read> info: array<u32>;
fn offset_of(r: u32) -> u32 {
  var rem = r;
  var o = 0u;
  for (var d = 0u; d < ${reduced}u; d++) {
    let ax = ${Math.max(reduced - 1, 0)}u - d;
    let e = info[${2 + 2 * kept}u + ax];
    o += (rem % e) * info[${2 + 2 * kept + reduced}u + ax];
    rem = rem / e;
  }
  return o;
}
fn base_of(i: u32) -> u32 {
  var rem = i;
  var o = 0u;
  for (var d = 0u; d < ${kept}u; d++) {
    let ax = ${Math.max(kept - 1, 0)}u - d;
    let e = info[2u + ax];
    o += (rem % e) * info[${2 + kept}u + ax];
    rem = rem / e;
  }
  return o;
}
`;

/** A reduction shader's head: bindings, and in `main` the thread's `base` and the reduced `count`. */
export const header = (w: Walk, bindings: string): string => `${prologue(w.kept, w.reduced)}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${bindings}
${THREAD_PER_ELEMENT}
  let base = base_of(i);
  let count = info[1];`;

/** Binding 2: the operand x. */
export const X = "@group(0) @binding(2) var<storage, read> x: array<f32>;";

/**
 * Dispatches a reduction shader over a fresh output of `outShape`; `passes`: how many times a
 * thread walks its reduced elements (the walks over the axes have constant trip counts: the
 * shader compiler unrolls them, and they do not count against a loop limit).
 */
export const run = (ctx: GpuContext, code: string, w: Walk, outShape: readonly number[], inputs: readonly DeviceTensor[], threads = w.outputs, passes = 3): DeviceTensor => {
  ctx.checkLoops("a reduction", `walking ${w.count} elements per output`, passes * w.count);
  const { tensor, buffer } = ctx.allocate(outShape);
  if (tensor.size === 0) return tensor;
  ctx.dispatch(code, w.info, buffer, inputs.map((t) => ctx.bufferOf(t)), ctx.grid(threads));
  return tensor;
};

/** Σ over `axes`; `outShape` with or without the kept size-1 axes. */
export const sum = (ctx: GpuContext, x: DeviceTensor, axes: readonly number[], outShape: readonly number[]): DeviceTensor => {
  const w = walk(x.shape, axes);
  return run(ctx, `${header(w, X)}
  var s = 0.0;
  for (var r = 0u; r < count; r++) { s += x[base + offset_of(r)]; }
  out[i] = s;
}`, w, outShape, [x], w.outputs, 1);
};

// the row's maximum m, and Σ exp(x − m) (m finite: else the sum would be NaN)
const LSE = `
  var m = -js_inf();
  var nan = false;
  for (var r = 0u; r < count; r++) { let v = x[base + offset_of(r)]; nan = nan || !(v == v); m = max(m, v); }
  var s = 0.0;
  let shift = select(0.0, m, abs(m) < js_inf());
  for (var r = 0u; r < count; r++) { s += exp(x[base + offset_of(r)] - shift); }
  var lse = shift + js_log(s);
  if (nan) { lse = js_nan(); }`;

/** log Σ exp over `axes`. */
export const logsumexp = (ctx: GpuContext, x: DeviceTensor, axes: readonly number[], outShape: readonly number[]): DeviceTensor => {
  const w = walk(x.shape, axes);
  return run(ctx, `${header(w, X)}${LSE}
  out[i] = lse;
}`, w, outShape, [x], w.outputs, 2);
};

/** x − logsumexp(x) over `axes` (x's shape). */
export const logSoftmax = (ctx: GpuContext, x: DeviceTensor, axes: readonly number[]): DeviceTensor => {
  const w = walk(x.shape, axes);
  return run(ctx, `${header(w, X)}${LSE}
  for (var r = 0u; r < count; r++) { let o = base + offset_of(r); out[o] = x[o] - lse; }
}`, w, x.shape, [x]);
};

/** The reduced offset (r) of the first extremum of x in output i's row (NaN wins, as the CPU kernels). */
const pick = (better: ">" | "<"): string => `
  var best = 0u;
  var bv = x[base + offset_of(0u)];
  for (var r = 1u; r < count; r++) {
    if (!(bv == bv)) { break; }
    let v = x[base + offset_of(r)];
    if (!(v == v) || v ${better} bv) { best = r; bv = v; }
  }`;

/** v at x's first extremum over `axes` (max: ">"; min: "<"). */
export const selectGather = (ctx: GpuContext, x: DeviceTensor, v: DeviceTensor, axes: readonly number[], outShape: readonly number[], better: ">" | "<"): DeviceTensor => {
  const w = walk(x.shape, axes);
  return run(ctx, `${header(w, `${X}\n@group(0) @binding(3) var<storage, read> v: array<f32>;`)}${pick(better)}
  out[i] = v[base + offset_of(best)];
}`, w, outShape, [x, v], w.outputs, 1);
};

/** Zeros shaped like x with c's element i at x's first extremum of row i. */
export const selectScatter = (ctx: GpuContext, x: DeviceTensor, c: DeviceTensor, axes: readonly number[], better: ">" | "<"): DeviceTensor => {
  const w = walk(x.shape, axes);
  return run(ctx, `${header(w, `${X}\n@group(0) @binding(3) var<storage, read> c: array<f32>;`)}${pick(better)}
  for (var r = 0u; r < count; r++) { out[base + offset_of(r)] = 0.0; }
  out[base + offset_of(best)] = c[i];
}`, w, x.shape, [x, c], w.outputs, 2);
};

/** The position along `axis` of x's first extremum of each line (NaN wins), as float32 numbers. */
export const argReduce = (ctx: GpuContext, x: DeviceTensor, axis: number, outShape: readonly number[], better: ">" | "<"): DeviceTensor => {
  const w = walk(x.shape, [axis]);
  return run(ctx, `${header(w, X)}${pick(better)}
  out[i] = f32(best);
}`, w, outShape, [x], w.outputs, 1);
};
