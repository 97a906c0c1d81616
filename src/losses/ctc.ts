// Connectionist temporal classification loss (Graves et al. 2006), as PyTorch's CTCLoss and
// Lantern's DeepSpeech2 use it: −log of the total probability of every alignment of the
// input frames that collapses (repeats merged, then blanks removed) to the target. The
// forward algorithm runs in log space over the extended target (a blank between and around
// the labels), all examples of the batch at once, written with operations — so its gradient,
// second derivatives, jit and vmap of the input come from the operations' own rules. The
// log-sum-exp of the recursion is guarded so that impossible paths (−∞) give no NaN in value
// or gradient.
import type { Effect } from "../../effects/effect.ts";
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { IndexError, ShapeError, ValueError, fmt } from "../errors.ts";
import { checkOptions } from "../options.ts";
import {
  add, concat, div, equal, exp, greater, log, maximum, mean, neg, reshape, slice, stopGradient, sub, sum, take, where,
} from "../ops.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Reduction } from "../losses.ts";

type Gen<R> = Generator<Effect, R, unknown>;

/** Integer lengths or labels, one per example: a number array, an Int32Array or an integer-valued concrete tensor. */
export type IntegerList = readonly number[] | Int32Array | Tensor;

/** Options of `ctcLoss`. */
export interface CtcLossOptions {
  /** The blank class (default 0). */
  blank?: number;
  /** "mean" (default: each loss divided by its target length, then averaged, as PyTorch), "sum" or "none". */
  reduction?: Reduction;
  /** Give 0 (and a zero gradient) for examples no alignment can produce (input too short), instead of Infinity. */
  zeroInfinity?: boolean;
}

const integers = (op: string, name: string, v: unknown): number[] => {
  const xs = v instanceof Tensor ? Array.from(v.buf) : v instanceof Int32Array ? Array.from(v) : Array.isArray(v) ? (v as unknown[]) : null;
  if (xs === null) throw new ValueError(`${op}: ${name} must be a number array, an Int32Array or a concrete tensor of integers`);
  xs.forEach((x, i) => {
    if (typeof x !== "number" || !Number.isInteger(x)) throw new ValueError(`${op}: ${name}[${i}] is ${String(x)}, not an integer`);
  });
  return xs as number[];
};

/** The targets as rows of labels: [N, S] padded (a tensor or nested arrays); row n's first targetLengths[n] labels count. */
const targetRows = (op: string, targets: unknown, n: number): number[][] => {
  let rows: unknown[];
  if (targets instanceof Tensor) {
    if (targets.shape.length !== 2) throw new ShapeError(`${op}: targets must have shape [N, S] (labels padded per example), got ${fmt(targets.shape)}`);
    rows = targets.toArray() as number[][];
  } else if (Array.isArray(targets)) rows = targets;
  else throw new ValueError(`${op}: targets must be a tensor [N, S] or an array of N label arrays`);
  if (rows.length !== n) throw new ShapeError(`${op}: targets has ${rows.length} rows but logProbs has a batch of ${n}`);
  return rows.map((r, i) => integers(op, `targets[${i}]`, r));
};

/** log(eᵃ + eᵇ + eᶜ), exact at −∞ (all three −∞ gives −∞) with no NaN in any derivative. */
function* logSumExp3(a: Value, b: Value, c: Value): Gen<Value> {
  // The value does not depend on the shift m, so m carries no gradient.
  const m = yield* stopGradient(yield* maximum(yield* maximum(a, b), c));
  const finite = yield* greater(m, -Infinity);
  const shift = yield* where(finite, m, 0);
  const s = yield* add(yield* add(yield* exp(yield* sub(a, shift)), yield* exp(yield* sub(b, shift))), yield* exp(yield* sub(c, shift)));
  const safe = yield* where(finite, s, 1);
  return yield* where(finite, yield* add(yield* log(safe), shift), -Infinity);
}

/**
 * CTC loss of log-probabilities `logProbs` [T, N, C] (time, batch, classes; e.g. logSoftmax
 * over C) against `targets` ([N, S] labels padded per example, or N label arrays), with
 * `inputLengths` (frames used per example, 1..T) and `targetLengths` (labels per example).
 * Per example: −log Σ over alignments of Π p. Reduction as PyTorch's CTCLoss.
 */
export function* ctcLoss(
  logProbs: Value,
  targets: Tensor | readonly (readonly number[] | Int32Array)[],
  inputLengths: IntegerList,
  targetLengths: IntegerList,
  options: CtcLossOptions = {},
): Gen<Value> {
  const op = "ctcLoss";
  checkOptions(op, options, { blank: "integer", reduction: "any", zeroInfinity: "boolean" });
  const reduction = options.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none")
    throw new ValueError(`${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(reduction)}`);
  const ls = shapeOf(logProbs);
  if (ls.length !== 3) throw new ShapeError(`${op}: logProbs must have shape [T, N, C] (time, batch, classes), got ${fmt(ls)}`);
  const [T, N, C] = ls as [number, number, number];
  const blank = options.blank ?? 0;
  if (blank < 0 || blank >= C) throw new IndexError(`${op}: blank ${blank} is not a class of logProbs with ${C} classes`);
  const inLen = integers(op, "inputLengths", inputLengths);
  const tgLen = integers(op, "targetLengths", targetLengths);
  if (inLen.length !== N || tgLen.length !== N)
    throw new ShapeError(`${op}: inputLengths (${inLen.length}) and targetLengths (${tgLen.length}) need one entry per example (${N})`);
  const rows = targetRows(op, targets, N);
  inLen.forEach((l, n) => {
    if (l < 1 || l > T) throw new ValueError(`${op}: inputLengths[${n}] is ${l}; it must be in [1, ${T}] (the frames of logProbs)`);
  });
  rows.forEach((row, n) => {
    const s = tgLen[n]!;
    if (s < 0 || s > row.length) throw new ValueError(`${op}: targetLengths[${n}] is ${s}, but targets row ${n} has ${row.length} labels`);
    row.slice(0, s).forEach((label, j) => {
      if (label < 0 || label >= C || label === blank)
        throw new IndexError(`${op}: targets[${n}][${j}] is ${label}; labels must be classes in [0, ${C}) other than the blank (${blank})`);
    });
  });

  // The extended targets: blank, l1, blank, l2, …, blank (L = 2·max S + 1 positions per example).
  const L = 2 * Math.max(0, ...tgLen) + 1;
  const ext = rows.map((row, n) => Array.from({ length: L }, (_, s) => (s % 2 === 1 && (s - 1) / 2 < tgLen[n]! ? row[(s - 1) / 2]! : blank)));
  const dtype = dtypeOf(logProbs);
  const constant = (values: number[], shape: number[]) => new Tensor(dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values), shape);
  // emissions[t, n, s] = logProbs[t, n, ext[n][s]]
  const flat = ext.flatMap((e, n) => e.map((c) => n * C + c));
  const emissions = yield* reshape(yield* take(yield* reshape(logProbs, [T, N * C]), flat, 1), [T, N, L]);
  const at = function* (t: number): Gen<Value> {
    return yield* reshape(yield* slice(emissions, [t, 0, 0], [t + 1, N, L]), [N, L]);
  };
  // a skip from s − 2 to s is allowed onto a label that differs from the label two back
  const skip = constant(ext.flatMap((e) => e.map((c, s) => (s >= 2 && c !== blank && c !== e[s - 2] ? 0 : -Infinity))), [N, L]);
  const start = constant(ext.flatMap((_, n) => Array.from({ length: L }, (_, s) => (s === 0 || (s === 1 && tgLen[n]! > 0) ? 0 : -Infinity))), [N, L]);
  const none1 = constant(Array<number>(N).fill(-Infinity), [N, 1]);
  const none2 = constant(Array<number>(2 * N).fill(-Infinity), [N, 2]);

  let alpha = yield* add(yield* at(0), start);
  for (let t = 1; t < Math.max(...inLen); t++) {
    const stay = alpha;
    const step = yield* concat([none1, yield* slice(alpha, [0, 0], [N, L - 1])], 1);
    const jump = L > 2 ? yield* add(yield* concat([none2, yield* slice(alpha, [0, 0], [N, L - 2])], 1), skip) : constant(Array<number>(N * L).fill(-Infinity), [N, L]);
    const next = yield* add(yield* logSumExp3(stay, step, jump), yield* at(t));
    // examples whose input has ended keep their last α
    const active = constant(inLen.map((l) => (t < l ? 1 : 0)), [N, 1]);
    alpha = yield* where(active, next, alpha);
  }
  // the log-likelihood: α at the last label or the blank after it
  const alphaFlat = yield* reshape(alpha, [N * L]);
  const last = yield* take(alphaFlat, tgLen.map((s, n) => n * L + 2 * s), 0);
  const label = yield* take(alphaFlat, tgLen.map((s, n) => n * L + Math.max(0, 2 * s - 1)), 0);
  const hasLabel = constant(tgLen.map((s) => (s > 0 ? 1 : 0)), [N]);
  const ll = yield* logSumExp3(last, yield* where(hasLabel, label, -Infinity), constant(Array<number>(N).fill(-Infinity), [N]));
  let losses = yield* neg(ll);
  if (options.zeroInfinity === true) losses = yield* where(yield* equal(losses, Infinity), 0, losses);
  if (reduction === "none") return losses;
  if (reduction === "sum") return yield* sum(losses);
  return yield* mean(yield* div(losses, constant(tgLen.map((s) => Math.max(1, s)), [N])));
}
