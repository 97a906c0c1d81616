// Indexing with an index that is itself a value: x[i] along axis 0, where i may be unknown
// until run time (a staged value inside jit, e.g. a child index read from a tree table inside
// a recursive function). The index is an integer: it has no derivative. The adjoint writes the
// cotangent into row i of zeros; each is the other's transpose.
import { definePrimitive, type Abstract } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { IndexError, ShapeError, ValueError, fmt } from "../errors.ts";
import { allocate, Tensor } from "../tensor/tensor.ts";
import { sizeOf, type Shape } from "../tensor/shape.ts";
import { NUMBER, tensorOf } from "./abstract.ts";
import { perExample } from "./batching.ts";
import { transpose } from "./shape.ts";

/** The integer in an index operand, checked against the axis size. */
export const indexOf = (op: string, i: Value, size: number, shape: Shape): number => {
  let k: number;
  if (typeof i === "number") k = i;
  else if (i instanceof Tensor && i.size === 1) k = i.buf[0]!;
  else throw new ValueError(`${op}: the index must be a scalar (a number or a size-1 tensor), got shape ${fmt(shapeOf(i))}`);
  if (!Number.isInteger(k))
    throw new IndexError(`${op}: index ${k} is not an integer; for axis 0 of shape ${fmt(shape)} it must be an integer in [0, ${size - 1}]`);
  if (k < 0 || k >= size)
    throw new IndexError(`${op}: index ${k} is out of range for axis 0 of shape ${fmt(shape)}; it must be an integer in [0, ${size - 1}]`);
  return k;
};

/** The index operand's check on its abstract value (its range is known only with its number). */
const scalarIndex = (op: string, i: Abstract): void => {
  if (!i.scalar && sizeOf(i.shape) !== 1)
    throw new ValueError(`${op}: the index must be a scalar (a number or a size-1 tensor), got shape ${fmt(i.shape)}`);
};

/** x[i] along axis 0: a row of x (a number for a float64 vector, as scalars are numbers). */
export const dynamicIndexP = definePrimitive({
  name: "dynamicIndex",
  capabilities: { rowIndex: true },
  abstractEval: ([x, i]) => {
    if (x!.shape.length === 0) throw new ShapeError("dynamicIndex: cannot index a 0-d value; reshape it to [1] first");
    scalarIndex("dynamicIndex", i!);
    return x!.shape.length === 1 && x!.dtype === "float64" ? NUMBER : tensorOf(x!.shape.slice(1), x!.dtype);
  },
  impl: ([x, i]) => {
    const t = x as Tensor;
    const k = indexOf("dynamicIndex", i!, t.shape[0]!, t.shape);
    const row = t.size / t.shape[0]!;
    if (t.shape.length === 1 && t.dtype === "float64") return t.buf[k]!;
    return new Tensor(t.buf.slice(k * row, (k + 1) * row) as Tensor["buf"], t.shape.slice(1));
  },
  jvp: ([, i], [t]) => (t === null ? null : dynamicIndex(t!, i!)),
  vjp: (ct, [x, i]) => [dynamicIndexAdjoint(ct, i!, shapeOf(x!), dtypeOf(x!)), null],
  // One index for every example: the same row of each, read as row i of x with its first two
  // axes swapped. An index per example: per example.
  batch: ([x, i], batched, _p, size): Value =>
    batched[1] ? perExample(dynamicIndexP, [x!, i!], batched, undefined, size) : dynamicIndex(transpose(x!, swapFirst(shapeOf(x!).length)), i!),
});

/** Zeros of `shape` with row i set to the operand: the adjoint of dynamicIndex. */
export const dynamicIndexAdjointP = definePrimitive<{ shape: Shape; dtype: Tensor["dtype"] }>({
  name: "dynamicIndexAdjoint",
  abstractEval: ([, i], p) => (scalarIndex("dynamicIndex (its gradient)", i!), tensorOf(p.shape, p.dtype)),
  impl: ([v, i], p) => {
    const k = indexOf("dynamicIndex (its gradient)", i!, p.shape[0]!, p.shape); // named as the user's operation
    const out = allocate(p.dtype, p.shape.reduce((a, b) => a * b, 1));
    const row = out.length / p.shape[0]!;
    if (typeof v === "number") out[k * row] = v;
    else out.set((v as Tensor).buf, k * row);
    return new Tensor(out, p.shape);
  },
  jvp: ([, i], [t], _out, p) => (t === null ? null : dynamicIndexAdjoint(t!, i!, p.shape, p.dtype)),
  vjp: (ct, [, i]) => [dynamicIndex(ct, i!), null],
  batch: ([v, i], batched, p, size): Value => {
    if (batched[1] || !batched[0]) return perExample(dynamicIndexAdjointP, [v!, i!], batched, p, size);
    const [rows, ...rest] = p.shape;
    const written = dynamicIndexAdjoint(v!, i!, [rows!, size, ...rest], p.dtype);
    return transpose(written, swapFirst(p.shape.length + 1));
  },
});

/** The permutation swapping axes 0 and 1 of a value of rank `rank`. */
const swapFirst = (rank: number): number[] => [1, 0, ...Array.from({ length: rank - 2 }, (_, a) => a + 2)];

export const dynamicIndex = (x: Value, i: Value): Value => bind(dynamicIndexP, [x, i], undefined);
export const dynamicIndexAdjoint = (v: Value, i: Value, shape: Shape, dtype: Tensor["dtype"]): Value =>
  bind(dynamicIndexAdjointP, [v, i], { shape, dtype });
