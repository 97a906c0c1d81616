// squeeze and expandDims: size-1 axes removed or inserted. Both are reshapes (the elements keep
// their order), so their derivatives and batching are reshape's.
import { shapeOf, type Value } from "../../effects/value.ts";
import { IndexError, ShapeError, fmt, show } from "../errors.ts";
import { checkOperand } from "../lax.ts";
import * as S from "../primitives/shape.ts";
import { normalizeAxes } from "../tensor/shape.ts";

/** `x` without the size-1 axes `axis` (a number or numbers, negative from the end; default: every size-1 axis). */
export const squeeze = (x: Value, axis?: number | readonly number[]): Value => {
  checkOperand("squeeze", x);
  const xs = shapeOf(x);
  const axes = axis === undefined ? xs.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes("squeeze", axis, xs.length);
  const bad = axes.find((a) => xs[a] !== 1);
  if (bad !== undefined)
    throw new ShapeError(
      `squeeze: axis ${bad} of shape ${fmt(xs)} has size ${xs[bad]}, not 1; only size-1 axes can be removed ` +
        "(reduce it with sum, or pick entries with take or slice)",
    );
  return S.reshape(x, xs.filter((_, i) => !axes.includes(i)));
};

/**
 * `x` with size-1 axes inserted so that they are the axes `axis` (a number or numbers) of the
 * result; negative axes count from the end of the result, as NumPy's expand_dims.
 */
export const expandDims = (x: Value, axis: number | readonly number[]): Value => {
  checkOperand("expandDims", x);
  const xs = shapeOf(x);
  if (typeof axis !== "number" && !Array.isArray(axis))
    throw new IndexError(`expandDims: axis must be a number or an array of numbers (the new axes' positions), got ${show(axis)}`);
  const count = typeof axis === "number" ? 1 : axis.length;
  const rank = xs.length + count;
  const axes = normalizeAxes("expandDims", axis, rank);
  const shape: number[] = [];
  for (let i = 0, k = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : xs[k++]!);
  return S.reshape(x, shape);
};
