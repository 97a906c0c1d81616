// Numbers vs 0-d tensors, decided here. The library's rule (effects/primitive.ts `Abstract.scalar`,
// docs/tensors.md "Dtypes and promotion"): a float64 scalar result is a JS number, not a 0-d
// tensor, and transformations give numbers for numbers (the gradient of a number is a number).
// Whether a value *is* a number — a plain number, or a box standing for one at any level — is
// `isNumberLike` (defined beside `Value` in effects/value.ts, which the handlers use too); every
// place above the core that turns a value into the kind of a slot goes through this module.
import type { StagingTrace } from "../effects/stage.ts";
import type { Var } from "../effects/staged-program.ts";
import { isNumberLike, shapeOf, dtypeOf, type Value } from "../effects/value.ts";
import { mul } from "./primitives/binary.ts";
import { broadcastTo, reshape, toNumber } from "./primitives/shape.ts";
import { full, ones, zeros } from "./tensor/create.ts";
import { Tensor } from "./tensor/tensor.ts";

export { isNumberLike };

/**
 * `v` (of size 1) as a number: itself where it already is one; a concrete tensor's element;
 * a traced tensor through the toNumber primitive, so derivatives and staged code see a number.
 */
export const asNumber = (v: Value): Value =>
  isNumberLike(v) ? v : v instanceof Tensor && v.size === 1 ? v.buf[0]! : toNumber(v);

/** `v` as a tensor: a number-like value becomes a 0-d float64 tensor (x·1 is exact for every float, -0 and NaN included). */
export const asTensor = (v: Value): Value => (isNumberLike(v) ? mul(v, ones([], "float64")) : v);

/** `v` in a slot's kind: a number where `scalar`, else a tensor. */
export const inKind = (v: Value, scalar: boolean): Value => (scalar ? asNumber(v) : asTensor(v));

/**
 * `v` in the kind of `like` (a cotangent or gradient in its primal's kind): a number for a
 * number-like `like`; for a tensor `like`, a number-like `v` is spread over `like`'s shape.
 */
export const kindLike = (v: Value, like: Value): Value =>
  isNumberLike(like) ? asNumber(v) : isNumberLike(v) ? broadcastTo(reshape(v, []), shapeOf(like)) : v;

/** Ones shaped like `v` (the seed of reverse mode): the number 1 for a number-like `v`. */
export const onesLike = (v: Value): Value => (isNumberLike(v) ? 1 : full(shapeOf(v), 1, dtypeOf(v)));

/** A constant zero shaped like `v`: the number 0 when `v` stands for a number, at any level. */
export const zerosLike = (v: Value): Value => (isNumberLike(v) ? 0 : zeros(shapeOf(v), dtypeOf(v)));

/** A staged variable shaped like `v`, of `v`'s kind unless `scalar` says otherwise: a JS number in the generated code where `scalar`. */
export const varLike = (trace: StagingTrace, v: Value, scalar = isNumberLike(v)): Var => trace.newVar(shapeOf(v), dtypeOf(v), scalar);

/**
 * The kind of each slot that several values flow into (a loop's carry before and after its body,
 * a switch's branches' results): a number only where every value is number-like — a JS number
 * and a tensor are different things in generated code, so one tensor makes the slot a tensor.
 */
export const sharedKinds = (values: readonly (readonly Value[])[]): boolean[] =>
  values.length === 0 ? [] : values[0]!.map((_, i) => values.every((vs) => isNumberLike(vs[i]!)));

/**
 * A staged loop's carry kinds (true: a tensor slot). Where a carry is a number in `init` but not
 * after the body (or the other way), the loop keeps a 0-d tensor in that slot. Stages the body
 * with the kinds so far until they are stable; returns them.
 */
export const carryKinds = (init: readonly Value[], stage: (tensorCarry: readonly boolean[]) => readonly Value[]): boolean[] => {
  const tensorCarry = init.map((l) => !isNumberLike(l));
  for (;;) {
    const out = stage(tensorCarry);
    const promote = out.map((l, i) => i < tensorCarry.length && !tensorCarry[i] && !isNumberLike(l));
    if (!promote.some(Boolean)) return tensorCarry;
    promote.forEach((p, i) => p && (tensorCarry[i] = true));
  }
};
