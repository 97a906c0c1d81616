// Batched matrix product: [...batchA, m, k] x [...batchB, k, n] -> [...broadcast, m, n].
import { ShapeError, fmt } from "../errors.ts";
import { MAX_ELEMENTS, sizeOf, sizeProblem } from "../tensor/shape.ts";
import { Tensor, allocate, allocateUnfilled, promote, type Buffer } from "../tensor/tensor.ts";
import { useWasmGemm, wasmMatmul } from "./wasm/gemm.ts";
import { threadedMatmul } from "./wasm/threads.ts";
import { transposeKernel } from "./shape-ops.ts";

const swapPerm = (rank: number): number[] => {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
};

/** A shape with its last two axes swapped (a transposed matrix view). */
const swapped = (s: readonly number[]): number[] => [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];

/**
 * Validates matmul operand shapes and returns the output shape (works on traced values too).
 * `transA`/`transB` read an operand's last two axes swapped (without copying it).
 */
export function checkMatmul(a: { shape: readonly number[] }, b: { shape: readonly number[] }, transA = false, transB = false): number[] {
  // Two plain matrices (the common case, per node of a recurrent net) without the batch arrays.
  if (a.shape.length === 2 && b.shape.length === 2) {
    const [a0, a1] = a.shape as [number, number];
    const [b0, b1] = b.shape as [number, number];
    const m = transA ? a1 : a0;
    const n = transB ? b0 : b1;
    if ((transA ? a0 : a1) === (transB ? b1 : b0) && m * n <= MAX_ELEMENTS) return [m, n];
  }
  const sa = transA && a.shape.length >= 2 ? swapped(a.shape) : a.shape;
  const sb = transB && b.shape.length >= 2 ? swapped(b.shape) : b.shape;
  if (sa.length < 2 || sb.length < 2)
    throw new ShapeError(
      `matmul: shapes ${fmt(sa)} and ${fmt(sb)} — both operands need rank >= 2 (got ${sa.length} and ${sb.length}); ` +
        `reshape a vector to [1, n] or [n, 1] first`,
    );
  const k = sa[sa.length - 1]!;
  const kb = sb[sb.length - 2]!;
  if (k !== kb)
    throw new ShapeError(
      `matmul: shapes ${fmt(sa)} and ${fmt(sb)} do not align: a has ${k} columns but b has ${kb} rows; ` +
        `transpose or reshape an operand`,
    );
  const ba = sa.slice(0, -2);
  const bb = sb.slice(0, -2);
  const r = Math.max(ba.length, bb.length);
  const batch = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = ba[ba.length - r + i] ?? 1;
    const db = bb[bb.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new ShapeError(
        `matmul: shapes ${fmt(sa)} and ${fmt(sb)} have batch dims ${fmt(ba)} and ${fmt(bb)} that do not broadcast ` +
          `(batch axis ${i - r} has ${da} vs ${db}); each batch axis must match or be 1`,
      );
    batch[i] = da === 1 ? db : da;
  }
  const out = [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!];
  const problem = sizeProblem(out);
  if (problem !== undefined) throw new ShapeError(`matmul: the product of ${fmt(sa)} and ${fmt(sb)} would have shape ${fmt(out)}, which has ${problem}`);
  return out;
}

// k-panel height: a KB x n panel of b stays in L2 while every row of a sweeps over it.
const KB = 128;

/**
 * c[m, n] += A[m, k] * b[k, n] with A[i, p] = a[ao + i * ars + p * acs] (so A may be a transposed
 * view) and b, c row-major. i-k-j order: the inner loop streams contiguous rows of b and c with
 * the A scalars hoisted. Each pass takes two rows of c and four rows of b, so every load of b
 * feeds two rows and every load/store of c carries four products (summed in double).
 */
export function gemm(
  a: Float64Array, ao: number, ars: number, acs: number,
  b: Float64Array, bo: number,
  c: Float64Array, co: number,
  m: number, k: number, n: number,
): void {
  for (let k0 = 0; k0 < k; k0 += KB) {
    const k1 = k0 + KB < k ? k0 + KB : k;
    let i = 0;
    for (; i + 1 < m; i += 2) {
      const c0 = co + i * n, c1 = c0 + n;
      const r0 = ao + i * ars, r1 = r0 + ars;
      let p = k0;
      for (; p + 3 < k1; p += 4) {
        const q0 = p * acs, q1 = q0 + acs, q2 = q1 + acs, q3 = q2 + acs;
        const a0 = a[r0 + q0]!, a1 = a[r0 + q1]!, a2 = a[r0 + q2]!, a3 = a[r0 + q3]!;
        const e0 = a[r1 + q0]!, e1 = a[r1 + q1]!, e2 = a[r1 + q2]!, e3 = a[r1 + q3]!;
        const b0 = bo + p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
        for (let j = 0; j < n; j++) {
          const x0 = b[b0 + j]!, x1 = b[b1 + j]!, x2 = b[b2 + j]!, x3 = b[b3 + j]!;
          c[c0 + j] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
          c[c1 + j] += e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3;
        }
      }
      // Tails of 2 and 1 rows of b (small k, as in conv gradients, makes these matter).
      if (p + 1 < k1) {
        const q0 = p * acs, q1 = q0 + acs;
        const a0 = a[r0 + q0]!, a1 = a[r0 + q1]!, e0 = a[r1 + q0]!, e1 = a[r1 + q1]!;
        const b0 = bo + p * n, b1 = b0 + n;
        for (let j = 0; j < n; j++) {
          const x0 = b[b0 + j]!, x1 = b[b1 + j]!;
          c[c0 + j] += a0 * x0 + a1 * x1;
          c[c1 + j] += e0 * x0 + e1 * x1;
        }
        p += 2;
      }
      if (p < k1) {
        const a0 = a[r0 + p * acs]!, e0 = a[r1 + p * acs]!;
        const b0 = bo + p * n;
        for (let j = 0; j < n; j++) {
          const x = b[b0 + j]!;
          c[c0 + j] += a0 * x;
          c[c1 + j] += e0 * x;
        }
      }
    }
    if (i < m) {
      // Odd last row.
      const c0 = co + i * n;
      const r0 = ao + i * ars;
      for (let p = k0; p < k1; p++) {
        const a0 = a[r0 + p * acs]!;
        const b0 = bo + p * n;
        for (let j = 0; j < n; j++) c[c0 + j] += a0 * b[b0 + j]!;
      }
    }
  }
}

/**
 * gemm only ever sees Float64Array: one element kind keeps V8's code monomorphic (mixing in
 * Float32Array cost ~30% here), and float32 operands get double accumulation. The copies are
 * O(n^2) against O(n^3) work. (The WebAssembly path, taken when available and big enough, computes
 * float32 products in single precision instead: within 1e-5 relative of this one. Its float64
 * products sum in k order like this kernel, except the dot-product kernel for a row vector times a
 * transposed matrix (and matrix times column), which splits k across SIMD lanes: ~1e-12 relative.)
 */
const f64 = (buf: Buffer): Float64Array => (buf instanceof Float64Array ? buf : Float64Array.from(buf));

/** The WebAssembly product, split across two threads when setMatmulThreads(2) asked for it and it is large. */
const wasmProduct: typeof wasmMatmul = (p, a, ao, ars, acs, b, bo, brs, bcs, c, co, m, k, n) => {
  if (!threadedMatmul(p, a, ao, ars, acs, b, bo, brs, bcs, c, co, m, k, n)) wasmMatmul(p, a, ao, ars, acs, b, bo, brs, bcs, c, co, m, k, n);
};

export function matmulKernel(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const outShape = checkMatmul(a, b, transA, transB);
  const r = outShape.length;
  const m = outShape[r - 2]!;
  const n = outShape[r - 1]!;
  const k = transA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
  const dtype = promote(a.dtype, b.dtype);
  const batch = outShape.slice(0, -2);
  const nb = sizeOf(batch);
  if (nb === 0 || m === 0 || n === 0 || k === 0) return new Tensor(allocate(dtype, sizeOf(outShape)), outShape);
  // WebAssembly SIMD when available and big enough: float32 in single precision (sgemm), float64
  // (or mixed, promoted) in double (dgemm), operands read as they are, output in the result dtype.
  const prec = dtype === "float32" ? "f32" : "f64";
  const fast = useWasmGemm(prec, m, k, n);
  // The JS gemm reads b row-major: give it a transposed copy.
  if (transB && !fast) return matmulKernel(a, transposeKernel(b, swapPerm(b.shape.length)), transA, false);
  // Element strides of one matrix: A[i, p] and B[p, j], transposed views included.
  const ars = transA ? 1 : k, acs = transA ? m : 1;
  const brs = transB ? 1 : n, bcs = transB ? k : 1;
  // (the WebAssembly products write every element of c: see wasmMatmul)
  const c = fast ? allocateUnfilled(dtype, sizeOf(outShape)) : new Float64Array(sizeOf(outShape));
  const abuf = fast ? a.buf : f64(a.buf);
  const bbuf = fast ? b.buf : f64(b.buf);
  const nbd = batch.length;
  if (nbd === 0) {
    if (fast) wasmProduct(prec, abuf, 0, ars, acs, bbuf, 0, brs, bcs, c, 0, m, k, n);
    else gemm(abuf as Float64Array, 0, ars, acs, bbuf as Float64Array, 0, c as Float64Array, 0, m, k, n);
    return new Tensor(dtype === "float64" || fast ? c : Float32Array.from(c), outShape);
  }
  // Per batch axis, the matrix stride of each operand (0 where it broadcasts).
  const sa = new Array<number>(nbd).fill(0);
  const sb = new Array<number>(nbd).fill(0);
  let acc = m * k;
  for (let i = a.shape.length - 3, o = nbd - 1; i >= 0; i--, o--) {
    const d = a.shape[i]!;
    if (d !== 1) sa[o] = acc;
    acc *= d;
  }
  acc = k * n;
  for (let i = b.shape.length - 3, o = nbd - 1; i >= 0; i--, o--) {
    const d = b.shape[i]!;
    if (d !== 1) sb[o] = acc;
    acc *= d;
  }
  const idx = new Array<number>(nbd).fill(0);
  let ao = 0;
  let bo = 0;
  for (let t = 0; t < nb; t++) {
    if (fast) wasmProduct(prec, abuf, ao, ars, acs, bbuf, bo, brs, bcs, c, t * m * n, m, k, n);
    else gemm(abuf as Float64Array, ao, ars, acs, bbuf as Float64Array, bo, c as Float64Array, t * m * n, m, k, n);
    // Odometer increment over the batch index, updating both offsets incrementally.
    for (let ax = nbd - 1; ax >= 0; ax--) {
      idx[ax]++;
      if (idx[ax]! < batch[ax]!) {
        ao += sa[ax]!;
        bo += sb[ax]!;
        break;
      }
      ao -= sa[ax]! * (batch[ax]! - 1);
      bo -= sb[ax]! * (batch[ax]! - 1);
      idx[ax] = 0;
    }
  }
  return new Tensor(dtype === "float64" || fast ? c : Float32Array.from(c), outShape);
}
