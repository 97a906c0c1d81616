// Indexed copies on the GPU. take reads rows of x at static indices (the indices are operation
// parameters, so they travel in the parameter buffer); scatterAdd, its adjoint, is written as a
// gather too — each output row sums the input rows whose index names it (a CSR list made once
// on the CPU) — so no thread writes where another does and no atomics are needed. concat writes
// each operand into its place in one output buffer, one dispatch per operand.
import { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";

const sizeOf = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);

const HEAD = `
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;`;

const TAKE = `${HEAD}
// info: [n, m, dim, inner, indices(m)]
${THREAD_PER_ELEMENT}
  let m = info[1]; let dim = info[2]; let inner = info[3];
  let k = i % inner;
  let j = (i / inner) % m;
  let o = i / (inner * m);
  out[i] = src[(o * dim + info[4u + j]) * inner + k];
}`;

const SCATTER = `${HEAD}
// info: [n, m, dim, inner, start(dim + 1), rows(m)]: output row d sums input rows rows[start[d]..start[d+1])
${THREAD_PER_ELEMENT}
  let m = info[1]; let dim = info[2]; let inner = info[3];
  let t = i % inner;
  let d = (i / inner) % dim;
  let o = i / (inner * dim);
  var s = 0.0;
  for (var r = info[4u + d]; r < info[5u + d]; r++) {
    let j = info[5u + dim + r];
    s += src[(o * m + j) * inner + t];
  }
  out[i] = s;
}`;

/** x's slices at `indices` along `axis` (the index axes in its place); `outShape` from abstract evaluation. */
export function take(ctx: GpuContext, x: DeviceTensor, indices: Int32Array, axis: number, outShape: readonly number[]): DeviceTensor {
  const { tensor, buffer } = ctx.allocate(outShape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const info = new Uint32Array(4 + indices.length);
  info.set([n, indices.length, x.shape[axis]!, inner]);
  info.set(indices, 4);
  ctx.dispatch(TAKE, info, buffer, [ctx.bufferOf(x)], ctx.grid(n));
  return tensor;
}

/** Zeros of `outShape` with v's slices added at `indices` along `axis` (repeated indices sum). */
export function scatterAdd(ctx: GpuContext, v: DeviceTensor, indices: Int32Array, indexRank: number, axis: number, dimSize: number, outShape: readonly number[]): DeviceTensor {
  const { tensor, buffer } = ctx.allocate(outShape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const m = indices.length;
  const inner = sizeOf(v.shape.slice(axis + indexRank));
  // CSR: for each output row d, the input rows j with indices[j] = d
  const start = new Uint32Array(dimSize + 1);
  for (let j = 0; j < m; j++) start[indices[j]! + 1]!++;
  for (let d = 0; d < dimSize; d++) start[d + 1]! += start[d]!;
  const rows = new Uint32Array(m);
  const fill = start.slice(0, dimSize);
  for (let j = 0; j < m; j++) rows[fill[indices[j]!]!++] = j;
  let most = 0;
  for (let d = 0; d < dimSize; d++) most = Math.max(most, start[d + 1]! - start[d]!);
  ctx.checkLoops("scatterAdd", `the most repeated index (${most} times)`, most);
  const info = new Uint32Array(4 + dimSize + 1 + m);
  info.set([n, m, dimSize, inner]);
  info.set(start, 4);
  info.set(rows, 5 + dimSize);
  ctx.dispatch(SCATTER, info, buffer, [ctx.bufferOf(v)], ctx.grid(n));
  return tensor;
}

const PLACE = `${HEAD}
// info: [n, outer, rows, inner, outRows, offset]: src [outer, rows, inner] into out [outer, outRows, inner] from row offset
${THREAD_PER_ELEMENT}
  let rows = info[2]; let inner = info[3];
  let k = i % inner;
  let r = (i / inner) % rows;
  let o = i / (inner * rows);
  out[(o * info[4] + info[5] + r) * inner + k] = src[i];
}`;

/** The operands joined along `axis` (shapes checked by abstract evaluation). */
export function concat(ctx: GpuContext, xs: readonly DeviceTensor[], axis: number, outShape: readonly number[]): DeviceTensor {
  const { tensor, buffer } = ctx.allocate(outShape);
  if (tensor.size === 0) return tensor;
  const outer = sizeOf(outShape.slice(0, axis));
  const inner = sizeOf(outShape.slice(axis + 1));
  let offset = 0;
  for (const x of xs) {
    const rows = x.shape[axis]!;
    const n = x.size;
    if (n > 0) ctx.dispatch(PLACE, Uint32Array.from([n, outer, rows, inner, outShape[axis]!, offset]), buffer, [ctx.bufferOf(x)], ctx.grid(n));
    offset += rows;
  }
  return tensor;
}
