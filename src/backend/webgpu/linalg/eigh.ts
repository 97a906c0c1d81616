// Symmetric eigendecomposition on the GPU: the CPU kernel's cyclic Jacobi method — the same
// sweep order, skip test, rotations and power-of-two scaling — one thread per matrix, with the
// working matrix S and the accumulated rotations V in the scratch buffer. The thresholds are
// float32's (unit roundoff 2⁻²⁴ where the CPU has float64's 2⁻⁵³). Eigenvalues ascending, ties
// in index order (the CPU's stable sort), eigenvectors as the columns of the packed [V; wᵀ].
import type { DeviceTensor } from "../../device-tensor.ts";
import type { GpuContext } from "../context.ts";
import { checkLoopBudget, head, matrices, runLinalg } from "./common.ts";

const MAX_SWEEPS = 60;

const CODE = `${head(["a"], true)}
  // info: [threads, n]; out per matrix [n + 1, n]; scratch per matrix [2n, n]: S then V
  let n = info[1];
  let ab = t * n * n;
  let ob = t * (n + 1u) * n;
  let sb = t * 2u * n * n;
  let vb = sb + n * n;
  let eps = exp2(-24.0);
  var big = 0.0;
  for (var i = 0u; i < n; i++) {
    for (var j = 0u; j < n; j++) {
      let x = (a[ab + i * n + j] + a[ab + j * n + i]) / 2.0;
      scratch[sb + i * n + j] = x;
      big = max(big, abs(x));
      scratch[vb + i * n + j] = select(0.0, 1.0, i == j);
    }
  }
  let scale = power_of_two_scale(big);
  var squares = 0.0;
  for (var e = 0u; e < n * n; e++) {
    let x = scratch[sb + e] / scale;
    scratch[sb + e] = x;
    squares += x * x;
  }
  let floor_ = sqrt(squares) * eps * eps;
  for (var sweep = 0; sweep < ${MAX_SWEEPS}; sweep++) {
    var rotated = false;
    for (var p = 0u; p + 1u < n; p++) {
      for (var q = p + 1u; q < n; q++) {
        let apq = scratch[sb + p * n + q];
        let app = scratch[sb + p * n + p];
        let aqq = scratch[sb + q * n + q];
        if (abs(apq) <= floor_ || abs(apq) <= eps * sqrt(abs(app * aqq))) {
          scratch[sb + p * n + q] = 0.0;
          scratch[sb + q * n + p] = 0.0;
          continue;
        }
        rotated = true;
        let cs = jacobi_rotation((aqq - app) / (2.0 * apq));
        let c = cs.x;
        let sn = cs.y;
        rotate_columns(sb, n, n, p, q, c, sn);
        for (var k = 0u; k < n; k++) {
          let pk = scratch[sb + p * n + k];
          let qk = scratch[sb + q * n + k];
          scratch[sb + p * n + k] = c * pk - sn * qk;
          scratch[sb + q * n + k] = sn * pk + c * qk;
        }
        scratch[sb + p * n + q] = 0.0;
        scratch[sb + q * n + p] = 0.0;
        rotate_columns(vb, n, n, p, q, c, sn);
      }
    }
    if (!rotated) { break; }
  }
  // ascending, ties in index order: eigenvalue i goes to its rank
  for (var i = 0u; i < n; i++) {
    let d = scratch[sb + i * n + i];
    var rank = 0u;
    for (var j = 0u; j < n; j++) {
      let dj = scratch[sb + j * n + j];
      if (dj < d || (!(d < dj) && j < i)) { rank++; } // (a NaN ties, as in the CPU's sort)
    }
    out[ob + n * n + rank] = d * scale;
    for (var k = 0u; k < n; k++) { out[ob + k * n + rank] = scratch[vb + k * n + i]; }
  }
}`;

/** The packed eigendecomposition [..., n + 1, n] of the symmetric part of each matrix of `a` [..., n, n]. */
export const eigh = (ctx: GpuContext, a: DeviceTensor, outShape: readonly number[]): DeviceTensor => {
  const n = a.shape[a.shape.length - 1]!;
  // the worst case: every sweep rotates every pair (three loops of n each)
  checkLoopBudget(ctx, "linalg.eigh", `a ${n} × ${n} matrix`, MAX_SWEEPS * (n * n / 2) * (3 * n + 1) + 4 * n * n + 10);
  return runLinalg(ctx, CODE, outShape, [a], matrices(a.shape), [n], 2 * n * n);
};
