// tril and triu, as NumPy's: the lower or upper triangle of each matrix in the last two axes.
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import { checkOperand } from "../lax.ts";
import { triangle } from "../primitives/triangular.ts";

const checked = (op: "tril" | "triu", x: Value, k: number): Value => {
  checkOperand(op, x);
  if (!Number.isInteger(k)) throw new ValueError(`${op}: the diagonal k must be an integer (0 the main diagonal, > 0 above, < 0 below), got ${show(k)}`);
  const xs = shapeOf(x);
  if (xs.length < 2)
    throw new ShapeError(`${op}: takes matrices (rank >= 2; leading axes are a batch), got shape ${fmt(xs)}; reshape a vector to [1, n] or [n, 1] first`);
  return triangle(x, { lower: op === "tril", k });
};

/** The elements on and below diagonal `k` of each matrix (the last two axes); the others zero. */
export const tril = (x: Value, k = 0): Value => checked("tril", x, k);
/** The elements on and above diagonal `k` of each matrix (the last two axes); the others zero. */
export const triu = (x: Value, k = 0): Value => checked("triu", x, k);
