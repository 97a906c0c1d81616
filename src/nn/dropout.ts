// Dropout: in training, zero each element with probability `rate` and scale the rest by
// 1/(1-rate) (inverted dropout); in evaluation, the identity. The mask comes from a key (as
// flax's Dropout: keep = random.bernoulli(key, 1 − rate, x.shape), JAX's bits for that key; a
// traced key under jit, so a jitted step takes a fresh key per call without recompiling) or
// from an integer seed (the library's own stream). The mask is a constant: the derivative flows
// through the kept elements, scaled.
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { ValueError } from "../errors.ts";
import { div, mul, where } from "../ops.ts";
import { Random } from "../tensor/random.ts";
import { checkShape, sizeOf } from "../tensor/shape.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";
import { full } from "../tensor/create.ts";
import { bernoulli } from "../random/ops.ts";
import { checkKeyShape } from "../random/key.ts";
import type { Gen } from "./util.ts";
import { checkOptions } from "../options.ts";

/** Options of `dropout`: a `key` or a `seed` draws the mask. */
export interface DropoutOptions {
  /** Probability of dropping an element, in [0, 1]. */
  rate: number;
  /** Key of the mask (random.key / split / foldIn): a new one per step (e.g. foldIn(key, step)). */
  key?: Value;
  /** Seed of the mask (instead of a key): a new one per step (e.g. the step number), the same one to reproduce. */
  seed?: number;
  /** Dropout only when true; otherwise (evaluation) the identity. */
  training: boolean;
}

/** The mask dropout multiplies by: 0 (dropped) or 1/(1-rate) (kept), shaped like x, from an integer seed. */
export const dropoutMask = (shape: readonly number[], rate: number, seed: number, dtype: "float32" | "float64" = "float64"): Tensor => {
  checkShape("dropoutMask", shape);
  const buf = allocate(dtype, sizeOf(shape));
  if (rate < 1) {
    const r = new Random(seed);
    const keep = 1 / (1 - rate);
    for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() < rate ? 0 : keep;
  }
  return new Tensor(buf, shape.slice());
};

/** Inverted dropout: each element zeroed with probability `rate`, the rest scaled by 1 / (1 − rate); the identity unless training. */
export function* dropout(x: Value, options: DropoutOptions): Gen<Value> {
  checkOptions("dropout", options, { rate: "number", seed: "number", training: "boolean", key: "any" });
  const { rate, seed, key, training } = options ?? ({} as DropoutOptions);
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1))
    throw new ValueError(`dropout: rate must be a number in [0, 1], got ${String(rate)}`);
  if (typeof training !== "boolean")
    throw new ValueError(`dropout: options.training must be true or false, got ${String(training)}; pass training: false to evaluate`);
  if (!training || rate === 0) return x;
  if (key !== undefined) {
    if (seed !== undefined) throw new ValueError("dropout: pass a key or a seed, not both");
    checkKeyShape("dropout", key);
    if (rate === 1) return yield* mul(x, 0);
    // keep with probability 1 − rate, drawn in x's dtype (as flax does in JAX's default float32)
    const keepProb = 1 - rate;
    const keep = yield* bernoulli(key, full([], keepProb, dtypeOf(x)), shapeOf(x));
    return yield* where(keep, yield* div(x, keepProb), 0);
  }
  if (typeof seed !== "number" || !Number.isInteger(seed))
    throw new ValueError(`dropout: seed must be an integer, got ${String(seed)}; pass a key (random.key, split, foldIn) or a new seed per step`);
  const mask = dropoutMask(shapeOf(x), rate, seed, dtypeOf(x));
  return yield* mul(x, typeof x === "number" ? mask.buf[0]! : mask);
}
