// Eigendecomposition of symmetric matrices by the cyclic Jacobi method, in float64: rotations
// zero each off-diagonal entry in turn until the matrix is diagonal to working precision
// (Jacobi is slower than tridiagonal QR but as accurate as any method, small eigenvalues
// included). The kernel decomposes the symmetric part (A + Aᵀ)/2. Its result is packed into one
// tensor [..., n + 1, n]: rows 0..n−1 hold the eigenvectors as columns, row n the eigenvalues in
// ascending order.
import type { Tensor } from "../../tensor/tensor.ts";
import { checkSquare, countOf, output, powerOfTwoScale, readMatrix, scaleDown, writeAt } from "./matrices.ts";
import { jacobiRotation, rotateColumns } from "./jacobi-rotation.ts";

const MAX_SWEEPS = 60;
const EPS = 2 ** -53;

export const checkEigh = (shape: readonly number[]): readonly number[] => {
  const n = checkSquare("linalg.eigh", shape);
  return [...shape.slice(0, -2), n + 1, n];
};

/** Eigenvalues (ascending) and eigenvectors (columns of an n × n row-major matrix) of symmetric `s`, which it overwrites. */
export const jacobiEigh = (s: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } => {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += s[i]! ** 2;
  const floor = Math.sqrt(scale) * EPS * EPS;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = s[p * n + q]!;
        const app = s[p * n + p]!;
        const aqq = s[q * n + q]!;
        if (Math.abs(apq) <= floor || Math.abs(apq) <= EPS * Math.sqrt(Math.abs(app * aqq))) {
          s[p * n + q] = 0;
          s[q * n + p] = 0;
          continue;
        }
        rotated = true;
        // The rotation that zeroes a_pq (Golub & Van Loan, the symmetric Schur decomposition of a 2 × 2 block).
        const tau = (aqq - app) / (2 * apq);
        const [c, sn] = jacobiRotation(tau);
        rotateColumns(s, n, n, p, q, c, sn);
        for (let k = 0; k < n; k++) {
          const pk = s[p * n + k]!;
          const qk = s[q * n + k]!;
          s[p * n + k] = c * pk - sn * qk;
          s[q * n + k] = sn * pk + c * qk;
        }
        s[p * n + q] = 0;
        s[q * n + p] = 0;
        rotateColumns(v, n, n, p, q, c, sn);
      }
    }
    if (!rotated) break;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => s[i * n + i]! - s[j * n + j]!);
  const values = Float64Array.from(order, (i) => s[i * n + i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    for (let k = 0; k < n; k++) vectors[k * n + to] = v[k * n + from]!;
  });
  return { values, vectors };
};

export const eighKernel = (a: Tensor): Tensor => {
  const outShape = checkEigh(a.shape);
  const n = a.shape[a.shape.length - 1]!;
  const out = output(outShape, a.dtype);
  const count = countOf(a.shape);
  for (let b = 0; b < count; b++) {
    const m = readMatrix(a, b, n, n);
    const s = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = (m[i * n + j]! + m[j * n + i]!) / 2;
    const scale = powerOfTwoScale(s);
    const { values, vectors } = jacobiEigh(scaleDown(s, scale), n);
    const packed = new Float64Array((n + 1) * n);
    packed.set(vectors, 0);
    packed.set(values.map((v) => v * scale), n * n);
    writeAt(out, b, (n + 1) * n, packed);
  }
  return out;
};
