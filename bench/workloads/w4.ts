// W4 lstm: W3 with an LSTM cell, hidden 50: four separate gate matmuls W_g·[h;x] + b_g (gates
// f, i, o sigmoid, candidate tanh), c = f·c + i·g, h = o·tanh(c); y = h Why + by; loss = sum
// over the 20 steps of softmax cross-entropy; Adagrad lr 0.1 eps 1e-8, clip ±5; float32,
// weights N(0, 0.01²), zero biases, h0 = c0 = 0 at each iteration.
import { add, concat, matmul, mul, sigmoid, softmaxCrossEntropy, tanh, type Value } from "../../src/index.ts";
import type { Row } from "../report.ts";
import { normal32, zeros32 } from "./models.ts";
import { HIDDEN, VOCAB, recurrentRows } from "./w3.ts";

type Gate = { W: Value; b: Value };
type Params = { f: Gate; i: Gate; o: Gate; g: Gate; Why: Value; by: Value };

const gate = (seed: number): Gate => ({ W: normal32(seed, [HIDDEN + VOCAB, HIDDEN], 0.01), b: zeros32([HIDDEN]) });

export const initParams = (seed: number): Params => ({
  f: gate(seed + 1),
  i: gate(seed + 2),
  o: gate(seed + 3),
  g: gate(seed + 4),
  Why: normal32(seed + 5, [HIDDEN, VOCAB], 0.01),
  by: zeros32([VOCAB]),
});

function* affine(g: Gate, hx: Value) {
  return yield* add(yield* matmul(hx, g.W), g.b);
}

/** xs[t], ys[t]: one-hot rows [1, 26] of the input and target characters; the 20 steps are unrolled. */
export function* loss(p: Params, xs: readonly Value[], ys: readonly Value[]) {
  let h: Value = zeros32([1, HIDDEN]);
  let c: Value = zeros32([1, HIDDEN]);
  let total: Value = 0;
  for (let t = 0; t < xs.length; t++) {
    const hx: Value = yield* concat([h, xs[t]!], 1); // [h; x], [1, 76]
    const f: Value = yield* sigmoid(yield* affine(p.f, hx));
    const i: Value = yield* sigmoid(yield* affine(p.i, hx));
    const o: Value = yield* sigmoid(yield* affine(p.o, hx));
    const g: Value = yield* tanh(yield* affine(p.g, hx));
    c = yield* add(yield* mul(f, c), yield* mul(i, g));
    h = yield* mul(o, yield* tanh(c));
    const y: Value = yield* add(yield* matmul(h, p.Why), p.by);
    total = yield* add(total, yield* softmaxCrossEntropy(y, ys[t]!));
  }
  return total;
}

export const w4 = (): Promise<Row[]> => recurrentRows("W4", loss, initParams(4), "LSTM, four gate matmuls on [h; x], Adagrad");
