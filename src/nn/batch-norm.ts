// Batch normalization (Ioffe & Szegedy), with running statistics as explicit state, as haiku
// and flax keep them: `apply(params, state, x, { training })` gives `[y, newState]`.
// Training normalizes with the batch's mean and (biased) variance over every axis but the
// channel axis and updates the running statistics as PyTorch's BatchNorm does
// (running ← (1 − momentum)·running + momentum·batch, the variance unbiased); evaluation
// normalizes with the running statistics and returns the state unchanged. The new statistics
// carry no gradient (they are state, not a function to differentiate).
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt } from "../errors.ts";
import { add, div, mean, mul, reshape, sqrt, square, stopGradient, sub } from "../ops.ts";
import { full } from "../tensor/create.ts";
import { normalizeAxis } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { checkOptions } from "../options.ts";
import { INIT_OPTIONS, checkParam, checkSize, type Gen, type InitOptions } from "./util.ts";

/** The learned parameters of `batchNorm`: scale gamma and shift beta, one per channel. */
export interface BatchNormParams<T extends Value = Value> {
  gamma: T;
  beta: T;
}

/** The running statistics of `batchNorm`, one per channel: the state `apply` takes and returns. */
export interface BatchNormState<T extends Value = Value> {
  mean: T;
  variance: T;
}

/** Options of `batchNorm.apply`. */
export interface BatchNormOptions {
  /** Normalize with the batch's statistics and update the running ones (true), or use the running ones (false). */
  training: boolean;
  /** Weight of the batch in the running statistics' update (default 0.1, PyTorch's). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** The channel axis of x (default 1: [N, C] or [N, C, H, W], PyTorch's layout); statistics are over the other axes. */
  axis?: number;
}

/** { gamma = ones [features], beta = zeros [features] }. The seed or key is unused (kept for the common signature). */
function init(_seed: number | Tensor, features: number, options: InitOptions = {}): BatchNormParams<Tensor> {
  checkOptions("batchNorm.init", options, INIT_OPTIONS);
  checkSize("batchNorm.init", "features", features);
  return { gamma: full([features], 1, options.dtype), beta: full([features], 0, options.dtype) };
}

/** The initial running statistics: mean zeros [features], variance ones [features]. */
function initState(features: number, options: InitOptions = {}): BatchNormState<Tensor> {
  checkOptions("batchNorm.initState", options, INIT_OPTIONS);
  checkSize("batchNorm.initState", "features", features);
  return { mean: full([features], 0, options.dtype), variance: full([features], 1, options.dtype) };
}

const checkNumberIn = (name: string, v: unknown, ok: (v: number) => boolean, what: string): number => {
  if (typeof v !== "number" || !ok(v)) throw new ValueError(`batchNorm.apply: ${name} must be ${what}, got ${String(v)}`);
  return v;
};

/** A running statistic of the state, of shape [channels]. */
const checkState = (state: unknown, name: "mean" | "variance", channels: number): Value => {
  const v = (state as Record<string, unknown> | null | undefined)?.[name] as Value | undefined;
  if (v === undefined || v === null)
    throw new ValueError(`batchNorm.apply: state has no "${name}"; pass the state batchNorm.initState made (or the last apply returned)`);
  const s = shapeOf(v);
  if (s.length !== 1 || s[0] !== channels) throw new ShapeError(`batchNorm.apply: state.${name} has shape ${fmt(s)}, expected [${channels}]`);
  return v;
};

/** x normalized per channel, scaled and shifted: a program giving `[y, newState]`. */
function* apply(params: BatchNormParams, state: BatchNormState, x: Value, options: BatchNormOptions): Gen<[Value, BatchNormState]> {
  const op = "batchNorm.apply";
  checkOptions(op, options, { training: "boolean", momentum: "number", eps: "number", axis: "integer" });
  if (typeof options?.training !== "boolean")
    throw new ValueError(`${op}: options.training must be true or false (batch statistics, or the running ones to evaluate)`);
  const momentum = checkNumberIn("momentum", options.momentum ?? 0.1, (v) => v >= 0 && v <= 1, "a number in [0, 1]");
  const eps = checkNumberIn("eps", options.eps ?? 1e-5, (v) => v >= 0, "a number >= 0");
  const xs = shapeOf(x);
  if (xs.length < 2) throw new ShapeError(`${op}: x must have a batch axis and a channel axis, got shape ${fmt(xs)}`);
  const axis = normalizeAxis(op, options.axis ?? 1, xs.length);
  const channels = xs[axis]!;
  const gamma = checkParam(op, params, "gamma", [channels]);
  const beta = checkParam(op, params, "beta", [channels]);
  const runMean = checkState(state, "mean", channels);
  const runVar = checkState(state, "variance", channels);
  const axes = xs.map((_, a) => a).filter((a) => a !== axis);
  // per-channel vectors shaped to broadcast against x: [1, ..., C, ..., 1]
  const perChannel = (v: Value) => reshape(v, xs.map((d, a) => (a === axis ? d : 1)));
  const scaleShift = function* (centered: Value, variance: Value): Gen<Value> {
    const normed = yield* div(centered, yield* sqrt(yield* add(variance, eps)));
    return yield* add(yield* mul(normed, yield* perChannel(gamma)), yield* perChannel(beta));
  };
  if (!options.training) {
    const y = yield* scaleShift(yield* sub(x, yield* perChannel(runMean)), yield* perChannel(runVar));
    return [y, state];
  }
  const n = axes.reduce((p, a) => p * xs[a]!, 1);
  if (n < 2) throw new ValueError(`${op}: training needs more than one value per channel, got x of shape ${fmt(xs)}; evaluate with training: false`);
  const batchMean = yield* mean(x, axes, true);
  const centered = yield* sub(x, batchMean);
  const batchVar = yield* mean(yield* square(centered), axes, true);
  const y = yield* scaleShift(centered, batchVar);
  const flat = (v: Value) => reshape(v, [channels]);
  const meanC = yield* stopGradient(yield* flat(batchMean));
  const unbiased = yield* stopGradient(yield* mul(yield* flat(batchVar), n / (n - 1)));
  const newMean = yield* add(yield* mul(runMean, 1 - momentum), yield* mul(meanC, momentum));
  const newVar = yield* add(yield* mul(runVar, 1 - momentum), yield* mul(unbiased, momentum));
  return [y, { mean: newMean, variance: newVar }];
}

/** Batch normalization over every axis but the channel axis, with running statistics as explicit state. */
export const batchNorm = {
  /** gamma (ones) and beta (zeros) of size `features`. */
  init,
  /** The running statistics' initial state: mean zeros, variance ones. */
  initState,
  /** The normalization applied to x: a program giving `[y, newState]`. */
  apply,
};
