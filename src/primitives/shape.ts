// Shape primitives. Each is linear, so each rule is another shape primitive: reshape ↔
// reshape, transpose ↔ inverse transpose, broadcastTo ↔ sumTo, slice ↔ pad, take ↔ scatterAdd,
// concat ↔ slices.
import { definePrimitive, type Abstract } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, fmt } from "../errors.ts";
import {
  broadcastToKernel,
  checkBroadcastTo,
  checkConcat,
  checkPad,
  concatKernel,
  padKernel,
  scatterAddKernel,
  scatterAddShape,
  sliceKernel,
  takeKernel,
  takeShape,
  transposeKernel,
} from "../kernels/shape-ops.ts";
import { full, zeros } from "../tensor/create.ts";
import { sameShape, sizeOf, type Shape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { IDENTITY } from "../kernels/scalar-expr.ts";
import { sumTo } from "./reduce.ts";
import { NUMBER, tensorOf } from "./abstract.ts";
import { allBatched, lift, shiftAxes } from "./batching.ts";

/** A concrete operand as a tensor (numbers become float64 0-d tensors). */
export const asTensor = (x: Value): Tensor => (typeof x === "number" ? full([], x) : (x as Tensor));

/** reshape keeps the elements: the sizes must match. */
const checkReshape = (xs: Shape, shape: Shape): void => {
  if (sizeOf(xs) !== sizeOf(shape))
    throw new ShapeError(
      `reshape: cannot reshape ${fmt(xs)} (${sizeOf(xs)} elements) to ${fmt(shape)} (${sizeOf(shape)} elements); ` +
        "the sizes must match",
    );
};

/** A shape primitive's output: a tensor (a number operand is a 0-d float64 tensor to the kernels). */
const shaped = (shape: Shape, x: Abstract): Abstract => tensorOf(shape, x.dtype);

export const reshapeP = definePrimitive<{ shape: Shape }>({
  name: "reshape",
  capabilities: { aliasesOperand: true, relayout: true },
  abstractEval: ([x], p) => (checkReshape(x!.shape, p.shape), shaped(p.shape, x!)),
  impl: (args, p) => {
    const x = asTensor(args[0]!);
    return new Tensor(x.buf, p.shape); // immutable tensors can share a buffer
  },
  jvp: (_p, [t], _out, p) => (t === null ? null : reshape(t!, p.shape)),
  vjp: (ct, [x]) => [reshape(ct, shapeOf(x!))],
  batch: ([x], _batched, p, size): Value => bind(reshapeP, [x!], { shape: [size, ...p.shape] }),
});

export const transposeP = definePrimitive<{ perm: readonly number[] }>({
  name: "transpose",
  abstractEval: ([x], p) => shaped(p.perm.map((a) => x!.shape[a]!), x!),
  impl: (args, p) => transposeKernel(asTensor(args[0]!), p.perm),
  jvp: (_p, [t], _out, p) => (t === null ? null : transpose(t!, p.perm)),
  vjp: (ct, _x, _out, p) => [transpose(ct, inversePerm(p.perm))],
  batch: ([x], _batched, p): Value => bind(transposeP, [x!], { perm: [0, ...shiftAxes(p.perm)] }),
});

export const inversePerm = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((axis, i) => (inv[axis] = i));
  return inv;
};

export const broadcastToP = definePrimitive<{ shape: Shape }>({
  name: "broadcastTo",
  capabilities: { broadcast: true },
  abstractEval: ([x], p) => (checkBroadcastTo(x!.shape, p.shape), shaped(p.shape, x!)),
  impl: (args, p) => broadcastToKernel(asTensor(args[0]!), p.shape),
  jvp: (_p, [t], _out, p) => (t === null ? null : broadcastTo(t!, p.shape)),
  vjp: (ct, [x]) => [sumTo(ct, shapeOf(x!))],
  batch: ([x], _batched, p, size): Value => bind(broadcastToP, [lift(x!, p.shape.length)], { shape: [size, ...p.shape] }),
});

export const concatP = definePrimitive<{ axis: number }>({
  name: "concat",
  abstractEval: (xs, p) => {
    const { shape, dtype } = checkConcat(xs, p.axis);
    return tensorOf(shape, dtype);
  },
  impl: (args, p) => concatKernel(args.map(asTensor), p.axis),
  jvp: (primals, tangents, _out, p) =>
    tangents.every((t) => t === null)
      ? null
      : concat(
          tangents.map((t, i) => t ?? zeros(shapeOf(primals[i]!), dtypeOf(primals[i]!))),
          p.axis,
        ),
  vjp: (ct, primals, _out, p, wanted) => {
    const cs = shapeOf(ct);
    let offset = 0;
    return primals.map((x, i) => {
      const xs = shapeOf(x);
      const starts = cs.map((_, a) => (a === p.axis ? offset : 0));
      const ends = cs.map((d, a) => (a === p.axis ? offset + xs[a]! : d));
      offset += xs[p.axis]!;
      return wanted[i] ? slice(ct, starts, ends) : null;
    });
  },
  batch: (values, batched, p, size): Value => bind(concatP, allBatched(values, batched, size), { axis: p.axis + 1 }),
});

export const sliceP = definePrimitive<{ starts: readonly number[]; ends: readonly number[] }>({
  name: "slice",
  capabilities: { slice: (p) => p },
  abstractEval: ([x], p) => shaped(p.starts.map((s, i) => p.ends[i]! - s), x!),
  impl: (args, p) => sliceKernel(asTensor(args[0]!), p.starts, p.ends),
  jvp: (_p, [t], _out, p) => (t === null ? null : slice(t!, p.starts, p.ends)),
  vjp: (ct, [x], _out, p) => [pad(ct, p.starts, shapeOf(x!))],
  batch: ([x], _batched, p, size): Value => bind(sliceP, [x!], { starts: [0, ...p.starts], ends: [size, ...p.ends] }),
});

/** Zeros of `shape` with the operand written at `starts`: the adjoint of slice. */
export const padP = definePrimitive<{ starts: readonly number[]; shape: Shape }>({
  name: "pad",
  capabilities: { zeroPad: (p) => p },
  abstractEval: ([x], p) => (checkPad(x!.shape, p.starts, p.shape), shaped(p.shape, x!)),
  impl: (args, p) => padKernel(asTensor(args[0]!), p.starts, p.shape),
  jvp: (_p, [t], _out, p) => (t === null ? null : pad(t!, p.starts, p.shape)),
  vjp: (ct, [x], _out, p) => {
    const xs = shapeOf(x!);
    return [slice(ct, p.starts, p.starts.map((s, i) => s + xs[i]!))];
  },
  batch: ([x], _batched, p, size): Value => bind(padP, [x!], { starts: [0, ...p.starts], shape: [size, ...p.shape] }),
});

export interface TakeParams {
  readonly indices: Int32Array;
  readonly indexShape: Shape;
  readonly axis: number;
}

export const takeP = definePrimitive<TakeParams>({
  name: "take",
  abstractEval: ([x], p) => shaped(takeShape(x!.shape, p.indexShape, p.axis), x!),
  impl: (args, p) => takeKernel(asTensor(args[0]!), p.indices, p.indexShape, p.axis),
  jvp: (_p, [t], _out, p) => (t === null ? null : take(t!, p)),
  vjp: (ct, [x], _out, p) => [scatterAdd(ct, p, shapeOf(x!)[p.axis]!)],
  batch: ([x], _batched, p): Value => bind(takeP, [x!], { ...p, axis: p.axis + 1 }),
});

/** Adds slices of the operand into zeros at `indices` along `axis`: the adjoint of take. */
export const scatterAddP = definePrimitive<TakeParams & { dimSize: number }>({
  name: "scatterAdd",
  abstractEval: ([v], p) => shaped(scatterAddShape(v!.shape, p.indexShape, p.axis, p.dimSize), v!),
  impl: (args, p) => scatterAddKernel(asTensor(args[0]!), p.indices, p.indexShape, p.axis, p.dimSize),
  jvp: (_p, [t], _out, p) => (t === null ? null : scatterAdd(t!, p, p.dimSize)),
  vjp: (ct, _x, _out, p) => [take(ct, p)],
  batch: ([x], _batched, p): Value => bind(scatterAddP, [x!], { ...p, axis: p.axis + 1 }),
});

/** The number in a size-1 value (so that derivatives of numbers stay numbers when staged). */
export const toNumberP = definePrimitive({
  name: "toNumber",
  elementwise: IDENTITY, // (on a number)
  abstractEval: () => NUMBER,
  impl: (args) => {
    const x = args[0]!;
    return typeof x === "number" ? x : (x as Tensor).buf[0]!;
  },
  jvp: (_p, [t]) => (t === null ? null : toNumber(t!)),
  vjp: (ct, [x]) => [reshape(ct, shapeOf(x!))],
  // One number per example: the batch of them is a [size] tensor.
  batch: ([x], _batched, _p, size): Value => reshape(x!, [size]),
});

// Direct-style calls. Identity cases return the operand itself: nothing to record.
export const toNumber = (x: Value): Value => (typeof x === "number" ? x : bind(toNumberP, [x], undefined));
export const reshape = (x: Value, shape: Shape): Value => {
  const xs = shapeOf(x);
  if (sameShape(xs, shape)) return x;
  checkReshape(xs, shape);
  return bind(reshapeP, [x], { shape });
};
export const transpose = (x: Value, perm: readonly number[]): Value =>
  perm.every((a, i) => a === i) ? x : bind(transposeP, [x], { perm });
export const broadcastTo = (x: Value, shape: Shape): Value =>
  sameShape(shapeOf(x), shape) ? x : bind(broadcastToP, [x], { shape });
export const concat = (xs: readonly Value[], axis: number): Value => bind(concatP, xs, { axis });
export const slice = (x: Value, starts: readonly number[], ends: readonly number[]): Value =>
  starts.every((s) => s === 0) && sameShape(ends, shapeOf(x)) ? x : bind(sliceP, [x], { starts, ends });
export const pad = (x: Value, starts: readonly number[], shape: Shape): Value =>
  sameShape(shapeOf(x), shape) ? x : bind(padP, [x], { starts, shape });
export const take = (x: Value, p: TakeParams): Value => bind(takeP, [x], p);
export const scatterAdd = (v: Value, p: TakeParams, dimSize: number): Value =>
  bind(scatterAddP, [v], { ...p, dimSize });

