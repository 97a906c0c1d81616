// dynamicSlice and dynamicUpdateSlice on the GPU. Starts given as numbers are checked and
// clamped here, as on the CPU: the slice is a strided copy. Starts held in device tensors (and
// vmap's one window per row) are read inside the shader from one small buffer of starts (made
// on the device by concatenating them: never read back), clamped into [0, d − size] as on the
// CPU. A start that is not an integer, which the CPU reports as an IndexError, cannot raise an
// error from a shader: the window it would select (the row's, with one window per row) is NaN.
import type { Value } from "../../../effects/value.ts";
import { clampStarts } from "../../kernels/dynamic-slice.ts";
import { sizeOf, stridesOf } from "../../tensor/shape.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";
import { HELPERS } from "./wgsl-expr.ts";
import { concat } from "./gather.ts";
import { slice } from "./layout.ts";

/**
 * The starts as one device vector [axes × rows]: start d of row b at d·rows + b (rows = 1 for a
 * single window). Numbers are uploaded; tensors are joined on the device.
 */
export const startsOnDevice = (ctx: GpuContext, starts: readonly Value[], rows: number): DeviceTensor => {
  const parts = starts.map((s) => (typeof s === "number" ? ctx.upload(new Float32Array(rows).fill(s), [rows]) : ctx.view(s as DeviceTensor, [rows])));
  if (parts.length === 0) return ctx.upload(new Float32Array(1), [1]);
  return parts.length === 1 ? parts[0]! : concat(ctx, parts, 0, [parts.length * rows]);
};

/** WGSL: `start_of(d, b, dim, size)`: start d of row b clamped into [0, dim − size]; `valid` false if one is not an integer (NaN, ±∞, a fraction). */
const START = `${HELPERS}
var<private> valid: bool = true;
fn start_of(d: u32, b: u32, dim: u32, size: u32) -> u32 {
  let s = starts[d * info[1] + b];
  if ((bitcast<u32>(s) & 0x7fffffffu) >= 0x7f800000u || s != floor(s)) { valid = false; return 0u; }
  return u32(clamp(s, 0.0, f32(dim - size)));
}`;

const sliceCode = (rank: number): string => `
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> starts: array<f32>;
// info: [n, rows, window size, x's row size, sizes(rank), x's row shape(rank), x's row strides(rank)]
${START}
${THREAD_PER_ELEMENT}
  let b = i / info[2];
  var rem = i % info[2];
  var o = b * info[3];
  for (var d = 0u; d < ${rank}u; d++) {
    let ax = ${Math.max(rank - 1, 0)}u - d;
    let size = info[4u + ax];
    let c = rem % size;
    rem = rem / size;
    o += (start_of(ax, b, info[${4 + rank}u + ax], size) + c) * info[${4 + 2 * rank}u + ax];
  }
  if (valid) { out[i] = x[o]; } else { out[i] = js_nan(); }
}`;

/** One window of `sizes` per row (or of x itself), its starts read on the device. */
const sliceOnDevice = (ctx: GpuContext, x: DeviceTensor, starts: readonly Value[], sizes: readonly number[], rows: boolean): DeviceTensor => {
  const R = rows ? x.shape[0]! : 1;
  const inner = rows ? x.shape.slice(1) : x.shape;
  const { tensor, buffer } = ctx.allocate(rows ? [R, ...sizes] : sizes);
  const n = tensor.size;
  if (n === 0) return tensor;
  const s = startsOnDevice(ctx, starts, R);
  const info = Uint32Array.from([n, R, sizeOf(sizes), sizeOf(inner), ...sizes, ...inner, ...stridesOf(inner)]);
  ctx.dispatch(sliceCode(sizes.length), info, buffer, [ctx.bufferOf(x), ctx.bufferOf(s)], ctx.grid(n));
  return tensor;
};

/** The window of `sizes` of x at the clamped starts (with `rows`, one window per row of x). */
export const dynamicSlice = (ctx: GpuContext, x: DeviceTensor, starts: readonly Value[], sizes: readonly number[], rows: boolean): DeviceTensor => {
  if (rows || starts.some((s) => typeof s !== "number")) return sliceOnDevice(ctx, x, starts, sizes, rows);
  const s = clampStarts("dynamicSlice", starts as number[], x.shape, sizes);
  return slice(ctx, x, s, s.map((st, i) => st + sizes[i]!));
};

const updateCode = (rank: number): string => `
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> u: array<f32>;
@group(0) @binding(4) var<storage, read> starts: array<f32>;
// info: [n, rows, x's row size, u's row size, x's row shape(rank), u's row shape(rank)]
${START}
${THREAD_PER_ELEMENT}
  let b = i / info[2];
  var rem = i % info[2];
  var ui = 0u;
  var ustride = 1u;
  var inside = true;
  for (var d = 0u; d < ${rank}u; d++) {
    let ax = ${Math.max(rank - 1, 0)}u - d;
    let dim = info[4u + ax];
    let len = info[${4 + rank}u + ax];
    let c = i32(rem % dim) - i32(start_of(ax, b, dim, len));
    rem = rem / dim;
    inside = inside && c >= 0 && c < i32(len);
    ui += u32(max(c, 0)) * ustride;
    ustride *= len;
  }
  if (!valid) { out[i] = js_nan(); } else if (inside) { out[i] = u[b * info[3] + ui]; } else { out[i] = x[i]; }
}`;

/** x with the update written at the clamped starts (with `rows`, row b of u into row b of x). */
export const dynamicUpdateSlice = (ctx: GpuContext, x: DeviceTensor, u: DeviceTensor, starts: readonly Value[], rows: boolean): DeviceTensor => {
  const R = rows ? x.shape[0]! : 1;
  const inner = rows ? x.shape.slice(1) : x.shape;
  const uInner = rows ? u.shape.slice(1) : u.shape;
  if (!rows && starts.every((s) => typeof s === "number")) clampStarts("dynamicUpdateSlice", starts as number[], x.shape, u.shape); // numbers: the CPU's IndexError
  const { tensor, buffer } = ctx.allocate(x.shape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const s = startsOnDevice(ctx, starts, R);
  const info = Uint32Array.from([n, R, sizeOf(inner), sizeOf(uInner), ...inner, ...uInner]);
  ctx.dispatch(updateCode(inner.length), info, buffer, [ctx.bufferOf(x), ctx.bufferOf(u.size === 0 ? x : u), ctx.bufferOf(s)], ctx.grid(n));
  return tensor;
};
