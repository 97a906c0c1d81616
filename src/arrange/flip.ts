// flip, as NumPy's: the order of the elements reversed along the given axes (default: all).
import { shapeOf, type Value } from "../../effects/value.ts";
import { checkOperand } from "../lax.ts";
import * as F from "../primitives/flip.ts";
import { normalizeAxes } from "../tensor/shape.ts";

/** `x` reversed along `axis` (a number or numbers, negative from the end; default every axis). */
export const flip = (x: Value, axis?: number | readonly number[]): Value => {
  checkOperand("flip", x);
  return F.flip(x, normalizeAxes("flip", axis, shapeOf(x).length));
};
