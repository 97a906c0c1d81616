// sort, argsort and topK on the GPU: one thread per element finds its rank in its line by
// counting the elements that come before it, then writes (or reads) at that rank — no
// comparison network and no synchronization, O(n) per thread (O(n²) per line of n elements).
// The order is the CPU kernels' (kernels/sort.ts): a total, stable order on float32 bit
// patterns — ascending with NaN last, or descending with NaN first; ±0 equal; ties by position —
// so the picks, and with them every gradient, are the CPU's. Keys are compared as u32, which
// does not depend on how the device treats NaN in float comparisons.
import type { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";

/** The order of a line: ascending (sort: NaN last) or descending (topK: NaN first). */
export type SortOrder = "ascending" | "descending";

/** What each thread does at its element's rank (when the rank is below k). */
type Mode = "gather" | "scatter" | "positions";

/** A u32 key whose unsigned order is the float order, every NaN above +∞, and −0 equal to +0. */
const KEY = `
fn sort_key(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  let mag = b & 0x7fffffffu;
  if (mag > 0x7f800000u) { return 0xffffffffu; }
  if (mag == 0u) { return 0x80000000u; }
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}`;

const code = (order: SortOrder, mode: Mode): string => `${KEY}
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${mode === "positions" ? "" : "@group(0) @binding(3) var<storage, read> v: array<f32>;"}
// info: [elements, line length n, inner (the axis's stride), k (outputs per line)]
${THREAD_PER_ELEMENT}
  let n = info[1];
  let inner = info[2];
  let k = info[3];
  let j = i % inner;
  let r = (i / inner) % n;
  let o = i / (inner * n);
  let base = o * n * inner + j;
  let mine = sort_key(x[i]);
  var rank = 0u;
  for (var t = 0u; t < n; t++) {
    let kt = sort_key(x[base + t * inner]);
    if (kt ${order === "ascending" ? "<" : ">"} mine || (kt == mine && t < r)) { rank++; }
  }
  let at = (o * k + rank) * inner + j;
  ${
    mode === "scatter"
      ? "if (rank < k) { out[i] = v[at]; } else { out[i] = 0.0; }"
      : `if (rank < k) { out[at] = ${mode === "gather" ? "v[i]" : "f32(r)"}; }`
  }
}`;

const run = (ctx: GpuContext, x: DeviceTensor, other: DeviceTensor | null, axis: number, k: number, order: SortOrder, mode: Mode, outShape: readonly number[]): DeviceTensor => {
  const { tensor, buffer } = ctx.allocate(outShape);
  if (tensor.size === 0 || x.size === 0) return tensor;
  const n = x.shape[axis]!;
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const inputs = other === null ? [ctx.bufferOf(x)] : [ctx.bufferOf(x), ctx.bufferOf(other)];
  ctx.dispatch(code(order, mode), Uint32Array.from([x.size, n, inner, k]), buffer, inputs, ctx.grid(x.size));
  return tensor;
};

/** v at the first k places of x's order along `axis` (sort: k = the axis' length; topK: the last axis). */
export const gather = (ctx: GpuContext, x: DeviceTensor, v: DeviceTensor, axis: number, k: number, order: SortOrder, outShape: readonly number[]): DeviceTensor =>
  run(ctx, x, v, axis, k, order, "gather", outShape);

/** The adjoint of `gather`: zeros shaped like x with c's element at each picked place. */
export const scatter = (ctx: GpuContext, x: DeviceTensor, c: DeviceTensor, axis: number, k: number, order: SortOrder): DeviceTensor =>
  run(ctx, x, c, axis, k, order, "scatter", x.shape);

/** The positions along `axis` of the first k places of x's order, as float32 numbers (exact up to 2^24). */
export const positions = (ctx: GpuContext, x: DeviceTensor, axis: number, k: number, order: SortOrder, outShape: readonly number[]): DeviceTensor =>
  run(ctx, x, null, axis, k, order, "positions", outShape);
