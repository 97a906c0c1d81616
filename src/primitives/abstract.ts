// Abstract values (shape, dtype, number-ness) and the pieces of abstract evaluation rules that
// several primitive families share. A rule computes its output's abstract value with the same
// checks its kernel makes, so a staged program rejects bad shapes with the kernel's error.
import type { Abstract } from "../../effects/primitive.ts";
import { NUMBER } from "../../effects/abstract.ts";
import { broadcastShapes, type Shape } from "../tensor/shape.ts";
import { promote, type DType } from "../tensor/tensor.ts";

export { NUMBER, abstractOf } from "../../effects/abstract.ts";

/** A tensor of `shape` and `dtype` (a 0-d one too: not a number). */
export const tensorOf = (shape: Shape, dtype: DType): Abstract => ({ shape, dtype, scalar: false });


/** A number operand never decides the dtype; two tensors' dtypes promote (float64 wins). */
export const resultDType = (a: Abstract, b: Abstract): DType =>
  a.scalar ? (b.scalar ? "float64" : b.dtype) : b.scalar ? a.dtype : promote(a.dtype, b.dtype);

/**
 * An elementwise binary operation (NumPy broadcasting): two numbers give a number; a number
 * with a tensor gives that tensor's shape and dtype; two tensors broadcast (a ShapeError naming
 * `op` when they do not).
 */
export const broadcastAbstract = (op: string, a: Abstract, b: Abstract): Abstract => {
  if (a.scalar) return b.scalar ? NUMBER : tensorOf(b.shape, b.dtype);
  if (b.scalar) return tensorOf(a.shape, a.dtype);
  return tensorOf(broadcastShapes(op, a.shape, b.shape), promote(a.dtype, b.dtype));
};
