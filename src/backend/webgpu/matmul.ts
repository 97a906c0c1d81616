// Batched matrix product on the GPU, tiled: a 16×16 workgroup computes a 64×64 block of the
// output, each thread a 4×4 patch, stepping through K in slices of 16 that the workgroup first
// loads into shared memory (each operand element read from the device buffer once per tile
// instead of once per product). Either operand may be read transposed; batch axes broadcast.
// On Mesa's llvmpipe (a CPU adapter) that shader takes about 30 s to compile (its 256 invocations
// meeting at workgroup barriers), where one without shared memory takes about 0.1 s: there each
// thread computes its 4×4 patch straight from the operands (`direct`), in the same order of k.
import { BackendError } from "../../errors.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import type { GpuContext } from "./context.ts";

const TILE = 64; // output block per workgroup (each of 16×16 threads: 4×4)
const KT = 16; // K slice held in shared memory

/** Bindings and the operand reads and patch store both kernels use. */
const prelude = (transA: boolean, transB: boolean): string => `
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
// info: [M, N, K, outBatch(batchRank), aBatchStride(batchRank), bBatchStride(batchRank)]
fn readA(base: u32, i: u32, k: u32, M: u32, K: u32) -> f32 {
  if (i >= M || k >= K) { return 0.0; }
  return a[base + ${transA ? "k * M + i" : "i * K + k"}];
}
fn readB(base: u32, k: u32, j: u32, K: u32, N: u32) -> f32 {
  if (k >= K || j >= N) { return 0.0; }
  return b[base + ${transB ? "j * K + k" : "k * N + j"}];
}
fn store(base: u32, i: u32, j: u32, v: vec4f, M: u32, N: u32) {
  if (i >= M) { return; }
  if (j < N) { out[base + i * N + j] = v.x; }
  if (j + 1u < N) { out[base + i * N + j + 1u] = v.y; }
  if (j + 2u < N) { out[base + i * N + j + 2u] = v.z; }
  if (j + 3u < N) { out[base + i * N + j + 3u] = v.w; }
}
`;

/** Statements that set aBase and bBase, the operands' offsets for output batch `z`. */
const batchBases = (z: string, batchRank: number): string => `
  var rem = ${z};
  var aBase = 0u;
  var bBase = 0u;
  for (var d = 0u; d < ${batchRank}u; d++) {
    let ax = ${Math.max(batchRank - 1, 0)}u - d;
    let c = rem % info[3u + ax];
    rem = rem / info[3u + ax];
    aBase += c * info[${3 + batchRank}u + ax];
    bBase += c * info[${3 + 2 * batchRank}u + ax];
  }`;

/** One thread per 4×4 patch, operands read from the device buffers (for llvmpipe, see above). */
const direct = (transA: boolean, transB: boolean, batchRank: number): string => `${prelude(transA, transB)}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let M = info[0]; let N = info[1]; let K = info[2];${batchBases("g.z", batchRank)}
  let i0 = g.y * 4u;
  let j0 = g.x * 4u;
  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  for (var k = 0u; k < K; k++) {
    let bv = vec4f(readB(bBase, k, j0, K, N), readB(bBase, k, j0 + 1u, K, N), readB(bBase, k, j0 + 2u, K, N), readB(bBase, k, j0 + 3u, K, N));
    acc0 += readA(aBase, i0, k, M, K) * bv;
    acc1 += readA(aBase, i0 + 1u, k, M, K) * bv;
    acc2 += readA(aBase, i0 + 2u, k, M, K) * bv;
    acc3 += readA(aBase, i0 + 3u, k, M, K) * bv;
  }
  let outBase = g.z * M * N;
  store(outBase, i0, j0, acc0, M, N);
  store(outBase, i0 + 1u, j0, acc1, M, N);
  store(outBase, i0 + 2u, j0, acc2, M, N);
  store(outBase, i0 + 3u, j0, acc3, M, N);
}
`;
const DIRECT_PATCH = 4 * 8; // output rows (and columns) per workgroup of the direct kernel

const code = (transA: boolean, transB: boolean, batchRank: number): string => `${prelude(transA, transB)}
var<workgroup> tileA: array<f32, ${TILE * KT}>; // [row][k]
var<workgroup> tileB: array<f32, ${KT * TILE}>; // [k][col]
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let M = info[0]; let N = info[1]; let K = info[2];${batchBases("wg.z", batchRank)}
  let row0 = wg.y * ${TILE}u;
  let col0 = wg.x * ${TILE}u;
  let t = l.y * 16u + l.x; // 0..255
  // the thread's 4×4 patch: rows l.y·4 + r, columns l.x·4 .. +3 as one vec4 per row
  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  let ra = l.y * 4u * ${KT}u;
  let cb = l.x * 4u;
  for (var k0 = 0u; k0 < K; k0 += ${KT}u) {
    // ${TILE * KT} elements of each tile, 4 per thread
    for (var e = 0u; e < 4u; e++) {
      let idx = t + e * 256u;
      tileA[idx] = readA(aBase, row0 + idx / ${KT}u, k0 + idx % ${KT}u, M, K);
      tileB[idx] = readB(bBase, k0 + idx / ${TILE}u, col0 + idx % ${TILE}u, K, N);
    }
    workgroupBarrier();
    for (var k = 0u; k < ${KT}u; k++) {
      let bv = vec4f(tileB[k * ${TILE}u + cb], tileB[k * ${TILE}u + cb + 1u], tileB[k * ${TILE}u + cb + 2u], tileB[k * ${TILE}u + cb + 3u]);
      acc0 += tileA[ra + k] * bv;
      acc1 += tileA[ra + ${KT}u + k] * bv;
      acc2 += tileA[ra + ${2 * KT}u + k] * bv;
      acc3 += tileA[ra + ${3 * KT}u + k] * bv;
    }
    workgroupBarrier();
  }
  let outBase = wg.z * M * N;
  let i0 = row0 + l.y * 4u;
  store(outBase, i0, col0 + cb, acc0, M, N);
  store(outBase, i0 + 1u, col0 + cb, acc1, M, N);
  store(outBase, i0 + 2u, col0 + cb, acc2, M, N);
  store(outBase, i0 + 3u, col0 + cb, acc3, M, N);
}
`;

/** a·b (last two axes; either read transposed), batch axes broadcast; `outShape` from abstract evaluation. */
export function matmul(ctx: GpuContext, a: DeviceTensor, b: DeviceTensor, transA: boolean, transB: boolean, outShape: readonly number[]): DeviceTensor {
  const r = outShape.length;
  const M = outShape[r - 2]!;
  const N = outShape[r - 1]!;
  const K = transA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
  const batch = outShape.slice(0, -2);
  const batches = batch.reduce((p, d) => p * d, 1);
  const { tensor, buffer } = ctx.allocate(outShape);
  if (tensor.size === 0) return tensor;
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (batches > limit) throw new BackendError(`matmul: ${batches} batched products exceed the device's ${limit} workgroups per dimension; reshape the batch into the rows`);
  const stridesOf = (t: DeviceTensor): number[] => {
    const s = t.shape;
    const lead = batch.length - (s.length - 2);
    const strides = new Array<number>(batch.length).fill(0);
    let n = s[s.length - 2]! * s[s.length - 1]!;
    for (let i = s.length - 3; i >= 0; i--) {
      if (s[i] !== 1) strides[i + lead] = n;
      n *= s[i]!;
    }
    return strides;
  };
  const info = Uint32Array.from([M, N, K, ...batch, ...stridesOf(a), ...stridesOf(b)]);
  if (ctx.cutsLoops) {
    // llvmpipe: the direct kernel (its K loop runs in one thread, within the adapter's loop limit)
    ctx.checkLoops("matmul", `a sum over K = ${K}`, K);
    const patches: [number, number, number] = [Math.ceil(N / DIRECT_PATCH), Math.ceil(M / DIRECT_PATCH), batches];
    ctx.dispatch(direct(transA, transB, batch.length), info, buffer, [ctx.bufferOf(a), ctx.bufferOf(b)], patches);
    return tensor;
  }
  const groups: [number, number, number] = [Math.ceil(N / TILE), Math.ceil(M / TILE), batches];
  ctx.dispatch(code(transA, transB, batch.length), info, buffer, [ctx.bufferOf(a), ctx.bufferOf(b)], groups);
  return tensor;
}
