// dynamicSlice / dynamicUpdateSlice kernels: a window of x at start positions that are data.
// Starts are clamped as XLA (and so JAX) clamp them, so the window always fits: each start is
// moved into [0, d − size]. A start must be an integer; anything else is an IndexError.
// The per-row forms (vmap's batch of starts) take one start per row of x's leading axis.
import { IndexError, ShapeError, fmt } from "../errors.ts";
import { sizeOf, stridesOf } from "../tensor/shape.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";
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

/** Writes u into `out` (laid out as `shape`) at the clamped starts. */
function writeWindow(out: Tensor["buf"], shape: readonly number[], u: Tensor, starts: readonly number[]): void {
  const s = clampStarts("dynamicUpdateSlice", starts, shape, u.shape);
  const os = stridesOf(shape);
  let offset = 0;
  for (let i = 0; i < s.length; i++) offset += s[i]! * os[i]!;
  const c = collapse(u.shape, [stridesOf(u.shape), os]);
  stridedCopy(u.buf, 0, c.strides[0]!, out, offset, c.strides[1]!, c.shape);
}

export function dynamicUpdateSliceKernel(x: Tensor, u: Tensor, starts: readonly number[]): Tensor {
  const out = x.buf.slice();
  writeWindow(out, x.shape, u, starts);
  return new Tensor(out, x.shape);
}

/** Row b of a tensor along its leading axis (a view: no copy). */
const row = (t: Tensor, b: number): Tensor => {
  const n = t.size / t.shape[0]!;
  return new Tensor(t.buf.subarray(b * n, (b + 1) * n) as Tensor["buf"], t.shape.slice(1));
};

/** One window per row of x's leading axis: row b at starts[axis][b]. */
export function dynamicSliceRowsKernel(x: Tensor, starts: readonly ArrayLike<number>[], sizes: readonly number[]): Tensor {
  const rows = x.shape[0]!;
  const n = sizeOf(sizes);
  const out = allocate(x.dtype, rows * n);
  for (let b = 0; b < rows; b++)
    out.set(dynamicSliceKernel(row(x, b), starts.map((s) => s[b]!), sizes).buf, b * n);
  return new Tensor(out, [rows, ...sizes]);
}

/** Row b of u written into row b of x at starts[axis][b]. */
export function dynamicUpdateSliceRowsKernel(x: Tensor, u: Tensor, starts: readonly ArrayLike<number>[]): Tensor {
  const rows = x.shape[0]!;
  const out = x.buf.slice();
  const n = x.size / Math.max(rows, 1);
  for (let b = 0; b < rows; b++)
    writeWindow(out.subarray(b * n, (b + 1) * n) as Tensor["buf"], x.shape.slice(1), row(u, b), starts.map((s) => s[b]!));
  return new Tensor(out, x.shape);
}
