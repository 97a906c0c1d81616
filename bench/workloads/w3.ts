// W3 char-rnn, Lantern's min-char-rnn: vocab 26, hidden 50, 20 steps, batch 1, one-hot inputs
// multiplied by Wxh; h = tanh(x Wxh + h Whh + bh), y = h Why + by; loss = sum over the steps of
// softmax cross-entropy; Adagrad lr 0.1 eps 1e-8 with an elementwise clip to [-5, 5]; float32,
// weights N(0, 0.01²), zero biases, h0 = 0 at each iteration, seeded random characters.
import { add, jit, nn, optim, run, softmaxCrossEntropy, treeGlobalNorm, treeSub, valueAndGrad, type Tensor, type Value } from "../../src/index.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";
import { checkTraining, compileTime, fmtLosses, lossValue, normal32, oneHot, randomInts, zeros32 } from "./models.ts";

export const VOCAB = 26;
export const HIDDEN = 50;
export const SEQ = 20;
const TEXT = 10_000;

type Params = { cell: nn.RnnCellParams; Why: Value; by: Value };

export const initParams = (seed: number): Params => ({
  cell: { Wxh: normal32(seed + 1, [VOCAB, HIDDEN], 0.01), Whh: normal32(seed + 2, [HIDDEN, HIDDEN], 0.01), b: zeros32([HIDDEN]) },
  Why: normal32(seed + 3, [HIDDEN, VOCAB], 0.01),
  by: zeros32([VOCAB]),
});

/** xs[t], ys[t]: one-hot rows [1, 26] of the input and target characters; the 20 steps are unrolled. */
export function* loss(p: Params, xs: readonly Value[], ys: readonly Value[]) {
  let h: Value = zeros32([1, HIDDEN]);
  let total: Value = 0;
  for (let t = 0; t < xs.length; t++) {
    h = yield* nn.rnnCell.apply(p.cell, xs[t]!, h);
    const y = yield* nn.linear.apply({ W: p.Why, b: p.by }, h);
    total = yield* add(total, yield* softmaxCrossEntropy(y, ys[t]!));
  }
  return total;
}

/**
 * Windows of 20 input characters and their 20 successors over a seeded random text, as
 * one-hot rows, taken in turn (as min-char-rnn walks its data).
 */
export const charWindows = (seed: number): (() => [Tensor[], Tensor[]]) => {
  const text = randomInts(seed, TEXT, VOCAB);
  const rows = text.map((c) => oneHot([c], VOCAB));
  let p = 0;
  return () => {
    if (p + SEQ + 1 > TEXT) p = 0;
    const window: [Tensor[], Tensor[]] = [rows.slice(p, p + SEQ), rows.slice(p + 1, p + SEQ + 1)];
    p += SEQ;
    return window;
  };
};

/** A training loop: each call takes the next window, does one step, and returns the loss. */
export const trainer = <P>(vg: (p: P, xs: Tensor[], ys: Tensor[]) => Generator<unknown, unknown, unknown>, params: P, windows: () => [Tensor[], Tensor[]]) => {
  const opt = optim.adagrad({ lr: 0.1, eps: 1e-8, clipValue: 5 });
  let state = opt.init(params);
  return (): number => {
    const [xs, ys] = windows();
    const [l, g] = run(vg as never, params, xs, ys) as [unknown, P];
    [params, state] = opt.update(g, state, params);
    return lossValue(l);
  };
};

/** Eager and jitted rows of a recurrent workload (W3, W4) with the same loss program. */
export async function recurrentRows<P>(id: string, lossFn: (p: P, xs: readonly Value[], ys: readonly Value[]) => Generator<any, Value, any>, params: P, what: string): Promise<Row[]> {
  const eager = valueAndGrad(lossFn);
  const jitted = jit(valueAndGrad(lossFn), { reuseOutputs: true }); // gradients consumed by each step
  // The checks: jit's gradient is eager's (to float32 rounding), and 10 steps on one window
  // (random text has nothing to learn across windows, but one window can be memorized) lower
  // the loss both ways. Their later losses are compared for the note only: training on one
  // window swings (44 → 100 → 54), so where the engine fuses multiply-adds (the jitted weight
  // gradient is one gemm, which fuses; eager's outer products and sums round twice) a one-ulp
  // difference grows to ~1e-3 in ten steps. Without fused multiply-adds they are identical.
  const first = charWindows(7)();
  const sameWindow = () => first;
  const compile = compileTime(() => run(jitted, params, ...first));
  const [, eagerGrad] = run(eager, params, ...first);
  const [, jitGrad] = run(jitted, params, ...first);
  const gradDiff = treeGlobalNorm(treeSub(jitGrad, eagerGrad)) / treeGlobalNorm(eagerGrad);
  if (!(gradDiff < 1e-5)) throw new Error(`${id}: jit's gradient differs from eager's by ${gradDiff} (relative, global norm)`);
  const eagerLosses = checkTraining(`${id} eager`, trainer(eager, params, sameWindow), 10);
  const jitLosses = checkTraining(`${id} jit`, trainer(jitted, params, sameWindow), 10);
  const diff = Math.max(...jitLosses.map((l, i) => Math.abs(l - eagerLosses[i]!) / Math.abs(eagerLosses[i]!)));
  const t = await time({ eager: trainer(eager, params, charWindows(7)), jit: trainer(jitted, params, charWindows(7)) }, { time: 1500 });
  return [
    { workload: id, system: "yieldiff eager", unit: "ms/iter", ...t.eager!, note: `${what}; ${fmtLosses(eagerLosses)} on one window` },
    { workload: id, system: "yieldiff jit", unit: "ms/iter", ...t.jit!, note: `jit(valueAndGrad(loss), { reuseOutputs: true }), the ${SEQ} steps unrolled; compiles in ${compile.toFixed(0)} ms; gradient = eager's within ${gradDiff === 0 ? "0" : gradDiff.toExponential(0)}; losses over the 10 steps ${diff === 0 ? "identical to eager's" : `within ${diff.toExponential(0)} of eager's`}` },
  ];
}

export const w3 = (): Promise<Row[]> => recurrentRows("W3", loss, initParams(3), "vanilla RNN, Adagrad");
