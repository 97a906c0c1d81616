// stack and split: operands joined along a new axis (concat of size-1 expansions), and one
// operand cut into pieces along an axis (slices). Their derivatives are concat's and slice's.
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import { checkOperand } from "../lax.ts";
import * as S from "../primitives/shape.ts";
import { normalizeAxis, sameShape } from "../tensor/shape.ts";

/** The operands, all of one shape, stacked along a new axis `axis` of the result (negative from the end). */
export const stack = (xs: readonly Value[], axis = 0): Value => {
  if (!Array.isArray(xs) || xs.length === 0)
    throw new ValueError(`stack: takes a non-empty array of tensors, got ${Array.isArray(xs) ? "an empty array" : show(xs)}`);
  xs.forEach((x, i) => checkOperand("stack", x, `element ${i}`));
  const first = shapeOf(xs[0]!);
  const bad = xs.findIndex((x) => !sameShape(shapeOf(x), first));
  if (bad >= 0)
    throw new ShapeError(
      `stack: every element must have the same shape, but element 0 has ${fmt(first)} and element ${bad} has ` +
        `${fmt(shapeOf(xs[bad]!))}; reshape or broadcastTo them to one shape (or use concat along an existing axis)`,
    );
  const a = normalizeAxis("stack", axis, first.length + 1);
  const expanded = [...first.slice(0, a), 1, ...first.slice(a)];
  const parts = xs.map((x) => S.reshape(x, expanded));
  return parts.length === 1 ? parts[0]! : S.concat(parts, a);
};

/**
 * Pieces of `x` along `axis`, as NumPy's split: a number n cuts the axis into n equal pieces (a
 * ValueError when n does not divide it); an array of indices cuts before each index, as the
 * slices x[:i0], x[i0:i1], ..., x[ik:] (negative indices count from the end; indices past the
 * end, or smaller than the one before, give empty pieces).
 */
export const split = (x: Value, sectionsOrIndices: number | readonly number[], axis = 0): Value[] => {
  checkOperand("split", x);
  const xs = shapeOf(x);
  if (xs.length === 0) throw new ShapeError("split: cannot split a 0-d value; reshape it to [1] first");
  const a = normalizeAxis("split", axis, xs.length);
  const d = xs[a]!;
  let cuts: number[];
  if (typeof sectionsOrIndices === "number") {
    const n = sectionsOrIndices;
    if (!Number.isInteger(n) || n < 1)
      throw new ValueError(`split: the number of sections must be a positive integer, got ${show(n)}; or pass an array of split indices`);
    if (d % n !== 0)
      throw new ValueError(
        `split: axis ${axis} of shape ${fmt(xs)} has size ${d}, which does not divide into ${n} equal sections; ` +
          "pass a number of sections that divides it, or an array of split indices for unequal pieces",
      );
    cuts = Array.from({ length: n - 1 }, (_, i) => ((i + 1) * d) / n);
  } else if (Array.isArray(sectionsOrIndices)) {
    const bad = sectionsOrIndices.find((i) => !Number.isInteger(i));
    if (bad !== undefined) throw new ValueError(`split: split indices must be integers, got ${show(bad)} in ${show(sectionsOrIndices)}`);
    cuts = sectionsOrIndices.map((i) => Math.min(d, Math.max(0, i < 0 ? i + d : i)));
  } else {
    throw new ValueError(`split: takes a number of equal sections or an array of split indices, got ${show(sectionsOrIndices)}`);
  }
  const bounds = [0, ...cuts, d];
  return cuts.concat(d).map((end, k) => {
    const start = bounds[k]!;
    const starts = xs.map((_, i) => (i === a ? start : 0));
    const ends = xs.map((n, i) => (i === a ? Math.max(start, end) : n));
    return S.slice(x, starts, ends);
  });
};
