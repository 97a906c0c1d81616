// Householder QR on the GPU: the CPU kernel's reflections (v = x − α e₁ with α = −sign(x₀)‖x‖,
// normalized by its largest entry first; R's diagonal may be negative, as LAPACK's), one thread
// per matrix, after the same power-of-two scaling. R is reduced in the output's Q rows; each
// finished row of R is copied to the R rows, and each reflector kept in the scratch buffer (its
// column j, rows j..m−1) until Q is formed from them, last reflector first.
import type { DeviceTensor } from "../../device-tensor.ts";
import type { GpuContext } from "../context.ts";
import { checkLoopBudget, head, matrices, runLinalg } from "./common.ts";

const CODE = `${head(["a"], true)}
  // info: [threads, m, n]; out per matrix [m + n, n]: Q then R; scratch per matrix [m, n]: the reflectors
  let m = info[1];
  let n = info[2];
  let ob = t * (m + n) * n;
  let ab = t * m * n;
  let sb = t * m * n;
  var big = 0.0;
  for (var e = 0u; e < m * n; e++) { big = max(big, abs(a[ab + e])); }
  let scale = power_of_two_scale(big);
  for (var e = 0u; e < m * n; e++) { out[ob + e] = a[ab + e] / scale; }
  for (var j = 0u; j < n; j++) {
    // the reflector of column j, rows j..m−1
    var vbig = 0.0;
    for (var i = j; i < m; i++) {
      let x = out[ob + i * n + j];
      scratch[sb + i * n + j] = x;
      vbig = max(vbig, abs(x));
    }
    var norm = 0.0;
    if (vbig != 0.0) {
      var s = 0.0;
      for (var i = j; i < m; i++) { let y = scratch[sb + i * n + j] / vbig; s += y * y; }
      norm = vbig * sqrt(s);
    }
    let x0 = scratch[sb + j * n + j];
    var alpha = norm;
    if (x0 >= 0.0) { alpha = -norm; }
    scratch[sb + j * n + j] = x0 - alpha;
    // normalized (by its largest entry first); a zero x is no reflection
    var wbig = 0.0;
    for (var i = j; i < m; i++) { wbig = max(wbig, abs(scratch[sb + i * n + j])); }
    if (wbig != 0.0) {
      var s = 0.0;
      for (var i = j; i < m; i++) {
        let y = scratch[sb + i * n + j] / wbig;
        scratch[sb + i * n + j] = y;
        s += y * y;
      }
      let len = sqrt(s);
      for (var i = j; i < m; i++) { scratch[sb + i * n + j] = scratch[sb + i * n + j] / len; }
      for (var c = j; c < n; c++) {
        var d = 0.0;
        for (var i = j; i < m; i++) { d += scratch[sb + i * n + j] * out[ob + i * n + c]; }
        for (var i = j; i < m; i++) { out[ob + i * n + c] = out[ob + i * n + c] - 2.0 * d * scratch[sb + i * n + j]; }
      }
    }
    // row j of R is final: later reflections touch rows j + 1.. only
    for (var c = 0u; c < n; c++) {
      var r = 0.0;
      if (c >= j) { r = out[ob + j * n + c] * scale; }
      out[ob + (m + j) * n + c] = r;
    }
  }
  // Q = H₀ H₁ … H_{n−1} applied to the first n columns of the identity, last reflector first
  for (var i = 0u; i < m; i++) {
    for (var c = 0u; c < n; c++) { out[ob + i * n + c] = select(0.0, 1.0, i == c); }
  }
  for (var jj = 0u; jj < n; jj++) {
    let j = n - 1u - jj;
    for (var c = 0u; c < n; c++) {
      var d = 0.0;
      for (var i = j; i < m; i++) { d += scratch[sb + i * n + j] * out[ob + i * n + c]; }
      if (d != 0.0) {
        for (var i = j; i < m; i++) { out[ob + i * n + c] = out[ob + i * n + c] - 2.0 * d * scratch[sb + i * n + j]; }
      }
    }
  }
}`;

/** The packed QR [..., m + n, n] of each tall or square matrix of `a` [..., m, n]. */
export const qr = (ctx: GpuContext, a: DeviceTensor, outShape: readonly number[]): DeviceTensor => {
  const m = a.shape[a.shape.length - 2]!;
  const n = a.shape[a.shape.length - 1]!;
  checkLoopBudget(ctx, "linalg.qr", `a ${m} × ${n} matrix`, 4 * m * n * n + 10 * m * n + 10);
  return runLinalg(ctx, CODE, outShape, [a], matrices(a.shape), [m, n], m * n);
};
