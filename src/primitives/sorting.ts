// Sorting: sort and topK are selections (primitives/select.ts): the kernel finds, from the
// concrete x, which element goes to each output place, and the values are gathered from
// there; the derivative flows to the chosen elements through the matching scatter. argsort
// and topK's indices are integer-valued results: constant in x, with no derivative.
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { ShapeError } from "../errors.ts";
import { positionsAlong, sortPicks, topKPicks, topKShape } from "../kernels/sort.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { tensorOf } from "./abstract.ts";
import { allBatched } from "./batching.ts";
import { selection } from "./select.ts";

export interface SortParams {
  readonly axis: number;
}
export interface TopKParams {
  readonly k: number;
}

const sortShape = (op: string, xs: readonly number[], axis: number): number[] => {
  if (axis < 0 || axis >= xs.length) throw new ShapeError(`${op}: axis ${axis} does not exist for shape [${xs.join(", ")}]`);
  return xs.slice();
};

/** sort along an axis: ascending, stable, NaN last. */
export const sorted = selection<SortParams>({
  name: "sort",
  picks: (x, p) => sortPicks(x, p.axis),
  outShape: (xs, p) => sortShape("sort", xs, p.axis),
  batch: (prim, values, batched, p, size): Value => bind(prim, allBatched(values, batched, size), { axis: p.axis + 1 }),
});

/** The k largest along the last axis, largest first. */
export const topKValues = selection<TopKParams>({
  name: "topK",
  picks: (x, p) => topKPicks(x, p.k),
  outShape: (xs, p) => topKShape(xs, p.k),
  batch: (prim, values, batched, p, size): Value => bind(prim, allBatched(values, batched, size), p),
});

/** The positions that sort x along an axis (float64, integer-valued). */
export const argsortP = definePrimitive<SortParams>({
  name: "argsort",
  abstractEval: ([x], p) => tensorOf(sortShape("argsort", x!.shape, p.axis), "float64"),
  impl: ([x], p) => positionsAlong(sortPicks(x as Tensor, p.axis), (x as Tensor).shape, p.axis, (x as Tensor).shape),
  jvp: () => null,
  vjp: () => [null],
  batch: ([x], _batched, p): Value => bind(argsortP, [x!], { axis: p.axis + 1 }),
});

/** The positions of the k largest along the last axis, largest first (float64, integer-valued). */
export const topKIndicesP = definePrimitive<TopKParams>({
  name: "topKIndices",
  abstractEval: ([x], p) => tensorOf(topKShape(x!.shape, p.k), "float64"),
  impl: ([x], p) => {
    const t = x as Tensor;
    return positionsAlong(topKPicks(t, p.k), t.shape, t.shape.length - 1, topKShape(t.shape, p.k));
  },
  jvp: () => null,
  vjp: () => [null],
  batch: ([x], _batched, p): Value => bind(topKIndicesP, [x!], p),
});

export const sort = (x: Value, p: SortParams): Value => bind(sorted.gather, [x, x], p);
export const argsort = (x: Value, p: SortParams): Value => bind(argsortP, [x], p);
export const topK = (x: Value, p: TopKParams): [Value, Value] => [bind(topKValues.gather, [x, x], p), bind(topKIndicesP, [x], p)];
