// Shape arithmetic: sizes, strides, NumPy broadcasting, axis normalization.
import { IndexError, ShapeError, fmt } from "../errors.ts";

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
  return out;
};

/** Resolves a possibly negative axis against a rank, or throws naming the operation. */
export const normalizeAxis = (op: string, axis: number, rank: number): number => {
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

/** Validates a shape given by a user: a list of non-negative integers. */
export const checkShape = (op: string, shape: unknown): number[] => {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new ShapeError(`${op}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
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
