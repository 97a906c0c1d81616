// Mini-batches: index arrays over a data set of n examples, in order or shuffled by a seed
// (the same seed gives the same order on every platform), and `takeRows` to gather the rows
// of a batch from a data set tensor. Plain functions, not effects: they run outside programs.
import { IndexError, ValueError, fmt } from "../errors.ts";
import { checkOptions } from "../options.ts";
import { Random } from "../tensor/random.ts";
import { checkSize } from "../tensor/shape.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";

/** Options of `batches`. */
export interface BatchOptions {
  /** Shuffle the examples before cutting them into batches (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). Use a different one per epoch, e.g. `seed + epoch`. */
  seed?: number;
  /** Leave out the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

const checkCount = (op: string, name: string, v: unknown, min: number): number => {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min)
    throw new ValueError(`${op}: ${name} must be an integer ≥ ${min}, got ${String(v)}`);
  return v;
};

/** 0..n-1 in an order drawn from `seed` (Fisher–Yates over the seeded PRNG). */
export function permutation(n: number, seed = 0): number[] {
  checkCount("permutation", "n", n, 0);
  if (typeof seed !== "number" || !Number.isFinite(seed)) throw new ValueError(`permutation: seed must be a number, got ${String(seed)}`);
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Random(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * Index arrays covering 0..n-1 in batches of `batchSize` (the last one smaller unless `dropLast`).
 * `[...batches(n, b, o)]` has every index exactly once (or all but the last n mod b with `dropLast`).
 */
export function* batches(n: number, batchSize: number, options: BatchOptions = {}): Generator<number[], void, unknown> {
  checkOptions("batches", options, { shuffle: "boolean", seed: "number", dropLast: "boolean" });
  checkCount("batches", "n", n, 0);
  checkCount("batches", "batchSize", batchSize, 1);
  const { shuffle = true, seed = 0, dropLast = false } = options;
  const order = shuffle ? permutation(n, seed) : Array.from({ length: n }, (_, i) => i);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    if (dropLast && end - start < batchSize) return;
    yield order.slice(start, end);
  }
}

/** The number of batches `batches(n, batchSize, { dropLast })` yields. */
export const batchCount = (n: number, batchSize: number, dropLast = false): number =>
  dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);

/** The rows `indices` of `x` along axis 0, as a new tensor `[indices.length, ...rest]` (a copy). */
export function takeRows(x: Tensor, indices: readonly number[] | Int32Array): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`takeRows: expected a Tensor, got ${typeof x}`);
  if (x.shape.length === 0) throw new ValueError(`takeRows: needs a tensor with at least one axis, got shape ${fmt(x.shape)}`);
  const rows = x.shape[0]!;
  const row = rows === 0 ? 0 : x.size / rows;
  checkSize("takeRows", [indices.length, ...x.shape.slice(1)]);
  const out = allocate(x.dtype, indices.length * row);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i))
      throw new IndexError(`takeRows: index ${i} (position ${k}) is not an integer; row indices are integers in [0, ${rows - 1}]`);
    if (i < 0 || i >= rows)
      throw new IndexError(`takeRows: index ${i} (position ${k}) is out of range for ${rows} rows of shape ${fmt(x.shape)}`);
    out.set(x.buf.subarray(i * row, (i + 1) * row), k * row);
  }
  return new Tensor(out, [indices.length, ...x.shape.slice(1)]);
}
