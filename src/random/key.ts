// Keys: what the generator's state is made of. A key is two 32-bit words (the Threefry key),
// held as a float64 tensor of shape [2] — float64 holds every 32-bit integer exactly, and being
// an ordinary tensor a key is data to jit (a new key per call reuses the compiled code) and to
// vmap (a batch of keys is a [B, 2] tensor). float32 cannot hold the words and is refused.
import type { Abstract } from "../../effects/primitive.ts";
import { Traced, primal, shapeOf, type Value } from "../../effects/value.ts";
import { DTypeError, ShapeError, ValueError, fmt } from "../errors.ts";
import { Tensor, type NestedArray } from "../tensor/tensor.ts";

/** A key: a float64 tensor of shape [2] holding two 32-bit words (or a traced value standing for one). */
export type Key = Tensor | Traced;

const WORD = 2 ** 32;

const HOW = "make keys with random.key(seed), random.split or random.foldIn";

/**
 * The key of an integer seed, as JAX's `jax.random.key(seed)` makes it in its default (32-bit)
 * mode: the words [0, seed mod 2³²]. So key(-1) is [0, 4294967295], and seeds that differ by a
 * multiple of 2³² give the same key.
 */
export const key = (seed: number): Tensor => {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed))
    throw new ValueError(`random.key: seed must be an integer (a safe JS integer), got ${String(seed)}; pass e.g. 0, 1, 42`);
  const low = ((seed % WORD) + WORD) % WORD;
  return new Tensor(Float64Array.of(0, low), [2]);
};

/**
 * The 32-bit words of a key (or of a batch of keys, shape [..., 2]) as nested arrays of
 * numbers, like JAX's `jax.random.key_data`. A plain function of a concrete key.
 */
export const keyData = (key: Value): NestedArray => {
  checkKeyShape("random.keyData", key, true);
  const k = primal(key) as Tensor;
  readWords("random.keyData", k);
  return k.toArray();
};

/** Checks a key's dtype and shape ([2], or [..., 2] with `batch`) from what staging knows of it. */
export const checkKeyAbstract = (op: string, k: Abstract, batch = true): void => {
  if (k.scalar || k.shape.length === 0 || k.shape[k.shape.length - 1] !== 2 || (!batch && k.shape.length !== 1))
    throw new ShapeError(
      `${op}: a key is a float64 tensor of shape [2] (two 32-bit words), got ${k.scalar ? "a number" : `shape ${fmt(k.shape)}`}` +
        (k.shape.length > 1 && k.shape[k.shape.length - 1] === 2 ? "; for a batch of keys, map over them with vmap" : `; ${HOW}`),
    );
  if (k.dtype !== "float64")
    throw new DTypeError(`${op}: a key is a float64 tensor (its 32-bit words do not fit float32), got ${k.dtype}; ${HOW}`);
};

/** Checks a key operand of a random operation: one key, shape [2] (or a batch with `batch`). */
export const checkKeyShape = (op: string, key: unknown, batch = false): Value => {
  if (!(key instanceof Tensor || key instanceof Traced))
    throw new DTypeError(`${op}: the key is ${key === null ? "null" : Array.isArray(key) ? "a plain array" : typeof key}; ${HOW}`);
  checkKeyAbstract(op, { shape: shapeOf(key), dtype: key.dtype, scalar: false }, batch);
  return key;
};

/** The words of concrete keys [..., 2], checked to be 32-bit unsigned integers. */
export const readWords = (op: string, k: Tensor): Float64Array | Float32Array => {
  const b = k.buf;
  for (let i = 0; i < b.length; i++) {
    const w = b[i]!;
    if (!(Number.isInteger(w) && w >= 0 && w < WORD))
      throw new ValueError(`${op}: a key holds ${w}, which is not a 32-bit word (an integer in [0, 2^32)); ${HOW}`);
  }
  return b;
};
