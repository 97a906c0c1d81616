// triangularSolve on the GPU: the CPU kernel's forward or back substitution, one thread per
// matrix and right-hand side (the columns of B are independent systems). Only A's triangle is
// read (not its diagonal with unitDiagonal). A zero on the diagonal is a ValueError on the CPU
// (a singular system, or the singular matrix of solve, inv or det's derivative); here, where
// values are read only asynchronously, that system's solution is NaN instead.
import type { TriangularSolveParams } from "../../../kernels/linalg/triangular-solve.ts";
import type { DeviceTensor } from "../../device-tensor.ts";
import type { GpuContext } from "../context.ts";
import { checkLoopBudget, head, runLinalg } from "./common.ts";

const CODE = `${head(["a", "b"], false)}
  // info: [threads, n, k, lower, transposeA, unitDiagonal]
  let n = info[1];
  let k = info[2];
  let transposed = info[4] != 0u;
  let unit = info[5] != 0u;
  // op(A) is lower triangular when A is lower and not transposed, or upper and transposed.
  let forward = (info[3] != 0u) != transposed;
  let m = t / k;
  let c = t % k;
  let ab = m * n * n;
  let xb = m * n * k + c;
  var singular = false;
  if (!unit) {
    for (var i = 0u; i < n; i++) { if (a[ab + i * n + i] == 0.0) { singular = true; } }
  }
  if (singular) {
    for (var i = 0u; i < n; i++) { out[xb + i * k] = js_nan(); }
    return;
  }
  for (var step = 0u; step < n; step++) {
    var i = step;
    var lo = 0u;
    var hi = step;
    if (!forward) { i = n - 1u - step; lo = i + 1u; hi = n; }
    var s = b[xb + i * k];
    for (var j = lo; j < hi; j++) {
      var aij = a[ab + i * n + j];
      if (transposed) { aij = a[ab + j * n + i]; }
      s -= aij * out[xb + j * k];
    }
    if (unit) { out[xb + i * k] = s; } else { out[xb + i * k] = s / a[ab + i * n + i]; }
  }
}`;

/** x with op(a) x = b for triangular a [..., n, n] and b [..., n, k] (the same leading axes). */
export const triangularSolve = (ctx: GpuContext, a: DeviceTensor, b: DeviceTensor, p: TriangularSolveParams): DeviceTensor => {
  const n = a.shape[a.shape.length - 1]!;
  const k = b.shape[b.shape.length - 1]!;
  const threads = b.size / n;
  checkLoopBudget(ctx, "linalg.triangularSolve", `a ${n} × ${n} system`, n * n + 3 * n + 10);
  return runLinalg(ctx, CODE, b.shape, [a, b], threads, [n, k, p.lower ? 1 : 0, p.transposeA ? 1 : 0, p.unitDiagonal ? 1 : 0]);
};
