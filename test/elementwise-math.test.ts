// The second round's elementwise operations (issue #18): inverse trigonometric and hyperbolic
// functions, log2/log10/exp2/cbrt, erf/erfc/erfinv, rounding, softplus/silu/gelu, atan2, mod,
// logaddexp, hypot. Values against known values (computed with mpmath at 40 digits from the
// same double inputs) and NumPy's semantics at the edges; derivatives to second order, forward
// and reverse, against central differences at float64; pow's derivatives at 0; vmap against a
// loop; jit (fused loops and inline scalars) against eager, bit for bit; float32.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as Y from "../src/index.ts";
import { grad, jit, jvp, makeIR, run, sum, tensor, vmap, Tensor, type Effect, type Value } from "../src/index.ts";
import { softplus as lossesSoftplus } from "../src/losses.ts";
import { defineUnary } from "../src/primitives/unary.ts";
import { mul } from "../src/primitives/binary.ts";
import { PrimitiveOp } from "../effects/operation.ts";
import { E } from "../src/kernels/scalar-expr.ts";
import { checkGrads, randomTensor, type ValueOptions } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";

type Op1 = (x: Value) => Effect<Value>;
type Op2 = (a: Value, b: Value) => Effect<Value>;
const op1 = (name: string): Op1 => (Y as unknown as Record<string, Op1>)[name]!;
const op2 = (name: string): Op2 => (Y as unknown as Record<string, Op2>)[name]!;
const at = (op: Op1, x: number): number => run(function* () { return yield* op(x); }) as number;
const at2 = (op: Op2, a: number, b: number): number => run(function* () { return yield* op(a, b); }) as number;
const relErr = (got: number, want: number): number => (got === want ? 0 : Math.abs(got - want) / Math.abs(want));

// [x, f(x)], f(x) from mpmath at 40 digits, rounded to the nearest double
const KNOWN: Record<string, [number, number][]> = {
  asin: [[-0.9, -1.1197695149986342], [-0.3, -0.3046926540153975], [0.1, 0.1001674211615598], [0.5, 0.5235987755982989], [0.99, 1.4292568534704693]],
  acos: [[-0.9, 2.6905658417935308], [-0.3, 1.8754889808102941], [0.1, 1.4706289056333368], [0.5, 1.0471975511965979], [0.99, 0.1415394733244273]],
  atan: [[-50.0, -1.550798992821746], [-1.0, -0.7853981633974483], [0.2, 0.19739555984988078], [3.0, 1.2490457723982544], [100000.0, 1.570786326794897]],
  sinh: [[-3.0, -10.017874927409903], [-0.5, -0.5210953054937474], [1e-8, 1e-8], [1.0, 1.1752011936438014], [20.0, 242582597.70489514]],
  cosh: [[-3.0, 10.067661995777765], [-0.5, 1.1276259652063807], [1e-8, 1.0], [1.0, 1.5430806348152437], [20.0, 242582597.70489514]],
  asinh: [[-100.0, -5.298342365610589], [-0.5, -0.48121182505960347], [1e-8, 1e-8], [1.0, 0.881373587019543], [1e10, 23.7189981105004]],
  acosh: [[1.0, 0.0], [1.5, 0.9624236501192069], [2.0, 1.3169578969248168], [10.0, 2.993222846126381], [1e10, 23.7189981105004]],
  atanh: [[-0.99, -2.6466524123622457], [-0.5, -0.5493061443340549], [1e-8, 1e-8], [0.3, 0.3095196042031117], [0.9, 1.4722194895832204]],
  log2: [[0.1, -3.321928094887362], [0.5, -1.0], [3.0, 1.584962500721156], [1024.0, 10.0], [1e300, 996.5784284662087]],
  log10: [[0.1, -1.0], [0.5, -0.3010299956639812], [3.0, 0.47712125471966244], [1000.0, 3.0], [1e300, 300.0]],
  exp2: [[-10.0, 0.0009765625], [-0.5, 0.7071067811865476], [0.3, 1.2311444133449163], [3.0, 8.0], [100.5, 1.7927286711931566e30]],
  cbrt: [[-27.0, -3.0], [-0.001, -0.1], [2.0, 1.2599210498948732], [64.0, 4.0], [1e300, 1e100]],
  erf: [[-3.0, -0.9999779095030014], [-0.5, -0.5204998778130465], [1e-10, 1.1283791670955126e-10], [0.3, 0.3286267594591274], [0.8, 0.7421009647076605], [1.5, 0.9661051464753108], [2.5, 0.999593047982555], [4.0, 0.9999999845827421], [6.5, 1.0]],
  erfc: [[-3.0, 1.9999779095030015], [-0.5, 1.5204998778130465], [0.3, 0.6713732405408726], [0.8, 0.2578990352923395], [1.5, 0.033894853524689274], [2.5, 0.0004069520174449589], [4.0, 1.541725790028002e-8], [6.5, 3.8421483271206475e-20], [10.0, 2.088487583762545e-45], [15.0, 7.212994172451207e-100], [26.0, 5.663192408856143e-296]],
  erfinv: [[-0.999, -2.3267537655135246], [-0.5, -0.4769362762044699], [1e-10, 8.862269254527581e-11], [0.1, 0.08885599049425769], [0.5, 0.4769362762044699], [0.9, 1.1630871536766743], [0.999999, 3.458910737275499], [0.9999999999999998, 5.805018683193453]],
  gelu: [[-10.0, -7.619853024160526e-23], [-3.0, -0.0040496940948902835], [-0.5, -0.15426876936299344], [0.5, 0.34573123063700656], [1.0, 0.8413447460685429], [3.0, 2.99595030590511]],
  silu: [[-40.0, -1.6993417021166355e-16], [-3.0, -0.14227761953270035], [-0.5, -0.18877033439907273], [0.5, 0.3112296656009273], [1.0, 0.7310585786300049], [30.0, 29.999999999997193]],
  softplus: [[-40.0, 4.248354255291589e-18], [-3.0, 0.04858735157374206], [-0.5, 0.4740769841801067], [0.5, 0.9740769841801067], [1.0, 1.3132616875182228], [30.0, 30.000000000000092], [800.0, 800.0]],
};
const KNOWN2: Record<string, [number, number, number][]> = {
  atan2: [[1.0, 1.0, 0.7853981633974483], [1.0, -1.0, 2.356194490192345], [-1.0, -1.0, -2.356194490192345], [-2.0, 0.5, -1.3258176636680326], [0.0, -1.0, 3.141592653589793], [3.0, 1e-5, 1.5707929934615632]],
  logaddexp: [[0.0, 0.0, 0.6931471805599453], [1.0, 2.0, 2.313261687518223], [-3.0, 5.0, 5.000335406372896], [800.0, 800.5, 800.9740769841801], [-800.0, -801.0, -799.6867383124818], [1e-5, -1e-5, 0.6931471806099453]],
  hypot: [[3.0, 4.0, 5.0], [1e300, 1e300, 1.4142135623730952e300], [1e-300, 1e-300, 1.414213562373095e-300], [-5.0, 12.0, 13.0], [0.1, 0.2, 0.223606797749979]],
};
/** Relative tolerance against the correctly rounded value: Math's functions within an ulp or two; erf/erfc ~1e-14 asked; erfinv ~1e-13. */
const TOL: Record<string, number> = { erf: 1e-14, erfc: 1e-14, erfinv: 1e-13, gelu: 1e-14, exp2: 4e-16 * 8 };

describe("known values", () => {
  it.each(Object.keys(KNOWN))("%s", (name) => {
    const op = op1(name);
    for (const [x, want] of KNOWN[name]!) {
      const got = at(op, x);
      expect(relErr(got, want), `${name}(${x}) = ${got}, want ${want}`).toBeLessThanOrEqual(TOL[name] ?? 1e-15);
      // a tensor gives the same bits as the number (the kernel's loop and its scalar function)
      expect(Object.is((run(function* () { return yield* op(tensor([x])); }) as Tensor).buf[0], got)).toBe(true);
    }
  });
  it.each(Object.keys(KNOWN2))("%s", (name) => {
    for (const [a, b, want] of KNOWN2[name]!) {
      const got = at2(op2(name), a, b);
      expect(relErr(got, want), `${name}(${a}, ${b}) = ${got}, want ${want}`).toBeLessThanOrEqual(1e-15);
    }
  });

  it("erf and erfc over the whole line: symmetry, erf + erfc = 1, limits, NaN", () => {
    const { erf, erfc } = Y;
    for (let x = -8; x <= 8; x += 0.37) {
      expect(at(erf, -x)).toBe(-at(erf, x));
      expect(Math.abs(at(erf, x) + at(erfc, x) - 1)).toBeLessThanOrEqual(3e-16);
    }
    expect([at(erf, Infinity), at(erf, -Infinity), at(erfc, Infinity), at(erfc, -Infinity), at(erfc, 30)]).toEqual([1, -1, 0, 2, 0]);
    expect(Object.is(at(erf, -0), -0)).toBe(true);
    expect([at(erf, NaN), at(erfc, NaN), at(Y.erfinv, NaN)].every(Number.isNaN)).toBe(true);
    // erfc far in the tail keeps its relative precision (no 1 − erf cancellation): erfc(x)·x·√π·e^(x²) → 1
    for (const x of [8, 12, 20]) expect(Math.abs(at(erfc, x) * x * Math.sqrt(Math.PI) * Math.exp(x * x) - 1)).toBeLessThan(1 / (2 * x * x) + 1e-3);
  });

  it("erfinv inverts erf to ~1e-13 relative, ±Infinity at ±1, NaN outside", () => {
    const { erf, erfinv } = Y;
    fc.assert(
      fc.property(fc.double({ min: -1, max: 1, noNaN: true, maxExcluded: true, minExcluded: true }), (y) => {
        const x = at(erfinv, y);
        expect(Math.abs(at(erf, x) - y)).toBeLessThanOrEqual(1e-15 * Math.max(Math.abs(y), 1e-300) + 2e-16 * Math.abs(y) + 1e-300);
        expect(Math.sign(x)).toBe(Math.sign(y));
      }),
      { numRuns: 500 },
    );
    expect([at(erfinv, 1), at(erfinv, -1), at(erfinv, 0)]).toEqual([Infinity, -Infinity, 0]);
    expect(Object.is(at(erfinv, -0), -0)).toBe(true);
    expect([at(erfinv, 1.5), at(erfinv, -1.0000001)].every(Number.isNaN)).toBe(true);
  });

  it("domain edges as NumPy: NaN outside the domain, ±Infinity at the poles", () => {
    expect(at(Y.acosh, 0.5)).toBeNaN();
    expect(at(Y.atanh, 1)).toBe(Infinity);
    expect(at(Y.atanh, -1)).toBe(-Infinity);
    expect(at(Y.atanh, 2)).toBeNaN();
    expect(at(Y.log2, 0)).toBe(-Infinity);
    expect(at(Y.log2, -1)).toBeNaN();
    expect(at(Y.log10, 0)).toBe(-Infinity);
    expect(at(Y.asin, 2)).toBeNaN();
    expect(at(Y.acos, -2)).toBeNaN();
    expect(at(Y.cbrt, -8)).toBe(-2);
    expect(at(Y.exp2, 1024)).toBe(Infinity);
    expect(at2(Y.hypot, Infinity, NaN)).toBe(Infinity);
    // and the same on tensors
    const t = run(function* () { return yield* Y.atanh(tensor([-1, 1, 2])); }) as Tensor;
    expect(Array.from(t.buf)).toEqual([-Infinity, Infinity, NaN]);
  });

  it("round halves to even (NumPy), keeping the sign of zero; floor, ceil, trunc", () => {
    const xs = [-3.5, -2.5, -1.5, -0.5, -0, 0, 0.5, 1.5, 2.5, 3.5, 0.49999999999999994, -0.49999999999999994, 4.5, 2 ** 52 + 1, 1e300, Infinity, -Infinity, -0.4];
    const want = [-4, -2, -2, -0, -0, 0, 0, 2, 2, 4, 0, -0, 4, 2 ** 52 + 1, 1e300, Infinity, -Infinity, -0];
    const got = run(function* () { return yield* Y.round(tensor(xs)); }) as Tensor;
    Array.from(got.buf).forEach((v, i) => expect(Object.is(v, want[i]), `round(${xs[i]}) = ${v}`).toBe(true));
    xs.forEach((x, i) => expect(Object.is(at(Y.round, x), want[i])).toBe(true));
    expect(at(Y.round, NaN)).toBeNaN();
    expect([at(Y.floor, -1.5), at(Y.ceil, -1.5), at(Y.trunc, -1.5), at(Y.trunc, 1.5)]).toEqual([-2, -1, -1, 1]);
  });

  it("mod is NumPy's floored remainder: the sign of b, zeros signed as b, NaN for b = 0", () => {
    const table: [number, number, number][] = [
      [-7, 3, 2], [-7, -3, -1], [7, 3, 1], [7, -3, -2], [-6, 3, 0], [6, -3, -0], [0, 2, 0], [-0, 2, 0], [5.5, -2, -0.5], [-5.5, 2, 0.5],
      [1e-300, 7, 1e-300], [3, Infinity, 3], [Infinity, 2, NaN], [3, -Infinity, -Infinity], [1, 0, NaN], [-1e-300, 5, 5],
    ];
    for (const [a, b, want] of table) expect(Object.is(at2(Y.mod, a, b), want), `mod(${a}, ${b}) = ${at2(Y.mod, a, b)}, want ${want}`).toBe(true);
    const t = run(function* () { return yield* Y.mod(tensor(table.map((r) => r[0])), tensor(table.map((r) => r[1]))); }) as Tensor;
    Array.from(t.buf).forEach((v, i) => expect(Object.is(v, table[i]![2])).toBe(true));
  });

  it("logaddexp at infinities and large operands; hypot without overflow", () => {
    const inf: [number, number, number][] = [[-Infinity, -Infinity, -Infinity], [Infinity, Infinity, Infinity], [-Infinity, 3, 3], [Infinity, -Infinity, Infinity], [-Infinity, Infinity, Infinity]];
    for (const [a, b, want] of inf) expect(at2(Y.logaddexp, a, b)).toBe(want);
    expect(at2(Y.logaddexp, 1e308, 1e308)).toBe(1e308);
    expect(at2(Y.logaddexp, -1e308, 0)).toBe(0);
    expect(at2(Y.hypot, 1e308, 1e308)).toBeCloseTo(Math.SQRT2 * 1e308, -300);
    expect(Number.isFinite(at2(Y.hypot, 1e308, 1e308))).toBe(true);
  });

  it("softplus, silu, gelu saturate without overflow; the losses' softplus is the operation", () => {
    expect(lossesSoftplus).toBe(Y.softplus);
    expect([at(Y.softplus, 1000), at(Y.softplus, -1000), at(Y.silu, -1000), at(Y.silu, 1000), at(Y.gelu, 1000), at(Y.gelu, -1000)]).toEqual([1000, 0, -0, 1000, 1000, -0]);
    expect(at(Y.softplus, -745)).toBe(5e-324);
  });
});

// ---------------------------------------------------------------------------------------------
const DIFFERENTIABLE: [string, ValueOptions][] = [
  ["asin", { lo: -0.8, hi: 0.8 }], ["acos", { lo: -0.8, hi: 0.8 }], ["atan", {}], ["sinh", {}], ["cosh", {}], ["asinh", {}],
  ["acosh", { lo: 1.2, hi: 3 }], ["atanh", { lo: -0.8, hi: 0.8 }], ["log2", { lo: 0.2, hi: 3 }], ["log10", { lo: 0.2, hi: 3 }],
  ["exp2", {}], ["cbrt", { awayFromZero: 0.2 }], ["erf", {}], ["erfc", {}], ["erfinv", { lo: -0.8, hi: 0.8 }],
  ["softplus", { lo: -4, hi: 4 }], ["silu", { lo: -4, hi: 4 }], ["gelu", { lo: -4, hi: 4 }],
];

describe("derivatives: check_grads to second order, forward and reverse, float64", () => {
  it.each(DIFFERENTIABLE)("%s", (name, vo) => {
    const op = op1(name);
    for (const seed of [1, 2, 3]) {
      checkGrads(function* (x: Value) { return yield* op(x); }, [randomTensor([4], seed, vo)], { order: 2, name });
    }
    checkGrads(function* (x: Value) { return yield* op(x); }, [randomTensor([], 7, vo).item()], { order: 2, name: `${name} number` });
  });

  it.each([
    ["atan2", {}, {}], ["logaddexp", {}, {}], ["hypot", { awayFromZero: 0.3 }, { awayFromZero: 0.3 }],
  ] as [string, ValueOptions, ValueOptions][])("%s (broadcasting [2, 3] with [3])", (name, va, vb) => {
    const op = op2(name);
    for (const seed of [1, 2]) {
      checkGrads(function* (a: Value, b: Value) { return yield* op(a, b); }, [randomTensor([2, 3], seed, va), randomTensor([3], seed + 10, vb)], { order: 2, name });
    }
  });

  it("mod: ∂a = 1, ∂b = −floor(a/b), checked away from the jumps", () => {
    const a = tensor([0.3, -1.7, 2.45, 5.2]);
    const b = tensor([0.7, 1.3, -0.9, 2.5]);
    checkGrads(function* (x: Value, y: Value) { return yield* Y.mod(x, y); }, [a, b], { order: 2, name: "mod" });
    const [ga, gb] = run(grad(function* (x: Value, y: Value) { return yield* sum(yield* Y.mod(x, y)); }, { argnums: [0, 1] }), a, b) as [Tensor, Tensor];
    expect(Array.from(ga.buf)).toEqual([1, 1, 1, 1]);
    expect(Array.from(gb.buf)).toEqual([-0, 2, 3, -2]);
  });

  it("logaddexp's gradient is finite at equal infinities and splits evenly at equal operands", () => {
    const g = (a: number, b: number) => run(grad(function* (x: Value, y: Value) { return yield* Y.logaddexp(x, y); }, { argnums: [0, 1] }), a, b) as [number, number];
    expect(g(-Infinity, -Infinity)).toEqual([0.5, 0.5]);
    expect(g(2, 2)).toEqual([0.5, 0.5]);
    expect(g(-Infinity, 1)).toEqual([0, 1]);
    expect(g(1000, 0)).toEqual([1, 0]);
  });

  it("floor, ceil, round, trunc have zero derivative at every order, forward and reverse", () => {
    const x = tensor([-1.3, 0.2, 2.5, 3.7]);
    for (const name of ["floor", "ceil", "round", "trunc"]) {
      const f = function* (v: Value) { return yield* sum(yield* Y.mul(yield* op1(name)(v), v)); }; // x·floor(x): derivative floor(x)
      const g = run(grad(f), x) as Tensor;
      const fx = run(function* () { return yield* op1(name)(x); }) as Tensor;
      expect(Array.from(g.buf)).toEqual(Array.from(fx.buf));
      const gg = run(grad(function* (v: Value) { return yield* sum(yield* grad(function* (w: Value) { return yield* sum(yield* op1(name)(w)); })(v)); }), x) as Tensor;
      expect(Array.from(gg.buf)).toEqual([0, 0, 0, 0]);
      const [, t] = run(function* () { return yield* jvp(function* (v: Value) { return yield* op1(name)(v); }, [x], [tensor([1, 1, 1, 1])]); }) as [Tensor, Tensor];
      expect(Array.from(t.buf)).toEqual([0, 0, 0, 0]);
    }
  });
});

describe("pow(x, n) with an integer n: every derivative finite at 0", () => {
  type Prog = (x: Value) => Generator<Effect, Value, unknown>;
  const Drev = (f: Prog): Prog => function* (x: Value) { return (yield* grad(f)(x)) as Value; };
  const Dfwd = (f: Prog): Prog => function* (x: Value) {
    const ones = yield* Y.add(yield* Y.mul(x, 0), 1); // (a number for a number, else a tensor like x)
    const [, t] = (yield* jvp(f, [x], [ones])) as [Value, Value];
    return t;
  };
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  it.each([0, 1, 2, 3, 4])("x^%i: derivatives 1 to 4 at 0, reverse and forward, numbers and tensors", (n) => {
    const f: Prog = function* (x: Value) { return yield* Y.pow(x, n); };
    for (const D of [Drev, Dfwd]) {
      let g: Prog = f;
      for (let k = 1; k <= 4; k++) {
        g = D(g);
        const want = k === n ? factorial(n) : 0;
        expect(run(g, 0), `d^${k}/dx^${k} x^${n} at 0`).toBe(want);
        if (D === Dfwd) {
          const t = run(g, tensor([0, 0])) as Tensor;
          expect(Array.from(t.buf)).toEqual([want, want]);
        }
      }
    }
    // reverse on a tensor: grad of Σ
    const h = run(grad(function* (x: Value) { return yield* sum(yield* Y.pow(x, n)); }), tensor([0, 0, 0])) as Tensor;
    expect(Array.from(h.buf)).toEqual([n === 1 ? 1 : 0, n === 1 ? 1 : 0, n === 1 ? 1 : 0]);
  });
  it("the exponent a tensor, a jit argument or a batch under vmap: still finite at 0", () => {
    const f = function* (x: Value, n: Value) { return yield* Y.pow(x, n); };
    const d1 = grad(f);
    const d2 = grad(function* (x: Value, n: Value) { return (yield* d1(x, n)) as Value; });
    for (const n of [0, 1, 2, 3]) {
      const want = [n === 1 ? 1 : 0, n === 2 ? 2 : 0];
      expect([run(jit(d1), 0, n), run(jit(d2), 0, n)]).toEqual(want);
      const num = (v: unknown): number => (typeof v === "number" ? v : (v as Tensor).item() as number);
      expect([num(run(d1, 0, tensor(n))), num(run(d2, 0, tensor(n)))]).toEqual(want);
    }
    expect(Array.from((run(vmap(d1, [null, 0]), 0, tensor([0, 1, 2, 3])) as Tensor).buf)).toEqual([0, 1, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
const UNARY = [...DIFFERENTIABLE.map(([n]) => n), "floor", "ceil", "round", "trunc"];
const BINARY = ["atan2", "mod", "logaddexp", "hypot"];
/** Values in every op's domain: (−0.9, 0.9), never 0; acosh gets 1.2 + 3|x|, the logarithms 0.1 + |x|. */
const inDomain = (name: string, xs: Float64Array): Tensor => tensor(name === "acosh" ? xs.map((v) => 1.2 + 3 * Math.abs(v)) : name.startsWith("log") ? xs.map((v) => 0.1 + Math.abs(v)) : xs);

describe("vmap against a loop of single calls", () => {
  const rows = 4;
  const base = Float64Array.from({ length: rows * 3 }, (_, i) => Math.sin(i * 1.7 + 0.3) * 0.9);
  it.each(UNARY)("%s", (name) => {
    const x = inDomain(name, base);
    const xs = run(function* () { return yield* Y.reshape(x, [rows, 3]); }) as Tensor;
    const f = function* (v: Value) { return yield* op1(name)(v); };
    const got = run(vmap(f), xs) as Tensor;
    for (let r = 0; r < rows; r++) {
      const row = tensor(Array.from(xs.buf.slice(r * 3, r * 3 + 3)));
      const want = run(f, row) as Tensor;
      expect(Array.from(got.buf.slice(r * 3, r * 3 + 3))).toEqual(Array.from(want.buf));
    }
    // and vmap of grad against grad per row
    if (DIFFERENTIABLE.some(([n]) => n === name)) {
      const g = (v: Value) => grad(function* (w: Value) { return yield* sum(yield* op1(name)(w)); })(v);
      const gv = run(vmap(function* (v: Value) { return yield* g(v); }), xs) as Tensor;
      for (let r = 0; r < rows; r++) expectSame(tensor(Array.from(gv.buf.slice(r * 3, r * 3 + 3))), run(function* () { return yield* g(tensor(Array.from(xs.buf.slice(r * 3, r * 3 + 3)))); }));
    }
  });
  it.each(BINARY)("%s, both batched and the second shared", (name) => {
    const a = tensor(Array.from(base), { shape: [rows, 3] });
    const b = tensor([0.7, -1.3, 2.1]);
    const bs = tensor(Array.from(base, (v) => v * 2 + (v > 0 ? 0.5 : -0.5)), { shape: [rows, 3] });
    const f = function* (u: Value, v: Value) { return yield* op2(name)(u, v); };
    const shared = run(vmap(f, [0, null]), a, b) as Tensor;
    const both = run(vmap(f), a, bs) as Tensor;
    for (let r = 0; r < rows; r++) {
      const ar = tensor(Array.from(a.buf.slice(r * 3, r * 3 + 3)));
      const br = tensor(Array.from(bs.buf.slice(r * 3, r * 3 + 3)));
      expect(Array.from(shared.buf.slice(r * 3, r * 3 + 3))).toEqual(Array.from((run(f, ar, b) as Tensor).buf));
      expect(Array.from(both.buf.slice(r * 3, r * 3 + 3))).toEqual(Array.from((run(f, ar, br) as Tensor).buf));
    }
  });
});

describe("jit against eager: fused loops and inline scalars, bit for bit", () => {
  /** Every new operation, chained on x in (−1, 1) and y, and summed into one output each. */
  function* all(x: Value, y: Value) {
    const outs: Value[] = [];
    for (const name of UNARY) {
      const v = name === "acosh" ? yield* Y.add(2, x) : name.startsWith("log") ? yield* Y.add(1.1, x) : x;
      outs.push(yield* Y.mul(yield* op1(name)(v), y));
    }
    for (const name of BINARY) outs.push(yield* op2(name)(x, yield* Y.add(y, 0.25)));
    return outs;
  }
  const values = (n: number, seed: number, dtype: "float32" | "float64") => {
    const t = randomTensor([n], seed, { lo: -0.95, hi: 0.95 });
    return dtype === "float64" ? t : tensor(Array.from(t.buf), { dtype: "float32" });
  };
  it.each(["float64", "float32"] as const)("tensors (%s): a small and a large fused loop, and their gradients", (dtype) => {
    for (const n of [7, 5000]) {
      const [x, y] = [values(n, 1, dtype), values(n, 2, dtype)];
      expectSame(run(jit(all), x, y), run(all, x, y), 0);
      const src = makeIR(all)(x, y).source;
      expect(src, "no kernel call: every operation in the fused loop").not.toMatch(/\.impl\(/);
      const loss = function* (u: Value, v: Value) {
        let s: Value = 0;
        for (const o of yield* all(u, v)) s = yield* Y.add(s, yield* sum(o));
        return s;
      };
      const g = grad(loss, { argnums: [0, 1] });
      expectSame(run(jit(g), x, y), run(g, x, y), dtype === "float64" ? 1e-12 : 1e-5);
    }
  });
  it("numbers: inline scalar arithmetic", () => {
    for (const [x, y] of [[0.3, -0.7], [-0.9, 0.2]]) {
      expectSame(run(jit(all), x, y), run(all, x, y), 0);
      const g = grad(function* (u: Value) { return yield* Y.add(yield* Y.gelu(u), yield* Y.erfinv(u)); });
      expectSame(run(jit(g), x), run(g, x), 1e-14);
    }
  });
});

describe("random shapes (property)", () => {
  const dim = fc.integer({ min: 1, max: 4 });
  // an output shape, and per operand a suffix of it with some axes set to 1
  const pair = fc.array(dim, { minLength: 1, maxLength: 3 }).chain((out) =>
    fc.tuple(
      ...[0, 1].map(() =>
        fc.tuple(fc.integer({ min: 0, max: out.length - 1 }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length })).map(([drop, ones]) =>
          out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
        ),
      ),
    ).map(([sa, sb]) => ({ out, sa: sa!, sb: sb! })),
  );
  it("binary operations broadcast as NumPy; jit gives eager's bits; vmap over the first axis = a loop", () => {
    fc.assert(
      fc.property(pair, fc.constantFrom(...BINARY), fc.integer({ min: 0, max: 1000 }), fc.constantFrom<"float32" | "float64">("float32", "float64"), ({ sa, sb }, name, seed, dtype) => {
        const cast = (t: Tensor) => (dtype === "float64" ? t : tensor(Array.from(t.buf), { dtype, shape: t.shape }));
        const a = cast(randomTensor(sa, seed, { lo: -3, hi: 3 }));
        const b = cast(randomTensor(sb, seed + 1, { awayFromZero: 0.5, hi: 3 }));
        const f = function* (u: Value, v: Value) { return yield* op2(name)(u, v); };
        const want = run(f, a, b) as Tensor;
        // NumPy's broadcast shape, and each element from the scalar operation on the broadcast operands
        const shape = Array.from({ length: Math.max(sa.length, sb.length) }, (_, k) => {
          const da = sa[sa.length - 1 - k] ?? 1;
          const db = sb[sb.length - 1 - k] ?? 1;
          return Math.max(da, db);
        }).reverse();
        expect(want.shape).toEqual(shape);
        const at = (t: Tensor, index: number[]) => {
          let flat = 0;
          t.shape.forEach((d, k) => (flat = flat * d + (d === 1 ? 0 : index[k + index.length - t.shape.length]!)));
          return t.buf[flat]!;
        };
        for (let i = 0; i < want.size; i++) {
          const index: number[] = [];
          let r = i;
          for (let k = shape.length - 1; k >= 0; k--) { index.unshift(r % shape[k]!); r = Math.floor(r / shape[k]!); }
          const v = at2(op2(name), at(a, index), at(b, index));
          expect(Object.is(want.buf[i], dtype === "float32" ? Math.fround(v) : v)).toBe(true);
        }
        expectSame(run(jit(f), a, b), want, 0);
        if (sa.length === shape.length && sa[0] === shape[0] && shape[0]! > 1) {
          // vmap over a's first axis, b shared (aligned to a's trailing axes)
          const bs = sb.length === shape.length ? null : b;
          if (bs !== null) {
            const got = run(vmap(f, [0, null]), a, bs) as Tensor;
            const per = a.size / shape[0]!;
            for (let r = 0; r < shape[0]!; r++) {
              const row = tensor(Array.from(a.buf.slice(r * per, (r + 1) * per)), { dtype, shape: sa.slice(1) });
              expectSame(tensor(Array.from(got.buf.slice(r * (got.size / shape[0]!), (r + 1) * (got.size / shape[0]!))), { dtype: got.dtype, shape: got.shape.slice(1) }), run(f, row, bs), 0);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("float32", () => {
  it.each([...UNARY, "softplus"])("%s: the float64 value rounded once to float32", (name) => {
    const xs = Float32Array.from([-0.9, -0.31, 0, 0.2, 0.77], (v) => (name === "acosh" ? 1 + Math.abs(v) * 3 : name.startsWith("log") ? 0.1 + Math.abs(v) : v));
    const got = run(function* () { return yield* op1(name)(tensor(xs)); }) as Tensor;
    expect(got.dtype).toBe("float32");
    xs.forEach((v, i) => expect(Object.is(got.buf[i], Math.fround(at(op1(name), v)))).toBe(true));
  });
  it("binary operations keep float32 and promote with float64", () => {
    const a = tensor([0.5, -1.5], { dtype: "float32" });
    for (const name of BINARY) {
      const r = run(function* () { return yield* op2(name)(a, 2); }) as Tensor;
      expect(r.dtype).toBe("float32");
      expect(Array.from(r.buf)).toEqual([0.5, -1.5].map((v) => Math.fround(at2(op2(name), v, 2))));
      expect((run(function* () { return yield* op2(name)(a, tensor([1, 2])); }) as Tensor).dtype).toBe("float64");
    }
  });
});

describe("the elementwise form", () => {
  it("a primitive defined from its expression alone gets its kernel, its scalar path, jit's fused loop and its rules", () => {
    const cubeP = defineUnary({ name: "cubeTest", expr: (x) => E.mul(x, E.mul(x, x)), derivative: (x) => mul(3, mul(x, x)) });
    const cube = (x: Value): Effect<Value> => new PrimitiveOp(cubeP, [x], undefined);
    const f = function* (x: Value) { return yield* Y.add(yield* cube(x), 1); };
    expect(run(f, 2)).toBe(9);
    expect(Array.from((run(f, tensor([1, -2])) as Tensor).buf)).toEqual([2, -7]);
    expect(run(grad(grad(f)), 2)).toBe(12);
    expect(makeIR(f)(tensor([1, 2])).source).not.toMatch(/\.impl\(/);
    expectSame(run(jit(f), tensor([1, -2])), run(f, tensor([1, -2])), 0);
    // @ts-expect-error: an elementwise primitive without its expression does not compile
    const missing = () => defineUnary({ name: "noExpression", derivative: null });
    void missing;
  });
  it("bad operands are tagged errors naming the operation", () => {
    expect(() => run(function* () { return yield* Y.erf([1, 2] as never); })).toThrow(/erf: operand is a plain array/);
    expect(() => run(function* () { return yield* Y.atan2(tensor([1, 2, 3]), tensor([1, 2])); })).toThrow(/atan2: shapes \[3\] and \[2\]/);
  });
});
