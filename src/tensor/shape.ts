// Shape arithmetic: sizes, strides, NumPy broadcasting, axis normalization.
import { IndexError, ShapeError, fmt, show } from "../errors.ts";

export type Shape = readonly number[];

export const sizeOf = (shape: Shape): number => {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
};

/** Row-major strides, in elements. */
export const stridesOf = (shape: Shape): number[] => {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
};

export const sameShape = (a: Shape, b: Shape): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** The NumPy broadcast of two shapes; `op` names the operation in the error. */
export const broadcastShapes = (op: string, a: Shape, b: Shape): number[] => {
  if (sameShape(a, b)) return a.slice();
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else
      throw new ShapeError(
        `${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast (axis ${i - n} has ${da} vs ${db}); ` +
          `each axis must match or be 1 — reshape or broadcastTo one operand first`,
      );
  }
  if (sizeProblem(out) !== undefined) throw new ShapeError(`${op}: broadcasting ${fmt(a)} with ${fmt(b)} gives shape ${fmt(out)}, which has ${sizeProblem(out)}`);
  return out;
};

/** Resolves a possibly negative axis against a rank, or throws naming the operation. */
export const normalizeAxis = (op: string, axis: number, rank: number): number => {
  if (rank === 0)
    throw new IndexError(
      `${op}: axis ${show(axis)} does not exist: the operand is 0-d (a scalar), which has no axes; ` +
        "leave the axis out where it is optional, or reshape the operand to [1] first",
    );
  if (!Number.isInteger(axis))
    throw new IndexError(`${op}: axis ${axis} is not an integer; pass an integer in [${-rank}, ${rank - 1}]`);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw new IndexError(
      `${op}: axis ${axis} is out of range for a tensor of rank ${rank}; pass an axis in [${-rank}, ${rank - 1}]`,
    );
  return a;
};

/** Resolves `axis?: number | number[]` into a sorted list of distinct axes (undefined = all). */
export const normalizeAxes = (op: string, axis: number | readonly number[] | undefined, rank: number): number[] => {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list)) throw new IndexError(`${op}: axis must be a number or an array of numbers, got ${String(axis)}`);
  const out = list.map((a) => normalizeAxis(op, a, rank));
  const sorted = [...new Set(out)].sort((x, y) => x - y);
  if (sorted.length !== out.length) throw new IndexError(`${op}: axis list [${list.join(", ")}] repeats an axis; list each axis once`);
  return sorted;
};

/**
 * The most elements a tensor may hold: 2³¹ − 1 (16 GiB of float64). Kernels index with int32
 * arrays (gathers, pooling's argmax), and engines cap typed arrays near here (V8 at 2³²).
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Why a tensor of `shape` cannot exist, as the end of a sentence "shape [..] has ...", or
 * undefined if it can: more than MAX_ELEMENTS elements. A size-0 shape counts its other axes
 * too (a reduction over its empty axis would have to allocate them).
 */
export const sizeProblem = (shape: Shape): string | undefined => {
  let n = 1;
  let nonzero = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    n *= d;
    if (d !== 0) nonzero *= d;
  }
  if (nonzero <= MAX_ELEMENTS) return undefined;
  const limit = `more than ${MAX_ELEMENTS} (2^31 - 1), the most elements a tensor can hold`;
  return n === 0
    ? `no elements, but its nonzero axes span ${nonzero}, ${limit} (a reduction over its empty axis would make that many)`
    : `${n} elements, ${limit}`;
};

/** Throws a ShapeError naming `op` when a tensor of `shape` would be too large; returns its size. */
export const checkSize = (op: string, shape: Shape): number => {
  const problem = sizeProblem(shape);
  if (problem !== undefined) throw new ShapeError(`${op}: shape ${fmt(shape)} has ${problem}; use a smaller shape`);
  return sizeOf(shape);
};

/** Validates a shape given by a user: a list of non-negative integers, not too many elements. */
export const checkShape = (op: string, shape: unknown): number[] => {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new ShapeError(`${op}: shape must be an array of non-negative integers, got ${show(shape)}`);
  checkSize(op, shape);
  return shape.slice() as number[];
};

/** The shape after reducing `axes` (sorted) with or without keepdims. */
export const reducedShape = (shape: Shape, axes: readonly number[], keepdims: boolean): number[] => {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepdims) out.push(1);
    } else out.push(shape[i]!);
  }
  return out;
};
