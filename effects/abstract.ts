// Abstract values of concrete and traced values: what staging knows of an operand before the
// program runs (src/primitives/abstract.ts builds the shape rules on these).
import type { Abstract } from "./primitive.ts";
import { isNumberLike, type Value } from "./value.ts";
import type { DType } from "../src/tensor/tensor.ts";

/** A plain JS number (a float64 scalar). */
export const NUMBER: Abstract = Object.freeze({ shape: Object.freeze([]) as readonly number[], dtype: "float64" as DType, scalar: true });

/** The abstract value of a concrete or traced value. */
export const abstractOf = (v: Value): Abstract => (typeof v === "number" ? NUMBER : { shape: v.shape, dtype: v.dtype, scalar: isNumberLike(v) });
