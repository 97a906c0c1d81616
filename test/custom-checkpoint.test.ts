// customVjp (a user backward rule) and checkpoint (recompute during the backward pass):
// values, gradients against closed forms and finite differences, that the user's rule is
// really the one used, forward mode through them, and nesting.
import { describe, it, expect, beforeEach } from "vitest";
import {
  run,
  grad,
  valueAndGrad,
  jvp,
  customVjp,
  checkpoint,
  add,
  sub,
  mul,
  neg,
  abs,
  exp,
  log,
  log1p,
  sin,
  tanh,
  sigmoid,
  maximum,
  max,
  sum,
  pow,
  softmax,
  stopGradient,
  matmul,
  tensor,
  randn,
  Tensor,
  type Value,
} from "../src/index.ts";
import { expectClose, fdGrad, flatNumbers, scalar } from "./fd.ts";

const sigma = (x: number) => 1 / (1 + Math.exp(-x));

describe("customVjp: a numerically stable softplus with its own backward rule", () => {
  let fCalls = 0;
  let fwdCalls = 0;
  let bwdCalls = 0;
  beforeEach(() => {
    fCalls = fwdCalls = bwdCalls = 0;
  });
  // softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|})
  function* softplusPrimal(x: Value) {
    fCalls++;
    return yield* add(yield* maximum(x, 0), yield* log1p(yield* exp(yield* neg(yield* abs(x)))));
  }
  const softplus = customVjp(
    softplusPrimal,
    function* fwd(x: Value) {
      fwdCalls++;
      return [yield* softplusPrimal(x), x] as [Value, unknown];
    },
    // d softplus = σ(x): numerically the same as autodiff of the primal, computed differently
    function* bwd(x: never, ct: never) {
      bwdCalls++;
      return [yield* mul(ct as Value, yield* sigmoid(x as Value))];
    },
  );
  function* total(x: Value) {
    return yield* sum(yield* softplus(x));
  }
  const xs = [-1000, -3, -0.5, 0, 0.5, 3, 1000];
  const expected = xs.map((x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))));

  it("evaluates stably (no Infinity at ±1000)", () => {
    const y = run(softplus, tensor(xs));
    expectClose(y, expected, { rtol: 1e-15, atol: 0 });
    expect(flatNumbers(y).every(Number.isFinite)).toBe(true);
    expect(run(softplus, 0)).toBeCloseTo(Math.LN2, 15);
  });

  it("its gradient is σ(x), computed by the user's bwd (called once per use)", () => {
    const [v, g] = run(valueAndGrad(total), tensor(xs));
    expect(scalar(v)).toBeCloseTo(expected.reduce((a, b) => a + b, 0), 10);
    expectClose(g, xs.map(sigma), { rtol: 1e-15, atol: 1e-300 });
    expect(bwdCalls).toBe(1);
    expect(fwdCalls).toBe(1);
    // used twice in one program: bwd runs twice
    bwdCalls = 0;
    const g2 = run(
      grad(function* (x: Value) {
        return yield* mul(yield* softplus(x), yield* softplus(yield* mul(2, x)));
      }),
      0.3,
    );
    expect(bwdCalls).toBe(2);
    const sp = (x: number) => Math.log1p(Math.exp(x));
    expect(typeof g2).toBe("number");
    expect(g2).toBeCloseTo(sigma(0.3) * sp(0.6) + sp(0.3) * 2 * sigma(0.6), 14);
  });

  it("grad matches finite differences", () => {
    const x = tensor([-2.5, -0.3, 0.7, 4]);
    expectClose(run(grad(total), x), fdGrad((v: Tensor) => scalar(run(total, v)), x), { rtol: 1e-7, atol: 1e-9 });
  });

  it("the bwd rule really replaces autodiff (a deliberately different rule is obeyed)", () => {
    let calls = 0;
    // identity forward, gradient scaled by 0.5 backward (as gradient clipping would)
    const halfGrad = customVjp(
      function* (x: Value) {
        return yield* mul(x, 1);
      },
      function* (x: Value) {
        return [yield* mul(x, 1), null] as [Value, unknown];
      },
      function* (_res: never, ct: never) {
        calls++;
        return [yield* mul(ct as Value, 0.5)];
      },
    );
    expect(run(grad(function* (x: Value) { return yield* mul(yield* halfGrad(x), 3); }), 2)).toBe(1.5);
    expect(calls).toBe(1);
    // forward mode differentiates the primal function instead: tangent 3, not 1.5
    const [, t] = run(function* () {
      return yield* jvp(function* (x: Value) { return yield* mul(yield* halfGrad(x), 3); }, [2], [1]);
    });
    expect(t).toBe(3);
    expect(calls).toBe(1);
  });

  it("jvp differentiates the primal function (bwd is not called)", () => {
    const x = tensor([-2, 0.25, 1.5]);
    const v = tensor([1, -2, 0.5]);
    const [y, t] = run(function* () {
      return yield* jvp(softplus, [x], [v]);
    });
    expectClose(y, [-2, 0.25, 1.5].map((a) => Math.log1p(Math.exp(a))), { rtol: 1e-15 });
    expectClose(t, [sigma(-2) * 1, sigma(0.25) * -2, sigma(1.5) * 0.5], { rtol: 1e-14 });
    expect(bwdCalls).toBe(0);
    expect(fCalls).toBeGreaterThan(0);
  });

  it("second order through it: grad(grad(softplus)) = σ(1 − σ)", () => {
    for (const x of [-4, -0.5, 0, 1.2, 6]) {
      const s = sigma(x);
      expect(run(grad(grad(softplus)), x)).toBeCloseTo(s * (1 - s), 14);
    }
    expect(bwdCalls).toBeGreaterThan(0);
    // third order too: σ(1−σ)(1−2σ)
    const s = sigma(0.8);
    expect(run(grad(grad(grad(softplus))), 0.8)).toBeCloseTo(s * (1 - s) * (1 - 2 * s), 13);
  });
});

describe("customVjp with two arguments: s · logsumexp(x), stable", () => {
  let bwdCalls = 0;
  function* lsePrimal(x: Value) {
    const m = yield* stopGradient(yield* max(x));
    return yield* add(m, yield* log(yield* sum(yield* exp(yield* sub(x, m)))));
  }
  const scaledLse = customVjp(
    function* (x: Value, s: Value) {
      return yield* mul(s, yield* lsePrimal(x));
    },
    function* (x: Value, s: Value) {
      const l = yield* lsePrimal(x);
      return [yield* mul(s, l), { x, s, l }] as [Value, unknown];
    },
    function* (res: never, ct: never) {
      bwdCalls++;
      const { x, s, l } = res as { x: Value; s: Value; l: Value };
      return [yield* mul(yield* mul(ct as Value, s), yield* softmax(x)), yield* mul(ct as Value, l)];
    },
  );
  const lse = (v: number[]) => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
  };

  it("value and gradients w.r.t. both arguments (closed form); large inputs stay finite", () => {
    const xv = [1000, 1000.5, 999];
    const s = 1.5;
    bwdCalls = 0;
    const [v, [gx, gs]] = run(valueAndGrad(scaledLse, { argnums: [0, 1] }), tensor(xv), s) as [Value, [Tensor, number]];
    expect(bwdCalls).toBe(1);
    const L = lse(xv);
    expect(scalar(v)).toBeCloseTo(s * L, 10);
    expect(typeof gs).toBe("number");
    expect(gs).toBeCloseTo(L, 10);
    expectClose(gx, xv.map((a) => s * Math.exp(a - L)), { rtol: 1e-13 });
  });

  it("matches finite differences for both arguments", () => {
    const x = tensor([0.3, -1.2, 2.1, 0.4]);
    const s = -0.7;
    const [gx, gs] = run(grad(scaledLse, { argnums: [0, 1] }), x, s) as [Tensor, number];
    expectClose(gx, fdGrad((v: Tensor) => scalar(run(scaledLse, v, s)), x), { rtol: 1e-7, atol: 1e-9 });
    expect(gs).toBeCloseTo(fdGrad((t: number) => scalar(run(scaledLse, x, t)), s), 7);
    // only the second argument differentiated: the rule still gets both and its result is picked
    expect(run(grad(scaledLse, { argnums: 1 }), x, s)).toBeCloseTo(gs, 15);
  });
});

describe("checkpoint", () => {
  let layerCalls = 0;
  function* layer(h: Value, W: Value, b: Value) {
    layerCalls++;
    return yield* tanh(yield* add(yield* matmul(h, W), b));
  }
  const ckLayer = checkpoint(layer);
  type Params = { W: Tensor; b: Tensor }[];
  const params: Params = Array.from({ length: 8 }, (_, i) => ({
    W: randn([4, 4], { seed: 100 + i }),
    b: randn([4], { seed: 200 + i }),
  }));
  const x = randn([3, 4], { seed: 7 });
  const net = (step: typeof layer) =>
    function* (p: Params, input: Value) {
      let h: Value = input;
      for (const { W, b } of p) h = yield* step(h, W, b);
      return yield* sum(yield* mul(h, h));
    };
  const plain = net(layer);
  const perLayer = net(ckLayer);
  const whole = checkpoint(plain);

  it("gives the same value and gradients as without it on an 8-layer tanh MLP", () => {
    const [v0, g0] = run(valueAndGrad(plain, { argnums: [0, 1] }), params, x);
    const [v1, g1] = run(valueAndGrad(perLayer, { argnums: [0, 1] }), params, x);
    const [v2, g2] = run(valueAndGrad(whole, { argnums: [0, 1] }), params, x);
    expect(scalar(v1)).toBe(scalar(v0));
    expect(scalar(v2)).toBe(scalar(v0));
    expectClose(g1, g0, { rtol: 1e-13, atol: 1e-15 });
    expectClose(g2, g0, { rtol: 1e-13, atol: 1e-15 });
    expect(flatNumbers(g0).some((v) => Math.abs(v) > 1e-3)).toBe(true);
    // and the plain gradient is right
    expectClose(g0[0], fdGrad((p: Params) => scalar(run(plain, p, x)), params), { rtol: 1e-6, atol: 1e-9 });
  });

  it("re-runs the program during the backward pass", () => {
    layerCalls = 0;
    run(plain, params, x);
    expect(layerCalls).toBe(8);
    layerCalls = 0;
    run(perLayer, params, x); // evaluation alone: once per layer
    expect(layerCalls).toBe(8);
    layerCalls = 0;
    run(grad(plain), params, x);
    expect(layerCalls).toBe(8);
    layerCalls = 0;
    run(grad(perLayer), params, x); // forward once, recompute once in the backward pass
    expect(layerCalls).toBe(16);
    layerCalls = 0;
    run(grad(whole), params, x);
    expect(layerCalls).toBe(16);
  });

  // f(x) = x³ sin x
  function* f(x: Value) {
    return yield* mul(yield* pow(x, 3), yield* sin(x));
  }
  const ckF = checkpoint(f);
  const d1 = (x: number) => 3 * x * x * Math.sin(x) + x ** 3 * Math.cos(x);
  const d2 = (x: number) => 6 * x * Math.sin(x) + 6 * x * x * Math.cos(x) - x ** 3 * Math.sin(x);

  it("works nested: grad(grad(checkpoint f))", () => {
    for (const x0 of [-1.1, 0.4, 2]) {
      expect(run(grad(ckF), x0)).toBeCloseTo(d1(x0), 13);
      expect(run(grad(grad(ckF)), x0)).toBeCloseTo(d2(x0), 12);
      expect(run(grad(checkpoint(grad(ckF))), x0)).toBeCloseTo(d2(x0), 12);
    }
  });

  it("works under jvp (and jvp over grad of it)", () => {
    for (const x0 of [-1.1, 0.4, 2]) {
      const [y, t] = run(function* () {
        return yield* jvp(ckF, [x0], [1]);
      });
      expect(y).toBeCloseTo(x0 ** 3 * Math.sin(x0), 14);
      expect(t).toBeCloseTo(d1(x0), 13);
      const [, h] = run(function* () {
        return yield* jvp(grad(ckF), [x0], [1]);
      });
      expect(scalar(h)).toBeCloseTo(d2(x0), 12);
    }
    // Hessian-vector product of the checkpointed MLP equals the plain one
    const v = randn([3, 4], { seed: 9 });
    const hvpX = (program: typeof plain) =>
      run(function* () {
        const [, t] = yield* jvp(function* (input: Value) { return yield* grad(program, { argnums: 1 })(params, input); }, [x], [v]);
        return t;
      });
    const reference = hvpX(plain);
    expectClose(hvpX(perLayer), reference, { rtol: 1e-12, atol: 1e-14 });
    expectClose(hvpX(whole), reference, { rtol: 1e-12, atol: 1e-14 });
    // and the plain one is right: central differences of the gradient along v
    const eps = 1e-5;
    const gradAt = (s: number) =>
      flatNumbers(run(grad(plain, { argnums: 1 }), params, tensor(flatNumbers(x).map((a, i) => a + s * flatNumbers(v)[i]!), { shape: [3, 4] })));
    const gp = gradAt(eps), gm = gradAt(-eps);
    expectClose(reference, gp.map((a, i) => (a - gm[i]!) / (2 * eps)), { rtol: 1e-6, atol: 1e-8 });
  });
});
