// A general contraction of two operands (XLA's dot_general): the axes of a and b paired as batch
// axes (kept, matched elementwise) or contracted axes (summed over), every other axis kept.
// It is one batched product of the matmul kernel: each operand is transposed and reshaped to
// [batch, rows, inner] — or, when that needs no copy, read transposed by the kernel — so its
// derivatives, batching and jit are matmul's, transpose's and reshape's. With nothing to sum it
// is a broadcast multiplication instead.
import { shapeOf, type Value } from "../../effects/value.ts";
import { mul } from "../primitives/binary.ts";
import { matmul2 } from "../primitives/matmul.ts";
import * as S from "../primitives/shape.ts";

/** Which axes of each operand are batch axes and which are contracted, paired by position. */
export interface DotDims {
  readonly batchA: readonly number[];
  readonly batchB: readonly number[];
  readonly contractA: readonly number[];
  readonly contractB: readonly number[];
}

const sizeOfAxes = (shape: readonly number[], axes: readonly number[]): number => axes.reduce((n, a) => n * shape[a]!, 1);
const isIdentity = (perm: readonly number[]): boolean => perm.every((a, i) => a === i);

/**
 * One operand as a (batch of) matrices whose last two axes are `first` and `second` (groups of
 * axes, flattened), or read transposed when [batch, second, first] is already its layout.
 */
const asMatrices = (x: Value, batch: readonly number[], first: readonly number[], second: readonly number[]): [Value, boolean] => {
  const xs = shapeOf(x);
  const direct = [...batch, ...first, ...second];
  const swapped = [...batch, ...second, ...first];
  const transposed = !isIdentity(direct) && isIdentity(swapped);
  const lead = batch.length === 0 ? [] : [sizeOfAxes(xs, batch)];
  const m = sizeOfAxes(xs, first);
  const n = sizeOfAxes(xs, second);
  if (transposed) return [S.reshape(x, [...lead, n, m]), true];
  return [S.reshape(S.transpose(x, direct), [...lead, m, n]), false];
};

/** Whether an operand must be copied (transposed) to be read as matrices with these axis groups. */
const needsCopy = (batch: readonly number[], first: readonly number[], second: readonly number[]): boolean =>
  !isIdentity([...batch, ...first, ...second]) && !isIdentity([...batch, ...second, ...first]);

/**
 * The contracted pairs in the order that copies fewest elements: summing over the pairs in any
 * order gives the same product, so they are listed in a's axis order or in b's, whichever lets
 * the larger operand (or both) be read in place.
 */
const pairOrder = (as: readonly number[], bs: readonly number[], dims: DotDims, freeA: readonly number[], freeB: readonly number[]) => {
  const pairs = dims.contractA.map((a, k) => [a, dims.contractB[k]!] as const);
  const cost = (order: readonly (readonly [number, number])[]): number => {
    const ca = order.map((p) => p[0]);
    const cb = order.map((p) => p[1]);
    return (needsCopy(dims.batchA, freeA, ca) ? sizeOfAxes(as, as.map((_, i) => i)) : 0) + (needsCopy(dims.batchB, cb, freeB) ? sizeOfAxes(bs, bs.map((_, i) => i)) : 0);
  };
  const candidates = [pairs, [...pairs].sort((p, q) => p[0] - q[0]), [...pairs].sort((p, q) => p[1] - q[1])];
  const best = candidates.reduce((x, y) => (cost(y) < cost(x) ? y : x));
  return { contractA: best.map((p) => p[0]), contractB: best.map((p) => p[1]) };
};

/**
 * Nothing summed (an outer or elementwise product): one broadcast multiplication, each operand
 * laid out as [batch, its own axes] with size-1 axes where the other's go. (A matmul with an
 * inner size of 1 would give the same numbers, one tiny product per batch element.)
 */
const outerProduct = (a: Value, b: Value, dims: DotDims, freeA: readonly number[], freeB: readonly number[]): Value => {
  const as = shapeOf(a);
  const bs = shapeOf(b);
  const batch = dims.batchA.map((i) => as[i]!);
  const ones = (n: number): number[] => Array<number>(n).fill(1);
  const left = S.reshape(S.transpose(a, [...dims.batchA, ...freeA]), [...batch, ...freeA.map((i) => as[i]!), ...ones(freeB.length)]);
  const right = S.reshape(S.transpose(b, [...dims.batchB, ...freeB]), [...batch, ...ones(freeA.length), ...freeB.map((i) => bs[i]!)]);
  return mul(left, right);
};

/**
 * The contraction of `a` and `b` over `dims`: its axes are the batch axes (in `batchA`'s
 * order), then a's other axes, then b's other axes, each in their order. Sizes are the caller's
 * to check.
 */
export const dotGeneral = (a: Value, b: Value, dims: DotDims): Value => {
  const as = shapeOf(a);
  const bs = shapeOf(b);
  const used = (rank: number, ...groups: (readonly number[])[]): number[] =>
    Array.from({ length: rank }, (_, i) => i).filter((i) => !groups.some((g) => g.includes(i)));
  const freeA = used(as.length, dims.batchA, dims.contractA);
  const freeB = used(bs.length, dims.batchB, dims.contractB);
  // A 0-d operand only scales the other one (nothing to pair).
  if (as.length === 0 || bs.length === 0) return mul(a, b);
  const out = [...dims.batchA.map((i) => as[i]!), ...freeA.map((i) => as[i]!), ...freeB.map((i) => bs[i]!)];
  if (dims.contractA.length === 0) return outerProduct(a, b, dims, freeA, freeB);
  const { contractA, contractB } = pairOrder(as, bs, dims, freeA, freeB);
  const [a3, transA] = asMatrices(a, dims.batchA, freeA, contractA);
  const [b3, transB] = asMatrices(b, dims.batchB, contractB, freeB);
  return S.reshape(matmul2(a3, b3, transA, transB), out);
};
