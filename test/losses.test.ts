import { describe, it, expect } from "vitest";
import { run, grad, tensor, randn, logSoftmax, Tensor, ShapeError, IndexError, ValueError, type Value } from "../src/index.ts";
import { softmaxCrossEntropy, nllLoss, mseLoss, binaryCrossEntropyWithLogits, accuracy, softplus } from "../src/losses.ts";
import { fdGrad, expectClose, scalar } from "./fd.ts";

const oneHot = (labels: number[], classes: number): Tensor =>
  tensor(labels.map((k) => Array.from({ length: classes }, (_, j) => (j === k ? 1 : 0))));
const num = (v: unknown): number => scalar(v);
const gradCheck = (f: (x: Value) => Generator<any, Value, unknown>, x: Tensor): void =>
  expectClose(run(grad(f), x), fdGrad((v: Tensor) => num(run(f, v)), x), { rtol: 1e-6, atol: 1e-8 });

describe("softmaxCrossEntropy", () => {
  const logits = tensor([[1, 2, 3], [1, 1, 1]]);

  it("matches hand-computed values (mean over the batch by default)", () => {
    // row 0: log(e + e² + e³) − 3 = 0.40760596444438; row 1: log 3
    expect(num(run(softmaxCrossEntropy, logits, [2, 0]))).toBeCloseTo(0.7531091265562451, 14);
    expect(num(run(softmaxCrossEntropy, logits, [2, 0], { reduction: "sum" }))).toBeCloseTo(1.5062182531124902, 13);
    expectClose(run(softmaxCrossEntropy, logits, [2, 0], { reduction: "none" }), [0.4076059644443806, Math.log(3)], { rtol: 1e-14, atol: 0 });
    expect(num(run(softmaxCrossEntropy, tensor([1, 2, 3]), 2))).toBeCloseTo(0.4076059644443806, 14);
  });

  it("accepts indices as number[], Int32Array or a Tensor, and one-hot tensors, with equal values and gradients", () => {
    const want = 0.7531091265562451;
    for (const labels of [[2, 0], Int32Array.of(2, 0), tensor([2, 0]), oneHot([2, 0], 3)]) {
      expect(num(run(softmaxCrossEntropy, logits, labels as never))).toBeCloseTo(want, 14);
    }
    const x = randn([4, 5], { seed: 1 });
    const labels = [0, 4, 2, 2];
    const gi = run(grad(function* (v: Value) { return yield* softmaxCrossEntropy(v, labels); }), x);
    const go = run(grad(function* (v: Value) { return yield* softmaxCrossEntropy(v, oneHot(labels, 5)); }), x);
    expectClose(gi, go, { rtol: 1e-12, atol: 1e-15 });
    // d/dlogits = (softmax − onehot) / batch
    const p = (run(function* () { return yield* logSoftmax(x); }) as Tensor).data.map(Math.exp);
    const oh = oneHot(labels, 5).data;
    expectClose(gi, Array.from(p, (v, k) => (v - oh[k]!) / 4), { rtol: 1e-12, atol: 1e-15 });
  });

  it("takes soft (probability) targets and leading batch axes", () => {
    const soft = tensor([[0.25, 0.75, 0], [0, 0, 1]]);
    const ce0 = 0.25 * (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 1) + 0.75 * (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 2);
    expectClose(run(softmaxCrossEntropy, logits, soft, { reduction: "none" }), [ce0, Math.log(3)], { rtol: 1e-13, atol: 0 });
    const x3 = randn([2, 3, 4], { seed: 2 });
    const lab = tensor([[0, 1, 2], [3, 3, 0]]);
    const none = run(softmaxCrossEntropy, x3, lab, { reduction: "none" }) as Tensor;
    expect(none.shape).toEqual([2, 3]);
    const total = Array.from(none.data).reduce((s, v) => s + v, 0);
    expect(num(run(softmaxCrossEntropy, x3, lab))).toBeCloseTo(total / 6, 14);
    const oh3 = tensor(oneHot([0, 1, 2, 3, 3, 0], 4), { shape: [2, 3, 4] });
    expect(num(run(softmaxCrossEntropy, x3, oh3))).toBeCloseTo(total / 6, 14);
  });

  it("stays finite and exact at logits ±1000, with finite gradients", () => {
    const big = tensor([[1000, 0, -1000]]);
    expect(num(run(softmaxCrossEntropy, big, [0]))).toBe(0);
    expect(num(run(softmaxCrossEntropy, big, [1]))).toBeCloseTo(1000, 10);
    expect(num(run(softmaxCrossEntropy, big, [2]))).toBeCloseTo(2000, 10);
    expect(num(run(softmaxCrossEntropy, big, oneHot([2], 3)))).toBeCloseTo(2000, 10);
    const g = run(grad(function* (v: Value) { return yield* softmaxCrossEntropy(v, [2]); }), big) as Tensor;
    expectClose(g, [[1, 0, -1]], { rtol: 0, atol: 1e-12 });
  });

  it("matches finite differences", () => {
    gradCheck(function* (v) { return yield* softmaxCrossEntropy(v, [1, 0, 2]); }, randn([3, 3], { seed: 3 }));
    gradCheck(function* (v) { return yield* softmaxCrossEntropy(v, tensor([[0.2, 0.8], [0.5, 0.5]])); }, randn([2, 2], { seed: 4 }));
  });

  it("rejects bad labels with clear errors", () => {
    expect(() => run(softmaxCrossEntropy, logits, [3, 0])).toThrow(IndexError);
    expect(() => run(softmaxCrossEntropy, logits, [-1, 0])).toThrow(IndexError);
    expect(() => run(softmaxCrossEntropy, logits, [0.5, 0])).toThrow(IndexError);
    expect(() => run(softmaxCrossEntropy, logits, [0])).toThrow(ShapeError);
    expect(() => run(softmaxCrossEntropy, logits, tensor([[1, 0], [0, 1]]))).toThrow(ShapeError);
    expect(() => run(softmaxCrossEntropy, logits, 1)).toThrow(ShapeError);
    expect(() => run(softmaxCrossEntropy, logits, [0, 1], { reduction: "avg" as never })).toThrow(ValueError);
  });
});

describe("nllLoss", () => {
  it("is −mean(logProbs[label]) and agrees with softmaxCrossEntropy on log-softmax", () => {
    const lp = tensor([[-0.1, -2.5], [-1.2, -0.4]]);
    expect(num(run(nllLoss, lp, [0, 0]))).toBeCloseTo((0.1 + 1.2) / 2, 15);
    expect(num(run(nllLoss, lp, oneHot([1, 0], 2)))).toBeCloseTo((2.5 + 1.2) / 2, 15);
    const x = randn([3, 4], { seed: 5 });
    const viaNll = run(function* () { return yield* nllLoss(yield* logSoftmax(x), [3, 1, 0]); });
    expect(num(viaNll)).toBeCloseTo(num(run(softmaxCrossEntropy, x, [3, 1, 0])), 14);
  });

  it("sends −1/batch to the label entries and matches finite differences", () => {
    const g = run(grad(function* (v: Value) { return yield* nllLoss(v, [1, 0]); }), tensor([[-1, -2], [-3, -4]]));
    expectClose(g, [[0, -0.5], [-0.5, 0]], { rtol: 0, atol: 0 });
    gradCheck(function* (v) { return yield* nllLoss(yield* logSoftmax(v), [2, 2]); }, randn([2, 3], { seed: 6 }));
  });
});

describe("mseLoss", () => {
  it("averages squared errors over all elements", () => {
    expect(num(run(mseLoss, tensor([1, 2, 3]), tensor([1, 0, 0])))).toBeCloseTo(13 / 3, 15);
    expect(num(run(mseLoss, tensor([[1, 2], [3, 4]]), tensor([[0, 0], [0, 0]]), { reduction: "sum" }))).toBe(30);
    expect(run(mseLoss, 3, 1)).toBe(4);
    const g = run(grad(function* (p: Value) { return yield* mseLoss(p, tensor([1, 0, 0])); }), tensor([1, 2, 3]));
    expectClose(g, [0, 4 / 3, 2], { rtol: 1e-15, atol: 0 });
    gradCheck(function* (v) { return yield* mseLoss(v, tensor([[0.5, -1], [2, 0]])); }, randn([2, 2], { seed: 7 }));
    expect(() => run(mseLoss, tensor([1, 2]), tensor([1, 2, 3]))).toThrow(ShapeError);
  });
});

describe("binaryCrossEntropyWithLogits", () => {
  const x = tensor([0, 2, -3]);
  const t = tensor([1, 0, 1]);

  it("matches hand-computed values", () => {
    const each = [Math.log(2), Math.log1p(Math.exp(2)), Math.log1p(Math.exp(3))];
    expectClose(run(binaryCrossEntropyWithLogits, x, t, { reduction: "none" }), each, { rtol: 1e-15, atol: 0 });
    expect(num(run(binaryCrossEntropyWithLogits, x, t))).toBeCloseTo((each[0]! + each[1]! + each[2]!) / 3, 15);
    // soft targets: −t log σ(x) − (1−t) log(1−σ(x))
    const s = 1 / (1 + Math.exp(-0.7));
    expect(num(run(binaryCrossEntropyWithLogits, tensor([0.7]), tensor([0.3])))).toBeCloseTo(-0.3 * Math.log(s) - 0.7 * Math.log(1 - s), 14);
  });

  it("is stable at logits ±1000 (values and gradients)", () => {
    const big = tensor([1000, -1000, 1000, -1000]);
    const tt = tensor([0, 1, 1, 0]);
    expectClose(run(binaryCrossEntropyWithLogits, big, tt, { reduction: "none" }), [1000, 1000, 0, 0], { rtol: 1e-15, atol: 0 });
    const g = run(grad(function* (v: Value) { return yield* binaryCrossEntropyWithLogits(v, tt, { reduction: "sum" }); }), big);
    expectClose(g, [1, -1, 0, 0], { rtol: 0, atol: 0 });
  });

  it("has the derivative σ(x) − t everywhere, including x = 0, and σ'(0) = 1/4 as second derivative", () => {
    const g = run(grad(function* (v: Value) { return yield* binaryCrossEntropyWithLogits(v, t, { reduction: "sum" }); }), x) as Tensor;
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    expectClose(g, [sig(0) - 1, sig(2), sig(-3) - 1], { rtol: 1e-14, atol: 1e-16 });
    const d2 = run(grad(grad(function* (v: Value) { return yield* softplus(v); })), 0);
    expect(d2).toBeCloseTo(0.25, 14);
    expect(run(grad(function* (v: Value) { return yield* softplus(v); }), 0)).toBe(0.5);
    gradCheck(function* (v) { return yield* binaryCrossEntropyWithLogits(v, tensor([[1, 0.2], [0, 0.9]])); }, randn([2, 2], { seed: 8 }));
    // and w.r.t. the targets: −x
    const gt = run(grad(function* (tt: Value) { return yield* binaryCrossEntropyWithLogits(x, tt, { reduction: "sum" }); }), t);
    expectClose(gt, [-0, -2, 3], { rtol: 0, atol: 0 });
  });
});

describe("accuracy", () => {
  it("counts argmax hits for index and one-hot labels (ties go to the first class)", () => {
    const logits = tensor([[0.1, 0.9, 0], [2, 1, 0], [0, 0, 5], [1, 1, 0]]);
    expect(accuracy(logits, [1, 0, 2, 0])).toBe(1);
    expect(accuracy(logits, [1, 1, 2, 1])).toBe(0.5);
    expect(accuracy(logits, oneHot([0, 0, 2, 0], 3))).toBe(0.75);
    expect(accuracy(logits, tensor([2, 2, 2, 2]))).toBe(0.25);
    expect(accuracy(tensor([0.3, 0.7]), 1)).toBe(1);
    expect(() => accuracy(logits, [1, 2])).toThrow(ShapeError);
  });
});
