// sort, argsort and topK on the GPU. The order is the CPU kernels' (kernels/sort.ts): a total,
// stable order on float32 bit patterns — ascending with NaN last, or descending with NaN first;
// ±0 equal; ties by position — so the picks, and with them every gradient, are the CPU's. Keys
// are compared as u32, which does not depend on how the device treats NaN in float comparisons.
//
// Short lines: one thread per element counts the elements before it (its rank, O(n) per
// thread) and writes or reads there, in one dispatch. Long lines (where n² would keep the device
// busy for seconds): a merge sort of the positions, one dispatch per doubling of the sorted runs,
// each element finding its place in the merged run by a binary search in its partner run; then
// one dispatch writes or reads through the sorted positions.
import { sizeOf } from "../../tensor/shape.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";

/** The order of a line: ascending (sort: NaN last) or descending (topK: NaN first). */
export type SortOrder = "ascending" | "descending";

/** What happens at each element's rank (when the rank is below k). */
type Mode = "gather" | "scatter" | "positions";

/** Lines at least this long are merge-sorted (below, counting is one dispatch and cheaper). */
export const MERGE_FROM = 1024;

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

/** Whether (key a, position ra) comes before (key b, position rb) in the order. */
const before = (order: SortOrder): string => `
fn comes_before(a: u32, ra: u32, b: u32, rb: u32) -> bool {
  return a ${order === "ascending" ? "<" : ">"} b || (a == b && ra < rb);
}`;

// info (every shader): [threads, line length n, inner (the axis's stride), k (outputs per line), width]
const HEAD = (order: SortOrder): string => `${KEY}${before(order)}
@group(0) @binding(0) var<storage, read> info: array<u32>;`;

/** What the thread of the element at position r (flat index e in x) of line (o, j) does at its rank. */
const atRank = (mode: Mode): string =>
  mode === "scatter"
    ? "if (rank < k) { out[e] = v[at]; } else { out[e] = 0.0; }"
    : `if (rank < k) { out[at] = ${mode === "gather" ? "v[e]" : "f32(r)"}; }`;

const VALUES = (mode: Mode): string => `
@group(0) @binding(2) var<storage, read> x: array<f32>;
${mode === "positions" ? "" : "@group(0) @binding(3) var<storage, read> v: array<f32>;"}`;

const countingCode = (order: SortOrder, mode: Mode): string => `${HEAD(order)}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;${VALUES(mode)}
${THREAD_PER_ELEMENT}
  let n = info[1]; let inner = info[2]; let k = info[3];
  let e = i;
  let j = i % inner;
  let r = (i / inner) % n;
  let o = i / (inner * n);
  let base = o * n * inner + j;
  let mine = sort_key(x[i]);
  var rank = 0u;
  for (var t = 0u; t < n; t++) {
    if (comes_before(sort_key(x[base + t * inner]), t, mine, r)) { rank++; }
  }
  let at = (o * k + rank) * inner + j;
  ${atRank(mode)}
}`;

// The merge sort works on the positions of each line (line l = o·inner + j) laid out as [lines, n].
const LINE = `
  let n = info[1]; let inner = info[2];
  let l = i / n;
  let q = i % n;
  let base = (l / inner) * n * inner + l % inner;`;

const INIT = `
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
${THREAD_PER_ELEMENT}
  out[i] = i % info[1];
}`;

/** One merge pass: runs of `width` sorted positions merged pairwise. */
const mergeCode = (order: SortOrder): string => `${HEAD(order)}
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> src: array<u32>;
${THREAD_PER_ELEMENT}${LINE}
  let w = info[4];
  let run = q / w;
  let first = (run & ~1u) * w;
  var lo = (run ^ 1u) * w;
  var hi = min(lo + w, n);
  lo = min(lo, n);
  let r = src[i];
  let mine = sort_key(x[base + r * inner]);
  // how many of the partner run come before this element (a binary search: the run is sorted)
  let start = lo;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    let rm = src[l * n + mid];
    if (comes_before(sort_key(x[base + rm * inner]), rm, mine, r)) { lo = mid + 1u; } else { hi = mid; }
  }
  out[l * n + first + (q - run * w) + (lo - start)] = r;
}`;

/** Reads or writes through the sorted positions: the element at rank q of line l. */
const finishCode = (order: SortOrder, mode: Mode): string => `${HEAD(order)}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${mode === "positions" ? "" : "@group(0) @binding(2) var<storage, read> v: array<f32>;"}
@group(0) @binding(${mode === "positions" ? 2 : 3}) var<storage, read> sorted: array<u32>;
${THREAD_PER_ELEMENT}${LINE}
  let k = info[3];
  let rank = q;
  let r = sorted[i];
  let e = base + r * inner;
  let j = l % inner;
  let o = l / inner;
  let at = (o * k + rank) * inner + j;
  ${atRank(mode)}
}`;

/** The positions of each line in order, as a [lines, n] u32 buffer (log₂ n merge passes). */
const mergeSorted = (ctx: GpuContext, x: DeviceTensor, n: number, inner: number, order: SortOrder): DeviceTensor => {
  const total = x.size;
  const info = (width: number): Uint32Array => Uint32Array.from([total, n, inner, 0, width]);
  let cur = ctx.allocate([total]);
  ctx.dispatch(INIT, info(1), cur.buffer, [], ctx.grid(total));
  for (let width = 1; width < n; width *= 2) {
    const next = ctx.allocate([total]);
    ctx.dispatch(mergeCode(order), info(width), next.buffer, [ctx.bufferOf(x), cur.buffer], ctx.grid(total));
    cur.tensor.dispose(); // (queue order: the pass above has read it before any later write)
    cur = next;
  }
  return cur.tensor;
};

const run = (ctx: GpuContext, x: DeviceTensor, other: DeviceTensor | null, axis: number, k: number, order: SortOrder, mode: Mode, outShape: readonly number[]): DeviceTensor => {
  const { tensor, buffer } = ctx.allocate(outShape);
  if (tensor.size === 0 || x.size === 0) return tensor;
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const inputs = other === null ? [ctx.bufferOf(x)] : [ctx.bufferOf(x), ctx.bufferOf(other)];
  const info = Uint32Array.from([x.size, n, inner, k, 0]);
  if (n < MERGE_FROM) {
    ctx.dispatch(countingCode(order, mode), info, buffer, inputs, ctx.grid(x.size));
    return tensor;
  }
  const sorted = mergeSorted(ctx, x, n, inner, order);
  const through = other === null ? [ctx.bufferOf(sorted)] : [ctx.bufferOf(other), ctx.bufferOf(sorted)];
  ctx.dispatch(finishCode(order, mode), info, buffer, through, ctx.grid(x.size));
  sorted.dispose();
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
