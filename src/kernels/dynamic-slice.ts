// dynamicSlice / dynamicUpdateSlice kernels: a window of x at start positions that are data.
// Starts are clamped as XLA (and so JAX) clamp them, so the window always fits: each start is
// moved into [0, d − size]. A start must be an integer; anything else is an IndexError.
import { IndexError, ShapeError, fmt } from "../errors.ts";
import { stridesOf } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { collapse, sliceKernel, stridedCopy } from "./shape-ops.ts";

/** Starts as clamped integers for a window of `sizes` in `shape`. */
export function clampStarts(op: string, starts: readonly number[], shape: readonly number[], sizes: readonly number[]): number[] {
  return starts.map((s, i) => {
    if (!Number.isInteger(s))
      throw new IndexError(`${op}: start ${s} of axis ${i} (shape ${fmt(shape)}) is not an integer; starts must be integers`);
    return Math.min(Math.max(s, 0), shape[i]! - sizes[i]!);
  });
}

/** The window's shape check: one size per axis, each in [0, d]. */
export function checkWindow(op: string, shape: readonly number[], sizes: readonly number[], what = "sizes"): void {
  if (sizes.length !== shape.length || sizes.some((d, i) => !Number.isInteger(d) || d < 0 || d > shape[i]!))
    throw new ShapeError(
      `${op}: ${what} ${fmt(sizes)} ${what === "sizes" ? "do" : "does"} not fit in shape ${fmt(shape)}; give one non-negative integer per axis, ` +
        "each at most that axis' length",
    );
}

export function dynamicSliceKernel(x: Tensor, starts: readonly number[], sizes: readonly number[]): Tensor {
  const s = clampStarts("dynamicSlice", starts, x.shape, sizes);
  return sliceKernel(x, s, s.map((b, i) => b + sizes[i]!));
}

export function dynamicUpdateSliceKernel(x: Tensor, u: Tensor, starts: readonly number[]): Tensor {
  const s = clampStarts("dynamicUpdateSlice", starts, x.shape, u.shape);
  const out = x.buf.slice();
  const os = stridesOf(x.shape);
  let offset = 0;
  for (let i = 0; i < s.length; i++) offset += s[i]! * os[i]!;
  const c = collapse(u.shape, [stridesOf(u.shape), os]);
  stridedCopy(u.buf, 0, c.strides[0]!, out, offset, c.strides[1]!, c.shape);
  return new Tensor(out, x.shape);
}
