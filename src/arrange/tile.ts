// tile and repeat, as NumPy's. Whole copies (tile) and equal repeats of each element are
// broadcasts between reshapes: their gradient sums the copies back (broadcastTo's). Unequal
// repeats gather (take), whose gradient scatter-adds.
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import { checkOperand } from "../lax.ts";
import * as S from "../primitives/shape.ts";
import { checkSize, normalizeAxis, sizeOf } from "../tensor/shape.ts";

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0;

/**
 * `x` repeated `reps[i]` times along axis i. As NumPy: a number is one entry; when `reps` and
 * `x` differ in length, the shorter is padded with leading 1s (so `x` may gain axes).
 */
export const tile = (x: Value, reps: number | readonly number[]): Value => {
  checkOperand("tile", x);
  const r = typeof reps === "number" ? [reps] : reps;
  if (!Array.isArray(r) || !r.every(isCount))
    throw new ValueError(`tile: reps must be a non-negative integer or an array of them (one count per axis), got ${show(reps)}`);
  const xs = shapeOf(x);
  const n = Math.max(r.length, xs.length);
  const dims = [...Array<number>(n - xs.length).fill(1), ...xs];
  const counts = [...Array<number>(n - r.length).fill(1), ...r];
  const out = dims.map((d, i) => d * counts[i]!);
  checkSize("tile", out);
  if (counts.every((c) => c === 1)) return S.reshape(x, out);
  const spread = S.reshape(x, dims.flatMap((d) => [1, d]));
  return S.reshape(S.broadcastTo(spread, dims.flatMap((d, i) => [counts[i]!, d])), out);
};

/**
 * Each element of `x` repeated along `axis`, as NumPy's repeat: `repeats` a number (every
 * element as often) or one count per element along the axis. Without an axis, `x` is flattened first.
 */
export const repeat = (x: Value, repeats: number | readonly number[], axis?: number): Value => {
  checkOperand("repeat", x);
  const v = axis === undefined ? S.reshape(x, [sizeOf(shapeOf(x))]) : x;
  const vs = shapeOf(v);
  const a = axis === undefined ? 0 : normalizeAxis("repeat", axis, vs.length);
  const d = vs[a]!;
  const withAxis = (n: number): number[] => vs.map((s, i) => (i === a ? n : s));
  const equal = typeof repeats === "number" ? repeats : Array.isArray(repeats) && repeats.length === 1 ? repeats[0] : undefined;
  if (equal !== undefined) {
    if (!isCount(equal)) throw new ValueError(`repeat: repeats must be a non-negative integer or an array of them, got ${show(repeats)}`);
    checkSize("repeat", withAxis(d * equal));
    if (equal === 1) return v;
    const spread = [...vs.slice(0, a + 1), 1, ...vs.slice(a + 1)];
    const copies = [...vs.slice(0, a + 1), equal, ...vs.slice(a + 1)];
    return S.reshape(S.broadcastTo(S.reshape(v, spread), copies), withAxis(d * equal));
  }
  if (!Array.isArray(repeats) || !repeats.every(isCount))
    throw new ValueError(`repeat: repeats must be a non-negative integer or an array of them, got ${show(repeats)}`);
  if (repeats.length !== d)
    throw new ShapeError(
      `repeat: ${repeats.length} repeat counts for ${d} elements along axis ${axis ?? "0 of the flattened input"} of shape ` +
        `${fmt(shapeOf(x))}; give one count per element (or one number for all)`,
    );
  const total = repeats.reduce((s, n) => s + n, 0);
  checkSize("repeat", withAxis(total));
  const indices = new Int32Array(total);
  for (let i = 0, k = 0; i < d; i++) indices.fill(i, k, (k += repeats[i]!));
  return S.take(v, { indices, indexShape: [total], axis: a });
};
