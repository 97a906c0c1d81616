// dynamicIndex (x[i] along axis 0) and its adjoint (zeros with row i set) on the GPU. A number
// index is checked here as on the CPU (an IndexError out of range) and the row is a strided
// copy; an index held in a device tensor is read inside the shader. That one cannot raise an
// error: an index out of range or not an integer gives NaN (the whole row, or the whole
// adjoint), never another row's numbers.
import type { Value } from "../../../effects/value.ts";
import { indexOf } from "../../primitives/dynamic-index.ts";
import { sizeOf } from "../../tensor/shape.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";
import { HELPERS } from "./wgsl-expr.ts";
import { pad, slice } from "./layout.ts";

const HEAD = `${HELPERS}
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> index: array<f32>;
// info: [n, rows (axis 0's length), row size]
fn row_index() -> i32 {
  let k = index[0];
  // (NaN and ±∞ told by their bits: a shader may assume float comparisons never see them)
  if ((bitcast<u32>(k) & 0x7fffffffu) >= 0x7f800000u || !(k >= 0.0 && k < f32(info[1]) && k == floor(k))) { return -1; }
  return i32(k);
}`;

const NAN = "js_nan()";

const ROW = `${HEAD}
${THREAD_PER_ELEMENT}
  let k = row_index();
  if (k < 0) { out[i] = ${NAN}; } else { out[i] = v[u32(k) * info[2] + i]; }
}`;

const ADJOINT = `${HEAD}
${THREAD_PER_ELEMENT}
  let k = row_index();
  if (k < 0) { out[i] = ${NAN}; } else if (i / info[2] == u32(k)) { out[i] = v[i % info[2]]; } else { out[i] = 0.0; }
}`;

const run = (ctx: GpuContext, code: string, v: DeviceTensor, index: DeviceTensor, shape: readonly number[], outShape: readonly number[]): DeviceTensor => {
  const { tensor, buffer } = ctx.allocate(outShape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const rows = shape[0]!;
  ctx.dispatch(code, Uint32Array.from([n, rows, sizeOf(shape.slice(1))]), buffer, [ctx.bufferOf(v), ctx.bufferOf(index)], ctx.grid(n));
  return tensor;
};

/** Row i of x along axis 0. */
export const dynamicIndex = (ctx: GpuContext, x: DeviceTensor, i: Value, outShape: readonly number[]): DeviceTensor => {
  const rows = x.shape[0]!;
  if (typeof i !== "number") return run(ctx, ROW, x, i as DeviceTensor, x.shape, outShape);
  const k = indexOf("dynamicIndex", i, rows, x.shape);
  const row = slice(ctx, x, x.shape.map((_, a) => (a === 0 ? k : 0)), x.shape.map((d, a) => (a === 0 ? k + 1 : d)));
  return ctx.view(row, outShape);
};

/** Zeros of `shape` with row i set to v (a number for a row of one element). */
export const dynamicIndexAdjoint = (ctx: GpuContext, v: Value, i: Value, shape: readonly number[]): DeviceTensor => {
  const rows = shape[0]!;
  const rowShape = [1, ...shape.slice(1)];
  const vt = typeof v === "number" ? ctx.upload(Float32Array.of(v), rowShape) : ctx.view(v as DeviceTensor, rowShape);
  if (typeof i !== "number") return run(ctx, ADJOINT, vt, i as DeviceTensor, shape, shape);
  const k = indexOf("dynamicIndex (its gradient)", i, rows, shape);
  return pad(ctx, vt, shape.map((_, a) => (a === 0 ? k : 0)), shape);
};
