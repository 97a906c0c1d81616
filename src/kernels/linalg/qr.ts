// Reduced QR factorization A = Q R of tall or square matrices (m ≥ n) by Householder
// reflections, in float64 (as LAPACK's geqrf/orgqr, so R's diagonal may be negative). Its result
// is packed into one tensor [..., m + n, n]: rows 0..m−1 hold Q (orthonormal columns), rows
// m..m+n−1 hold R (upper triangular). Wide matrices are factored by the public linalg.qr from
// the QR of their leading square block.
import { ShapeError, fmt } from "../../errors.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { checkMatrix, countOf, output, powerOfTwoScale, readMatrix, scaleDown, writeAt } from "./matrices.ts";

export const checkQr = (shape: readonly number[]): readonly number[] => {
  const [m, n] = checkMatrix("linalg.qr", shape);
  if (m < n) throw new ShapeError(`linalg.qr (the tall factorization): shape ${fmt(shape)} has fewer rows than columns`);
  return [...shape.slice(0, -2), m + n, n];
};

/** The Euclidean norm, scaled by the largest |entry| so that no square underflows or overflows. */
const norm2 = (v: Float64Array): number => {
  let big = 0;
  for (let i = 0; i < v.length; i++) big = Math.max(big, Math.abs(v[i]!));
  if (big === 0) return 0;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! / big) ** 2;
  return big * Math.sqrt(s);
};

/** Scales v to unit length in place (by its largest |entry| first: no division by a subnormal); false for zero. */
const normalize = (v: Float64Array): boolean => {
  let big = 0;
  for (let i = 0; i < v.length; i++) big = Math.max(big, Math.abs(v[i]!));
  if (big === 0) return false;
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / big;
  const n = norm2(v);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  return true;
};

export const qrKernel = (a: Tensor): Tensor => {
  const outShape = checkQr(a.shape);
  const m = a.shape[a.shape.length - 2]!;
  const n = a.shape[a.shape.length - 1]!;
  const out = output(outShape, a.dtype);
  const count = countOf(a.shape);
  for (let b = 0; b < count; b++) {
    const r = readMatrix(a, b, m, n);
    const scale = powerOfTwoScale(r);
    scaleDown(r, scale);
    const reflectors: Float64Array[] = [];
    for (let j = 0; j < n; j++) {
      // v = x − α e₁ with α = −sign(x₀)‖x‖ (no cancellation), normalized; H = I − 2 v vᵀ.
      const v = new Float64Array(m - j);
      for (let i = j; i < m; i++) v[i - j] = r[i * n + j]!;
      const x0 = v[0]!;
      const alpha = x0 >= 0 ? -norm2(v) : norm2(v);
      v[0] = x0 - alpha;
      reflectors.push(v);
      if (!normalize(v)) continue; // x is zero: no reflection (v stays zero, H = I)
      for (let c = j; c < n; c++) {
        let s = 0;
        for (let i = j; i < m; i++) s += v[i - j]! * r[i * n + c]!;
        for (let i = j; i < m; i++) r[i * n + c] = r[i * n + c]! - 2 * s * v[i - j]!;
      }
    }
    // Q = H₀ H₁ … H_{n−1} applied to the first n columns of the identity, last reflector first.
    const q = new Float64Array(m * n);
    for (let i = 0; i < n; i++) q[i * n + i] = 1;
    for (let j = n - 1; j >= 0; j--) {
      const v = reflectors[j]!;
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let i = j; i < m; i++) s += v[i - j]! * q[i * n + c]!;
        if (s !== 0) for (let i = j; i < m; i++) q[i * n + c] = q[i * n + c]! - 2 * s * v[i - j]!;
      }
    }
    const packed = new Float64Array((m + n) * n);
    packed.set(q, 0);
    for (let i = 0; i < n; i++) for (let c = i; c < n; c++) packed[(m + i) * n + c] = r[i * n + c]! * scale;
    writeAt(out, b, (m + n) * n, packed);
  }
  return out;
};
