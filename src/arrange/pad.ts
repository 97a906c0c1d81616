// pad, as NumPy's, in three modes. "constant" places x inside a frame of one value (the
// zero-padding primitive, then a fixed mask selects the frame's value). "edge" and "reflect"
// read every output element from an element of x: one gather (take) per padded axis, whose
// gradient scatter-adds back to the elements read more than once.
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import { checkOperand } from "../lax.ts";
import { checkOptions, type OptionSpec } from "../options.ts";
import { where } from "../primitives/binary.ts";
import * as S from "../primitives/shape.ts";
import { padKernel } from "../kernels/shape-ops.ts";
import { full } from "../tensor/create.ts";
import { checkSize } from "../tensor/shape.ts";

/** How `pad` fills the border: one value, copies of the edge element, or the mirror image of the inside (not repeating the edge). */
export type PadMode = "constant" | "edge" | "reflect";

/** Options of `pad`: the `mode` (default "constant") and, for "constant", the `value` (default 0). */
export interface PadOptions {
  mode?: PadMode;
  value?: number;
}

const MODES: readonly PadMode[] = ["constant", "edge", "reflect"];

/** The options pad accepts (any other key is a ValueError). */
const PAD_OPTIONS: OptionSpec = {
  mode: { is: (v) => MODES.includes(v as PadMode), what: 'one of "constant", "edge", "reflect"' },
  value: "number",
};

const isWidth = (n: unknown): boolean => typeof n === "number" && Number.isInteger(n) && n >= 0;

/** Where each output position along an axis of size d reads from, for a mode that copies. */
const sourceIndices = (mode: "edge" | "reflect", d: number, before: number, after: number): Int32Array => {
  const n = before + d + after;
  const out = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = j - before;
    out[j] = i < 0 ? (mode === "edge" ? 0 : -i) : i >= d ? (mode === "edge" ? d - 1 : 2 * (d - 1) - i) : i;
  }
  return out;
};

/**
 * `x` with `widths[i] = [before, after]` elements added on each side of axis i, filled as
 * `mode` says: "constant" (the `value`), "edge" (the nearest edge element), "reflect" (the
 * mirror image without the edge: [1, 2, 3] padded by 2 is [3, 2, 1, 2, 3, 2, 1]).
 */
export const pad = (x: Value, widths: readonly (readonly number[])[], options: PadOptions = {}): Value => {
  checkOperand("pad", x);
  checkOptions("pad", options, PAD_OPTIONS);
  const mode = options.mode ?? "constant";
  const value = options.value ?? 0;
  const xs = shapeOf(x);
  const pairs = Array.isArray(widths) && widths.every((w) => Array.isArray(w) && w.length === 2 && isWidth(w[0]) && isWidth(w[1]));
  if (!pairs || widths.length !== xs.length)
    throw new ValueError(
      `pad: widths must give one [before, after] pair of non-negative integers per axis of shape ${fmt(xs)} ` +
        `(${xs.length} pairs, e.g. ${show(xs.map(() => [1, 1]))}), got ${show(widths)}`,
    );
  if (mode !== "constant" && options.value !== undefined)
    throw new ValueError(`pad: option value is only for mode "constant", not "${mode}" (which copies elements of x)`);
  const befores = widths.map((w) => w[0]!);
  const out = xs.map((d, i) => widths[i]![0]! + d + widths[i]![1]!);
  checkSize("pad", out);
  if (widths.every((w) => w[0] === 0 && w[1] === 0)) return x;
  if (mode === "constant") {
    const placed = S.pad(x, befores, out);
    if (Object.is(value, 0)) return placed;
    const inside = padKernel(full(xs, 1, "float32"), befores, out); // 1 where x is, 0 in the frame
    return where(inside, placed, value);
  }
  xs.forEach((d, axis) => {
    const before = widths[axis]![0]!;
    const after = widths[axis]![1]!;
    if (before === 0 && after === 0) return;
    if (d === 0)
      throw new ShapeError(`pad: cannot extend axis ${axis} of shape ${fmt(xs)} with mode "${mode}": it is empty, with no element to copy; use mode "constant"`);
    if (mode === "reflect" && Math.max(before, after) > d - 1)
      throw new ShapeError(
        `pad: mode "reflect" mirrors the inside of an axis without its edge element, so a width can be at most the ` +
          `axis size minus one; axis ${axis} of shape ${fmt(xs)} has size ${d} but widths [${before}, ${after}]; ` +
          'use smaller widths, mode "edge", or pad in several steps',
      );
  });
  let y = x;
  xs.forEach((d, axis) => {
    const before = widths[axis]![0]!;
    const after = widths[axis]![1]!;
    if (before === 0 && after === 0) return;
    const indices = sourceIndices(mode, d, before, after);
    y = S.take(y, { indices, indexShape: [indices.length], axis });
  });
  return y;
};
