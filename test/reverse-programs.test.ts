// Reverse mode on whole programs: argnums, pytree arguments, native control flow, an LSTM and
// an MLP, vjp pullbacks. Checked against closed forms and central finite differences.
import { describe, it, expect } from "vitest";
import {
  run,
  grad,
  valueAndGrad,
  vjp,
  primal,
  add,
  sub,
  mul,
  div,
  sin,
  exp,
  tanh,
  sigmoid,
  sum,
  mean,
  matmul,
  slice,
  logSoftmax,
  softmax,
  log,
  tensor,
  zeros,
  randn,
  Tensor,
  Effect,
  type Value,
} from "../src/index.ts";
import { expectClose, expectSameStructure, fdGrad, flatNumbers, scalar } from "./fd.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */

describe("argnums", () => {
  // f(a, b, c) = a·sin(b) + c²·b
  function* f(a: Value, b: Value, c: Value) {
    return yield* add(yield* mul(a, yield* sin(b)), yield* mul(yield* mul(c, c), b));
  }
  const [a, b, c] = [1.3, 0.4, -2.1];
  const da = Math.sin(b);
  const db = a * Math.cos(b) + c * c;
  const dc = 2 * c * b;

  it("defaults to argument 0 and gives a number for a number", () => {
    const g = run(grad(f), a, b, c);
    expect(typeof g).toBe("number");
    expect(g).toBeCloseTo(da, 14);
  });

  it("takes argnums as a number", () => {
    expect(run(grad(f, { argnums: 1 }), a, b, c)).toBeCloseTo(db, 14);
    const [v, g] = run(valueAndGrad(f, { argnums: 2 }), a, b, c);
    expect(v).toBeCloseTo(a * Math.sin(b) + c * c * b, 14);
    expect(g).toBeCloseTo(dc, 14);
  });

  it("takes argnums as an array and returns an array in that order", () => {
    const g = run(grad(f, { argnums: [2, 0] }), a, b, c);
    expect(Array.isArray(g)).toBe(true);
    expect(g).toHaveLength(2);
    expect(g[0]).toBeCloseTo(dc, 14);
    expect(g[1]).toBeCloseTo(da, 14);
    const [v, all] = run(valueAndGrad(f, { argnums: [0, 1, 2] }), a, b, c);
    expect(v).toBeCloseTo(a * Math.sin(b) + c * c * b, 14);
    expectClose(all, [da, db, dc], { rtol: 1e-14, atol: 0 });
  });

  it("an array of one argnum still gives an array", () => {
    const g = run(grad(f, { argnums: [1] }), a, b, c);
    expect(Array.isArray(g)).toBe(true);
    expect(g[0]).toBeCloseTo(db, 14);
  });

  it("tensor arguments: gradient w.r.t. each, against the closed form", () => {
    // f(x, y) = Σ x·y²  →  ∂x = y², ∂y = 2xy
    function* h(x: Value, y: Value) {
      return yield* sum(yield* mul(x, yield* mul(y, y)));
    }
    const x = tensor([[1, -2], [0.5, 3]]);
    const y = tensor([[0.3, 2], [-1, 0.25]]);
    const [gx, gy] = run(grad(h, { argnums: [0, 1] }), x, y);
    expect(gx).toBeInstanceOf(Tensor);
    expect((gx as Tensor).shape).toEqual([2, 2]);
    expectClose(gx, [0.09, 4, 1, 0.0625], { rtol: 1e-14 });
    expectClose(gy, [0.6, -8, -1, 1.5], { rtol: 1e-14 });
  });
});

describe("pytree arguments", () => {
  const params = {
    layer: { w: tensor([0.5, -1.5, 2]), b: 0.25 },
    list: [tensor([[1, 2], [3, 4]]), 2, { z: 0.7 }],
    name: "mlp",
    frozen: true,
    meta: { tags: ["a", "b"], off: false },
  };
  type P = typeof params;
  // Non-float leaves reach the program unchanged, and it may branch on them.
  function* f(p: P) {
    if (p.name !== "mlp" || p.frozen !== true || p.meta.tags[1] !== "b") throw new Error("constants did not pass through");
    const w = p.layer.w as Value;
    const t1 = yield* mul(yield* sum(yield* mul(w, w)), p.layer.b as Value); // b·Σw²
    const t2 = yield* sum(yield* mul(yield* sin(p.list[0] as Value), p.list[1] as Value)); // n·Σ sin(M)
    const z = (p.list[2] as { z: Value }).z;
    const t3 = yield* mul(z, yield* mul(z, z)); // z³
    const t4 = p.meta.off ? 100 : yield* exp(yield* mul(p.layer.b as Value, p.list[1] as Value)); // e^{b·n}
    return yield* add(yield* add(t1, t2), yield* add(t3, t4));
  }
  const evalF = (p: P): number => scalar(run(f, p));

  it("gradients mirror the structure; strings and booleans pass through", () => {
    const g = run(grad(f), params) as P;
    expectSameStructure(g, params);
    expect(g.name).toBe("mlp");
    expect(g.frozen).toBe(true);
    expect(g.meta.off).toBe(false);
    expect(g.meta.tags).toEqual(["a", "b"]);
    // closed form
    const w = [0.5, -1.5, 2], b = 0.25, n = 2, z = 0.7, M = [1, 2, 3, 4];
    const sw2 = w.reduce((s, v) => s + v * v, 0);
    expectClose(g.layer.w, w.map((v) => 2 * b * v), { rtol: 1e-14 });
    expect(g.layer.b as number).toBeCloseTo(sw2 + n * Math.exp(b * n), 13);
    expectClose(g.list[0], M.map((m) => n * Math.cos(m)), { rtol: 1e-14 });
    expect(g.list[1] as number).toBeCloseTo(M.reduce((s, m) => s + Math.sin(m), 0) + b * Math.exp(b * n), 13);
    expect((g.list[2] as { z: number }).z).toBeCloseTo(3 * z * z, 14);
  });

  it("matches finite differences", () => {
    expectClose(run(grad(f), params), fdGrad(evalF, params), { rtol: 1e-7, atol: 1e-8 });
  });

  it("pytree under argnums array, with a non-differentiated pytree argument", () => {
    function* h(p: { a: Value; bs: Value[] }, q: { c: Value; label: string }, s: Value) {
      let acc: Value = yield* mul(p.a, q.c);
      for (const b of p.bs) acc = yield* add(acc, yield* mul(b, s));
      return acc;
    }
    const p = { a: 2, bs: [tensor(1), 3, tensor([[0.5]])] };
    const q = { c: 5, label: "x" };
    const [gp, gs] = run(grad(h, { argnums: [0, 2] }), p, q, 1.5) as [typeof p, number];
    expectSameStructure(gp, p);
    expectClose(gp, { a: 5, bs: [1.5, 1.5, [1.5]] }, { rtol: 0, atol: 0 });
    expect(gs).toBe(4.5); // Σ b = 1 + 3 + 0.5
  });
});

describe("native control flow", () => {
  it("for loop", () => {
    function* f(x: Value) {
      let y: Value = x;
      for (let i = 0; i < 6; i++) y = yield* add(yield* mul(y, x), yield* sin(y));
      return y;
    }
    const evalF = (x: number) => scalar(run(f, x));
    for (const x of [0.3, -0.8, 1.1]) expect(run(grad(f), x)).toBeCloseTo(fdGrad(evalF, x), 6);
  });

  it("data-dependent while on primal(v): Newton's square root", () => {
    let iterations = 0;
    function* newtonSqrt(a: Value) {
      let y: Value = 1;
      iterations = 0;
      while (Math.abs((primal(y) as number) ** 2 - (primal(a) as number)) > 1e-13 * (primal(a) as number)) {
        y = yield* mul(0.5, yield* add(y, yield* div(a, y)));
        iterations++;
      }
      return y;
    }
    const [v, g] = run(valueAndGrad(newtonSqrt), 2);
    const small = iterations;
    expect(v).toBeCloseTo(Math.SQRT2, 14);
    expect(g).toBeCloseTo(1 / (2 * Math.SQRT2), 12);
    const g2 = run(grad(newtonSqrt), 1e4);
    expect(iterations).toBeGreaterThan(small); // the loop length depends on the data
    expect(g2).toBeCloseTo(1 / 200, 12);
  });

  it("while whose trip count depends on x: v = x^n with n the first power above 100", () => {
    function* f(x: Value) {
      let v: Value = x;
      while ((primal(v) as number) < 100) v = yield* mul(v, x);
      return v;
    }
    // 1.7^8 ≈ 69.8, 1.7^9 ≈ 118.6 → f = x^9 near 1.7
    expect(run(grad(f), 1.7)).toBeCloseTo(9 * 1.7 ** 8, 10);
    // 3^4 = 81, 3^5 = 243 → f = x^5 near 3
    expect(run(grad(f), 3)).toBeCloseTo(5 * 3 ** 4, 10);
  });

  it("if on primal: each branch differentiates as itself", () => {
    function* f(x: Value) {
      if ((primal(x) as number) > 0) return yield* mul(x, yield* sin(x));
      return yield* sub(yield* exp(x), 1);
    }
    expect(run(grad(f), 0.7)).toBeCloseTo(Math.sin(0.7) + 0.7 * Math.cos(0.7), 14);
    expect(run(grad(f), -0.7)).toBeCloseTo(Math.exp(-0.7), 14);
    // a branch on a tensor reduction
    function* h(x: Value) {
      const s = yield* sum(x);
      const t = primal(s) as Tensor;
      return t.item() > 0 ? yield* sum(yield* mul(x, x)) : yield* mul(s, 3);
    }
    expectClose(run(grad(h), tensor([1, 2, -0.5])), [2, 4, -1], { rtol: 1e-15 });
    expectClose(run(grad(h), tensor([1, -2, -0.5])), [3, 3, 3], { rtol: 1e-15 });
  });

  it("recursion over a binary tree (a recursive generator yield*-ing itself)", () => {
    type Node = { kind: "leaf"; v: number } | { kind: "node"; w: number; left: Node; right: Node };
    const build = (depth: number, seed: number): Node =>
      depth === 0
        ? { kind: "leaf", v: Math.sin(seed) }
        : { kind: "node", w: 0.3 + 0.1 * Math.cos(seed), left: build(depth - 1, 2 * seed + 1), right: build(depth - 1, 2 * seed + 2) };
    let calls = 0;
    function* evalTree(node: Node, x: Value): Generator<any, Value, any> {
      calls++;
      if (node.kind === "leaf") return yield* mul(node.v as Value, x);
      const l = yield* evalTree(node.left, x);
      const r = yield* evalTree(node.right, x);
      return yield* tanh(yield* add(yield* mul(node.w as Value, l), yield* mul(l, r)));
    }
    const tree = build(4, 1);
    const x = 0.9;
    calls = 0;
    const [gTree, gx] = run(grad(evalTree, { argnums: [0, 1] }), tree, x) as [Node, number];
    expect(calls).toBe(31); // every node visited once
    expectSameStructure(gTree, tree); // kinds (strings) pass through
    const fdT = fdGrad((t: Node) => scalar(run(evalTree, t, x)), tree);
    const fdX = fdGrad((v: number) => scalar(run(evalTree, tree, v)), x);
    expectClose(gTree, fdT, { rtol: 1e-6, atol: 1e-9 });
    expect(gx).toBeCloseTo(fdX, 7);
    expect(flatNumbers(gTree).some((v) => Math.abs(v) > 1e-3)).toBe(true);
  });

  it("closures over parameters", () => {
    const dense = (W: Value, b: Value) =>
      function* (h: Value) {
        return yield* tanh(yield* add(yield* matmul(h, W), b));
      };
    type Layer = { W: Tensor; b: Tensor };
    function* f(params: Layer[], x: Tensor) {
      const layers = params.map((p) => dense(p.W, p.b));
      let h: Value = x;
      for (const layer of layers) h = yield* layer(h);
      return yield* sum(yield* mul(h, h));
    }
    const params: Layer[] = [
      { W: randn([3, 4], { seed: 1 }), b: randn([4], { seed: 2 }) },
      { W: randn([4, 2], { seed: 3 }), b: randn([2], { seed: 4 }) },
    ];
    const x = randn([5, 3], { seed: 5 });
    const g = run(grad(f), params, x);
    expectSameStructure(g, params);
    expectClose(g, fdGrad((p: Layer[]) => scalar(run(f, p, x)), params), { rtol: 1e-6, atol: 1e-9 });
  });
});

describe("models", () => {
  it("a 5-step LSTM cell written with ops matches finite differences", () => {
    const I = 3, H = 4, T = 5;
    type LSTM = { Wx: Tensor; Wh: Tensor; b: Tensor };
    const params: LSTM = {
      Wx: randn([I, 4 * H], { seed: 11 }),
      Wh: randn([H, 4 * H], { seed: 12 }),
      b: randn([4 * H], { seed: 13 }),
    };
    const xs = Array.from({ length: T }, (_, t) => randn([1, I], { seed: 20 + t }));
    function* lstm(p: LSTM, inputs: Tensor[]) {
      let h: Value = zeros([1, H]);
      let c: Value = zeros([1, H]);
      for (const x of inputs) {
        const gates: Value = yield* add(yield* add(yield* matmul(x, p.Wx), yield* matmul(h, p.Wh)), p.b);
        const gate = (k: number): Effect<Value> => slice(gates, [0, k * H], [1, (k + 1) * H]);
        const i: Value = yield* sigmoid(yield* gate(0));
        const f: Value = yield* sigmoid(yield* gate(1));
        const o: Value = yield* sigmoid(yield* gate(2));
        const g: Value = yield* tanh(yield* gate(3));
        c = yield* add(yield* mul(f, c), yield* mul(i, g));
        h = yield* mul(o, yield* tanh(c));
      }
      return yield* add(yield* sum(yield* mul(h, h)), yield* mean(c));
    }
    const [gp, gx] = run(grad(lstm, { argnums: [0, 1] }), params, xs) as [LSTM, Tensor[]];
    expectSameStructure(gp, params);
    expectSameStructure(gx, xs);
    expectClose(gp, fdGrad((p: LSTM) => scalar(run(lstm, p, xs)), params), { rtol: 1e-6, atol: 1e-9 });
    expectClose(gx, fdGrad((x: Tensor[]) => scalar(run(lstm, params, x)), xs), { rtol: 1e-6, atol: 1e-9 });
  });

  describe("2-layer MLP with softmax cross-entropy on {W1, b1, W2, b2}", () => {
    type MLP = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
    const params: MLP = {
      W1: randn([4, 5], { seed: 31 }),
      b1: randn([5], { seed: 32 }),
      W2: randn([5, 3], { seed: 33 }),
      b2: randn([3], { seed: 34 }),
    };
    const X = randn([6, 4], { seed: 35 });
    const labels = [0, 2, 1, 1, 0, 2];
    const onehot = tensor(labels.map((l) => [0, 1, 2].map((k) => (k === l ? 1 : 0))));
    function* logits(p: MLP, x: Value) {
      const hidden = yield* tanh(yield* add(yield* matmul(x, p.W1), p.b1));
      return yield* add(yield* matmul(hidden, p.W2), p.b2);
    }
    function* loss(p: MLP, x: Value) {
      const z = yield* logits(p, x);
      return yield* mul(-1, yield* mean(yield* sum(yield* mul(onehot, yield* logSoftmax(z, 1)), 1)));
    }
    function* lossViaSoftmax(p: MLP, x: Value) {
      const z = yield* logits(p, x);
      return yield* mul(-1, yield* mean(yield* sum(yield* mul(onehot, yield* log(yield* softmax(z))), 1)));
    }

    it("matches finite differences, for weights and inputs", () => {
      const [v, g] = run(valueAndGrad(loss), params, X);
      expect(scalar(v)).toBeGreaterThan(0);
      expectSameStructure(g, params);
      expectClose(g, fdGrad((p: MLP) => scalar(run(loss, p, X)), params), { rtol: 1e-6, atol: 1e-9 });
      const gX = run(grad(loss, { argnums: 1 }), params, X);
      expectClose(gX, fdGrad((x: Tensor) => scalar(run(loss, params, x)), X), { rtol: 1e-6, atol: 1e-9 });
    });

    it("∂loss/∂b2 = mean over rows of softmax(z) − onehot (closed form)", () => {
      const z = (run(logits, params, X) as Tensor).toArray() as number[][];
      const expected = [0, 1, 2].map((k) =>
        z.reduce((acc, row, n) => {
          const m = Math.max(...row);
          const e = row.map((v) => Math.exp(v - m));
          const s = e.reduce((a, b) => a + b, 0);
          return acc + (e[k]! / s - (labels[n] === k ? 1 : 0)) / z.length;
        }, 0),
      );
      expectClose((run(grad(loss), params, X) as MLP).b2, expected, { rtol: 1e-12, atol: 1e-15 });
      expectClose(run(grad(lossViaSoftmax), params, X), run(grad(loss), params, X), { rtol: 1e-10, atol: 1e-13 });
    });
  });
});

describe("vjp", () => {
  // f(x) = x·sin(x) elementwise: J = diag(sin x + x cos x)
  function* f(x: Value) {
    return yield* mul(x, yield* sin(x));
  }
  const x = tensor([0.2, -1.1, 2.5]);
  const d = [0.2, -1.1, 2.5].map((v) => Math.sin(v) + v * Math.cos(v));

  it("a pullback called twice gives the same result, inside the program that made it", () => {
    const [y, g1, g2, g3] = run(function* () {
      const [y, pb] = yield* vjp(f, x);
      const [g1] = yield* pb(tensor([1, 1, 1]));
      const [g2] = yield* pb(tensor([1, 1, 1]));
      const [g3] = yield* pb(tensor([2, 0, -1]));
      return [y, g1, g2, g3];
    });
    expectClose(y, [0.2, -1.1, 2.5].map((v) => v * Math.sin(v)), { rtol: 1e-15 });
    expectClose(g1, d, { rtol: 1e-14 });
    expect(flatNumbers(g2)).toEqual(flatNumbers(g1));
    expectClose(g3, [2 * d[0]!, 0, -d[2]!], { rtol: 1e-14 });
  });

  it("a pullback can be called from another program, later", () => {
    const [, pb] = run(function* () {
      return yield* vjp(f, x);
    });
    const [a] = run(pb, tensor([1, 1, 1]));
    const [b] = run(function* () {
      return yield* pb(tensor([1, 1, 1]));
    });
    expectClose(a, d, { rtol: 1e-14 });
    expect(flatNumbers(b)).toEqual(flatNumbers(a));
  });

  it("several primals and a pytree output: cotangents per primal, in order", () => {
    // out = { prod: x·y, parts: [Σx, s²·y] } with x, y tensors [2] and s a number
    function* g(xv: Value, yv: Value, s: Value) {
      return { prod: yield* mul(xv, yv), parts: [yield* sum(xv), yield* mul(yield* mul(s, s), yv)] };
    }
    const xv = tensor([1, 2]), yv = tensor([3, -4]), s = 0.5;
    const ct = { prod: tensor([1, 10]), parts: [2, tensor([100, 1000])] };
    const [out, cts] = run(function* () {
      const [out, pb] = yield* vjp(g, xv, yv, s);
      return [out, yield* pb(ct)] as const;
    });
    expectSameStructure(out, { prod: xv, parts: [tensor(0), yv] }); // Σx of a tensor is a 0-d tensor
    expectClose(out, { prod: [3, -8], parts: [3, [0.75, -1]] }, { rtol: 1e-15 });
    expect(cts).toHaveLength(3);
    // ∂x = ct.prod·y + ct.parts[0]; ∂y = ct.prod·x + s²·ct.parts[1]; ∂s = 2s·Σ(y·ct.parts[1])
    expectClose(cts[0], [1 * 3 + 2, 10 * -4 + 2], { rtol: 1e-15 });
    expectClose(cts[1], [1 * 1 + 0.25 * 100, 10 * 2 + 0.25 * 1000], { rtol: 1e-15 });
    expect(typeof cts[2]).toBe("number");
    expect(cts[2]).toBeCloseTo(2 * s * (3 * 100 - 4 * 1000), 12);
  });

  it("a pytree primal gets a pytree cotangent", () => {
    function* g(p: { a: Value; b: [Value, string] }) {
      return yield* mul(p.a, yield* exp(p.b[0]));
    }
    const p = { a: tensor([1, 2]), b: [0.5, "tag"] as [Value, string] };
    const [cts] = run(function* () {
      const [, pb] = yield* vjp(g, p);
      return yield* pb(tensor([1, -1]));
    }) as [typeof p];
    expectSameStructure(cts, p);
    expectClose(cts.a, [Math.exp(0.5), -Math.exp(0.5)], { rtol: 1e-15 });
    expect(cts.b[0] as number).toBeCloseTo((1 - 2) * Math.exp(0.5), 14);
  });
});
