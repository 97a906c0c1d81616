// Reduced singular value decomposition A = U diag(s) Vᵀ by one-sided Jacobi (Hestenes), in
// float64: plane rotations orthogonalize the columns of A (of Aᵀ when A is wide), accumulated in
// V; the column norms are the singular values. It never forms AᵀA, so small singular values keep
// their relative accuracy. Its result is packed into one tensor [..., m + n + 1, k] with
// k = min(m, n): rows 0..m−1 hold U, rows m..m+n−1 hold V (not Vᵀ), row m+n holds s, descending.
import type { Tensor } from "../../tensor/tensor.ts";
import { checkMatrix, countOf, output, powerOfTwoScale, readMatrix, scaleDown, writeAt } from "./matrices.ts";
import { jacobiRotation, rotateColumns } from "./jacobi-rotation.ts";

const MAX_SWEEPS = 60;
const EPS = 2 ** -53;

export const checkSvd = (shape: readonly number[]): readonly number[] => {
  const [m, n] = checkMatrix("linalg.svd", shape);
  return [...shape.slice(0, -2), m + n + 1, Math.min(m, n)];
};

/**
 * The SVD of a tall (m ≥ n) row-major matrix `w`, which it overwrites: U (m × n), s (n,
 * descending), V (n × n), each row-major.
 */
const tallSvd = (w: Float64Array, m: number, n: number): { u: Float64Array; s: Float64Array; v: Float64Array } => {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = w[i * n + p]!;
          const y = w[i * n + q]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The Jacobi rotation of the 2 × 2 Gram matrix [[α, γ], [γ, β]]: columns p and q become orthogonal.
        const zeta = (beta - alpha) / (2 * gamma);
        const [c, sn] = jacobiRotation(zeta);
        rotateColumns(w, m, n, p, q, c, sn);
        rotateColumns(v, n, n, p, q, c, sn);
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let ss = 0;
    for (let i = 0; i < m; i++) ss += w[i * n + j]! ** 2;
    norms[j] = Math.sqrt(ss);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => norms[j]! - norms[i]!);
  const s = Float64Array.from(order, (j) => norms[j]!);
  const u = new Float64Array(m * n);
  const vs = new Float64Array(n * n);
  order.forEach((from, to) => {
    for (let i = 0; i < n; i++) vs[i * n + to] = v[i * n + from]!;
    for (let i = 0; i < m; i++) u[i * n + to] = s[to]! > 0 ? w[i * n + from]! / s[to]! : 0;
  });
  completeColumns(u, m, n, s);
  return { u, s, v: vs };
};

/**
 * Columns of U whose singular value is zero or lost in rounding carry no direction of A: they
 * are made orthonormal to the others (Gram–Schmidt, twice, from the column itself or from unit
 * vectors), so U keeps orthonormal columns for rank-deficient A.
 */
const completeColumns = (u: Float64Array, m: number, n: number, s: Float64Array): void => {
  const tol = (s[0] ?? 0) * EPS * Math.max(m, n) * 4;
  for (let j = 0; j < n; j++) {
    if (s[j]! > tol && s[j]! > 0) continue;
    for (let candidate = -1; candidate < m; candidate++) {
      const x = new Float64Array(m);
      if (candidate < 0) for (let i = 0; i < m; i++) x[i] = u[i * n + j]!;
      else x[candidate] = 1;
      for (let pass = 0; pass < 2; pass++)
        for (let c = 0; c < j; c++) {
          let d = 0;
          for (let i = 0; i < m; i++) d += u[i * n + c]! * x[i]!;
          for (let i = 0; i < m; i++) x[i] = x[i]! - d * u[i * n + c]!;
        }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += x[i]! ** 2;
      norm = Math.sqrt(norm);
      if (norm > 0.5 || (candidate < 0 && norm > 0.9)) {
        for (let i = 0; i < m; i++) u[i * n + j] = x[i]! / norm;
        break;
      }
    }
  }
};

export const svdKernel = (a: Tensor): Tensor => {
  const outShape = checkSvd(a.shape);
  const m = a.shape[a.shape.length - 2]!;
  const n = a.shape[a.shape.length - 1]!;
  const k = Math.min(m, n);
  const out = output(outShape, a.dtype);
  const size = (m + n + 1) * k;
  const count = countOf(a.shape);
  for (let b = 0; b < count; b++) {
    const x = readMatrix(a, b, m, n);
    const scale = powerOfTwoScale(x);
    scaleDown(x, scale);
    const packed = new Float64Array(size);
    if (m >= n) {
      const { u, s, v } = tallSvd(x, m, n);
      packed.set(u, 0);
      packed.set(v, m * k);
      packed.set(s.map((v) => v * scale), (m + n) * k);
    } else {
      // Aᵀ = U' S V'ᵀ, so A = V' S U'ᵀ: U = V', V = U'.
      const xt = new Float64Array(n * m);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xt[j * m + i] = x[i * n + j]!;
      const { u, s, v } = tallSvd(xt, n, m);
      packed.set(v, 0);
      packed.set(u, m * k);
      packed.set(s.map((v) => v * scale), (m + n) * k);
    }
    writeAt(out, b, size, packed);
  }
  return out;
};
