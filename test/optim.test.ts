import { describe, it, expect } from "vitest";
import { run, grad, tensor, randn, sum, square, sub, Tensor, ShapeError, ValueError, DTypeError, type Value } from "../src/index.ts";
import * as optim from "../src/optim/index.ts";
import { treeAdd, treeSub, treeScale, treeDot, treeGlobalNorm, treeZerosLike, treeMap, treeSize } from "../src/tree-math.ts";
import { encodeCheckpoint, decodeCheckpoint } from "../src/checkpoint.ts";
import { flatten } from "../src/pytree.ts";
import { expectClose } from "./fd.ts";

const t = (v: number[] | number[][]): Tensor => tensor(v);
const copy = <T>(x: T): T => flatten(x).rebuild(flatten(x).leaves.map((l) => (l instanceof Tensor ? tensor(l) : l))) as T;
const expectUnchanged = (before: unknown, after: unknown): void => expectClose(after, before, { rtol: 0, atol: 0 });

/** Runs `steps` updates with the given gradients; checks inputs are never written. */
const steps = <P>(opt: optim.Optimizer<any>, params: P, grads: P[]): { params: P; state: any } => {
  let state = opt.init(params);
  for (const g of grads) {
    const [p0, g0, s0] = [copy(params), copy(g), copy(state)];
    const [p, s] = opt.update(g, state, params);
    expectUnchanged(p0, params);
    expectUnchanged(g0, g);
    expectUnchanged(s0, state);
    params = p;
    state = s;
  }
  return { params, state };
};

describe("sgd", () => {
  it("takes p − lr·g", () => {
    const { params, state } = steps(optim.sgd({ lr: 0.1 }), { w: t([1, -2]) }, [{ w: t([0.5, 0.25]) }]);
    expectClose(params.w, [0.95, -2.025], { rtol: 1e-15, atol: 0 });
    expect(state).toEqual({ count: 1 });
  });

  it("adds weight decay to the gradient", () => {
    const { params } = steps(optim.sgd({ lr: 0.1, weightDecay: 0.1 }), { w: t([1, -2]) }, [{ w: t([0.5, 0.25]) }]);
    // g + 0.1·p = [0.6, 0.05]
    expectClose(params.w, [0.94, -2.005], { rtol: 1e-15, atol: 0 });
  });

  it("accumulates momentum over two steps (heavy ball and Nesterov)", () => {
    const grads = [{ w: t([0.5]) }, { w: t([0.2]) }];
    const heavy = steps(optim.sgd({ lr: 0.1, momentum: 0.9 }), { w: t([1]) }, grads);
    // v1 = 0.5, p1 = 0.95; v2 = 0.9·0.5 + 0.2 = 0.65, p2 = 0.95 − 0.065
    expectClose(heavy.params.w, [0.885], { rtol: 1e-15, atol: 0 });
    expectClose(heavy.state.velocity.w, [0.65], { rtol: 1e-15, atol: 0 });
    expect(heavy.state.count).toBe(2);
    const nest = steps(optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true }), { w: t([1]) }, grads);
    // d1 = 0.5 + 0.9·0.5 = 0.95 → 0.905; d2 = 0.2 + 0.9·0.65 = 0.785 → 0.8265
    expectClose(nest.params.w, [0.8265], { rtol: 1e-15, atol: 0 });
    const wd = steps(optim.sgd({ lr: 0.1, momentum: 0.5, weightDecay: 0.2 }), { w: t([1]) }, grads);
    // g1 = 0.5 + 0.2 = 0.7, v1 = 0.7, p1 = 0.93; g2 = 0.2 + 0.186 = 0.386, v2 = 0.35 + 0.386 = 0.736, p2 = 0.93 − 0.0736
    expectClose(wd.params.w, [0.8564], { rtol: 1e-14, atol: 0 });
    expect(() => optim.sgd({ lr: 0.1, nesterov: true })).toThrow(ValueError);
  });
});

describe("adagrad", () => {
  it("follows Lantern's rule over two steps: acc += g², p −= lr·g/sqrt(acc + eps)", () => {
    const { params, state } = steps(optim.adagrad({ lr: 0.1 }), { w: t([1, 2]) }, [{ w: t([0.5, 0]) }, { w: t([-1, 3]) }]);
    const p1 = 1 - (0.1 * 0.5) / Math.sqrt(0.25 + 1e-8);
    const p2 = p1 + 0.1 / Math.sqrt(1.25 + 1e-8);
    const q2 = 2 - (0.1 * 3) / Math.sqrt(9 + 1e-8);
    expectClose(params.w, [p2, q2], { rtol: 1e-15, atol: 0 });
    expectClose(state.accum.w, [1.25, 9], { rtol: 1e-15, atol: 0 });
  });

  it("clips elementwise first when asked (W3's ±5)", () => {
    const { params } = steps(optim.adagrad({ lr: 0.1, clipValue: 5 }), { w: t([0, 0]) }, [{ w: t([50, -2]) }]);
    expectClose(params.w, [-0.1 * 5 / Math.sqrt(25 + 1e-8), 0.2 / Math.sqrt(4 + 1e-8)], { rtol: 1e-15, atol: 0 });
  });
});

describe("adam and adamw", () => {
  const grads = [{ w: t([0.5]) }, { w: t([-1]) }];
  // step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25
  const step1 = 0.1 * 0.5 / (0.5 + 1e-8);
  // step 2: m = −0.055, v = 0.00124975, m̂ = −0.055/0.19, v̂ = 0.00124975/0.001999
  const step2 = 0.1 * (-0.055 / 0.19) / (Math.sqrt(0.00124975 / 0.001999) + 1e-8);

  it("adam: bias-corrected moments over two steps", () => {
    const { params, state } = steps(optim.adam({ lr: 0.1 }), { w: t([1]) }, grads);
    expectClose(params.w, [1 - step1 - step2], { rtol: 1e-13, atol: 0 });
    expectClose(state.mu.w, [-0.055], { rtol: 1e-13, atol: 0 });
    expectClose(state.nu.w, [0.00124975], { rtol: 1e-13, atol: 0 });
    expect(state.count).toBe(2);
  });

  it("adamw: decoupled weight decay p·(1 − lr·wd) before the Adam step", () => {
    const { params } = steps(optim.adamw({ lr: 0.1, weightDecay: 0.1 }), { w: t([1]) }, grads);
    const p1 = 1 * (1 - 0.01) - step1;
    expectClose(params.w, [p1 * (1 - 0.01) - step2], { rtol: 1e-13, atol: 0 });
    // weight decay 0 is plain Adam; the default is 0.01
    const plain = steps(optim.adamw({ lr: 0.1, weightDecay: 0 }), { w: t([1]) }, grads);
    expectClose(plain.params.w, [1 - step1 - step2], { rtol: 1e-13, atol: 0 });
    const dflt = steps(optim.adamw({ lr: 0.1 }), { w: t([1]) }, grads.slice(0, 1));
    expectClose(dflt.params.w, [0.999 - step1], { rtol: 1e-13, atol: 0 });
  });

  it("adam with custom betas and eps", () => {
    const { params } = steps(optim.adam({ lr: 1, beta1: 0.5, beta2: 0.5, eps: 0.5 }), { w: t([0]) }, [{ w: t([2]) }]);
    // m̂ = 2, v̂ = 4 → 2 / (2 + 0.5)
    expectClose(params.w, [-0.8], { rtol: 1e-15, atol: 0 });
    expect(() => optim.adam({ lr: 0.1, beta1: 1 })).toThrow(ValueError);
  });
});

describe("all optimizers", () => {
  const makers: Record<string, () => optim.Optimizer<any>> = {
    sgd: () => optim.sgd({ lr: 0.1 }),
    momentum: () => optim.sgd({ lr: 0.1, momentum: 0.9 }),
    adagrad: () => optim.adagrad({ lr: 0.5 }),
    adam: () => optim.adam({ lr: 0.1 }),
    adamw: () => optim.adamw({ lr: 0.1, weightDecay: 1e-3 }),
  };

  it("work on nested pytrees with number leaves, keep dtypes, and make plain checkpointable state", () => {
    const params = { layers: [{ W: randn([2, 3], { seed: 1, dtype: "float32" }), b: tensor([0, 0, 0], { dtype: "float32" }) }], scale: 1.5, s: tensor(2) };
    const g = { layers: [{ W: randn([2, 3], { seed: 2, dtype: "float32" }), b: tensor([1, -1, 0.5], { dtype: "float32" }) }], scale: 0.25, s: tensor(-1) };
    for (const [name, make] of Object.entries(makers)) {
      const opt = make();
      const state = opt.init(params);
      const [p, s] = opt.update(g, state, params);
      expect(p.layers[0]!.W.dtype, name).toBe("float32");
      expect(p.layers[0]!.W.shape, name).toEqual([2, 3]);
      expect(typeof p.scale, name).toBe("number");
      expect(p.scale, name).toBeLessThan(1.5);
      expect(p.s.shape, name).toEqual([]);
      for (const leaf of flatten(s).leaves) if (leaf instanceof Tensor) expect(leaf.dtype === "float32" || leaf.shape.length === 0, name).toBe(true);
      // state survives a checkpoint round trip and continues identically
      const restored = decodeCheckpoint<typeof s>(encodeCheckpoint(s));
      expectClose(opt.update(g, restored, p), opt.update(g, s, p), { rtol: 0, atol: 0 });
    }
  });

  it("minimize a quadratic through grad", () => {
    const target = tensor([3, -1, 2]);
    function* loss(p: { x: Value }) {
      return yield* sum(yield* square(yield* sub(p.x, target)));
    }
    for (const [name, make] of Object.entries(makers)) {
      const opt = make();
      let params = { x: tensor([0, 0, 0]) };
      let state = opt.init(params);
      for (let i = 0; i < 300; i++) [params, state] = opt.update(run(grad(loss), params) as typeof params, state, params);
      expectClose(params.x, target, { rtol: 0, atol: name === "adamw" ? 0.05 : 1e-2 });
    }
  });

  it("take a learning-rate schedule of the step count", () => {
    const seen: number[] = [];
    const opt = optim.sgd({ lr: (k) => (seen.push(k), 1 / (k + 1)) });
    const { params } = steps(opt, { w: t([0]) }, [{ w: t([1]) }, { w: t([1]) }, { w: t([1]) }]);
    expect(seen).toEqual([0, 1, 2]);
    expectClose(params.w, [-(1 + 1 / 2 + 1 / 3)], { rtol: 1e-15, atol: 0 });
    expect(() => optim.sgd({ lr: () => NaN }).update({ w: t([1]) }, { count: 0 }, { w: t([0]) })).toThrow(ValueError);
  });

  it("reject mismatched grads or state with the path of the leaf", () => {
    const opt = optim.adam({ lr: 0.1 });
    const params = { a: t([1, 2]), b: { c: t([3]) } };
    const state = opt.init(params);
    expect(() => opt.update({ a: t([1, 2]), b: { c: t([1, 2]) } }, state, params)).toThrow(/b\.c/);
    expect(() => opt.update({ a: t([1, 2]), b: { c: t([1, 2]) } }, state, params)).toThrow(ShapeError);
    expect(() => opt.update({ a: t([1, 2]) } as never, state, params)).toThrow(ShapeError);
    expect(() => opt.update(params, { count: 0 } as never, params)).toThrow(ShapeError);
    expect(() => opt.update(params, {} as never, params)).toThrow(ValueError);
    expect(() => optim.sgd({ lr: -1 })).toThrow(ValueError);
    expect(() => optim.sgd({} as never)).toThrow(ValueError);
    expect(() => optim.adagrad({ lr: 0.1, clipValue: -1 })).toThrow(ValueError);
  });

  it("refuse traced values (they work on concrete tensors, outside programs)", () => {
    const opt = optim.sgd({ lr: 0.1 });
    expect(() =>
      run(grad(function* (x: Value) {
        opt.update({ w: x }, { count: 0 }, { w: x });
        return yield* sum(x);
      }), t([1])),
    ).toThrow(DTypeError);
  });
});

describe("inPlace", () => {
  const makers: Record<string, (inPlace: boolean) => optim.Optimizer<any>> = {
    sgd: (inPlace) => optim.sgd({ lr: 0.1, weightDecay: 0.01, inPlace }),
    momentum: (inPlace) => optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, inPlace }),
    adagrad: (inPlace) => optim.adagrad({ lr: 0.5, clipValue: 0.8, inPlace }),
    adam: (inPlace) => optim.adam({ lr: 0.1, clipGlobalNorm: 1, inPlace }),
    adamw: (inPlace) => optim.adamw({ lr: 0.1, weightDecay: 1e-3, inPlace }),
  };
  // 700 elements: long enough for the WebAssembly step kernels, plus small and number leaves.
  const params = () => ({ W: randn([20, 35], { seed: 1, dtype: "float32" }), b: randn([3], { seed: 2 }), s: 1.5 });
  const grads = (k: number) => ({ W: randn([20, 35], { seed: 10 + k, dtype: "float32" }), b: randn([3], { seed: 20 + k }), s: 0.25 * k - 0.3 });

  it("gives exactly the pure update's numbers, writing into the same tensors", () => {
    for (const [name, make] of Object.entries(makers)) {
      const pure = make(false);
      const inPlace = make(true);
      let [p1, s1] = [params(), pure.init(params())];
      const p2 = params();
      let s2 = inPlace.init(p2);
      const [W, stateLeaves] = [p2.W, flatten(s2).leaves.filter((l) => l instanceof Tensor)];
      let q2: typeof p2 = p2;
      for (let k = 0; k < 3; k++) {
        [p1, s1] = pure.update(grads(k), s1, p1);
        [q2, s2] = inPlace.update(grads(k), s2, q2);
        expectClose(q2, p1, { rtol: 0, atol: 0 });
        expectClose(s2, s1, { rtol: 0, atol: 0 });
        expect(q2.W, name).toBe(W); // the same tensor, rewritten
        expect(flatten(s2).leaves.filter((l) => l instanceof Tensor), name).toEqual(stateLeaves);
      }
      expectClose(W, p1.W, { rtol: 0, atol: 0 }); // the caller's reference sees the new values
    }
  });

  it("refuses leaves that share memory, before writing anything", () => {
    const W = randn([4], { seed: 3 });
    const before = W.data;
    const opt = optim.sgd({ lr: 0.1, inPlace: true });
    expect(() => opt.update({ a: tensor([1, 1, 1, 1]), b: tensor([1, 1, 1, 1]) }, { count: 0 }, { a: W, b: W })).toThrow(/params leaf b shares memory with params leaf a; pass distinct tensors or drop inPlace/);
    expect(W.data).toEqual(before);
    const ada = optim.adagrad({ lr: 0.1, inPlace: true });
    expect(() => ada.update({ w: tensor([1, 1, 1, 1]) }, { count: 0, accum: { w: W } }, { w: W })).toThrow(/state.accum leaf w shares memory with params leaf w/);
    expect(() => optim.adam({ lr: 0.1, inPlace: "yes" as unknown as boolean })).toThrow(ValueError);
    // and the next update works
    const [p] = opt.update({ a: tensor([1, 1, 1, 1]) }, { count: 0 }, { a: W });
    expect(p.a).toBe(W);
  });
});

describe("clipping", () => {
  it("clipByValue clips every element", () => {
    const g = { a: t([-3, 0.5, 7]), b: 10, c: [t([-0.1])] };
    const c = optim.clipByValue(g, -1, 2);
    expectClose(c, { a: [-1, 0.5, 2], b: 2, c: [[-0.1]] }, { rtol: 0, atol: 0 });
    expectClose(g.a, [-3, 0.5, 7], { rtol: 0, atol: 0 });
    expect(() => optim.clipByValue(g, 1, -1)).toThrow(ValueError);
  });

  it("clipByGlobalNorm scales all leaves together to the norm bound", () => {
    const g = { a: t([3, 0]), b: t([[0, 4]]) };
    expect(optim.globalNorm(g)).toBe(5);
    const c = optim.clipByGlobalNorm(g, 1);
    expectClose(c, { a: [0.6, 0], b: [[0, 0.8]] }, { rtol: 1e-15, atol: 0 });
    expect(optim.globalNorm(c)).toBeCloseTo(1, 15);
    expect(optim.clipByGlobalNorm(g, 5)).toBe(g);
    expect(optim.clipByGlobalNorm(g, 10)).toBe(g);
    expect(optim.globalNorm({ a: t([3e200, 4e200]) })).toBeCloseTo(5e200, -190);
    expect(optim.globalNorm({ a: t([3e-200, 4e-200]) }) / 5e-200).toBeCloseTo(1, 12);
  });

  it("is applied by an optimizer's clip options: by value, then by global norm", () => {
    const p = { w: t([0, 0, 0]) };
    const byValue = optim.sgd({ lr: 1, clipValue: 0.5 }).update({ w: t([2, -3, 0.1]) }, { count: 0 }, p)[0];
    expectClose(byValue.w, [-0.5, 0.5, -0.1], { rtol: 0, atol: 0 });
    const byNorm = optim.sgd({ lr: 1, clipGlobalNorm: 1 }).update({ w: t([3, 4, 0]) }, { count: 0 }, p)[0];
    expectClose(byNorm.w, [-0.6, -0.8, 0], { rtol: 1e-15, atol: 0 });
    const both = optim.sgd({ lr: 1, clipValue: 3, clipGlobalNorm: 2.5 }).update({ w: t([3, 40, 0]) }, { count: 0 }, p)[0];
    // by value → [3, 3, 0] (norm 3√2), then scaled to norm 2.5
    const s = 2.5 / (3 * Math.SQRT2);
    expectClose(both.w, [-3 * s, -3 * s, 0], { rtol: 1e-14, atol: 0 });
  });
});

describe("tree math", () => {
  it("adds, subtracts, scales, maps and measures trees of numbers and tensors", () => {
    const a = { x: t([1, 2]), y: [3] };
    const b = { x: t([10, 20]), y: [30] };
    expectClose(treeAdd(a, b), { x: [11, 22], y: [33] }, { rtol: 0, atol: 0 });
    expectClose(treeSub(b, a), { x: [9, 18], y: [27] }, { rtol: 0, atol: 0 });
    expectClose(treeScale(a, -2), { x: [-2, -4], y: [-6] }, { rtol: 0, atol: 0 });
    expectClose(treeMap((u, v) => u * v! + 1, a, b), { x: [11, 41], y: [91] }, { rtol: 0, atol: 0 });
    expectClose(treeZerosLike(a), { x: [0, 0], y: [0] }, { rtol: 0, atol: 0 });
    expect(treeDot(a, b)).toBe(10 + 40 + 90);
    expect(treeGlobalNorm(a)).toBeCloseTo(Math.sqrt(14), 15);
    expect(treeSize(a)).toBe(3);
    expect(() => treeAdd(a, { x: t([1]), y: [3] })).toThrow(ShapeError);
    expect(() => treeAdd(a, { x: t([1, 2]) } as never)).toThrow(ShapeError);
  });
});
