// Examples of a batch stacked along axis 0, taken apart and put back together by plain copies
// (no library operation), for comparing vmap against one call per example.
import { Tensor } from "../src/index.ts";

/** Example b of a tensor stacked along axis 0. */
export const exampleOf = (xs: Tensor, b: number): Tensor => {
  const n = xs.size / xs.shape[0]!;
  return new Tensor(xs.buf.slice(b * n, (b + 1) * n), xs.shape.slice(1));
};

/** Tensors of one shape and dtype stacked along a new axis 0. */
export const stackOf = (ts: readonly Tensor[]): Tensor => {
  const n = ts[0]!.size;
  const buf = ts[0]!.dtype === "float32" ? new Float32Array(ts.length * n) : new Float64Array(ts.length * n);
  ts.forEach((t, b) => buf.set(t.buf, b * n));
  return new Tensor(buf, [ts.length, ...ts[0]!.shape]);
};
