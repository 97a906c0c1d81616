// The SVD on the GPU: the CPU kernel's one-sided Jacobi (Hestenes) — the same sweep order, skip
// test, rotations, power-of-two scaling, ordering and completion of U's columns for zero
// singular values — one thread per matrix. A wide matrix is decomposed through its transpose,
// as on the CPU. The working matrix W (M × N, M ≥ N), the rotations V and a vector of M for the
// completion live in the scratch buffer. The skip test is float32's: |γ| ≤ √M·2⁻²⁴·√(αβ) (the
// CPU's is 2⁻⁵³·√(αβ) in float64; a float32 dot product of M terms is not that exact).
import type { DeviceTensor } from "../../device-tensor.ts";
import type { GpuContext } from "../context.ts";
import { checkLoopBudget, head, matrices, runLinalg } from "./common.ts";

const MAX_SWEEPS = 60;

const CODE = `${head(["a"], true)}
  // info: [threads, m, n]; out per matrix [m + n + 1, k]: U, V, s; W is M × N with M = max(m, n), N = k
  let m = info[1];
  let n = info[2];
  let tall = m >= n;
  let bigM = max(m, n);
  let k = min(m, n);
  let ab = t * m * n;
  let ob = t * (m + n + 1u) * k;
  let wb = t * (bigM * k + k * k + bigM);
  let vb = wb + bigM * k;
  let xb = vb + k * k;
  let eps = exp2(-24.0);
  var big = 0.0;
  for (var e = 0u; e < m * n; e++) { big = max(big, abs(a[ab + e])); }
  let scale = power_of_two_scale(big);
  for (var i = 0u; i < bigM; i++) {
    for (var j = 0u; j < k; j++) {
      var x = a[ab + i * n + j];
      if (!tall) { x = a[ab + j * n + i]; }
      scratch[wb + i * k + j] = x / scale;
    }
  }
  for (var i = 0u; i < k; i++) {
    for (var j = 0u; j < k; j++) { scratch[vb + i * k + j] = select(0.0, 1.0, i == j); }
  }
  let tol = sqrt(f32(bigM)) * eps;
  for (var sweep = 0; sweep < ${MAX_SWEEPS}; sweep++) {
    var rotated = false;
    for (var p = 0u; p + 1u < k; p++) {
      for (var q = p + 1u; q < k; q++) {
        var alpha = 0.0;
        var beta = 0.0;
        var gamma = 0.0;
        for (var i = 0u; i < bigM; i++) {
          let x = scratch[wb + i * k + p];
          let y = scratch[wb + i * k + q];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma == 0.0 || abs(gamma) <= tol * sqrt(alpha * beta)) { continue; }
        rotated = true;
        let cs = jacobi_rotation((beta - alpha) / (2.0 * gamma));
        let c = cs.x;
        let sn = cs.y;
        rotate_columns(wb, bigM, k, p, q, c, sn);
        rotate_columns(vb, k, k, p, q, c, sn);
      }
    }
    if (!rotated) { break; }
  }
  // W's U goes to the U rows of a tall matrix and to the V rows of a wide one (Aᵀ = U' S V'ᵀ), V the other way
  var uo = ob;
  var vo = ob + m * k;
  if (!tall) { uo = ob + m * k; vo = ob; }
  let so = ob + (m + n) * k;
  // descending, ties in index order: column j goes to its rank
  var largest = 0.0;
  for (var j = 0u; j < k; j++) {
    var ss = 0.0;
    for (var i = 0u; i < bigM; i++) { let x = scratch[wb + i * k + j]; ss += x * x; }
    scratch[xb + j] = sqrt(ss);
  }
  for (var j = 0u; j < k; j++) {
    let s = scratch[xb + j];
    var rank = 0u;
    for (var i = 0u; i < k; i++) {
      let si = scratch[xb + i];
      if (si > s || (!(s > si) && i < j)) { rank++; }
    }
    out[so + rank] = s;
    if (rank == 0u) { largest = s; }
    for (var i = 0u; i < k; i++) { out[vo + i * k + rank] = scratch[vb + i * k + j]; }
    for (var i = 0u; i < bigM; i++) {
      var u = 0.0;
      if (s > 0.0) { u = scratch[wb + i * k + j] / s; }
      out[uo + i * k + rank] = u;
    }
  }
  // Columns of U whose singular value is zero or lost in rounding: orthonormal to the others
  // (Gram–Schmidt, twice, from the column itself or from unit vectors), as the CPU's completeColumns.
  let lost = largest * eps * f32(bigM) * 4.0;
  for (var j = 0u; j < k; j++) {
    let s = out[so + j];
    if (s > lost && s > 0.0) { continue; }
    for (var cand = -1; cand < i32(bigM); cand++) {
      for (var i = 0u; i < bigM; i++) {
        if (cand < 0) { scratch[xb + i] = out[uo + i * k + j]; } else { scratch[xb + i] = select(0.0, 1.0, i32(i) == cand); }
      }
      for (var twice = 0; twice < 2; twice++) {
        for (var c = 0u; c < j; c++) {
          var d = 0.0;
          for (var i = 0u; i < bigM; i++) { d += out[uo + i * k + c] * scratch[xb + i]; }
          for (var i = 0u; i < bigM; i++) { scratch[xb + i] = scratch[xb + i] - d * out[uo + i * k + c]; }
        }
      }
      var nn = 0.0;
      for (var i = 0u; i < bigM; i++) { nn += scratch[xb + i] * scratch[xb + i]; }
      nn = sqrt(nn);
      if (nn > 0.5 || (cand < 0 && nn > 0.9)) {
        for (var i = 0u; i < bigM; i++) { out[uo + i * k + j] = scratch[xb + i] / nn; }
        break;
      }
    }
  }
  for (var j = 0u; j < k; j++) { out[so + j] = out[so + j] * scale; }
}`;

/** The packed SVD [..., m + n + 1, k] of each matrix of `a` [..., m, n]. */
export const svd = (ctx: GpuContext, a: DeviceTensor, outShape: readonly number[]): DeviceTensor => {
  const m = a.shape[a.shape.length - 2]!;
  const n = a.shape[a.shape.length - 1]!;
  const bigM = Math.max(m, n);
  const k = Math.min(m, n);
  // the worst case: every sweep rotates every pair, and every column of U is completed
  const sweeps = MAX_SWEEPS * (k * k / 2) * (3 * bigM + k + 1);
  checkLoopBudget(ctx, "linalg.svd", `a ${m} × ${n} matrix`, sweeps + 3 * bigM * k + 2 * k * k + k * (bigM + 1) * (4 * bigM + 4 * k * bigM) + 10);
  return runLinalg(ctx, CODE, outShape, [a], matrices(a.shape), [m, n], bigM * k + k * k + bigM);
};
