// nn.batchNorm: values against a direct computation (PyTorch's BatchNorm semantics: biased
// variance to normalize, unbiased in the running variance, running ← (1 − m)·running + m·batch),
// derivatives against finite differences to second order, jit and vmap against eager, bad input.
import { describe, expect, it } from "vitest";
import { Tensor, grad, jit, mul, nn, run, sum, tensor, vmap, type Value } from "../src/index.ts";
import { checkGrads, randomTensor } from "./check-grads.ts";

const bn = nn.batchNorm;
const values = (t: unknown): number[] => Array.from((t as Tensor).buf);

/** Per-channel batch statistics and normalization of x [N, C, ...rest], computed element by element. */
const reference = (x: Tensor, gamma: number[], beta: number[], eps: number) => {
  const [n, c] = x.shape as [number, number];
  const inner = x.size / (n * c);
  const at = (i: number, ch: number, k: number) => (i * c + ch) * inner + k;
  const mean: number[] = [];
  const variance: number[] = [];
  const y = new Float64Array(x.size);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < inner; k++) s += x.buf[at(i, ch, k)]!;
    const m = s / (n * inner);
    let v = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < inner; k++) v += (x.buf[at(i, ch, k)]! - m) ** 2;
    v /= n * inner;
    mean.push(m);
    variance.push(v);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < inner; k++) y[at(i, ch, k)] = ((x.buf[at(i, ch, k)]! - m) / Math.sqrt(v + eps)) * gamma[ch]! + beta[ch]!;
  }
  return { y: Array.from(y), mean, variance, count: n * inner };
};

describe("batchNorm", () => {
  const params = { gamma: tensor([1.5, 0.5, 2]), beta: tensor([0.1, -0.2, 0.3]) };

  it("training: normalizes with the batch statistics and updates the running ones (PyTorch's rule)", () => {
    const x = randomTensor([4, 3], 1, { lo: -2, hi: 3 });
    const state = { mean: tensor([0.5, -1, 2]), variance: tensor([1, 2, 0.5]) };
    const [y, next] = run(bn.apply, params, state, x, { training: true, momentum: 0.2 }) as [Tensor, { mean: Tensor; variance: Tensor }];
    const r = reference(x, [1.5, 0.5, 2], [0.1, -0.2, 0.3], 1e-5);
    values(y).forEach((v, i) => expect(v).toBeCloseTo(r.y[i]!, 12));
    values(next.mean).forEach((v, ch) => expect(v).toBeCloseTo(0.8 * [0.5, -1, 2][ch]! + 0.2 * r.mean[ch]!, 12));
    values(next.variance).forEach((v, ch) => expect(v).toBeCloseTo(0.8 * [1, 2, 0.5][ch]! + (0.2 * r.variance[ch]! * 4) / 3, 12));
  });

  it("statistics over N, H and W for images [N, C, H, W]; a channel axis elsewhere with `axis`", () => {
    const x = randomTensor([2, 3, 2, 2], 2);
    const [y, next] = run(bn.apply, params, bn.initState(3), x, { training: true }) as [Tensor, { mean: Tensor; variance: Tensor }];
    const r = reference(x, [1.5, 0.5, 2], [0.1, -0.2, 0.3], 1e-5);
    values(y).forEach((v, i) => expect(v).toBeCloseTo(r.y[i]!, 12));
    values(next.mean).forEach((v, ch) => expect(v).toBeCloseTo(0.1 * r.mean[ch]!, 12));
    values(next.variance).forEach((v, ch) => expect(v).toBeCloseTo(0.9 + (0.1 * r.variance[ch]! * 8) / 7, 12));
    // channels last: the same numbers with the axes moved
    const xLast = tensor((x.toArray() as number[][][][]).map((img) => [0, 1, 0, 1].map((_, hw) => img.map((ch) => ch[hw >> 1]![hw & 1]!))));
    const [yLast] = run(bn.apply, params, bn.initState(3), xLast, { training: true, axis: -1 }) as unknown as [Tensor];
    const yArr = y.toArray() as number[][][][];
    (yLast.toArray() as number[][][]).forEach((img, i) => img.forEach((px, hw) => px.forEach((v, ch) => expect(v).toBeCloseTo(yArr[i]![ch]![hw >> 1]![hw & 1]!, 12))));
  });

  it("evaluation: normalizes with the running statistics and returns the state unchanged", () => {
    const x = randomTensor([3, 3], 3);
    const state = { mean: tensor([0.5, -1, 2]), variance: tensor([1, 2, 0.5]) };
    const [y, same] = run(bn.apply, params, state, x, { training: false, eps: 1e-3 }) as [Tensor, unknown];
    expect(same).toBe(state);
    const xs = x.toArray() as number[][];
    (y.toArray() as number[][]).forEach((row, i) =>
      row.forEach((v, ch) => expect(v).toBeCloseTo(((xs[i]![ch]! - [0.5, -1, 2][ch]!) / Math.sqrt([1, 2, 0.5][ch]! + 1e-3)) * [1.5, 0.5, 2][ch]! + [0.1, -0.2, 0.3][ch]!, 12)),
    );
  });

  it("init and initState", () => {
    expect(values(bn.init(0, 3).gamma)).toEqual([1, 1, 1]);
    expect(values(bn.init(0, 3).beta)).toEqual([0, 0, 0]);
    expect(bn.init(0, 2, { dtype: "float32" }).gamma.dtype).toBe("float32");
    expect(values(bn.initState(2).mean)).toEqual([0, 0]);
    expect(values(bn.initState(2).variance)).toEqual([1, 1]);
  });

  const w = randomTensor([3, 2, 2], 7);
  function* trainLoss(x: Value, gamma: Value, beta: Value) {
    const [y] = yield* bn.apply({ gamma, beta }, bn.initState(2), x, { training: true });
    return yield* sum(yield* mul(y, w));
  }
  function* evalOut(x: Value, gamma: Value, beta: Value) {
    const [y] = yield* bn.apply({ gamma, beta }, { mean: tensor([0.2, -0.1]), variance: tensor([0.7, 1.3]) }, x, { training: false });
    return y;
  }

  it("training-mode derivatives match finite differences, first and second order, forward and reverse", () => {
    const x = randomTensor([3, 2, 2], 4);
    checkGrads(trainLoss, [x, tensor([1.2, 0.7]), tensor([0.1, -0.3])], { order: 2, name: "batchNorm (training)" });
    // the output itself (not only a weighted sum), first order
    checkGrads(function* (x: Value) {
      const [y] = yield* bn.apply(params, bn.initState(3), x, { training: true });
      return y;
    }, [randomTensor([4, 3], 5)], { name: "batchNorm output" });
  });

  it("evaluation-mode derivatives match finite differences, first and second order", () => {
    checkGrads(evalOut, [randomTensor([3, 2, 2], 6), tensor([1.2, 0.7]), tensor([0.1, -0.3])], { order: 2, name: "batchNorm (eval)" });
  });

  it("the new running statistics carry no gradient", () => {
    const g = run(grad(function* (x: Value) {
      const [, s] = yield* bn.apply(params, bn.initState(3), x, { training: true });
      return yield* sum(yield* mul(s.mean, s.variance));
    }), randomTensor([4, 3], 8));
    expect(values(g).every((v) => v === 0)).toBe(true);
  });

  it("jit gives eager's values, threading the state over steps with one compilation", () => {
    const step = jit(function* (p: nn.BatchNormParams, s: nn.BatchNormState, x: Value) {
      return yield* bn.apply(p, s, x, { training: true });
    });
    let eager = bn.initState(3) as { mean: Value; variance: Value };
    let staged = eager;
    for (let k = 0; k < 3; k++) {
      const x = randomTensor([5, 3], 20 + k);
      const [ye, se] = run(bn.apply, params, eager, x, { training: true }) as [Tensor, typeof eager];
      const [yj, sj] = run(step, params, staged, x) as [Tensor, typeof eager];
      values(yj).forEach((v, i) => expect(v).toBeCloseTo(values(ye)[i]!, 12));
      values(sj.variance).forEach((v, i) => expect(v).toBeCloseTo(values(se.variance)[i]!, 12));
      [eager, staged] = [se, sj];
    }
    expect(step.info.compiles).toBe(1);
  });

  it("vmap over independent batches equals one call per batch", () => {
    const xs = randomTensor([2, 4, 3], 9);
    const f = function* (x: Value) {
      const [y] = yield* bn.apply(params, bn.initState(3), x, { training: true });
      return y;
    };
    const got = run(vmap(f), xs) as Tensor;
    const each = (xs.toArray() as number[][][]).map((b) => values(run(f, tensor(b))));
    values(got).forEach((v, i) => expect(v).toBeCloseTo(each.flat()[i]!, 12));
  });

  it("bad input names the problem", () => {
    const s = bn.initState(3);
    expect(() => run(bn.apply, params, s, tensor([1, 2, 3]), { training: true })).toThrow(/batchNorm.apply: x must have a batch axis and a channel axis, got shape \[3\]/);
    expect(() => run(bn.apply, params, s, randomTensor([2, 4], 1), { training: true })).toThrow(/params.gamma has shape \[3\], expected \[4\]/);
    expect(() => run(bn.apply, params, bn.initState(2), randomTensor([2, 3], 1), { training: true })).toThrow(/state.mean has shape \[2\], expected \[3\]/);
    expect(() => run(bn.apply, params, {} as never, randomTensor([2, 3], 1), { training: true })).toThrow(/state has no "mean"/);
    expect(() => run(bn.apply, params, s, randomTensor([2, 3], 1), {} as never)).toThrow(/options.training must be true or false/);
    expect(() => run(bn.apply, params, s, randomTensor([1, 3], 1), { training: true })).toThrow(/more than one value per channel/);
    expect(() => run(bn.apply, params, s, randomTensor([2, 3], 1), { training: true, momentum: 2 })).toThrow(/momentum must be a number in \[0, 1\]/);
  });
});
