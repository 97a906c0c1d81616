// sort, argsort and topK in direct style: user input checked, then the primitives of
// primitives/sorting.ts bound.
import { shapeOf, type Value } from "../effects/value.ts";
import { ShapeError } from "./errors.ts";
import { topKShape } from "./kernels/sort.ts";
import { checkOperand } from "./lax.ts";
import * as So from "./primitives/sorting.ts";
import { normalizeAxis } from "./tensor/shape.ts";

const sortAxis = (op: string, x: Value, axis: number): number => {
  checkOperand(op, x);
  const rank = shapeOf(x).length;
  if (rank === 0) throw new ShapeError(`${op}: the operand is 0-d (a scalar) and has no axis to sort along; reshape it to [1] first`);
  return normalizeAxis(op, axis, rank);
};

export const sort = (x: Value, axis = -1): Value => So.sort(x, { axis: sortAxis("sort", x, axis) });
export const argsort = (x: Value, axis = -1): Value => So.argsort(x, { axis: sortAxis("argsort", x, axis) });

export const topK = (x: Value, k: number): [Value, Value] => {
  checkOperand("topK", x);
  topKShape(shapeOf(x), k);
  return So.topK(x, { k });
};
