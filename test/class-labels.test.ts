// Class labels of the classification losses under every transformation (issue #15, item 8):
// number[], Int32Array and integer-valued tensors are class indices eagerly, under jit (where
// they are staged values), under vmap (one label per example) and in trainLoop({ jit: true }),
// with one compile per shape; labels shaped like the logits are one-hot/probability targets.
import { describe, expect, it } from "vitest";
import {
  grad,
  hessian,
  jit,
  logSoftmax,
  nn,
  optim,
  randn,
  relu,
  run,
  ShapeError,
  tensor,
  Tensor,
  trainLoop,
  valueAndGrad,
  ValueError,
  vmap,
  type Value,
} from "../src/index.ts";
import { accuracy, nllLoss, softmaxCrossEntropy, type Labels } from "../src/losses.ts";
import type { Gen } from "../src/transforms/common.ts";
import { expectSame } from "./expect-same.ts";
import { expectClose } from "./fd.ts";

const oneHot = (labels: readonly number[], classes: number, dtype: "float32" | "float64" = "float64"): Tensor =>
  tensor(labels.map((k) => Array.from({ length: classes }, (_, j) => (j === k ? 1 : 0))), { dtype });

function* ce(logits: Value, labels: Labels): Gen<Value> {
  return yield* softmaxCrossEntropy(logits, labels, { reduction: "none" });
}
function* meanCe(logits: Value, labels: Labels): Gen<Value> {
  return yield* softmaxCrossEntropy(logits, labels);
}

// optax's SoftmaxCrossEntropyWithIntegerLabelsTest data: logits ys, labels ts = [1, 0]
const ys = tensor([[10, 1, -2], [1, 4, 0.2]]);
const expected = [9.00013, 3.0696733];
const indexForms = (labels: number[]): [string, Labels][] => [
  ["number[]", labels],
  ["Int32Array", Int32Array.from(labels)],
  ["float64 Tensor", tensor(labels)],
  ["float32 Tensor", tensor(labels, { dtype: "float32" })],
];

describe("optax SoftmaxCrossEntropyWithIntegerLabelsTest.test_consistent_with_softmax_cross_entropy_batched: eager and jit", () => {
  for (const [form, labels] of indexForms([1, 0])) {
    it(`${form} labels give the one-hot loss, eagerly and under jit, compiled once for every label value`, () => {
      const want = run(ce, ys, oneHot([1, 0], 3));
      expectClose(want, expected, { rtol: 0, atol: 1e-4 });
      expectSame(run(ce, ys, labels), want, 0);
      const j = jit(ce);
      expectSame(run(j, ys, labels), want, 0);
      // other labels of the same shape: the same compiled program, and the new labels are read
      const [, other] = indexForms([2, 2]).find(([f]) => f === form)!;
      expectSame(run(j, ys, other), run(ce, ys, oneHot([2, 2], 3)), 0);
      expectSame(run(j, ys, labels), want, 0);
      expect(j.info).toMatchObject({ compiles: 1, hits: 2, inlined: 0 });
    });

    it(`${form} labels: jit(valueAndGrad) gives the eager value and gradient (softmax − onehot) / N`, () => {
      const step = jit(valueAndGrad(meanCe));
      const [v, g] = run(step, ys, labels) as [Tensor, Tensor];
      const [ve, ge] = run(valueAndGrad(meanCe), ys, labels) as [Tensor, Tensor];
      expectSame(v, ve, 1e-15);
      expectSame(g, ge, 1e-15);
      const p = (run(function* () { return yield* logSoftmax(ys); }) as Tensor).data.map(Math.exp);
      const oh = oneHot([1, 0], 3).data;
      expectClose(g, Array.from(p, (q, k) => (q - oh[k]!) / 2), { rtol: 1e-12, atol: 1e-15 });
    });
  }

  it("nllLoss takes the same labels under jit(grad)", () => {
    function* nll(logits: Value, labels: Labels): Gen<Value> {
      return yield* nllLoss(yield* logSoftmax(logits), labels);
    }
    const g = jit(grad(nll));
    for (const [, labels] of indexForms([1, 0])) expectSame(run(g, ys, labels), run(grad(nll), ys, [1, 0]), 1e-15);
    expect(g.info.compiles).toBe(4); // one per form: number[] (two numbers), Int32Array, and the two tensor dtypes
  });

  it("one-hot and probability targets are still read as such when staged", () => {
    const soft = tensor([[0.25, 0.75, 0], [0, 0.5, 0.5]]);
    expectSame(run(jit(ce), ys, soft), run(ce, ys, soft), 1e-15);
    expectSame(run(jit(ce), ys, oneHot([1, 0], 3)), run(ce, ys, [1, 0]), 0);
  });

  it("second derivatives through staged labels: jit(hessian) equals the eager one", () => {
    const x = randn([2, 3], { seed: 7 });
    function* h(logits: Value, labels: Labels) {
      return yield* hessian(function* (v: Value) {
        return yield* meanCe(v, labels);
      })(logits);
    }
    expectSame(run(jit(h), x, tensor([2, 0])), run(h, x, [2, 0]), 1e-13);
  });

  it("labels of a shape that is neither form are a ShapeError naming both forms, also under jit", () => {
    for (const f of [ce, jit(ce)]) {
      expect(() => run(f, ys, tensor([1, 0, 1]))).toThrow(ShapeError);
      expect(() => run(f, ys, tensor([1, 0, 1]))).toThrow(/class indices of shape \[2\] or one-hot labels of shape \[2, 3\]/);
      expect(() => run(f, ys, tensor([[1, 0]]))).toThrow(ShapeError);
    }
  });

  it("a staged label outside [0, C) or not an integer gives NaN for its example (it cannot be checked before the run)", () => {
    const out = run(jit(ce), ys, tensor([3, 0])) as Tensor;
    expect(Number.isNaN(out.data[0]!)).toBe(true);
    expect(out.data[1]).toBeCloseTo(expected[1]!, 5);
    expect(Number.isNaN((run(jit(ce), ys, tensor([1, 0.5])) as Tensor).data[1]!)).toBe(true);
    expect(Number.isNaN((run(jit(ce), ys, tensor([1, -1])) as Tensor).data[1]!)).toBe(true);
  });
});

describe("optax SoftmaxCrossEntropyWithIntegerLabelsTest.test_consistent_with_softmax_cross_entropy_scalar: one example, and vmap", () => {
  const row = tensor([10, 1, -2]);

  it("a number or a 0-d tensor label for logits [C], eagerly and under jit", () => {
    const want = run(ce, row, tensor([0, 1, 0])) as Tensor;
    expect(want.item()).toBeCloseTo(expected[0]!, 4);
    for (const label of [1, tensor(1), tensor(1, { dtype: "float32" })]) {
      expectSame(run(ce, row, label), want, 0);
      expectSame(run(jit(ce), row, label), want, 0);
    }
  });

  it("vmap of the per-example loss over labels [N]: a tensor or an Int32Array, each example seeing a scalar label", () => {
    const want = run(ce, ys, [1, 0]);
    for (const labels of [tensor([1, 0]), tensor([1, 0], { dtype: "float32" }), Int32Array.of(1, 0)]) {
      expectSame(run(vmap(ce), ys, labels), want, 0);
      expectSame(run(jit(vmap(ce)), ys, labels), want, 0);
    }
  });

  it("vmap of per-example gradients equals the rows of the batch gradient (times N)", () => {
    const perExample = vmap(grad(ce));
    const g = run(perExample, ys, tensor([1, 0])) as Tensor;
    const batch = run(grad(meanCe), ys, [1, 0]) as Tensor;
    expectClose(g, Array.from(batch.data, (v) => v * 2), { rtol: 1e-12, atol: 1e-15 });
    expectSame(run(jit(perExample), ys, Int32Array.of(1, 0)), g, 1e-15);
  });

  it("shared labels with mapped logits (an ensemble of models on one batch)", () => {
    const ensemble = tensor([ys.toArray() as number[][], [[0, 0, 0], [1, 2, 3]]]); // [2 models, 2 examples, 3]
    const labels = Int32Array.of(1, 0);
    const out = run(vmap(ce, [0, null]), ensemble, labels) as Tensor;
    const rowOf = (logits: Tensor): number[] => (run(ce, logits, [1, 0]) as Tensor).toArray() as number[];
    expectSame(out, tensor([rowOf(ys), rowOf(tensor([[0, 0, 0], [1, 2, 3]]))]), 0);
  });
});

describe("trainLoop({ jit: true }) with class labels (models.md)", () => {
  type Params = { l1: nn.LinearParams; l2: nn.LinearParams };
  function* model(p: Params, x: Value) {
    return yield* nn.linear.apply(p.l2, yield* relu(yield* nn.linear.apply(p.l1, x)));
  }
  const X = randn([64, 2], { seed: 1 });
  const Y = (X.toArray() as number[][]).map(([a, b]) => (a! * a! + b! * b! > 1 ? 1 : 0));
  const params0: Params = { l1: nn.linear.init(1, 2, 8), l2: nn.linear.init(2, 8, 2) };
  const rows = (k: number): Tensor => tensor((X.toArray() as number[][]).slice(k * 16, k * 16 + 16));
  const labelsOf = (k: number): number[] => Y.slice(k * 16, k * 16 + 16);

  const forms: [string, (k: number) => Labels][] = [
    ["number[]", labelsOf],
    ["Int32Array", (k) => Int32Array.from(labelsOf(k))],
    ["integer Tensor", (k) => tensor(labelsOf(k))],
  ];
  for (const [form, make] of forms) {
    it(`${form} labels: trains as the eager loop does (same losses), and the loss falls`, () => {
      const data = [0, 1, 2, 3].map((k) => ({ x: rows(k), labels: make(k) }));
      const train = (jitted: boolean) =>
        trainLoop({
          params: params0,
          lossFn: function* (p: Params, b: { x: Tensor; labels: Labels }) {
            return yield* softmaxCrossEntropy(yield* model(p, b.x), b.labels);
          },
          optimizer: optim.adam({ lr: 0.05 }),
          data,
          epochs: 5,
          jit: jitted,
          progress: "none",
        });
      const staged = train(true);
      const eager = train(false);
      expect(staged.losses).toHaveLength(20);
      staged.losses.forEach((l, i) => expect(l).toBeCloseTo(eager.losses[i]!, 10));
      expect(staged.epochLosses.at(-1)!).toBeLessThan(staged.epochLosses[0]!);
    });
  }

  it("the jitted step compiles once for batches of one shape, whatever the labels", () => {
    const step = jit(
      valueAndGrad(function* (p: Params, b: { x: Tensor; labels: Labels }) {
        return yield* softmaxCrossEntropy(yield* model(p, b.x), b.labels);
      }),
    );
    for (let k = 0; k < 4; k++) run(step, params0, { x: rows(k), labels: Int32Array.from(labelsOf(k)) });
    expect(step.info).toMatchObject({ compiles: 1, hits: 3 });
  });

  it("a label out of range under jit makes the loss NaN, which trainLoop reports", () => {
    const bad = Int32Array.from(labelsOf(0));
    bad[3] = 2;
    expect(() =>
      trainLoop({
        params: params0,
        lossFn: function* (p: Params, b: { x: Tensor; labels: Labels }) {
          return yield* softmaxCrossEntropy(yield* model(p, b.x), b.labels);
        },
        optimizer: optim.sgd({ lr: 0.1 }),
        data: [{ x: rows(0), labels: bad }],
        jit: true,
        progress: "none",
      }),
    ).toThrow(ValueError);
  });
});

describe("accuracy with every label form", () => {
  const logits = tensor([[0.1, 0.9, 0], [2, 1, 0], [0, 0, 5], [1, 1, 0]]);
  it("indices as number[], Int32Array, tensors of either dtype, and one-hot", () => {
    for (const labels of [[1, 1, 2, 1], Int32Array.of(1, 1, 2, 1), tensor([1, 1, 2, 1]), tensor([1, 1, 2, 1], { dtype: "float32" }), oneHot([1, 1, 2, 1], 3)])
      expect(accuracy(logits, labels)).toBe(0.5);
  });
});
