// Losses: programs used with `yield*`, numerically stable (log-softmax / logsumexp, a stable
// softplus), averaged over the examples by default. Plus `accuracy`, a plain function on
// concrete values.
import type { Effect } from "../effects/effect.ts";
import { CompositeOp } from "../effects/operation.ts";
import { primal, shapeOf, type Value } from "../effects/value.ts";
import { concreteLabels, logProbAtLabel, readLabels, type Labels } from "./class-labels.ts";
import { ShapeError, ValueError, fmt } from "./errors.ts";
import { checkOptions, type OptionSpec } from "./options.ts";
import { logSoftmax, mean, mul, neg, softplus, square, sub, sum } from "./ops.ts";
import type { Tensor } from "./tensor/tensor.ts";

type Gen<R> = Generator<Effect, R, unknown>;

/** How per-example losses combine: "mean" (default), "sum", or "none" (one per example). */
export type Reduction = "mean" | "sum" | "none";

/** Options of the losses: how per-example losses are reduced (default "mean"). */
export interface LossOptions {
  reduction?: Reduction;
}

export type { Labels } from "./class-labels.ts";

/** The options every loss accepts (any other key is a ValueError). */
export const LOSS_OPTIONS: OptionSpec = { reduction: "any" }; // its value: checked below

const checkReduction = (op: string, options: LossOptions | undefined): Reduction => {
  checkOptions(op, options, LOSS_OPTIONS);
  const r = options?.reduction ?? "mean";
  if (r !== "mean" && r !== "sum" && r !== "none")
    throw new ValueError(`${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(r)}`);
  return r;
};

function* reduce(losses: Value, reduction: Reduction): Gen<Value> {
  // one example (a 0-d loss): its sum and its mean are itself
  if (reduction === "none" || shapeOf(losses).length === 0) return losses;
  return reduction === "sum" ? yield* sum(losses) : yield* mean(losses);
}

/** −log p[label] per example from log-probabilities, then the reduction. */
function* negLogLikelihood(op: string, logProbs: Value, labels: Labels, options: LossOptions | undefined): Gen<Value> {
  const reduction = checkReduction(op, options);
  const picked = new CompositeOp<Value>(op, () => logProbAtLabel(logProbs, readLabels(op, shapeOf(logProbs), labels)));
  const perExample = yield* neg(yield* picked);
  return yield* reduce(perExample, reduction);
}

/**
 * Softmax cross-entropy from unnormalized `logits` [..., C] (log-softmax over the last axis).
 * `labels`: class indices or one-hot/probability targets (see `Labels`).
 */
export function* softmaxCrossEntropy(logits: Value, labels: Labels, options?: LossOptions): Gen<Value> {
  return yield* negLogLikelihood("softmaxCrossEntropy", yield* logSoftmax(logits, -1), labels, options);
}

/** Negative log-likelihood from log-probabilities [..., C] (e.g. the output of logSoftmax). */
export function* nllLoss(logProbs: Value, labels: Labels, options?: LossOptions): Gen<Value> {
  return yield* negLogLikelihood("nllLoss", logProbs, labels, options);
}

const checkSameShape = (op: string, a: Value, b: Value, names: [string, string]): void => {
  const sa = shapeOf(a);
  const sb = shapeOf(b);
  if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i]))
    throw new ShapeError(`${op}: ${names[0]} has shape ${fmt(sa)} but ${names[1]} has shape ${fmt(sb)}; they must match`);
};

/** Mean squared error, averaged over all elements (reduction "mean"). */
export function* mseLoss(pred: Value, target: Value, options?: LossOptions): Gen<Value> {
  const reduction = checkReduction("mseLoss", options);
  checkSameShape("mseLoss", pred, target, ["pred", "target"]);
  return yield* reduce(yield* square(yield* sub(pred, target)), reduction);
}

/** Elementwise log(1 + eˣ), computed stably; its derivative is the sigmoid. (The operation of ops.ts, a primitive.) */
export { softplus };

/**
 * Binary cross-entropy from logits, elementwise: softplus(x) − x·t = max(x, 0) − x·t +
 * log1p(e^−|x|); stable for any |x|. `targets` in [0, 1], shaped like the logits.
 */
export function* binaryCrossEntropyWithLogits(logits: Value, targets: Value, options?: LossOptions): Gen<Value> {
  const reduction = checkReduction("binaryCrossEntropyWithLogits", options);
  checkSameShape("binaryCrossEntropyWithLogits", logits, targets, ["logits", "targets"]);
  const losses = yield* sub(yield* softplus(logits), yield* mul(logits, targets));
  return yield* reduce(losses, reduction);
}

/**
 * The fraction of examples whose largest logit is at the label (class indices or one-hot,
 * as the losses take them). A plain function on concrete values; ties go to the first class.
 */
export const accuracy = (logits: Value, labels: Labels): number => {
  const x = primal(logits);
  if (typeof x === "number" || x.shape.length === 0) throw new ShapeError("accuracy: logits must have a class axis (last axis), got a scalar");
  const classes = x.shape[x.shape.length - 1]!;
  const n = x.size / classes;
  if (n === 0) throw new ShapeError(`accuracy: logits of shape ${fmt(x.shape)} hold no examples`);
  const targets = readLabels("accuracy", x.shape, concreteLabels(labels));
  const argmax = (buf: ArrayLike<number>, row: number): number => {
    let best = 0;
    for (let k = 1; k < classes; k++) if (buf[row * classes + k]! > buf[row * classes + best]!) best = k;
    return best;
  };
  const dense = targets.kind === "dense" ? (targets.targets as Tensor) : null;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const want = targets.kind === "indices" ? targets.flat[i]! - i * classes : argmax(dense!.buf, i);
    if (argmax(x.buf, i) === want) correct++;
  }
  return correct / n;
};
