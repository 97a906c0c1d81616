// Cholesky on the GPU: the CPU kernel's Cholesky–Banachiewicz, row by row, of the symmetric
// part (a + aᵀ)/2, one thread per matrix, L written straight into the output. A matrix that is
// not positive definite (a pivot not > 0, or NaN) is a ValueError on the CPU, which reads the
// values; a GPU result is read only asynchronously, so there its whole factor is NaN instead.
import type { DeviceTensor } from "../../device-tensor.ts";
import type { GpuContext } from "../context.ts";
import { checkLoopBudget, head, matrices, runLinalg } from "./common.ts";

const CODE = `${head(["a"], false)}
  let n = info[1];
  let base = t * n * n;
  var ok = true;
  for (var i = 0u; i < n && ok; i++) {
    for (var j = 0u; j <= i; j++) {
      var s = (a[base + i * n + j] + a[base + j * n + i]) / 2.0;
      for (var k = 0u; k < j; k++) { s -= out[base + i * n + k] * out[base + j * n + k]; }
      if (i == j) {
        if (!(s > 0.0) || is_nan_bits(s)) { ok = false; break; }
        out[base + i * n + i] = sqrt(s);
      } else {
        out[base + i * n + j] = s / out[base + j * n + j];
      }
    }
    for (var j = i + 1u; j < n; j++) { out[base + i * n + j] = 0.0; }
  }
  if (!ok) {
    for (var e = 0u; e < n * n; e++) { out[base + e] = js_nan(); }
  }
}`;

/** The lower Cholesky factor of each matrix of `a` [..., n, n] (NaN for one that is not positive definite). */
export const cholesky = (ctx: GpuContext, a: DeviceTensor): DeviceTensor => {
  const n = a.shape[a.shape.length - 1]!;
  checkLoopBudget(ctx, "linalg.cholesky", `a ${n} × ${n} matrix`, n ** 3 / 3 + 4 * n * n + 10); // (loop iterations, bounded)
  return runLinalg(ctx, CODE, a.shape, [a], matrices(a.shape), [n]);
};
