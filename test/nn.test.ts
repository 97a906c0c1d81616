import { describe, it, expect } from "vitest";
import { run, grad, tensor, randn, sum, mul, add, Tensor, ShapeError, ValueError, IndexError, type Value } from "../src/index.ts";
import * as nn from "../src/nn/index.ts";
import * as api from "../src/index.ts";
import type { Effect } from "../effects/effect.ts";
import { shapeOf } from "../effects/value.ts";
import { fdGrad, expectClose, scalar } from "./fd.ts";

type Gen<R> = Generator<Effect, R, unknown>;
const { init } = nn;

/** grad of a scalar program of one tree, against central differences (float64). */
const checkGrad = <T>(loss: (t: T) => Gen<Value>, t: T): void => {
  const g = run(grad(loss), t);
  const fd = fdGrad((x: T) => scalar(run(loss, x)), t);
  expectClose(g, fd, { rtol: 1e-5, atol: 1e-7 });
};

/** Σ_i sum(y_i · R_i) with fixed random R_i: every output element gets its own weight. */
function* project(ys: readonly Value[], seed = 99): Gen<Value> {
  let total: Value = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i]!;
    total = yield* add(total, yield* sum(yield* mul(y, randn([...shapeOf(y)], { seed: seed + i }))));
  }
  return total;
}

// Plain-JS references on nested arrays.
type Vec = number[];
type Mat = number[][];
const arr = (t: Value): any => (t as Tensor).toArray();
const vecmat = (x: Vec, W: Mat): Vec => W[0]!.map((_, j) => x.reduce((s, xi, i) => s + xi * W[i]![j]!, 0));
const vadd = (...vs: Vec[]): Vec => vs[0]!.map((_, j) => vs.reduce((s, v) => s + v[j]!, 0));
const vmul = (a: Vec, b: Vec): Vec => a.map((x, j) => x * b[j]!);
const sig = (v: Vec): Vec => v.map((x) => 1 / (1 + Math.exp(-x)));
const th = (v: Vec): Vec => v.map(Math.tanh);
const chunk = (v: Vec, n: number): Vec[] => Array.from({ length: n }, (_, k) => v.slice((k * v.length) / n, ((k + 1) * v.length) / n));

/** randn times `scale`. */
const rn = (shape: number[], seed: number, scale = 1): Tensor => {
  const t = randn(shape, { seed });
  return tensor(t.data.map((v) => v * scale), { shape: [...t.shape] });
};

describe("initializers", () => {
  it("are reproducible from a seed and differ across seeds", () => {
    for (const f of [init.normal(0.1), init.uniform(-1, 1), init.glorotUniform(), init.glorotNormal(), init.heUniform(), init.heNormal()]) {
      const a = f(7, [4, 5]);
      expect(a.shape).toEqual([4, 5]);
      expect(a.dtype).toBe("float64");
      expect(f(7, [4, 5]).toArray()).toEqual(a.toArray());
      expect(f(8, [4, 5]).toArray()).not.toEqual(a.toArray());
      expect(f(7, [4, 5], "float32").dtype).toBe("float32");
    }
    expect(init.zeros()(3, [2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(init.ones()(3, [2]).toArray()).toEqual([1, 1]);
    expect(init.constant(2.5)(3, [1]).toArray()).toEqual([2.5]);
  });

  it("computes fans for dense [in, out] and conv [O, C, KH, KW] shapes", () => {
    expect(init.computeFans([3, 7])).toEqual([3, 7]);
    expect(init.computeFans([16, 8, 3, 5])).toEqual([8 * 15, 16 * 15]);
    expect(init.computeFans([6])).toEqual([6, 6]);
    expect(init.computeFans([])).toEqual([1, 1]);
  });

  const stats = (t: Tensor): { mean: number; std: number; maxAbs: number } => {
    const d = Array.from(t.data);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
    return { mean, std, maxAbs: d.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
  };

  it("scale variance by the fans (Glorot: fanIn + fanOut; He: fanIn)", () => {
    const dense = [200, 300];
    const glorotLimit = Math.sqrt(6 / 500);
    const gu = stats(init.glorotUniform()(1, dense));
    expect(gu.maxAbs).toBeLessThanOrEqual(glorotLimit);
    expect(gu.maxAbs).toBeGreaterThan(0.99 * glorotLimit);
    expect(gu.std).toBeCloseTo(glorotLimit / Math.sqrt(3), 2);
    expect(stats(init.glorotNormal()(2, dense)).std / Math.sqrt(2 / 500)).toBeCloseTo(1, 1);
    const conv = [32, 16, 3, 3]; // fanIn = 144
    const hu = stats(init.heUniform()(3, conv));
    expect(hu.maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / 144));
    expect(hu.std / Math.sqrt(2 / 144)).toBeCloseTo(1, 1);
    const hn = stats(init.heNormal()(4, conv));
    expect(hn.std / Math.sqrt(2 / 144)).toBeCloseTo(1, 1);
    expect(Math.abs(hn.mean)).toBeLessThan(0.02);
    const fu = stats(init.fanInUniform()(5, conv));
    expect(fu.maxAbs).toBeLessThanOrEqual(1 / 12);
    expect(fu.maxAbs).toBeGreaterThan(0.99 / 12);
    const n = stats(init.normal(0.5, 2)(6, [100, 100]));
    expect(n.mean).toBeCloseTo(2, 1);
    expect(n.std).toBeCloseTo(0.5, 1);
    const u = init.uniform(2, 3)(7, [1000]).data;
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u)).toBeLessThan(3);
  });

  it("derives distinct seeds with foldIn and rejects bad arguments", () => {
    const seeds = new Set(Array.from({ length: 100 }, (_, k) => init.foldIn(42, k)));
    expect(seeds.size).toBe(100);
    expect(init.foldIn(42, 3)).toBe(init.foldIn(42, 3));
    expect(init.foldIn(42, 3)).not.toBe(init.foldIn(43, 3));
    expect(() => init.normal(1)(1.5, [2])).toThrow(ValueError);
    expect(() => init.normal(-1)).toThrow(ValueError);
    expect(() => init.uniform(1, 0)).toThrow(ValueError);
    expect(init.glorotUniform()(0, [0, 3]).shape).toEqual([0, 3]);
    expect(() => init.heNormal()(0, [2, -1])).toThrow(ShapeError);
  });
});

describe("linear", () => {
  const p = nn.linear.init(1, 3, 4);
  it("initializes W [in, out] (Glorot) and b [out] (zeros), reproducibly", () => {
    expect(p.W.shape).toEqual([3, 4]);
    expect(p.b!.toArray()).toEqual([0, 0, 0, 0]);
    expect(nn.linear.init(1, 3, 4).W.toArray()).toEqual(p.W.toArray());
    expect(nn.linear.init(2, 3, 4).W.toArray()).not.toEqual(p.W.toArray());
    expect(nn.linear.init(1, 3, 4, { bias: false }).b).toBeUndefined();
    expect(nn.linear.init(1, 3, 4, { dtype: "float32" }).W.dtype).toBe("float32");
  });

  it("computes x W + b for any leading shape", () => {
    const q = { W: randn([3, 4], { seed: 2 }), b: randn([4], { seed: 3 }) };
    const x = randn([2, 3], { seed: 4 });
    const y = run(nn.linear.apply, q, x) as Tensor;
    expect(y.shape).toEqual([2, 4]);
    const ref = (arr(x) as Mat).map((row) => vadd(vecmat(row, arr(q.W)), arr(q.b)));
    expectClose(y, ref.flat() as any, { rtol: 1e-12, atol: 1e-12 });
    expect((run(nn.linear.apply, q, randn([3], { seed: 5 })) as Tensor).shape).toEqual([4]);
    expect((run(nn.linear.apply, q, randn([2, 5, 3], { seed: 5 })) as Tensor).shape).toEqual([2, 5, 4]);
    expect(() => run(nn.linear.apply, q, randn([2, 4], { seed: 5 }))).toThrow(ShapeError);
  });

  it("has gradients w.r.t. params and input that match finite differences", () => {
    type T = { p: nn.LinearParams; x: Value };
    const loss = function* (t: T) { return yield* project([yield* nn.linear.apply(t.p, t.x)]); };
    const t0: T = { p: { W: randn([3, 2], { seed: 6 }), b: randn([2], { seed: 7 }) }, x: randn([2, 3], { seed: 8 }) };
    checkGrad(loss, t0);
    checkGrad(loss, { p: { W: t0.p.W }, x: t0.x });
  });
});

describe("conv2d", () => {
  it("initializes w [O, C, KH, KW] and b [O]", () => {
    const p = nn.conv2d.init(1, 3, 5, [2, 3]);
    expect(p.w.shape).toEqual([5, 3, 2, 3]);
    expect(p.b!.shape).toEqual([5]);
    expect(nn.conv2d.init(1, 3, 5, 3).w.shape).toEqual([5, 3, 3, 3]);
    expect(() => nn.conv2d.init(1, 3, 5, 0)).toThrow(ValueError);
  });

  it("adds the bias per output channel, with stride and padding", () => {
    // 1x1 filters: y[n, o, i, j] = Σ_c w[o, c]·x[n, c, i, j] + b[o]
    const q = { w: randn([2, 3, 1, 1], { seed: 1 }), b: tensor([10, -20]) };
    const x = randn([1, 3, 2, 2], { seed: 2 });
    const y = arr(run(nn.conv2d.apply, q, x, {}));
    const w = arr(q.w), xa = arr(x);
    for (let o = 0; o < 2; o++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          const want = [0, 1, 2].reduce((s, c) => s + w[o][c][0][0] * xa[0][c][i][j], 0) + (o === 0 ? 10 : -20);
          expect(y[0][o][i][j]).toBeCloseTo(want, 12);
        }
    const p = nn.conv2d.init(3, 3, 4, 3);
    const big = randn([2, 3, 7, 7], { seed: 4 });
    expect((run(nn.conv2d.apply, p, big, { stride: 2, padding: 1 }) as Tensor).shape).toEqual([2, 4, 4, 4]);
    expect((run(nn.conv2d.apply, p, big, {}) as Tensor).shape).toEqual([2, 4, 5, 5]);
    expect(() => run(nn.conv2d.apply, p, randn([2, 2, 7, 7], { seed: 4 }), {})).toThrow(ShapeError);
  });

  it("has gradients w.r.t. params and input that match finite differences", () => {
    type T = { p: nn.Conv2dParams; x: Value };
    const t0: T = { p: { w: randn([2, 2, 2, 2], { seed: 5 }), b: randn([2], { seed: 6 }) }, x: randn([1, 2, 4, 3], { seed: 7 }) };
    checkGrad(function* (t: T) { return yield* project([yield* nn.conv2d.apply(t.p, t.x, { stride: [2, 1], padding: 1 })]); }, t0);
  });

  it("takes groups: filters [O, C / groups, KH, KW], each group of channels convolved on its own", () => {
    const p = nn.conv2d.init(1, 4, 6, 3, { groups: 2 });
    expect(p.w.shape).toEqual([6, 2, 3, 3]);
    const x = randn([1, 4, 5, 5], { seed: 8 });
    const y = run(nn.conv2d.apply, p, x, { groups: 2, padding: 1 }) as Tensor;
    expect(y.shape).toEqual([1, 6, 5, 5]);
    // the first three output channels see only the first two input channels
    const firstHalf = { w: p.w, b: p.b };
    const x2 = tensor(Array.from(x.data).map((v, i) => (i < 50 ? v : 0)), { shape: [1, 4, 5, 5] });
    const y2 = run(nn.conv2d.apply, firstHalf, x2, { groups: 2, padding: 1 }) as Tensor;
    expect(Array.from(y2.data).slice(0, 75)).toEqual(Array.from(y.data).slice(0, 75));
    expect(() => nn.conv2d.init(1, 4, 6, 3, { groups: 3 })).toThrow(/groups 3 must divide inChannels 4/);
    expect(() => run(nn.conv2d.apply, p, x, {})).toThrow(/expected \[N, 2, H, W\]/);
    expect(() => run(nn.conv2d.apply, p, randn([1, 2, 5, 5], { seed: 8 }), { groups: 2 })).toThrow(/\[N, 4, H, W\].*in 2 groups/);
  });
});

describe("layers from keys", () => {
  it("every layer's init takes a key as well as a seed: the same key gives the same parameters, another key others", () => {
    const k = api.random.key(0);
    const [a, b] = run(function* () { return yield* api.random.splitKeys(k); }) as Tensor[];
    const sameKey = (f: (seed: number | Tensor) => Record<string, unknown>): void => {
      const p1 = f(a!), p2 = f(a!), p3 = f(b!);
      for (const name of Object.keys(p1)) {
        const [t1, t2, t3] = [p1[name], p2[name], p3[name]] as Tensor[];
        expect(Array.from(t1!.data)).toEqual(Array.from(t2!.data));
        if (Array.from(t1!.data).some((v) => v !== t1!.data[0])) expect(Array.from(t1!.data)).not.toEqual(Array.from(t3!.data));
      }
    };
    sameKey((s) => ({ ...nn.linear.init(s, 3, 4) }));
    sameKey((s) => ({ ...nn.conv2d.init(s, 2, 3, 3) }));
    sameKey((s) => ({ ...nn.embedding.init(s, 5, 3) }));
    sameKey((s) => ({ ...nn.rnnCell.init(s, 3, 4) }));
    sameKey((s) => ({ ...nn.lstmCell.init(s, 3, 4) }));
    sameKey((s) => ({ ...nn.treeLstmCell.init(s, 3, 4) }));
    // a key draws JAX's samples: linear's w from the initializer given foldIn(key, 0)
    const w = nn.linear.init(a!, 3, 4).W;
    expect(Array.from(w.data)).toEqual(Array.from(nn.init.glorotUniform()(nn.init.foldIn(a!, 0), [3, 4]).data));
    expect(() => nn.linear.init(tensor([1, 2, 3]), 3, 4)).toThrow(/key/);
  });
});

describe("embedding", () => {
  it("looks up rows for index arrays and tensors of any shape", () => {
    const p = nn.embedding.init(1, 5, 3);
    expect(p.table.shape).toEqual([5, 3]);
    const rows = arr(p.table) as Mat;
    expect(arr(run(nn.embedding.apply, p, [4, 0, 4]))).toEqual([rows[4], rows[0], rows[4]]);
    const y = run(nn.embedding.apply, p, tensor([[1, 2], [3, 1]]));
    expect((y as Tensor).shape).toEqual([2, 2, 3]);
    expect(arr(y)[1][0]).toEqual(rows[3]);
    expect(arr(run(nn.embedding.apply, p, Int32Array.of(2)))).toEqual([rows[2]]);
    expect(() => run(nn.embedding.apply, p, [5])).toThrow(IndexError);
    expect(() => run(nn.embedding.apply, p, [1.5])).toThrow(IndexError);
  });

  it("sends gradients to the rows looked up (repeats add), matching finite differences", () => {
    type T = { table: Value };
    const t0: T = { table: randn([4, 2], { seed: 3 }) };
    const loss = function* (t: T) { return yield* project([yield* nn.embedding.apply(t, [1, 3, 1])]); };
    checkGrad(loss, t0);
    const g = arr((run(grad(loss), t0) as T).table);
    expect(g[0]).toEqual([0, 0]);
    expect(g[2]).toEqual([0, 0]);
    expect(g[1][0]).not.toBe(0);
  });
});

describe("rnnCell", () => {
  const p = nn.rnnCell.init(2, 3, 4);
  it("initializes Wxh [in, h], Whh [h, h], b [h] and computes tanh(x Wxh + h Whh + b)", () => {
    expect([p.Wxh.shape, p.Whh.shape, p.b.shape]).toEqual([[3, 4], [4, 4], [4]]);
    const q = { ...p, b: randn([4], { seed: 1 }) };
    const x = randn([3], { seed: 2 });
    const h = randn([4], { seed: 3 });
    const want = th(vadd(vecmat(arr(x), arr(q.Wxh)), vecmat(arr(h), arr(q.Whh)), arr(q.b)));
    expectClose(run(nn.rnnCell.apply, q, x, h), want, { rtol: 1e-12, atol: 1e-14 });
    expect((run(nn.rnnCell.apply, q, randn([5, 3], { seed: 4 }), randn([5, 4], { seed: 5 })) as Tensor).shape).toEqual([5, 4]);
    expect(() => run(nn.rnnCell.apply, q, x, randn([3], { seed: 5 }))).toThrow(ShapeError);
  });

  it("has gradients through two steps that match finite differences", () => {
    type T = { p: nn.RnnCellParams; xs: Value[]; h: Value };
    const t0: T = {
      p: { Wxh: rn([2, 3], 1, 0.5), Whh: rn([3, 3], 2, 0.5), b: rn([3], 3, 0.5) },
      xs: [rn([2, 2], 4), rn([2, 2], 5)],
      h: rn([2, 3], 6, 0.5),
    };
    checkGrad(function* (t: T) {
      let h = t.h;
      for (const x of t.xs) h = yield* nn.rnnCell.apply(t.p, x, h);
      return yield* project([h]);
    }, t0);
  });
});

describe("lstmCell", () => {
  it("initializes fused gates and matches a plain reference (gates i, f, g, o)", () => {
    const p = nn.lstmCell.init(1, 3, 2, { forgetBias: 1 });
    expect([p.Wx.shape, p.Wh.shape, p.b.shape]).toEqual([[3, 8], [2, 8], [8]]);
    expect(arr(p.b)).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    const q = { Wx: rn([3, 8], 2), Wh: rn([2, 8], 3), b: rn([8], 4) };
    const x = rn([3], 5), h = rn([2], 6), c = rn([2], 7);
    const z = vadd(vecmat(arr(x), arr(q.Wx)), vecmat(arr(h), arr(q.Wh)), arr(q.b));
    const [i, f, g, o] = chunk(z, 4);
    const c2 = vadd(vmul(sig(f!), arr(c)), vmul(sig(i!), th(g!)));
    const h2 = vmul(sig(o!), th(c2));
    const [hh, cc] = run(nn.lstmCell.apply, q, x, [h, c]);
    expectClose(hh, h2, { rtol: 1e-12, atol: 1e-14 });
    expectClose(cc, c2, { rtol: 1e-12, atol: 1e-14 });
    const [zh, zc] = nn.lstmCell.zeroState(2, [4]);
    const [bh, bc] = run(nn.lstmCell.apply, q, rn([4, 3], 8), [zh, zc]);
    expect([(bh as Tensor).shape, (bc as Tensor).shape]).toEqual([[4, 2], [4, 2]]);
  });

  it("has gradients through two steps w.r.t. params, inputs and state that match finite differences", () => {
    type T = { p: nn.LstmCellParams; xs: Value[]; h: Value; c: Value };
    const t0: T = { p: { Wx: rn([2, 8], 1, 0.5), Wh: rn([2, 8], 2, 0.5), b: rn([8], 3, 0.5) }, xs: [rn([2], 4), rn([2], 5)], h: rn([2], 6), c: rn([2], 7) };
    checkGrad(function* (t: T) {
      let s: [Value, Value] = [t.h, t.c];
      for (const x of t.xs) s = yield* nn.lstmCell.apply(t.p, x, s);
      return yield* project(s);
    }, t0);
  });
});

describe("treeLstmCell", () => {
  const H = 2, IN = 3;
  const q = { Wx: rn([IN, 3 * H], 1), bx: rn([3 * H], 2), Ul: rn([H, 5 * H], 3), Ur: rn([H, 5 * H], 4), b: rn([5 * H], 5) };

  it("initializes Wx [in, 3h], bx, Ul/Ur [h, 5h], b [5h]", () => {
    const p = nn.treeLstmCell.init(0, IN, H);
    expect([p.Wx.shape, p.bx.shape, p.Ul.shape, p.Ur.shape, p.b.shape]).toEqual([[3, 6], [6], [2, 10], [2, 10], [10]]);
    expect(p.Ul.toArray()).not.toEqual(p.Ur.toArray());
  });

  it("computes leaves (i, o, u from x) and nodes (separate left/right forget gates) as the reference", () => {
    const x = rn([IN], 6);
    const [i, o, u] = chunk(vadd(vecmat(arr(x), arr(q.Wx)), arr(q.bx)), 3);
    const cLeaf = vmul(sig(i!), th(u!));
    const hLeaf = vmul(sig(o!), th(cLeaf));
    const [h1, c1] = run(nn.treeLstmCell.leaf, q, x);
    expectClose(h1, hLeaf, { rtol: 1e-12, atol: 1e-14 });
    expectClose(c1, cLeaf, { rtol: 1e-12, atol: 1e-14 });
    expectClose(run(function* () { return yield* nn.treeLstmCell.apply(q, x); }), [h1, c1]);

    const hl = rn([H], 7), cl = rn([H], 8), hr = rn([H], 9), cr = rn([H], 10);
    const z = vadd(vecmat(arr(hl), arr(q.Ul)), vecmat(arr(hr), arr(q.Ur)), arr(q.b));
    const [ni, fl, fr, no, nu] = chunk(z, 5);
    const c = vadd(vmul(sig(ni!), th(nu!)), vmul(sig(fl!), arr(cl)), vmul(sig(fr!), arr(cr)));
    const h = vmul(sig(no!), th(c));
    const [h2, c2] = run(nn.treeLstmCell.node, q, [hl, cl], [hr, cr]);
    expectClose(h2, h, { rtol: 1e-12, atol: 1e-14 });
    expectClose(c2, c, { rtol: 1e-12, atol: 1e-14 });
    expectClose(run(nn.treeLstmCell.apply, q, [hl, cl], [hr, cr]), [h2, c2]);
    // swapping the children changes the result (left and right weights differ)
    expect(arr(run(nn.treeLstmCell.node, q, [hr, cr], [hl, cl])[0])).not.toEqual(arr(h2));
  });

  it("has gradients over a small tree that match finite differences", () => {
    type T = { p: nn.TreeLstmCellParams; a: Value; b: Value; c: Value };
    const scaledQ = { Wx: rn([IN, 3 * H], 1, 0.5), bx: rn([3 * H], 2, 0.5), Ul: rn([H, 5 * H], 3, 0.5), Ur: rn([H, 5 * H], 4, 0.5), b: rn([5 * H], 5, 0.5) };
    const t0: T = { p: scaledQ, a: rn([IN], 11), b: rn([IN], 12), c: rn([IN], 13) };
    checkGrad(function* (t: T) {
      // ((a b) c)
      const la = yield* nn.treeLstmCell.leaf(t.p, t.a);
      const lb = yield* nn.treeLstmCell.leaf(t.p, t.b);
      const lc = yield* nn.treeLstmCell.leaf(t.p, t.c);
      const ab = yield* nn.treeLstmCell.node(t.p, la, lb);
      const root = yield* nn.treeLstmCell.node(t.p, ab, lc);
      return yield* project([...root, ab[0]]);
    }, t0);
  });
});

describe("dropout", () => {
  const x = rn([20, 50], 1);
  it("is the identity in evaluation mode and at rate 0", () => {
    expect(run(nn.dropout, x, { rate: 0.5, seed: 1, training: false })).toBe(x);
    expect(run(nn.dropout, x, { rate: 0, seed: 1, training: true })).toBe(x);
  });

  it("drops about `rate` of the elements, scales the rest by 1/(1-rate), reproducibly per seed", () => {
    const y = run(nn.dropout, x, { rate: 0.25, seed: 3, training: true }) as Tensor;
    expect(y.shape).toEqual([20, 50]);
    const xd = x.data, yd = y.data;
    let dropped = 0;
    for (let k = 0; k < yd.length; k++) {
      if (yd[k] === 0) dropped++;
      else expect(yd[k]).toBeCloseTo(xd[k]! / 0.75, 12);
    }
    expect(dropped / yd.length).toBeGreaterThan(0.2);
    expect(dropped / yd.length).toBeLessThan(0.3);
    expect((run(nn.dropout, x, { rate: 0.25, seed: 3, training: true }) as Tensor).toArray()).toEqual(y.toArray());
    expect((run(nn.dropout, x, { rate: 0.25, seed: 4, training: true }) as Tensor).toArray()).not.toEqual(y.toArray());
    expect((run(nn.dropout, x, { rate: 1, seed: 4, training: true }) as Tensor).data.every((v) => v === 0)).toBe(true);
    const f32 = tensor(x, { dtype: "float32" });
    expect((run(nn.dropout, f32, { rate: 0.5, seed: 1, training: true }) as Tensor).dtype).toBe("float32");
  });

  it("passes the gradient through the kept elements, scaled", () => {
    const small = rn([6], 2);
    const opts = { rate: 0.5, seed: 5, training: true };
    const g = run(grad(function* (v: Value) { return yield* sum(yield* nn.dropout(v, opts)); }), small) as Tensor;
    expect(g.toArray()).toEqual(nn.dropoutMask([6], 0.5, 5).toArray());
    expect(new Set(g.data)).toEqual(new Set([0, 2]));
  });

  it("rejects a bad rate, seed or mode", () => {
    expect(() => run(nn.dropout, x, { rate: 1.5, seed: 1, training: true })).toThrow(ValueError);
    expect(() => run(nn.dropout, x, { rate: 0.5, seed: 0.5, training: true })).toThrow(ValueError);
    expect(() => run(nn.dropout, x, { rate: 0.5, seed: 1 } as any)).toThrow(ValueError);
  });
});

describe("layerNorm", () => {
  it("initializes gamma = 1, beta = 0 and normalizes the last axis", () => {
    const p = nn.layerNorm.init(0, 4);
    expect([arr(p.gamma), arr(p.beta)]).toEqual([[1, 1, 1, 1], [0, 0, 0, 0]]);
    const y = arr(run(nn.layerNorm.apply, p, rn([3, 4], 1, 3), { eps: 0 })) as Mat;
    for (const row of y) {
      const m = row.reduce((s, v) => s + v, 0) / 4;
      expect(m).toBeCloseTo(0, 12);
      expect(row.reduce((s, v) => s + (v - m) ** 2, 0) / 4).toBeCloseTo(1, 10);
    }
    const q = { gamma: tensor([1, 2, 3, 4]), beta: tensor([0, 1, 0, -1]) };
    const x = rn([4], 2);
    const xs = arr(x) as Vec;
    const m = xs.reduce((s, v) => s + v, 0) / 4;
    const v = xs.reduce((s, t) => s + (t - m) ** 2, 0) / 4;
    const want = xs.map((t, j) => ((t - m) / Math.sqrt(v + 1e-5)) * [1, 2, 3, 4][j]! + [0, 1, 0, -1][j]!);
    expectClose(run(nn.layerNorm.apply, q, x, {}), want, { rtol: 1e-12, atol: 1e-14 });
  });

  it("has gradients w.r.t. gamma, beta and input that match finite differences", () => {
    type T = { p: nn.LayerNormParams; x: Value };
    const t0: T = { p: { gamma: rn([3], 1), beta: rn([3], 2) }, x: rn([2, 3], 3) };
    checkGrad(function* (t: T) { return yield* project([yield* nn.layerNorm.apply(t.p, t.x, { eps: 1e-3 })]); }, t0);
  });
});

describe("a small MLP built from layers", () => {
  it("differentiates end to end (linear → relu → dropout off → linear)", async () => {
    const { relu, mean, square } = await import("../src/index.ts");
    type T = { l1: nn.LinearParams; l2: nn.LinearParams };
    const params: T = { l1: nn.linear.init(1, 3, 4), l2: nn.linear.init(2, 4, 2) };
    const x = rn([5, 3], 3);
    const loss = function* (p: T) {
      const h = yield* nn.dropout(yield* relu(yield* nn.linear.apply(p.l1, x)), { rate: 0.5, seed: 0, training: false });
      return yield* mean(yield* square(yield* nn.linear.apply(p.l2, h)));
    };
    checkGrad(loss, { l1: { W: params.l1.W, b: rn([4], 7, 0.1) }, l2: params.l2 });
  });
});
