// LU factorization with partial pivoting, P A = L U, in float64. Its result is packed into one
// tensor [..., n, 2n + 1] (a primitive gives one value): columns 0..n−1 hold L below the
// diagonal (its unit diagonal implied) and U on and above it, as LAPACK's getrf; columns
// n..2n−1 hold the permutation matrix P; column 2n holds det(P) = ±1 in every row.
// A column with no nonzero pivot (a singular matrix) is left as it is: U gets a zero on its
// diagonal and the factorization goes on, so det is 0 rather than an error.
import type { Tensor } from "../../tensor/tensor.ts";
import { checkSquare, countOf, output, readMatrix, writeAt } from "./matrices.ts";

export const checkLu = (shape: readonly number[], op = "linalg.lu"): readonly number[] => {
  const n = checkSquare(op, shape);
  return [...shape.slice(0, -1), 2 * n + 1];
};

export const luKernel = (a: Tensor): Tensor => {
  const outShape = checkLu(a.shape);
  const n = a.shape[a.shape.length - 1]!;
  const w = 2 * n + 1;
  const out = output(outShape, a.dtype);
  const count = countOf(a.shape);
  for (let b = 0; b < count; b++) {
    const m = readMatrix(a, b, n, n);
    const perm = Array.from({ length: n }, (_, i) => i);
    let parity = 1;
    for (let j = 0; j < n; j++) {
      let p = j;
      for (let i = j + 1; i < n; i++) if (Math.abs(m[i * n + j]!) > Math.abs(m[p * n + j]!)) p = i;
      if (p !== j) {
        for (let c = 0; c < n; c++) {
          const t = m[j * n + c]!;
          m[j * n + c] = m[p * n + c]!;
          m[p * n + c] = t;
        }
        const t = perm[j]!;
        perm[j] = perm[p]!;
        perm[p] = t;
        parity = -parity;
      }
      const pivot = m[j * n + j]!;
      if (pivot === 0) continue;
      for (let i = j + 1; i < n; i++) {
        const f = m[i * n + j]! / pivot;
        m[i * n + j] = f;
        if (f !== 0) for (let c = j + 1; c < n; c++) m[i * n + c] = m[i * n + c]! - f * m[j * n + c]!;
      }
    }
    const packed = new Float64Array(n * w);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < n; c++) packed[i * w + c] = m[i * n + c]!;
      packed[i * w + n + perm[i]!] = 1; // row i of P A is row perm[i] of A
      packed[i * w + 2 * n] = parity;
    }
    writeAt(out, b, n * w, packed);
  }
  return out;
};
