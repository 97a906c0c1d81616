// Dropout: in training, zero each element with probability `rate` and scale the rest by
// 1/(1-rate) (inverted dropout), with a mask drawn from `seed`; in evaluation, the identity.
// The mask is a constant: the derivative flows through the kept elements, scaled.
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { ValueError } from "../errors.ts";
import { mul } from "../ops.ts";
import { Random } from "../tensor/random.ts";
import { checkShape, sizeOf } from "../tensor/shape.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";
import type { Gen } from "./util.ts";
import { checkOptions } from "../options.ts";

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Probability of dropping an element, in [0, 1]. */
  rate: number;
  /** Seed of the mask: use a new one per step (e.g. the step number), the same one to reproduce. */
  seed: number;
  /** Dropout only when true; otherwise (evaluation) the identity. */
  training: boolean;
}

/** The mask dropout multiplies by: 0 (dropped) or 1/(1-rate) (kept), shaped like x. */
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
  checkOptions("dropout", options, { rate: "number", seed: "number", training: "boolean" });
  const { rate, seed, training } = options ?? ({} as DropoutOptions);
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1))
    throw new ValueError(`dropout: rate must be a number in [0, 1], got ${String(rate)}`);
  if (typeof training !== "boolean")
    throw new ValueError(`dropout: options.training must be true or false, got ${String(training)}; pass training: false to evaluate`);
  if (!training || rate === 0) return x;
  if (typeof seed !== "number" || !Number.isInteger(seed))
    throw new ValueError(`dropout: seed must be an integer, got ${String(seed)}; use a new seed per step (e.g. the step number)`);
  const mask = dropoutMask(shapeOf(x), rate, seed, dtypeOf(x));
  return yield* mul(x, typeof x === "number" ? mask.buf[0]! : mask);
}
