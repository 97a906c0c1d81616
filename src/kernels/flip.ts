// flip: the elements in reverse order along some axes. A flipped axis is read with a negative
// stride from its last element, so the copy is one strided copy (the same routine as transpose).
import { IndexError, fmt } from "../errors.ts";
import { sizeOf, stridesOf } from "../tensor/shape.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";
import { collapse, stridedCopy } from "./shape-ops.ts";

/** flip's check on shapes alone (the kernel's, and abstract evaluation's): distinct axes of the operand. */
export function checkFlip(shape: readonly number[], axes: readonly number[]): void {
  const bad = axes.find((a, i) => !Number.isInteger(a) || a < 0 || a >= shape.length || axes.indexOf(a) !== i);
  if (bad !== undefined)
    throw new IndexError(`flip: axes [${axes.join(", ")}] are not distinct axes of shape ${fmt(shape)} (axis ${bad})`);
}

export function flipKernel(x: Tensor, axes: readonly number[]): Tensor {
  checkFlip(x.shape, axes);
  const strides = stridesOf(x.shape);
  let offset = 0;
  for (const a of axes) {
    offset += (x.shape[a]! - 1) * strides[a]!;
    strides[a] = -strides[a]!;
  }
  const out = allocate(x.dtype, sizeOf(x.shape));
  if (out.length === 0) return new Tensor(out, x.shape);
  const c = collapse(x.shape, [strides, stridesOf(x.shape)]);
  stridedCopy(x.buf, offset, c.strides[0]!, out, 0, c.strides[1]!, c.shape);
  return new Tensor(out, x.shape);
}
