// tensordot, as NumPy's: the sum of products over paired axes of a and b.
import { shapeOf, type Value } from "../../effects/value.ts";
import { IndexError, ShapeError, ValueError, fmt, show } from "../errors.ts";
import { checkOperand } from "../lax.ts";
import { normalizeAxis } from "../tensor/shape.ts";
import { dotGeneral } from "./dot-general.ts";

/** Axes of `tensordot`: a number n (a's last n axes with b's first n), or [axesOfA, axesOfB] paired by position. */
export type TensordotAxes = number | readonly [number | readonly number[], number | readonly number[]];

const axisList = (which: string, axes: number | readonly number[], shape: readonly number[]): number[] => {
  const list = typeof axes === "number" ? [axes] : axes;
  if (!Array.isArray(list)) throw new IndexError(`tensordot: the axes of ${which} must be a number or an array of numbers, got ${show(axes)}`);
  const out = list.map((a: number) => normalizeAxis(`tensordot (axes of ${which})`, a, shape.length));
  const twice = out.find((a, i) => out.indexOf(a) !== i);
  if (twice !== undefined) throw new IndexError(`tensordot: axis ${twice} of ${which} ${fmt(shape)} is listed twice in ${show(axes)}; list each axis once`);
  return out;
};

/**
 * Σ a·b over the paired axes: the result's axes are a's unpaired axes then b's, in order.
 * `axes` is a number n (a's last n axes with b's first n) or [axesOfA, axesOfB].
 */
export const tensordot = (a: Value, b: Value, axes: TensordotAxes): Value => {
  checkOperand("tensordot", a, "first operand");
  checkOperand("tensordot", b, "second operand");
  const as = shapeOf(a);
  const bs = shapeOf(b);
  let ax: number[];
  let bx: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > Math.min(as.length, bs.length))
      throw new ValueError(
        `tensordot: axes = ${show(axes)} pairs the last axes of ${fmt(as)} with the first of ${fmt(bs)}, so it must be an ` +
          `integer in [0, ${Math.min(as.length, bs.length)}]; or pass [axesOfA, axesOfB]`,
      );
    ax = Array.from({ length: axes }, (_, i) => as.length - axes + i);
    bx = Array.from({ length: axes }, (_, i) => i);
  } else {
    if (!Array.isArray(axes) || axes.length !== 2)
      throw new ValueError(`tensordot: axes must be a number or a pair [axesOfA, axesOfB], got ${show(axes)}`);
    ax = axisList("a", axes[0], as);
    bx = axisList("b", axes[1], bs);
    if (ax.length !== bx.length)
      throw new ShapeError(`tensordot: ${ax.length} axes of a but ${bx.length} of b in ${show(axes)}; the axes are paired, so give as many of each`);
  }
  const bad = ax.findIndex((i, k) => as[i] !== bs[bx[k]!]);
  if (bad >= 0)
    throw new ShapeError(
      `tensordot: axis ${ax[bad]} of a ${fmt(as)} has size ${as[ax[bad]!]} but the axis ${bx[bad]} of b ${fmt(bs)} it is paired with ` +
        `has size ${bs[bx[bad]!]}; paired axes must have equal sizes`,
    );
  return dotGeneral(a, b, { batchA: [], batchB: [], contractA: ax, contractB: bx });
};
