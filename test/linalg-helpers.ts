// What the linear-algebra suites share: random matrices of known conditioning (fast-check
// arbitraries), and plain-JS matrix arithmetic to check results against, independent of the
// library's kernels.
import fc from "fast-check";
import { Tensor, tensor, type DType } from "../src/index.ts";

/** Entries in [-1, 1]. */
const entries = (count: number): fc.Arbitrary<number[]> =>
  fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: count, maxLength: count });

/** A random m × n matrix (entries in [-1, 1]) with leading axes `batch`. */
export const matrixArb = (m: number, n: number, batch: readonly number[] = [], dtype: DType = "float64"): fc.Arbitrary<Tensor> => {
  const count = batch.reduce((a, b) => a * b, 1);
  return entries(count * m * n).map((v) => tensor(v, { shape: [...batch, m, n], dtype }));
};

/**
 * A random well-conditioned n × n matrix: M + (n + 1) I (strictly diagonally dominant, so
 * nonsingular with room to spare), its rows then shuffled (unless `shuffle` is false) so that LU must pivot.
 */
export const wellConditionedArb = (n: number, batch: readonly number[] = [], dtype: DType = "float64", shuffle = true): fc.Arbitrary<Tensor> => {
  const count = batch.reduce((a, b) => a * b, 1);
  return fc
    .tuple(entries(count * n * n), fc.array(fc.array(fc.nat(), { minLength: n, maxLength: n }), { minLength: count, maxLength: count }))
    .map(([v, keys]) => {
      const out = new Float64Array(count * n * n);
      for (let b = 0; b < count; b++) {
        const order = Array.from({ length: n }, (_, i) => i);
        if (shuffle) order.sort((i, j) => keys[b]![i]! - keys[b]![j]! || i - j);
        order.forEach((from, to) => {
          for (let c = 0; c < n; c++) out[b * n * n + to * n + c] = v[b * n * n + from * n + c]! + (c === from ? n + 1 : 0);
        });
      }
      return tensor(out, { shape: [...batch, n, n], dtype });
    });
};

/** A random symmetric positive-definite n × n matrix: M Mᵀ + n I (eigenvalues ≥ n). */
export const spdArb = (n: number, batch: readonly number[] = [], dtype: DType = "float64"): fc.Arbitrary<Tensor> =>
  matrixArb(n, n, batch).map((m) => {
    const count = m.size / (n * n);
    const out = new Float64Array(m.size);
    for (let b = 0; b < count; b++)
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let s = i === j ? n : 0;
          for (let k = 0; k < n; k++) s += m.buf[b * n * n + i * n + k]! * m.buf[b * n * n + j * n + k]!;
          out[b * n * n + i * n + j] = s;
        }
    return tensor(out, { shape: m.shape, dtype });
  });

/** A random symmetric n × n matrix whose eigenvalues are apart by at least `gap`: Q diag(λ) Qᵀ. */
export const separatedSymmetricArb = (n: number, gap = 0.5): fc.Arbitrary<Tensor> =>
  fc.tuple(matrixArb(n, n), entries(n)).map(([m, jitter]) => {
    const q = gramSchmidt(rowsOf(m), n);
    const lambda = jitter.map((j, i) => (i - (n - 1) / 2) * (gap + 0.5) + 0.2 * j);
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      out.push([]);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += q[i]![k]! * lambda[k]! * q[j]![k]!;
        out[i]!.push(s);
      }
    }
    return tensor(out);
  });

/** A random m × n matrix whose singular values are apart by at least 0.5 and at least 0.5. */
export const separatedSvdArb = (m: number, n: number): fc.Arbitrary<Tensor> =>
  fc.tuple(matrixArb(m, m), matrixArb(n, n), entries(Math.min(m, n))).map(([a, b, jitter]) => {
    const u = gramSchmidt(rowsOf(a), m);
    const v = gramSchmidt(rowsOf(b), n);
    const k = Math.min(m, n);
    const s = jitter.map((j, i) => 0.6 + 0.8 * (k - i) + 0.2 * j);
    const out: number[][] = [];
    for (let i = 0; i < m; i++) {
      out.push([]);
      for (let j = 0; j < n; j++) {
        let x = 0;
        for (let c = 0; c < k; c++) x += u[i]![c]! * s[c]! * v[j]![c]!;
        out[i]!.push(x);
      }
    }
    return tensor(out);
  });

/** Columns made orthonormal (modified Gram–Schmidt on M + 2I, which keeps it well conditioned). */
const gramSchmidt = (m: number[][], n: number): number[][] => {
  const a = m.map((row, i) => row.map((v, j) => v + (i === j ? 2 : 0)));
  for (let j = 0; j < n; j++) {
    for (let c = 0; c < j; c++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += a[i]![c]! * a[i]![j]!;
      for (let i = 0; i < n; i++) a[i]![j] = a[i]![j]! - d * a[i]![c]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += a[i]![j]! ** 2;
    for (let i = 0; i < n; i++) a[i]![j] = a[i]![j]! / Math.sqrt(norm);
  }
  return a;
};

/** The matrices of a stack `[..., m, n]` as arrays of rows. */
export const matricesOf = (t: Tensor): number[][][] => {
  const m = t.shape[t.shape.length - 2]!;
  const n = t.shape[t.shape.length - 1]!;
  const count = t.size / (m * n);
  return Array.from({ length: count }, (_, b) => Array.from({ length: m }, (_, i) => Array.from(t.buf.subarray(b * m * n + i * n, b * m * n + (i + 1) * n))));
};
/** One matrix as rows. */
export const rowsOf = (t: Tensor): number[][] => matricesOf(t)[0]!;
/** The vectors of a stack `[..., n]`. */
export const vectorsOf = (t: Tensor): number[][] => {
  const n = t.shape[t.shape.length - 1]!;
  return Array.from({ length: t.size / n }, (_, b) => Array.from(t.buf.subarray(b * n, (b + 1) * n)));
};

export const matmulJs = (a: number[][], b: number[][]): number[][] =>
  a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
export const transposeJs = (a: number[][]): number[][] => a[0]!.map((_, j) => a.map((row) => row[j]!));
export const identityJs = (n: number): number[][] => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
/** The largest |a_ij − b_ij|. */
export const maxDiff = (a: number[][], b: number[][]): number => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));
/** The largest |a_ij|. */
export const maxAbsJs = (a: number[][]): number => Math.max(...a.flatMap((row) => row.map(Math.abs)));
/** The determinant by cofactor expansion (small n only): independent of LU. */
export const detJs = (a: number[][]): number =>
  a.length === 1 ? a[0]![0]! : a[0]!.reduce((s, v, j) => s + (j % 2 === 0 ? 1 : -1) * v * detJs(a.slice(1).map((row) => row.filter((_, c) => c !== j))), 0);
