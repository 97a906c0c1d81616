// Transformations composed with each other: higher-order derivatives, forward-over-reverse,
// reverse-over-forward, Jacobians and Hessians, and the perturbation-confusion battery.
import { describe, it, expect } from "vitest";
import {
  run,
  grad,
  valueAndGrad,
  jvp,
  vjp,
  jacfwd,
  jacrev,
  hessian,
  add,
  sub,
  mul,
  pow,
  sin,
  exp,
  tanh,
  sigmoid,
  sum,
  mean,
  dot,
  matmul,
  reshape,
  slice,
  transpose,
  square,
  tensor,
  randn,
  Tensor,
  TransformError,
  type Value,
} from "../src/index.ts";
import { expectClose, fdJacobian, flatNumbers, scalar } from "./fd.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Prog = (x: any) => Generator<any, any, any>;

/** d/dx by reverse mode, as a program (so it nests). */
const D = (f: Prog): Prog =>
  function* (x: any) {
    return yield* grad(f)(x);
  };
/** d/dx by forward mode, as a program. */
const Dfwd = (f: Prog): Prog =>
  function* (x: any) {
    const [, t] = yield* jvp(f, [x], [1]);
    return t;
  };

describe("higher-order derivatives: grad(grad(...))", () => {
  const xs = [-1.3, -0.2, 0.4, 1.1];

  it("third and fourth order of x^5 + sin x", () => {
    function* f(x: Value) {
      return yield* add(yield* pow(x, 5), yield* sin(x));
    }
    for (const x of xs) {
      expect(run(D(D(D(f))), x)).toBeCloseTo(60 * x * x - Math.cos(x), 11);
      expect(run(D(D(D(D(f)))), x)).toBeCloseTo(120 * x + Math.sin(x), 10);
    }
  });

  it("third and fourth order of tanh, third of sigmoid, fourth of exp", () => {
    for (const x of xs) {
      const t = Math.tanh(x);
      const g3 = run(grad(grad(grad(function* (v: Value) { return yield* tanh(v); }))), x);
      expect(g3).toBeCloseTo((-2 + 6 * t * t) * (1 - t * t), 12);
      const g4 = run(D(D(D(D(function* (v: Value) { return yield* tanh(v); })))), x);
      expect(g4).toBeCloseTo(8 * t * (1 - t * t) * (2 - 3 * t * t), 11);
      const s = 1 / (1 + Math.exp(-x));
      const s3 = run(D(D(D(function* (v: Value) { return yield* sigmoid(v); }))), x);
      expect(s3).toBeCloseTo(s * (1 - s) * (1 - 6 * s + 6 * s * s), 12);
      const e4 = run(D(D(D(D(function* (v: Value) { return yield* exp(v); })))), x);
      expect(e4).toBeCloseTo(Math.exp(x), 12);
    }
  });

  it("elementwise second derivative on a tensor: grad(x ↦ Σ grad(f)(x))", () => {
    function* f(x: Value) {
      return yield* sum(yield* mul(x, yield* sin(x)));
    }
    function* sumGrad(x: Value) {
      return yield* sum(yield* grad(f)(x));
    }
    const x = tensor([0.3, -1.2, 2]);
    // (x sin x)'' = 2 cos x − x sin x
    expectClose(run(grad(sumGrad), x), [0.3, -1.2, 2].map((v) => 2 * Math.cos(v) - v * Math.sin(v)), { rtol: 1e-13 });
  });
});

describe("mixing forward and reverse", () => {
  // f(x) = Σ sin(x_i)·x_i² + (Σ x)³ / 3
  function* f(x: Value) {
    const s = yield* sum(x);
    return yield* add(yield* sum(yield* mul(yield* sin(x), yield* mul(x, x))), yield* mul(1 / 3, yield* pow(s, 3)));
  }
  const xv = [0.4, -1.1, 2.3, 0.9];
  const vv = [1, -0.5, 0.25, 2];
  const x = tensor(xv);
  const v = tensor(vv);
  const S = xv.reduce((a, b) => a + b, 0);
  const Sv = vv.reduce((a, b) => a + b, 0);
  const hvpClosed = xv.map((xi, i) => (-Math.sin(xi) * xi * xi + 4 * xi * Math.cos(xi) + 2 * Math.sin(xi)) * vv[i]! + 2 * S * Sv);

  it("jvp(grad f) (forward-over-reverse HVP) = grad ⟨grad f, v⟩ (reverse-over-reverse) = FD of grad = closed form", () => {
    const [g, hvFwd] = run(function* () {
      return yield* jvp(grad(f), [x], [v]);
    });
    expectClose(g, run(grad(f), x), { rtol: 1e-15 });
    const hvRev = run(
      grad(function* (y: Value) {
        return yield* sum(yield* mul(yield* grad(f)(y), v));
      }),
      x,
    );
    const h = 1e-5;
    const gp = flatNumbers(run(grad(f), tensor(xv.map((a, i) => a + h * vv[i]!))));
    const gm = flatNumbers(run(grad(f), tensor(xv.map((a, i) => a - h * vv[i]!))));
    const hvFd = gp.map((a, i) => (a - gm[i]!) / (2 * h));
    expectClose(hvFwd, hvpClosed, { rtol: 1e-12, atol: 1e-12 });
    expectClose(hvRev, hvpClosed, { rtol: 1e-12, atol: 1e-12 });
    expectClose(hvFwd, hvFd, { rtol: 1e-7, atol: 1e-7 });
  });

  it("jvp(jvp(f)): second derivative, with the inner derivative as the primal output", () => {
    function* f1(y: Value) {
      return yield* exp(yield* sin(y));
    }
    for (const x0 of [-0.6, 0.3, 1.7]) {
      const [d1, d2] = run(function* () {
        return yield* jvp(Dfwd(f1), [x0], [1]);
      });
      const e = Math.exp(Math.sin(x0));
      expect(d1).toBeCloseTo(Math.cos(x0) * e, 14);
      expect(d2).toBeCloseTo((Math.cos(x0) ** 2 - Math.sin(x0)) * e, 13);
    }
  });

  it("jvp(jvp(f)) on a tensor: D²f[u, w] of f(x) = Σ x_i² x_j (mixed directions)", () => {
    // f = (Σ x_i²)(Σ x_j): D²f[u,w] = 2⟨u,w⟩Σx + 2⟨x,u⟩Σw + 2⟨x,w⟩Σu
    function* g(y: Value) {
      return yield* mul(yield* sum(yield* square(y)), yield* sum(y));
    }
    const u = tensor([0.5, 1, -1, 0]);
    const w = tensor([2, 0, 1, -3]);
    const [, d2] = run(function* () {
      return yield* jvp(
        function* (y: Value) {
          const [, t] = yield* jvp(g, [y], [u]);
          return t;
        },
        [x],
        [w],
      );
    });
    const dotp = (a: number[], b: number[]) => a.reduce((s, ai, i) => s + ai * b[i]!, 0);
    const uu = flatNumbers(u), ww = flatNumbers(w);
    const sumv = (a: number[]) => a.reduce((s, b) => s + b, 0);
    expect(scalar(d2)).toBeCloseTo(2 * dotp(uu, ww) * S + 2 * dotp(xv, uu) * sumv(ww) + 2 * dotp(xv, ww) * sumv(uu), 12);
  });

  it("grad(jvp(f)): reverse over forward", () => {
    function* f1(y: Value) {
      return yield* mul(yield* pow(y, 3), yield* sin(y));
    }
    // (x³ sin x)'' = 6x sin x + 6x² cos x − x³ sin x
    for (const x0 of [-0.8, 0.5, 1.4])
      expect(run(grad(Dfwd(f1)), x0)).toBeCloseTo(6 * x0 * Math.sin(x0) + 6 * x0 * x0 * Math.cos(x0) - x0 ** 3 * Math.sin(x0), 12);
    // on a tensor: grad of Σ (tangent of f along v) is the HVP of f
    const hv = run(
      grad(function* (y: Value) {
        const [, t] = yield* jvp(f, [y], [v]);
        return t;
      }),
      x,
    );
    expectClose(hv, hvpClosed, { rtol: 1e-12, atol: 1e-12 });
  });

  it("vjp inside grad", () => {
    // F(x) = y·g with y = x sin x, g = pullback(1) = sin x + x cos x; F' = g² + y(2 cos x − x sin x)
    function* F(x0: Value) {
      const [y, pb] = yield* vjp(function* (a: Value) { return yield* mul(a, yield* sin(a)); }, x0);
      const [g] = yield* pb(1);
      return yield* mul(y, g as Value);
    }
    for (const x0 of [-1, 0.25, 2]) {
      const y = x0 * Math.sin(x0), g = Math.sin(x0) + x0 * Math.cos(x0);
      expect(run(grad(F), x0)).toBeCloseTo(g * g + y * (2 * Math.cos(x0) - x0 * Math.sin(x0)), 12);
    }
  });

  it("a grad inside a loop inside a grad", () => {
    // S(x) = Σ_{i=1..3} ∂/∂y sin(x·y·i) at y = x = Σ i x cos(i x²)
    function* S(x0: Value) {
      let acc: Value = 0;
      for (let i = 1; i <= 3; i++) {
        const d = yield* grad(function* (y: Value) {
          return yield* sin(yield* mul(yield* mul(x0, y), i));
        })(x0);
        acc = yield* add(acc, d);
      }
      return acc;
    }
    for (const x0 of [-0.7, 0.3, 1.2]) {
      let expected = 0;
      for (let i = 1; i <= 3; i++) expected += i * (Math.cos(i * x0 * x0) - 2 * i * x0 * x0 * Math.sin(i * x0 * x0));
      const [val, g] = run(valueAndGrad(S), x0);
      expect(scalar(val)).toBeCloseTo([1, 2, 3].reduce((s, i) => s + i * x0 * Math.cos(i * x0 * x0), 0), 13);
      expect(g).toBeCloseTo(expected, 12);
    }
  });

  it("jvp inside grad inside jvp: third derivatives", () => {
    // single variable: p(x) = x⁵ → p''' = 60x²
    function* p(y: Value) {
      return yield* pow(y, 5);
    }
    const [p2, p3] = run(function* () {
      return yield* jvp(grad(Dfwd(p)), [1.5], [1]);
    });
    expect(scalar(p2)).toBeCloseTo(20 * 1.5 ** 3, 12);
    expect(scalar(p3)).toBeCloseTo(60 * 1.5 ** 2, 12);

    // mixed: h(x, y, z) = x²y³z + xyz²; ∂³h/∂x∂y∂z = 6xy² + 2z (each transformation over its own variable)
    function* h(a: Value, b: Value, c: Value) {
      const t1 = yield* mul(yield* mul(yield* square(a), yield* pow(b, 3)), c);
      const t2 = yield* mul(yield* mul(a, b), yield* square(c));
      return yield* add(t1, t2);
    }
    function* dz(a: Value, b: Value, c: Value) {
      const [, t] = yield* jvp(function* (cc: Value) { return yield* h(a, b, cc); }, [c], [1]);
      return t;
    }
    function* dyz(a: Value, b: Value, c: Value) {
      return yield* grad(function* (bb: Value) { return yield* dz(a, bb, c); })(b);
    }
    const [x0, y0, z0] = [1.5, -0.5, 2];
    const [d2, d3] = run(function* () {
      return yield* jvp(function* (aa: Value) { return yield* dyz(aa, y0, z0); }, [x0], [1]);
    });
    expect(scalar(d2)).toBeCloseTo(3 * x0 * x0 * y0 * y0 + 2 * x0 * z0, 12);
    expect(scalar(d3)).toBeCloseTo(6 * x0 * y0 * y0 + 2 * z0, 12);
  });
});

describe("Jacobians and Hessians", () => {
  const M = tensor([[0.5, -1, 2], [1.5, 0.25, -0.75]]);
  // f: [2,3] → [2,2], f(x) = tanh(x)·Mᵀ · Σx
  function* f(x: Value) {
    return yield* mul(yield* matmul(yield* tanh(x), yield* transpose(M)), yield* sum(x));
  }
  const x = tensor([[0.1, -0.4, 0.8], [1.2, -0.3, 0.05]]);

  it("jacfwd and jacrev of R^6 → R^4 give the same [...B, ...A]-shaped Jacobian, equal to FD", () => {
    const jf = run(jacfwd(f), x) as Tensor;
    const jr = run(jacrev(f), x) as Tensor;
    expect(jf.shape).toEqual([2, 2, 2, 3]);
    expect(jr.shape).toEqual([2, 2, 2, 3]);
    expectClose(jf, jr, { rtol: 1e-13, atol: 1e-14 });
    expectClose(jf, fdJacobian((v) => run(f, v as Tensor), x), { rtol: 1e-7, atol: 1e-9 });
  });

  it("vector → vector (1-d shapes) and extra arguments held constant", () => {
    // g(x, A) = sin(A x): J = diag(cos(Ax)) A
    function* g(v: Value, A: Value) {
      return yield* sin(yield* matmul(A, v));
    }
    const A = tensor([[1, 2, 0], [0, -1, 3]]);
    const v = tensor([0.2, 0.3, -0.1]);
    const jf = run(jacfwd(g), v, A) as Tensor;
    const jr = run(jacrev(g), v, A) as Tensor;
    expect(jf.shape).toEqual([2, 3]);
    expect(jr.shape).toEqual([2, 3]);
    const Av = [0.2 + 0.6, -0.3 - 0.3];
    const expected = [[1, 2, 0], [0, -1, 3]].flatMap((row, i) => row.map((a) => Math.cos(Av[i]!) * a));
    expectClose(jf, expected, { rtol: 1e-14, atol: 1e-15 });
    expectClose(jr, expected, { rtol: 1e-14, atol: 1e-15 });
  });

  it("jacfwd and jacrev of number functions", () => {
    function* g(y: Value) {
      return yield* mul(yield* square(y), yield* sin(y));
    }
    const x0 = 0.7;
    const d = 2 * x0 * Math.sin(x0) + x0 * x0 * Math.cos(x0);
    const jf = run(jacfwd(g), x0);
    expect(typeof jf).toBe("number");
    expect(jf).toBeCloseTo(d, 14);
    expect(scalar(run(jacrev(g), x0))).toBeCloseTo(d, 14);
    // number → tensor: shape [3]
    function* h(y: Value) {
      return yield* mul(yield* exp(y), tensor([1, 2, 3]));
    }
    for (const J of [run(jacfwd(h), x0), run(jacrev(h), x0)] as Tensor[]) {
      expect(J.shape).toEqual([3]);
      expectClose(J, [1, 2, 3].map((k) => k * Math.exp(x0)), { rtol: 1e-15 });
    }
  });

  it("hessian of Rosenbrock (1−x)² + 100(y−x²)² equals its closed form", () => {
    function* rosen(p: Value) {
      const x0 = yield* reshape(yield* slice(p, [0], [1]), []);
      const y0 = yield* reshape(yield* slice(p, [1], [2]), []);
      return yield* add(yield* square(yield* sub(1, x0)), yield* mul(100, yield* square(yield* sub(y0, yield* square(x0)))));
    }
    for (const [a, b] of [[1, 1], [1.2, 0.8], [-0.5, 2]] as const) {
      const H = run(hessian(rosen), tensor([a, b])) as Tensor;
      expect(H.shape).toEqual([2, 2]);
      expectClose(H, [2 - 400 * (b - a * a) + 800 * a * a, -400 * a, -400 * a, 200], { rtol: 1e-13, atol: 1e-12 });
      expectClose(run(grad(rosen), tensor([a, b])), [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)], { rtol: 1e-13, atol: 1e-12 });
    }
  });

  it("the Hessian of a small MLP loss (flat parameters) is symmetric and matches FD of the gradient", () => {
    const X = randn([5, 2], { seed: 41 });
    const Y = randn([5, 1], { seed: 42 });
    // θ = [W1 (2×3), b1 (3), W2 (3×1), b2 (1)]: 13 parameters
    function* loss(theta: Value) {
      const W1 = yield* reshape(yield* slice(theta, [0], [6]), [2, 3]);
      const b1 = yield* slice(theta, [6], [9]);
      const W2 = yield* reshape(yield* slice(theta, [9], [12]), [3, 1]);
      const b2 = yield* slice(theta, [12], [13]);
      const hid = yield* tanh(yield* add(yield* matmul(X, W1), b1));
      const out = yield* add(yield* matmul(hid, W2), b2);
      return yield* mean(yield* square(yield* sub(out, Y)));
    }
    const theta = randn([13], { seed: 43 });
    const H = run(hessian(loss), theta) as Tensor;
    expect(H.shape).toEqual([13, 13]);
    const h = flatNumbers(H);
    const n = 13;
    const scale = Math.max(...h.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-3);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(Math.abs(h[i * n + j]! - h[j * n + i]!)).toBeLessThan(1e-12 * scale);
    // column k of H ≈ (∇L(θ + εe_k) − ∇L(θ − εe_k)) / 2ε
    expectClose(H, fdJacobian((t) => run(grad(loss), t as Tensor), theta, 1e-5), { rtol: 1e-6, atol: 1e-8 });
    // and reverse-over-reverse agrees with forward-over-reverse
    expectClose(run(jacrev(grad(loss)), theta), H, { rtol: 1e-11, atol: 1e-13 });
  });
});

describe("perturbation confusion (exact values)", () => {
  for (const [name, Dx] of [["reverse (grad)", D], ["forward (jvp)", Dfwd]] as const) {
    it(`D(x ↦ x·D(y ↦ x + y)(1))(1) = 1, ${name}`, () => {
      const r = run(Dx(function* (x0: Value) {
        return yield* mul(x0, yield* Dx(function* (y: Value) { return yield* add(x0, y); })(1));
      }), 1);
      expect(r).toBe(1);
    });
    it(`D(x ↦ x·D(y ↦ x·y)(2))(1) = 2, ${name}`, () => {
      const r = run(Dx(function* (x0: Value) {
        return yield* mul(x0, yield* Dx(function* (y: Value) { return yield* mul(x0, y); })(2));
      }), 1);
      expect(r).toBe(2);
    });
    it(`D(x ↦ D(y ↦ x)(x))(1) = 0, ${name}`, () => {
      const r = run(Dx(function* (x0: Value) {
        return yield* Dx(function* (_y: Value) { return x0; })(x0);
      }), 1);
      expect(scalar(r)).toBe(0);
    });
  }

  it("the Jacobian of x ↦ ∇_y⟨y, A x⟩ is A (jacfwd and jacrev)", () => {
    const A = tensor([[1.5, -2, 0.25, 3], [0.1, 0.7, -1.3, 2.2], [4, -0.3, 0.9, -5]]);
    const y0 = tensor([0.3, -1, 2]);
    function* gradY(x0: Value) {
      return yield* grad(function* (y: Value) { return yield* dot(y, yield* matmul(A, x0)); })(y0);
    }
    const x0 = tensor([1, 2, 3, 4]);
    expectClose(run(gradY, x0), [1.5 - 4 + 0.75 + 12, 0.1 + 1.4 - 3.9 + 8.8, 4 - 0.6 + 2.7 - 20], { rtol: 1e-15 });
    for (const J of [run(jacfwd(gradY), x0), run(jacrev(gradY), x0)] as Tensor[]) {
      expect(J.shape).toEqual([3, 4]);
      expect(flatNumbers(J)).toEqual(flatNumbers(A));
    }
  });

  it("Lagrangian L(q, q̇) = ½m q̇·q̇ − m g q₂: ∂/∂q ∇_q̇ L = 0", () => {
    const m = 2.5, gAcc = 9.81;
    function* L(q: Value, qd: Value) {
      return yield* sub(yield* mul(0.5 * m, yield* dot(qd, qd)), yield* mul(m * gAcc, yield* dot(q, tensor([0, 1]))));
    }
    function* dLdqd(q: Value, qd: Value) {
      return yield* grad(L, { argnums: 1 })(q, qd);
    }
    const q = tensor([0.3, 1.7]);
    const qd = tensor([-0.4, 2]);
    expectClose(run(dLdqd, q, qd), [m * -0.4, m * 2], { rtol: 1e-15 });
    const mixed = run(jacfwd(dLdqd), q, qd) as Tensor; // jacobian over q (first argument)
    expect(mixed.shape).toEqual([2, 2]);
    expect(flatNumbers(mixed)).toEqual([0, 0, 0, 0]);
    // the other blocks of the Euler–Lagrange system, for contrast: ∇_q L and ∂/∂q̇ ∇_q̇ L = m I
    expectClose(run(grad(L), q, qd), [0, -m * gAcc], { rtol: 1e-15 });
    const massMatrix = run(jacfwd(function* (v: Value, p: Value) { return yield* dLdqd(p, v); }), qd, q);
    expect(flatNumbers(massMatrix)).toEqual([m, 0, 0, m]);
  });

  it("a function-valued derivative, D(shift)(3) with shift = o ↦ g ↦ a ↦ g(a + o), is a clear TransformError", () => {
    // The library does not support function-valued outputs of grad yet: the derivative of
    // shift would be the function g ↦ a ↦ D g(a + 3), which applied to exp at 5 gives e^8.
    // Until that is supported, grad must refuse such a program with a TransformError (not
    // give a wrong number, and not crash deep inside).
    function* shift(o: Value) {
      return function* (g: Prog) {
        return function* (a: Value) {
          return yield* g(yield* add(a, o));
        };
      };
    }
    let caught: unknown;
    try {
      const dshift = run(grad(shift as unknown as Prog), 3) as unknown as Prog;
      const applied = run(dshift, function* (a: Value) { return yield* exp(a); }) as unknown as Prog;
      run(applied, 5); // would be e^8 if supported
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TransformError);
    expect((caught as Error).message).toMatch(/grad/);
    expect((caught as Error).message).toMatch(/function/);
  });
});
