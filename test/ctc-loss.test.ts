// ctcLoss: values against the definition — the sum over every alignment (all C^T label paths,
// enumerated) that collapses to the target — and derivatives against finite differences at
// float64, first and second order; impossible alignments, reductions, jit, bad input.
import { describe, expect, it } from "vitest";
import { Tensor, grad, jit, logSoftmax, run, tensor, vmap, type Value } from "../src/index.ts";
import { ctcLoss } from "../src/losses/ctc.ts";
import { checkGrads, randomTensor } from "./check-grads.ts";

/** Repeats merged, then blanks removed. */
const collapse = (path: number[], blank: number): number[] => path.filter((c, t) => c !== blank && (t === 0 || c !== path[t - 1]));

/** −log Σ over paths of length T collapsing to `target` of Π p[t][path_t], by enumeration. */
const enumerated = (logp: number[][], target: number[], blank: number): number => {
  const T = logp.length;
  const C = logp[0]!.length;
  let total = 0;
  const path = new Array<number>(T).fill(0);
  for (let code = 0; code < C ** T; code++) {
    let k = code;
    for (let t = 0; t < T; t++) {
      path[t] = k % C;
      k = Math.floor(k / C);
    }
    const c = collapse(path, blank);
    if (c.length === target.length && c.every((v, i) => v === target[i])) total += Math.exp(path.reduce((s, cl, t) => s + logp[t]![cl]!, 0));
  }
  return -Math.log(total);
};

/** Log-probabilities [T, N, C] (log-softmax of random logits over C). */
const logProbsOf = (T: number, N: number, C: number, seed: number): Tensor =>
  run(function* () {
    return yield* logSoftmax(randomTensor([T, N, C], seed, { lo: -2, hi: 2 }), -1);
  }) as Tensor;
/** Example n's frames: [T][C]. */
const frames = (lp: Tensor, n: number, len: number): number[][] => (lp.toArray() as number[][][]).slice(0, len).map((row) => row[n]!);

describe("ctcLoss", () => {
  const T = 5;
  const C = 4;
  const lp = logProbsOf(T, 4, C, 1);
  const targets = [[1, 2, 0], [3, 3, 0], [2, 0, 0], [0, 0, 0]];
  const targetLengths = [2, 2, 1, 0];
  const inputLengths = [5, 4, 3, 2];

  it("per example: −log of the total probability of the alignments, as enumeration gives it", () => {
    const losses = run(ctcLoss, lp, targets, inputLengths, targetLengths, { reduction: "none", blank: 0 }) as Tensor;
    const want = targets.map((row, n) => enumerated(frames(lp, n, inputLengths[n]!), row.slice(0, targetLengths[n]), 0));
    Array.from(losses.buf).forEach((v, n) => expect(v).toBeCloseTo(want[n]!, 12));
    // a repeated label needs a blank between its copies: [3, 3] in 4 frames has few alignments
    expect(Number.isFinite(want[1]!)).toBe(true);
  });

  it("another blank class, and targets as a padded tensor", () => {
    const rows = [[0, 1], [3, 3]];
    const lp2 = logProbsOf(4, 2, C, 2);
    const losses = run(ctcLoss, lp2, tensor(rows), [4, 4], [2, 2], { blank: 2, reduction: "none" }) as Tensor;
    Array.from(losses.buf).forEach((v, n) => expect(v).toBeCloseTo(enumerated(frames(lp2, n, 4), rows[n]!, 2), 12));
  });

  it("reductions: sum, and mean of each loss over its target length (at least 1), as PyTorch", () => {
    const none = Array.from((run(ctcLoss, lp, targets, inputLengths, targetLengths, { reduction: "none" }) as Tensor).buf);
    expect(run(ctcLoss, lp, targets, inputLengths, targetLengths, { reduction: "sum" })).toBeCloseTo(none.reduce((a, b) => a + b, 0), 12);
    const mean = none.reduce((a, v, n) => a + v / Math.max(1, targetLengths[n]!), 0) / 4;
    expect(run(ctcLoss, lp, targets, inputLengths, targetLengths)).toBeCloseTo(mean, 12);
  });

  it("an impossible alignment costs Infinity, or 0 with zeroInfinity; neither gives NaN in the gradient", () => {
    const lp2 = logProbsOf(2, 2, 3, 3);
    // [1, 1] needs three frames (1, blank, 1); the second example is fine
    const args = [[[1, 1], [2, 0]], [2, 2], [2, 1]] as const;
    const losses = run(ctcLoss, lp2, args[0], args[1], args[2], { reduction: "none" }) as Tensor;
    expect(losses.buf[0]).toBe(Infinity);
    expect(losses.buf[1]).toBeCloseTo(enumerated(frames(lp2, 1, 2), [2], 0), 12);
    const zeroed = run(ctcLoss, lp2, args[0], args[1], args[2], { reduction: "none", zeroInfinity: true }) as Tensor;
    expect(zeroed.buf[0]).toBe(0);
    const g = run(grad(function* (x: Value) {
      return yield* ctcLoss(x, args[0], args[1], args[2], { reduction: "sum", zeroInfinity: true });
    }), lp2) as Tensor;
    expect(Array.from(g.buf).every(Number.isFinite)).toBe(true);
    expect((g.toArray() as number[][][]).every((frame) => frame[0]!.every((v) => v === 0))).toBe(true);
  });

  it("derivatives match finite differences at float64: first and second order, forward and reverse", () => {
    const small = logProbsOf(4, 2, 3, 4);
    const f = function* (x: Value) {
      return yield* ctcLoss(x, [[1, 2], [1, 1]], [4, 3], [2, 2], { reduction: "none" });
    };
    checkGrads(f, [small], { order: 2, name: "ctcLoss" });
    const g = function* (x: Value) {
      return yield* ctcLoss(x, targets, inputLengths, targetLengths);
    };
    checkGrads(g, [lp], { name: "ctcLoss (mean)" });
  });

  it("the gradient is the softmax minus the alignments' occupancy, through logSoftmax (rows sum to zero)", () => {
    const logits = randomTensor([T, 4, C], 5);
    const g = run(grad(function* (z: Value) {
      return yield* ctcLoss(yield* logSoftmax(z, -1), targets, inputLengths, targetLengths, { reduction: "sum" });
    }), logits) as Tensor;
    for (const frame of g.toArray() as number[][][]) for (const row of frame) expect(Math.abs(row.reduce((a, b) => a + b, 0))).toBeLessThan(1e-12);
  });

  it("jit gives eager's value and gradient; float32 works", () => {
    const f = function* (x: Value) {
      return yield* ctcLoss(x, targets, inputLengths, targetLengths);
    };
    expect(run(jit(f), lp)).toBeCloseTo(run(f, lp) as number, 12);
    const ge = run(grad(f), lp) as Tensor;
    const gj = run(jit(grad(f)), lp) as Tensor;
    Array.from(gj.buf).forEach((v, i) => expect(v).toBeCloseTo(ge.buf[i]!, 12));
    const lp32 = new Tensor(Float32Array.from(lp.buf), lp.shape);
    expect(run(f, lp32) as number).toBeCloseTo(run(f, lp) as number, 4);
  });

  it("vmap over a stack of log-probabilities equals one call each", () => {
    const stack = new Tensor(Float64Array.from([...lp.buf, ...logProbsOf(T, 4, C, 9).buf]), [2, T, 4, C]);
    const f = function* (x: Value) {
      return yield* ctcLoss(x, targets, inputLengths, targetLengths, { reduction: "none" });
    };
    const got = run(vmap(f), stack) as Tensor;
    const want = [lp, logProbsOf(T, 4, C, 9)].flatMap((x) => Array.from((run(f, x) as Tensor).buf));
    Array.from(got.buf).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
  });

  it("bad input names the problem", () => {
    expect(() => run(ctcLoss, tensor([[1, 2]]), [[1]], [1], [1])).toThrow(/ctcLoss: logProbs must have shape \[T, N, C\]/);
    expect(() => run(ctcLoss, lp, targets, [5, 4, 3], targetLengths)).toThrow(/one entry per example \(4\)/);
    expect(() => run(ctcLoss, lp, targets, [6, 4, 3, 2], targetLengths)).toThrow(/inputLengths\[0\] is 6; it must be in \[1, 5\]/);
    expect(() => run(ctcLoss, lp, targets, inputLengths, [4, 2, 1, 0])).toThrow(/targetLengths\[0\] is 4, but targets row 0 has 3 labels/);
    expect(() => run(ctcLoss, lp, [[0, 1, 0], ...targets.slice(1)], inputLengths, targetLengths)).toThrow(/targets\[0\]\[0\] is 0; labels must be classes in \[0, 4\) other than the blank \(0\)/);
    expect(() => run(ctcLoss, lp, targets, inputLengths, targetLengths, { blank: 4 })).toThrow(/blank 4 is not a class/);
    expect(() => run(ctcLoss, lp, targets, inputLengths, targetLengths, { reduction: "avg" as never })).toThrow(/reduction must be/);
    expect(() => run(ctcLoss, lp, targets.slice(1), inputLengths, targetLengths)).toThrow(/targets has 3 rows/);
  });
});
