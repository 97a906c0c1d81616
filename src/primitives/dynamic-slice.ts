// A window of x whose start positions are operands, so they may be data known only at run time
// (staged by jit, one per example under vmap): dynamicSlice reads the window, and
// dynamicUpdateSlice writes one. Both are linear in the tensors and each is the other's
// adjoint; the starts are integers and get no derivative. Starts are clamped into range, as
// XLA does, so every start value gives a window inside x.
import { definePrimitive, type Abstract } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { DTypeError, ShapeError, ValueError, fmt } from "../errors.ts";
import { checkWindow, dynamicSliceKernel, dynamicUpdateSliceKernel } from "../kernels/dynamic-slice.ts";
import { zeros } from "../tensor/create.ts";
import { sizeOf } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { tensorOf } from "./abstract.ts";
import { allBatched, perExample } from "./batching.ts";

/** A start operand's number (a number, or a size-1 tensor). */
const startOf = (v: Value): number => (typeof v === "number" ? v : (v as Tensor).buf[0]!);

/** Each start must be a scalar (a number or a size-1 value), one per axis. */
const checkStarts = (op: string, starts: readonly Abstract[], rank: number): void => {
  if (starts.length !== rank) throw new ShapeError(`${op}: ${starts.length} starts for an operand of rank ${rank}; give one start per axis`);
  starts.forEach((s, i) => {
    if (!s.scalar && sizeOf(s.shape) !== 1)
      throw new ValueError(`${op}: start ${i} has shape ${fmt(s.shape)}; each start must be a scalar (a number or a size-1 tensor)`);
  });
};

export const dynamicSliceP = definePrimitive<{ sizes: readonly number[] }>({
  name: "dynamicSlice",
  abstractEval: ([x, ...starts], p) => {
    checkStarts("dynamicSlice", starts, x!.shape.length);
    checkWindow("dynamicSlice", x!.shape, p.sizes);
    return tensorOf(p.sizes, x!.dtype);
  },
  impl: ([x, ...starts], p) => dynamicSliceKernel(x as Tensor, starts.map(startOf), p.sizes),
  jvp: ([, ...starts], [t], _out, p) => (t === null ? null : dynamicSlice(t!, starts, p.sizes)),
  vjp: (ct, [x, ...starts], _out, _p, wanted) => [
    wanted[0] ? dynamicUpdateSlice(zeros(shapeOf(x!), dtypeOf(x!)), ct, starts) : null,
    ...starts.map(() => null),
  ],
  // Shared starts: one slice of the stacked x, whole along the batch axis. Starts per example:
  // one slice per example.
  batch: (values, batched, p, size): Value =>
    batched.slice(1).some((b) => b) || !batched[0]
      ? perExample(dynamicSliceP, values, batched, p, size)
      : dynamicSlice(values[0]!, [0, ...values.slice(1)], [size, ...p.sizes]),
});

export const dynamicUpdateSliceP = definePrimitive({
  name: "dynamicUpdateSlice",
  abstractEval: ([x, u, ...starts]) => {
    checkStarts("dynamicUpdateSlice", starts, x!.shape.length);
    if (u!.scalar || u!.dtype !== x!.dtype)
      throw new DTypeError(`dynamicUpdateSlice: the update (${u!.scalar ? "a number" : u!.dtype}) must be a tensor of the operand's dtype ${x!.dtype}`);
    checkWindow("dynamicUpdateSlice", x!.shape, u!.shape, "the update's shape");
    return tensorOf(x!.shape, x!.dtype);
  },
  impl: ([x, u, ...starts]) => dynamicUpdateSliceKernel(x as Tensor, u as Tensor, starts.map(startOf)),
  jvp: ([x, u, ...starts], [tx, tu]) =>
    tx === null && tu === null
      ? null
      : dynamicUpdateSlice(tx ?? zeros(shapeOf(x!), dtypeOf(x!)), tu ?? zeros(shapeOf(u!), dtypeOf(u!)), starts),
  vjp: (ct, [, u, ...starts], _out, _p, wanted) => [
    wanted[0] ? dynamicUpdateSlice(ct, zeros(shapeOf(u!), dtypeOf(u!)), starts) : null,
    wanted[1] ? dynamicSlice(ct, starts, shapeOf(u!)) : null,
    ...starts.map(() => null),
  ],
  batch: (values, batched, _p, size): Value => {
    if (batched.slice(2).some((b) => b)) return perExample(dynamicUpdateSliceP, values, batched, undefined, size);
    const [x, u] = allBatched(values.slice(0, 2), batched.slice(0, 2), size);
    return dynamicUpdateSlice(x!, u!, [0, ...values.slice(2)]);
  },
});

export const dynamicSlice = (x: Value, starts: readonly Value[], sizes: readonly number[]): Value => bind(dynamicSliceP, [x, ...starts], { sizes });
export const dynamicUpdateSlice = (x: Value, u: Value, starts: readonly Value[]): Value => bind(dynamicUpdateSliceP, [x, u, ...starts], undefined);
