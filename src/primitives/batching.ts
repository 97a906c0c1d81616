// Shapes of batching rules (vmap) that primitives share. Each primitive's record carries its
// own `batch` rule (effects/primitive.ts); these helpers are what those rules call: operands
// are stacked along axis 0 (`batched[i]` says whether `values[i]` is), and a rule gives the
// output with the batch (of `size`) on axis 0, computed with the same primitives — so every
// handler below vmap sees, and can differentiate, what the rule does.
// The handler applying the rules is BatchTrace (effects/batch.ts), which vmap
// (src/transforms/vmap.ts) installs with exampleOf and stackExamples below; vmap splits the
// arguments and stacks the results. This module registers nothing.
import type { Primitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { zeros } from "../tensor/create.ts";
import * as S from "./shape.ts";

/** Inserts size-1 axes after the batch axis so a batched value has per-example rank `rank`. */
export const lift = (v: Value, rank: number): Value => {
  const s = shapeOf(v);
  const missing = rank + 1 - s.length;
  return missing <= 0 ? v : S.reshape(v, [s[0]!, ...Array<number>(missing).fill(1), ...s.slice(1)]);
};

/** Gives an unbatched operand the batch axis (a broadcast copy along axis 0). */
export const stack = (v: Value, size: number): Value => {
  const s = shapeOf(v);
  return S.broadcastTo(S.reshape(v, [1, ...s]), [size, ...s]);
};

/** Every operand batched: an unbatched one is stacked. */
export const allBatched = (values: readonly Value[], batched: readonly boolean[], size: number): Value[] =>
  values.map((v, i) => (batched[i] ? v : stack(v, size)));

/** Per-example axes as axes of the stacked value. */
export const shiftAxes = (axes: readonly number[]): number[] => axes.map((a) => a + 1);

/**
 * Elementwise operations and matmul: batched operands are aligned to the largest per-example
 * rank (size-1 axes after the batch axis); NumPy broadcasting then lines the unbatched ones up
 * with the trailing axes.
 */
export const aligned = <P>(prim: Primitive<P>, values: readonly Value[], batched: readonly boolean[], params: P): Value => {
  let rank = 0;
  for (let i = 0; i < values.length; i++) rank = Math.max(rank, shapeOf(values[i]!).length - (batched[i] ? 1 : 0));
  return bind(prim, values.map((v, i) => (batched[i] ? lift(v, rank) : v)), params);
};

/** A primitive that acts on each example's values alone whatever their shape (cast, stopGradient). */
export const sameOp = <P>(prim: Primitive<P>, values: readonly Value[], params: P): Value => bind(prim, values, params);

/** Reductions over `axes`: the same reduction of the stacked value, over the axes shifted by one. */
export const reduceShifted = <P extends { readonly axes: readonly number[] }>(prim: Primitive<P>, values: readonly Value[], params: P): Value =>
  bind(prim, values, { ...params, axes: shiftAxes(params.axes) });

/** [N, C, H, W] images: the batch folded into N ([size·N, C, H, W]). */
export const foldImages = (v: Value): Value => {
  const s = shapeOf(v);
  return S.reshape(v, [s[0]! * s[1]!, ...s.slice(2)]);
};
/** The inverse of foldImages: [size·N, ...] back to [size, N, ...]. */
export const unfoldImages = (v: Value, size: number): Value => {
  const s = shapeOf(v);
  return S.reshape(v, [size, s[0]! / size, ...s.slice(1)]);
};
/** A shape parameter [N, ...] of an image operation, for the folded batch. */
export const foldShape = (shape: readonly number[], size: number): number[] => [size * shape[0]!, ...shape.slice(1)];

/** Example b of a value stacked along axis 0. */
export const exampleOf = (v: Value, b: number): Value => {
  const s = shapeOf(v);
  const one = S.slice(v, s.map((_, a) => (a === 0 ? b : 0)), s.map((d, a) => (a === 0 ? b + 1 : d)));
  return S.reshape(one, s.slice(1));
};

/** Examples stacked along a new axis 0. */
export const stackExamples = (examples: readonly Value[]): Value => S.concat(examples.map((r) => S.reshape(r, [1, ...shapeOf(r)])), 0);

/**
 * The rule of a primitive that can only run once per example (for the operands it is given):
 * the primitive on each example's values, the results stacked along a new axis 0. Correct,
 * and one call per example — a primitive's record names it where nothing better exists.
 */
export const perExample = <P>(prim: Primitive<P>, values: readonly Value[], batched: readonly boolean[], params: P, size: number): Value => {
  if (size === 0) {
    // No example to run (and nothing to concatenate): run once on a zero example for the
    // result's shape, then keep none of it.
    const r = bind(prim, values.map((v, i) => (batched[i] ? zeros(shapeOf(v).slice(1), dtypeOf(v)) : v)), params);
    const s = shapeOf(r);
    return S.slice(S.reshape(r, [1, ...s]), [0, ...s.map(() => 0)], [0, ...s]);
  }
  const results: Value[] = [];
  for (let b = 0; b < size; b++) results.push(bind(prim, values.map((v, i) => (batched[i] ? exampleOf(v, b) : v)), params));
  return stackExamples(results);
};
