// A window of x whose start positions are operands, so they may be data known only at run time
// (staged by jit, one per example under vmap): dynamicSlice reads the window, and
// dynamicUpdateSlice writes one. Both are linear in the tensors and each is the other's
// adjoint; the starts are integers and get no derivative. Starts are clamped into range, as
// XLA does, so every start value gives a window inside x.
// With `rows`, x's leading axis is a batch of rows and each start operand holds one start per
// row: vmap over starts is then one primitive, not one slice per example.
import { definePrimitive, type Abstract } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { DTypeError, ShapeError, ValueError, fmt } from "../errors.ts";
import {
  checkWindow,
  dynamicSliceKernel,
  dynamicSliceRowsKernel,
  dynamicUpdateSliceKernel,
  dynamicUpdateSliceRowsKernel,
} from "../kernels/dynamic-slice.ts";
import { zeros } from "../tensor/create.ts";
import { sizeOf } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { tensorOf } from "./abstract.ts";
import { stack } from "./batching.ts";
import { reshape } from "./shape.ts";

export interface SliceParams {
  readonly sizes: readonly number[];
  /** One window per row of x's leading axis, each start operand holding one start per row. */
  readonly rows: boolean;
}
export interface UpdateParams {
  readonly rows: boolean;
}

/** A start operand's number (a number, or a size-1 tensor). */
const startOf = (v: Value): number => (typeof v === "number" ? v : (v as Tensor).buf[0]!);
/** A start operand's numbers, one per row. */
const startsOf = (v: Value): ArrayLike<number> => (typeof v === "number" ? [v] : (v as Tensor).buf);

/** One start per window axis: each a scalar, or with `rows`, one per row. */
const checkStarts = (op: string, starts: readonly Abstract[], rank: number, rows: number | undefined): void => {
  if (starts.length !== rank) throw new ShapeError(`${op}: ${starts.length} starts for an operand of rank ${rank}; give one start per axis`);
  const want = rows ?? 1;
  starts.forEach((s, i) => {
    if ((s.scalar ? 1 : sizeOf(s.shape)) !== want)
      throw new ValueError(
        `${op}: start ${i} has shape ${fmt(s.shape)}; ` +
          (rows === undefined ? "each start must be a scalar (a number or a size-1 tensor)" : `with one window per row it must hold ${rows} starts`),
      );
  });
};

/** x's shape without its rows axis, when it has one. */
const windowed = (shape: readonly number[], rows: boolean): readonly number[] => (rows ? shape.slice(1) : shape);

export const dynamicSliceP = definePrimitive<SliceParams>({
  name: "dynamicSlice",
  abstractEval: ([x, ...starts], p) => {
    const inner = windowed(x!.shape, p.rows);
    if (p.rows && x!.shape.length === 0) throw new ShapeError("dynamicSlice: one window per row needs a leading axis of rows");
    checkStarts("dynamicSlice", starts, inner.length, p.rows ? x!.shape[0] : undefined);
    checkWindow("dynamicSlice", inner, p.sizes);
    return tensorOf(p.rows ? [x!.shape[0]!, ...p.sizes] : p.sizes, x!.dtype);
  },
  impl: ([x, ...starts], p) =>
    p.rows ? dynamicSliceRowsKernel(x as Tensor, starts.map(startsOf), p.sizes) : dynamicSliceKernel(x as Tensor, starts.map(startOf), p.sizes),
  jvp: ([, ...starts], [t], _out, p) => (t === null ? null : dynamicSlice(t!, starts, p.sizes, p.rows)),
  vjp: (ct, [x, ...starts], _out, p, wanted) => [
    wanted[0] ? dynamicUpdateSlice(zeros(shapeOf(x!), dtypeOf(x!)), ct, starts, p.rows) : null,
    ...starts.map(() => null),
  ],
  batch: ([x, ...starts], batched, p, size): Value => {
    // Shared starts, plain windows: one window of the stacked x, whole along the batch axis.
    if (!p.rows && batched[0] && !batched.slice(1).some((b) => b)) return dynamicSlice(x!, [0, ...starts], [size, ...p.sizes], false);
    // Otherwise a window per example: the examples (and, with rows, each example's rows) are the rows.
    const xs = batched[0] ? x! : stack(x!, size);
    const rowsPer = p.rows ? shapeOf(xs)[1]! : 1;
    const flat = reshape(xs, [size * rowsPer, ...shapeOf(xs).slice(p.rows ? 2 : 1)]);
    const perRow = starts.map((s, i) => reshape(batched[i + 1] ? s : stack(s, size), [size * rowsPer]));
    const out = dynamicSlice(flat, perRow, p.sizes, true);
    return p.rows ? reshape(out, [size, rowsPer, ...p.sizes]) : out;
  },
});

export const dynamicUpdateSliceP = definePrimitive<UpdateParams>({
  name: "dynamicUpdateSlice",
  abstractEval: ([x, u, ...starts], p) => {
    if (u!.scalar || u!.dtype !== x!.dtype)
      throw new DTypeError(`dynamicUpdateSlice: the update (${u!.scalar ? "a number" : u!.dtype}) must be a tensor of the operand's dtype ${x!.dtype}`);
    if (p.rows && (x!.shape.length === 0 || u!.shape[0] !== x!.shape[0]))
      throw new ShapeError(`dynamicUpdateSlice: one update per row needs operand and update with the same leading axis, got ${fmt(x!.shape)} and ${fmt(u!.shape)}`);
    const inner = windowed(x!.shape, p.rows);
    checkStarts("dynamicUpdateSlice", starts, inner.length, p.rows ? x!.shape[0] : undefined);
    checkWindow("dynamicUpdateSlice", inner, windowed(u!.shape, p.rows), "the update's shape");
    return tensorOf(x!.shape, x!.dtype);
  },
  impl: ([x, u, ...starts], p) =>
    p.rows
      ? dynamicUpdateSliceRowsKernel(x as Tensor, u as Tensor, starts.map(startsOf))
      : dynamicUpdateSliceKernel(x as Tensor, u as Tensor, starts.map(startOf)),
  jvp: ([x, u, ...starts], [tx, tu], _out, p) =>
    tx === null && tu === null
      ? null
      : dynamicUpdateSlice(tx ?? zeros(shapeOf(x!), dtypeOf(x!)), tu ?? zeros(shapeOf(u!), dtypeOf(u!)), starts, p.rows),
  vjp: (ct, [, u, ...starts], _out, p, wanted) => [
    wanted[0] ? dynamicUpdateSlice(ct, zeros(shapeOf(u!), dtypeOf(u!)), starts, p.rows) : null,
    wanted[1] ? dynamicSlice(ct, starts, windowed(shapeOf(u!), p.rows), p.rows) : null,
    ...starts.map(() => null),
  ],
  batch: ([x, u, ...starts], batched, p, size): Value => {
    const xs = batched[0] ? x! : stack(x!, size);
    const us = batched[1] ? u! : stack(u!, size);
    if (!p.rows && !batched.slice(2).some((b) => b)) return dynamicUpdateSlice(xs, us, [0, ...starts], false);
    const rowsPer = p.rows ? shapeOf(xs)[1]! : 1;
    const flat = (v: Value): Value => reshape(v, [size * rowsPer, ...shapeOf(v).slice(p.rows ? 2 : 1)]);
    const perRow = starts.map((s, i) => reshape(batched[i + 2] ? s : stack(s, size), [size * rowsPer]));
    const out = dynamicUpdateSlice(flat(xs), flat(us), perRow, true);
    return reshape(out, shapeOf(xs));
  },
});

export const dynamicSlice = (x: Value, starts: readonly Value[], sizes: readonly number[], rows = false): Value =>
  bind(dynamicSliceP, [x, ...starts], { sizes, rows });
export const dynamicUpdateSlice = (x: Value, u: Value, starts: readonly Value[], rows = false): Value =>
  bind(dynamicUpdateSliceP, [x, u, ...starts], { rows });
