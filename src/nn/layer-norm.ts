// Layer normalization over the last axis: (x - mean) / sqrt(var + eps) · gamma + beta.
import { shapeOf, type Value } from "../../effects/value.ts";
import { ValueError } from "../errors.ts";
import { add, mean, mul, sqrt, square, sub, div } from "../ops.ts";
import { full } from "../tensor/create.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { checkOptions } from "../options.ts";
import { INIT_OPTIONS, checkLastAxis, checkParam, checkSize, type Gen, type InitOptions, type Seed } from "./util.ts";

/** The parameters of `layerNorm`: gamma and beta, of the size of the last axis. */
export interface LayerNormParams<T extends Value = Value> {
  gamma: T;
  beta: T;
}

/** Options of `layerNorm.apply`. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/** { gamma = ones [dim], beta = zeros [dim] }. The seed is unused (kept for the common signature). */
function init(_seed: Seed, dim: number, options: InitOptions = {}): LayerNormParams<Tensor> {
  checkOptions("layerNorm.init", options, INIT_OPTIONS);
  checkSize("layerNorm.init", "dim", dim);
  return { gamma: full([dim], 1, options.dtype), beta: full([dim], 0, options.dtype) };
}

/** x [..., dim] → the same shape, normalized over the last axis (biased variance). */
function* apply(params: LayerNormParams, x: Value, options: LayerNormOptions = {}): Gen<Value> {
  checkOptions("layerNorm.apply", options, { eps: "number" });
  const gamma = checkParam("layerNorm.apply", params, "gamma", [-1]);
  const dim = shapeOf(gamma)[0]!;
  const beta = checkParam("layerNorm.apply", params, "beta", [dim]);
  checkLastAxis("layerNorm.apply", x, dim);
  const eps = options.eps ?? 1e-5;
  if (typeof eps !== "number" || !(eps >= 0)) throw new ValueError(`layerNorm.apply: eps must be a number >= 0, got ${String(eps)}`);
  const centered = yield* sub(x, yield* mean(x, -1, true));
  const variance = yield* mean(yield* square(centered), -1, true);
  const normed = yield* div(centered, yield* sqrt(yield* add(variance, eps)));
  return yield* add(yield* mul(normed, gamma), beta);
}

/** Layer normalization over the last axis: (x − mean) / √(var + eps) · gamma + beta. */
export const layerNorm = {
  /** gamma (ones) and beta (zeros) of size `dim`. */
  init,
  /** The normalization applied to x. */
  apply,
};
