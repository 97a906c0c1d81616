// take and its adjoint with the indices in a device tensor, read on the device (never read
// back). The gather is one thread per output element. The scatter-add is a gather too, without
// atomics: the indices' rows (or a sentinel past the axis for an index that selects nothing)
// are sorted stably on the device (sort.ts), and each output element binary-searches the run of
// its row and sums those slices in index order — the CPU loop's order, so the sums agree.
import { sizeOf } from "../../tensor/shape.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";
import { gather as sortedValues, positions } from "./sort.ts";
import { HELPERS } from "./wgsl-expr.ts";

/** WGSL: the row index k selects in an axis of `dim` (negative counts from the end), or −1. */
const ROW = `
fn selected_row(k: f32, dim: u32) -> i32 {
  // (NaN and ±∞ told by their bits: a shader may assume float comparisons never see them)
  if ((bitcast<u32>(k) & 0x7fffffffu) >= 0x7f800000u) { return -1; }
  var w = k;
  if (w < 0.0) { w = w + f32(dim); }
  if (!(w >= 0.0 && w < f32(dim) && w == floor(w))) { return -1; }
  return i32(w);
}`;

const gatherCode = (fillNaN: boolean): string => `${HELPERS}${ROW}
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> index: array<f32>;
// info: [n, m (indices), dim, inner]
${THREAD_PER_ELEMENT}
  let m = info[1]; let dim = info[2]; let inner = info[3];
  let t = i % inner;
  let j = (i / inner) % m;
  let o = i / (inner * m);
  let r = selected_row(index[j], dim);
  if (r < 0) { out[i] = ${fillNaN ? "js_nan()" : "0.0"}; } else { out[i] = x[(o * dim + u32(r)) * inner + t]; }
}`;

/** x's slices along `axis` at the indices (any shape), `fill` where an index selects nothing. */
export function takeByIndex(ctx: GpuContext, x: DeviceTensor, index: DeviceTensor, axis: number, fill: number, outShape: readonly number[]): DeviceTensor {
  const { tensor, buffer } = ctx.allocate(outShape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const info = Uint32Array.from([n, index.size, x.shape[axis]!, sizeOf(x.shape.slice(axis + 1))]);
  ctx.dispatch(gatherCode(Number.isNaN(fill)), info, buffer, [ctx.bufferOf(x), ctx.bufferOf(index)], ctx.grid(n));
  return tensor;
}

const ROWS = `${ROW}
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<f32>;
// info: [m, dim]: each index's row, or dim (past every row) when it selects none
${THREAD_PER_ELEMENT}
  let r = selected_row(index[i], info[1]);
  out[i] = select(f32(r), f32(info[1]), r < 0);
}`;

const SCATTER = `
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<f32>;
@group(0) @binding(4) var<storage, read> order: array<f32>;
// info: [n, m, dim, inner]; rows: the indices' rows sorted; order: their positions
${THREAD_PER_ELEMENT}
  let m = info[1]; let dim = info[2]; let inner = info[3];
  let t = i % inner;
  let d = (i / inner) % dim;
  let o = i / (inner * dim);
  let want = f32(d);
  var lo = 0u;
  var hi = m;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (rows[mid] < want) { lo = mid + 1u; } else { hi = mid; }
  }
  var s = 0.0;
  for (var q = lo; q < m && rows[q] == want; q++) { s += v[(o * m + u32(order[q])) * inner + t]; }
  out[i] = s;
}`;

/** Zeros of `outShape` (`dim` along `axis`) with v's slices added at the indices' rows. */
export function scatterByIndex(ctx: GpuContext, v: DeviceTensor, index: DeviceTensor, axis: number, dim: number, outShape: readonly number[]): DeviceTensor {
  const { tensor, buffer } = ctx.allocate(outShape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const m = index.size;
  // (how often an index repeats is known only on the device: the worst case, every index alike)
  ctx.checkLoops("scatterByIndex", `${m} indices`, m);
  const inner = sizeOf(v.shape.slice(axis + index.shape.length));
  const flat = ctx.view(index, [m]);
  const rows = ctx.allocate([m]);
  if (m > 0) ctx.dispatch(ROWS, Uint32Array.from([m, dim]), rows.buffer, [ctx.bufferOf(flat)], ctx.grid(m));
  const order = positions(ctx, rows.tensor, 0, m, "ascending", [m]);
  const sorted = sortedValues(ctx, rows.tensor, rows.tensor, 0, m, "ascending", [m]);
  ctx.dispatch(SCATTER, Uint32Array.from([n, m, dim, inner]), buffer, [ctx.bufferOf(v), ctx.bufferOf(sorted), ctx.bufferOf(order)], ctx.grid(n));
  for (const t of [rows.tensor, order, sorted]) t.dispose(); // (queue order: read before any later write)
  return tensor;
}
