// LU with partial pivoting on the GPU: the CPU kernel's Gaussian elimination (LAPACK's getrf
// order: the first largest |pivot| of each column), one thread per matrix, worked in place in
// the packed output [L\U | P | det P] (src/kernels/linalg/lu.ts): the row permutation is kept in
// the last column while rows are exchanged, then written out as P. A zero pivot is skipped, as
// on the CPU (a singular matrix factors, with a zero on U's diagonal).
import type { DeviceTensor } from "../../device-tensor.ts";
import type { GpuContext } from "../context.ts";
import { checkLoopBudget, head, matrices, runLinalg } from "./common.ts";

const CODE = `${head(["a"], false)}
  let n = info[1];
  let w = 2u * n + 1u;
  let base = t * n * w;
  let ab = t * n * n;
  for (var i = 0u; i < n; i++) {
    for (var c = 0u; c < n; c++) { out[base + i * w + c] = a[ab + i * n + c]; }
    out[base + i * w + 2u * n] = f32(i);
  }
  var parity = 1.0;
  for (var j = 0u; j < n; j++) {
    var p = j;
    for (var i = j + 1u; i < n; i++) {
      if (abs(out[base + i * w + j]) > abs(out[base + p * w + j])) { p = i; }
    }
    if (p != j) {
      for (var c = 0u; c < n; c++) {
        let x = out[base + j * w + c];
        out[base + j * w + c] = out[base + p * w + c];
        out[base + p * w + c] = x;
      }
      let x = out[base + j * w + 2u * n];
      out[base + j * w + 2u * n] = out[base + p * w + 2u * n];
      out[base + p * w + 2u * n] = x;
      parity = -parity;
    }
    let pivot = out[base + j * w + j];
    if (pivot == 0.0) { continue; }
    for (var i = j + 1u; i < n; i++) {
      let f = div_refined(out[base + i * w + j], pivot);
      out[base + i * w + j] = f;
      if (f != 0.0) {
        for (var c = j + 1u; c < n; c++) { out[base + i * w + c] = out[base + i * w + c] - f * out[base + j * w + c]; }
      }
    }
  }
  for (var i = 0u; i < n; i++) {
    let source = u32(out[base + i * w + 2u * n]);
    for (var c = 0u; c < n; c++) { out[base + i * w + n + c] = select(0.0, 1.0, c == source); }
    out[base + i * w + 2u * n] = parity;
  }
}`;

/** The packed LU factorization [..., n, 2n + 1] of each matrix of `a` [..., n, n]. */
export const lu = (ctx: GpuContext, a: DeviceTensor, outShape: readonly number[]): DeviceTensor => {
  const n = a.shape[a.shape.length - 1]!;
  checkLoopBudget(ctx, "the LU factorization (linalg.solve, inv, det, slogdet)", `a ${n} × ${n} matrix`, n ** 3 / 2 + 5 * n * n + 10);
  return runLinalg(ctx, CODE, outShape, [a], matrices(a.shape), [n]);
};
