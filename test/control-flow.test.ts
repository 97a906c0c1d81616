// cond, whileLoop and scan: eager vs jit vs finite differences; gradients eager, jit(grad)
// and grad(jit) (inline); vmap over cond; pytree carries and xs; a scan RNN; nested control
// flow; shape errors in both modes.
import { describe, expect, it } from "vitest";
import {
  abs,
  add,
  concat,
  cond,
  div,
  exp,
  grad,
  greater,
  jit,
  less,
  makeIR,
  matmul,
  mean,
  mul,
  reshape,
  run,
  scan,
  ShapeError,
  sin,
  square,
  sub,
  sum,
  tanh,
  tensor,
  Tensor,
  TransformError,
  valueAndGrad,
  vmap,
  whileLoop,
  zeros,
  type Effect,
  type Value,
} from "../src/index.ts";
import { numericGrad, randomTensor } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";

type Gen<R> = Generator<Effect, R, unknown>;


/** A finite-difference gradient agrees with an AD gradient (numbers or tensors). */
const FD_REL = 1e-6;

const f64 = (data: number[] | number[][]): Tensor => tensor(data);

// ---------------------------------------------------------------------------------------------
// cond

/** x > 0 ? x·sin(x) + y : x² − y, on numbers or tensors (scalar condition from the sum). */
function* piecewise(x: Value, y: Value): Gen<Value> {
  const s = typeof x === "number" ? x : yield* sum(x);
  return yield* cond(
    yield* greater(s, 0),
    function* (a: Value, b: Value) {
      return yield* add(yield* mul(a, yield* sin(a)), b);
    },
    function* (a: Value, b: Value) {
      return yield* sub(yield* square(a), b);
    },
    x,
    y,
  );
}
const piecewiseScalar = function* (x: Value, y: Value): Gen<Value> {
  const r = yield* piecewise(x, y);
  return typeof r === "number" ? r : yield* sum(r);
};

describe("cond", () => {
  it("eager and jit agree on both branches, with one compiled program holding an if", () => {
    const j = jit(piecewise);
    for (const x of [0.7, -0.4, 2, -3]) expect(run(j, x, 0.25)).toBe(run(piecewise, x, 0.25));
    for (const x of [f64([1, 2]), f64([-1, -2]), f64([3, -0.5])]) expectSame(run(j, x, 0.5), run(piecewise, x, 0.5));
    expect(j.info).toMatchObject({ compiles: 2, hits: 5 });
    for (const src of j.info.sources()) expect(src).toMatch(/if \(K\.truthy\(/);
    const ir = makeIR(piecewise)(0.7, 0.25).toString();
    expect(ir).toMatch(/= cond v\d+/);
    expect(ir).toContain("then:");
    expect(ir).toContain("else:");
  });

  it("grad eager equals finite differences; jit(grad) and grad(jit) equal eager", () => {
    for (const x of [0.7, -0.4]) {
      const g = run(grad(piecewise, { argnums: [0, 1] }), x, 0.25) as number[];
      const fd = numericGrad(piecewise, [x, 0.25], { argnums: [0, 1] }) as number[];
      expectSame(g, fd, FD_REL);
      expectSame(run(jit(grad(piecewise, { argnums: [0, 1] })), x, 0.25), g);
      const jp = jit(piecewise);
      expectSame(run(grad(jp, { argnums: [0, 1] }), x, 0.25), g);
      expect(jp.info).toMatchObject({ compiles: 0, inlined: 1 });
    }
    for (const x of [f64([1, 2]), f64([-1, 0.5])]) {
      const g = run(grad(piecewiseScalar), x, 0.5);
      expectSame(g, numericGrad(piecewiseScalar, [x, 0.5]), FD_REL);
      expectSame(run(jit(grad(piecewiseScalar)), x, 0.5), g);
      expectSame(run(jit(valueAndGrad(piecewiseScalar)), x, 0.5), run(valueAndGrad(piecewiseScalar), x, 0.5));
    }
  });

  it("jit(grad(cond)) is a real branch whose taken side returns its pullback closure", () => {
    const ir = makeIR(grad(piecewise))(0.7, 0.25);
    expect(ir.source).toContain("K.truthy");
    expect(ir.toString()).not.toContain("where(");
    expect(ir.toString()).toContain("lambda");
    expect(ir.toString()).toContain("apply");
    const jg = jit(grad(piecewise, { argnums: [0, 1] }));
    for (const x of [0.7, -0.4, 2, -3]) expectSame(run(jg, x, 0.25), run(grad(piecewise, { argnums: [0, 1] }), x, 0.25));
    for (const x of [f64([0.5, -0.2]), f64([-1, 0.3])]) {
      const g = grad(piecewiseScalar, { argnums: [0, 1] });
      expectSame(run(jit(g), x, 0.25), run(g, x, 0.25));
    }
  });

  it("jit(grad(cond)) whose branch reads a differentiated value through a closure selects instead", () => {
    function* f(x: Value) {
      return yield* cond(
        yield* greater(x, 0),
        function* () {
          return yield* mul(x, yield* sin(x));
        },
        function* () {
          return yield* square(x);
        },
      );
    }
    expect(makeIR(grad(f))(0.7).toString()).toContain("where(");
    for (const x of [0.7, -0.4]) expectSame(run(jit(grad(f)), x), run(grad(f), x));
  });

  it("vmap over cond: a per-example condition selects per example", () => {
    const xs = f64([0.7, -0.4, 2, -3, 0.1]);
    const batched = run(vmap((x: Value) => piecewise(x, 0.25)), xs) as Tensor;
    expect(batched.shape).toEqual([5]);
    Array.from(xs.buf).forEach((x, i) => expect(batched.buf[i]).toBe(run(piecewise, x, 0.25)));
    expectSame(run(jit(vmap((x: Value) => piecewise(x, 0.25))), xs), batched);
    // gradient of the batched select, per example
    const gs = run(grad(function* (v: Value) {
      return yield* sum(yield* vmap((x: Value) => piecewise(x, 0.25))(v));
    }), xs) as Tensor;
    Array.from(xs.buf).forEach((x, i) => expect(gs.buf[i]).toBeCloseTo(run(grad(piecewise), x, 0.25) as number, 12));
  });

  it("pytree operands and results", () => {
    function* f(p: Value, tree: { w: Value; pair: [Value, Value] }) {
      return yield* cond(
        p,
        function* (t: { w: Value; pair: [Value, Value] }) {
          return { out: yield* mul(t.w, t.pair[0]), aux: [t.pair[1]] };
        },
        function* (t: { w: Value; pair: [Value, Value] }) {
          return { out: yield* add(t.w, t.pair[1]), aux: [yield* exp(t.pair[0])] };
        },
        tree,
      );
    }
    const tree = { w: f64([1, 2, 3]), pair: [f64([0.5, -1, 2]), f64([4, 5, 6])] as [Value, Value] };
    const j = jit(f);
    for (const p of [1, 0]) expectSame(run(j, p, tree), run(f, p, tree));
    expect(j.info).toMatchObject({ compiles: 1, hits: 1 });
  });

  it("a number in one branch and a 0-d tensor in the other (the result is a 0-d tensor under jit)", () => {
    function* f(p: Value, x: Value) {
      const r = yield* cond(
        p,
        function* () {
          return 2 as Value;
        },
        function* (a: Value) {
          return yield* mul(a, 3);
        },
        x,
      );
      return yield* add(yield* exp(r), x);
    }
    const x = tensor(1.5);
    for (const p of [1, 0]) expectSame(run(jit(f), p, x), run(f, p, x));
  });

  it("a condition that is not a scalar is a ShapeError, eager and jit", () => {
    const f = function* (p: Value) {
      return yield* cond(p, function* () {
        return 1 as Value;
      }, function* () {
        return 2 as Value;
      });
    };
    expect(() => run(f, f64([1, 0]))).toThrow(ShapeError);
    expect(() => run(jit(f), f64([1, 0]))).toThrow(ShapeError);
    expect(() => run(jit(f), f64([1, 0]))).toThrow(/condition must be a scalar/);
    // a size-1 tensor is fine
    expect(run(jit(f), f64([0]))).toBe(2);
  });

  it("branches with different shapes: a ShapeError under jit and under jit(grad)", () => {
    function* f(p: Value, x: Value) {
      return yield* cond(p, function* (a: Value) {
        return a;
      }, function* (a: Value) {
        return yield* sum(a);
      }, x);
    }
    expect(() => run(jit(f), 1, f64([1, 2]))).toThrow(ShapeError);
    expect(() => run(jit(f), 1, f64([1, 2]))).toThrow(/branches' results differ.*\[2\].*\[\]/);
    const g = grad(function* (x: Value) {
      return yield* sum(yield* f(yield* greater(yield* sum(x), 0), x));
    });
    expect(() => run(jit(g), f64([1, 2]))).toThrow(ShapeError);
    // structure mismatch
    const h = function* (p: Value, x: Value) {
      return yield* cond(p, function* (a: Value) {
        return [a, a];
      }, function* (a: Value) {
        return [a];
      }, x);
    };
    expect(() => run(jit(h), 1, 2)).toThrow(/same structure/);
  });
});

// ---------------------------------------------------------------------------------------------
// whileLoop

/** Halves x until x < 1, counting the steps: [steps, x]. */
function* halve(x: Value): Gen<[Value, Value]> {
  return yield* whileLoop(
    function* ([, v]: [Value, Value]) {
      return yield* greater(v, 1);
    },
    function* ([n, v]: [Value, Value]) {
      return [yield* add(n, 1), yield* mul(v, 0.5)] as [Value, Value];
    },
    [0, x] as [Value, Value],
  );
}

/** Newton's iteration for √a from a, until |x² − a| < 1e-12·a. */
function* newtonSqrt(a: Value): Gen<Value> {
  const [, x] = yield* whileLoop(
    function* ([, x]: [Value, Value]) {
      return yield* greater(yield* abs(yield* sub(yield* mul(x, x), a)), yield* mul(a, 1e-12));
    },
    function* ([i, x]: [Value, Value]) {
      return [yield* add(i, 1), yield* mul(0.5, yield* add(x, yield* div(a, x)))] as [Value, Value];
    },
    [0, a] as [Value, Value],
  );
  return x;
}

describe("whileLoop", () => {
  it("eager and jit agree for different trip counts with one compiled loop", () => {
    const j = jit(halve);
    for (const x of [0.5, 3, 100, 1e6]) expectSame(run(j, x), run(halve, x));
    expect((run(j, 1e6) as number[])[0]).toBe(20);
    expect(j.info).toMatchObject({ compiles: 1, hits: 4 });
    const [src] = j.info.sources();
    expect(src).toContain("for (;;)");
    expect(src).toContain("break");
    const nj = jit(newtonSqrt);
    for (const a of [2, 10, 1e4]) expect(run(nj, a)).toBe(run(newtonSqrt, a));
    expect(run(nj, 2)).toBeCloseTo(Math.SQRT2, 14);
  });

  it("grad through an eager loop equals finite differences; grad(jit) runs inline and agrees", () => {
    for (const a of [2, 10]) {
      const g = run(grad(newtonSqrt), a) as number;
      expect(g).toBeCloseTo(0.5 / Math.sqrt(a), 10);
      expectSame(g, numericGrad(newtonSqrt, [a]), FD_REL);
      const j = jit(newtonSqrt);
      expectSame(run(grad(j), a), g);
      expect(j.info).toMatchObject({ compiles: 0, inlined: 1 });
    }
  });

  it("jit(grad) of a loop whose condition depends on the input throws the clear error", () => {
    const g = jit(grad(newtonSqrt));
    let err: unknown;
    try {
      run(g, 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransformError);
    expect((err as Error).message).toMatch(/whileLoop/);
    expect((err as Error).message).toMatch(/scan/);
    expect((err as Error).message).toMatch(/number of steps is unknown/);
    // a loop whose trip count does not depend on the differentiated input still unrolls
    const fixed = function* (x: Value) {
      const [, v] = yield* whileLoop(
        function* ([i]: [Value, Value]) {
          return yield* less(i, 4);
        },
        function* ([i, v]: [Value, Value]) {
          return [yield* add(i, 1), yield* sin(v)] as [Value, Value];
        },
        [0, x] as [Value, Value],
      );
      return v;
    };
    expectSame(run(jit(grad(fixed)), 0.3), run(grad(fixed), 0.3));
    expectSame(run(grad(fixed), 0.3), numericGrad(fixed, [0.3]), FD_REL);
  });

  it("a tensor carry inside jit", () => {
    function* shrink(x: Value) {
      return yield* whileLoop(
        function* (c: { i: Value; x: Value }) {
          return yield* greater(yield* sum(yield* abs(c.x)), 1);
        },
        function* (c: { i: Value; x: Value }) {
          return { i: yield* add(c.i, 1), x: yield* mul(yield* tanh(c.x), 0.9) };
        },
        { i: 0, x },
      );
    }
    const j = jit(shrink);
    for (const x of [f64([3, -4, 5]), f64([0.1, 0.2, 0.3]), f64([10, 10, -10])]) expectSame(run(j, x), run(shrink, x));
    expect(j.info).toMatchObject({ compiles: 1, hits: 2 });
    expect(makeIR(shrink)(f64([1, 2, 3])).toString()).toMatch(/= while \(0, v0\)/);
  });

  it("a constant init whose condition reads a staged value through a closure is staged as a loop", () => {
    function* countTo(limit: Value) {
      return yield* whileLoop(
        function* (c: Value) {
          return yield* less(c, limit);
        },
        function* (c: Value) {
          return yield* add(c, 1);
        },
        0 as Value,
      );
    }
    const j = jit(countTo);
    for (const limit of [0, 3, 7.5]) expect(run(j, limit)).toBe(run(countTo, limit));
    expect(run(j, 7.5)).toBe(8);
    expect(j.info).toMatchObject({ compiles: 1, hits: 3 });
    expect(j.info.sources()[0]).toContain("for (;;)");
    // a number carry that becomes a 0-d tensor
    function* accumulate(step: Value) {
      return yield* whileLoop(
        function* (c: Value) {
          return yield* less(c, 10);
        },
        function* (c: Value) {
          return yield* add(c, step);
        },
        0 as Value,
      );
    }
    expectSame(run(jit(accumulate), tensor(3)), run(accumulate, tensor(3)));
  });

  it("a carry changing shape is a ShapeError, eager and jit", () => {
    function* grow(x: Value) {
      return yield* whileLoop(
        function* (c: Value) {
          return yield* less(yield* sum(c), 10);
        },
        function* (c: Value) {
          return yield* concat([c, c], 0);
        },
        x,
      );
    }
    expect(() => run(grow, f64([1]))).toThrow(ShapeError);
    expect(() => run(jit(grow), f64([1]))).toThrow(ShapeError);
    expect(() => run(jit(grow), f64([1]))).toThrow(/carry before and after the body differ/);
  });
});

// ---------------------------------------------------------------------------------------------
// scan

function* cumsum(xs: Value): Gen<[Value, Value]> {
  return yield* scan(
    function* (c: Value, x: Value) {
      const n = yield* add(c, x);
      return [n, yield* mul(n, 2)] as [Value, Value];
    },
    0 as Value,
    xs,
  );
}

describe("scan", () => {
  it("eager and jit agree, with a number init (the carry becomes a 0-d tensor) and a tensor init", () => {
    const xs = f64([1, 2, 3, 4]);
    const want = run(cumsum, xs) as [Tensor, Tensor];
    expect(Array.from(want[1].buf)).toEqual([2, 6, 12, 20]);
    expectSame(run(jit(cumsum), xs), want);
    function* cumsum0(xs0: Value) {
      return yield* scan(function* (c: Value, x: Value) {
        const n = yield* add(c, x);
        return [n, n] as [Value, Value];
      }, tensor(0), xs0);
    }
    expectSame(run(jit(cumsum0), xs), run(cumsum0, xs));
    const src = makeIR(cumsum)(xs).source;
    expect(src).toMatch(/for \(let t\d+ = 0; t\d+ < 4; t\d+\+\+\)/);
  });

  it("grad eager equals finite differences; jit(grad) (unrolled) and grad(jit) (inline) equal eager", () => {
    function* loss(xs: Value, w: Value) {
      const [c, ys] = yield* scan(
        function* (h: Value, x: Value) {
          const n = yield* tanh(yield* add(yield* mul(h, w), x));
          return [n, yield* square(n)] as [Value, Value];
        },
        tensor(0.1),
        xs,
      );
      return yield* add(c, yield* sum(ys));
    }
    const xs = f64([0.5, -0.3, 0.8, 0.1]);
    const w = tensor(0.7);
    const g = run(grad(loss, { argnums: [0, 1] }), xs, w) as [Tensor, Tensor];
    expectSame(g, numericGrad(loss, [xs, w], { argnums: [0, 1] }), FD_REL);
    expectSame(run(jit(grad(loss, { argnums: [0, 1] })), xs, w), g);
    const j = jit(loss);
    expectSame(run(grad(j, { argnums: [0, 1] }), xs, w), g);
    expect(j.info).toMatchObject({ compiles: 0, inlined: 1 });
    expectSame(run(j, xs, w), run(loss, xs, w));
    expect(j.info.compiles).toBe(1);
  });

  it("pytree carries and pytree xs; ys stacked along a new leading axis", () => {
    type Carry = [Value, { m: Value }];
    type X = { a: Value; b: [Value] };
    function* f(init: Carry, xs: X) {
      return yield* scan(
        function* ([s, { m }]: Carry, x: X) {
          const s2 = yield* add(s, yield* sum(x.a));
          const m2 = yield* mul(m, x.b[0]);
          return [[s2, { m: m2 }], { row: x.a, prod: m2, total: s2, pair: [yield* mul(x.a, m2), 1] }] as [Carry, unknown];
        },
        init,
        xs,
      );
    }
    const init: Carry = [0, { m: f64([1, 1, 1]) }];
    const xs: X = { a: randomTensor([5, 2, 3], 1), b: [randomTensor([5, 3], 2)] };
    const want = run(f, init, xs) as [Carry, { row: Tensor; prod: Tensor; total: Tensor; pair: [Tensor, Tensor] }];
    const [, ys] = want;
    expect(ys.row.shape).toEqual([5, 2, 3]);
    expect(ys.prod.shape).toEqual([5, 3]);
    expect(ys.total.shape).toEqual([5]);
    expect(ys.pair[0].shape).toEqual([5, 2, 3]);
    expect(ys.pair[1].shape).toEqual([5]); // a number y_t stacks to a vector
    expectSame(ys.row, xs.a);
    const j = jit(f);
    const got = run(j, init, xs);
    expectSame(got, want);
    expect(run(j, init, { a: randomTensor([5, 2, 3], 3), b: [randomTensor([5, 3], 4)] })).toBeDefined();
    expect(j.info).toMatchObject({ compiles: 1, hits: 1 });
  });

  it("float32 ys stack as float32", () => {
    function* f(xs: Value) {
      return yield* scan(function* (c: Value, x: Value) {
        return [c, yield* mul(x, 2)] as [Value, Value];
      }, 0 as Value, xs);
    }
    const xs = tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float32" });
    const [, ys] = run(jit(f), xs) as [number, Tensor];
    expect(ys.dtype).toBe("float32");
    expect(ys.shape).toEqual([3, 2]);
    expectSame(run(jit(f), xs), run(f, xs));
  });

  it("{ length } without xs", () => {
    function* powers(x: Value) {
      return yield* scan(
        function* (c: Value) {
          const n = yield* mul(c, x);
          return [n, n] as [Value, Value];
        },
        x,
        undefined,
        { length: 4 },
      );
    }
    const [c, ys] = run(powers, 2) as [number, Tensor];
    expect(c).toBe(32);
    expect(Array.from(ys.buf)).toEqual([4, 8, 16, 32]);
    expectSame(run(jit(powers), 2), [c, ys]);
    const v = f64([0.5, 1.5]);
    expectSame(run(jit(powers), v), run(powers, v));
    const total = function* (x: Value) {
      const [cc, yy] = yield* powers(x);
      return yield* add(yield* sum(cc), yield* sum(yy));
    };
    // d/dx (x^5 + x^2 + x^3 + x^4 + x^5)
    const g = run(grad(total), 2) as number;
    expect(g).toBe(2 * 5 * 16 + 4 + 12 + 32);
    expectSame(g, numericGrad(total, [2]), FD_REL);
    expectSame(run(jit(grad(total)), v), run(grad(total), v));
  });

  it("errors: xs with different leading lengths, 0-d xs, no xs and no length, a bad body result, a carry changing shape", () => {
    function* two(a: Value, b: Value) {
      return yield* scan(function* (c: Value, x: [Value, Value]) {
        return [yield* add(c, yield* mul(x[0], x[1])), 0] as [Value, Value];
      }, 0 as Value, [a, b]);
    }
    for (const p of [two, jit(two)]) {
      expect(() => run(p, f64([1, 2, 3]), f64([1, 2]))).toThrow(ShapeError);
      expect(() => run(p, f64([1, 2, 3]), f64([1, 2]))).toThrow(/leading axes 3, 2/);
      expect(() => run(p, f64([1, 2, 3]), 5)).toThrow(/needs a leading axis/);
    }
    const noLength = function* () {
      return yield* scan(function* (c: Value) {
        return [c, c] as [Value, Value];
      }, 0 as Value, undefined);
    };
    expect(() => run(noLength)).toThrow(/pass \{ length \}/);
    expect(() => run(jit(noLength))).toThrow(/pass \{ length \}/);
    const bad = function* (xs: Value) {
      return yield* scan(function* (c: Value) {
        return c as unknown as [Value, Value];
      }, 0 as Value, xs);
    };
    expect(() => run(bad, f64([1, 2]))).toThrow(TransformError);
    expect(() => run(jit(bad), f64([1, 2]))).toThrow(/must return \[carry, y\]/);
    function* grow(xs: Value) {
      return yield* scan(function* (c: Value, x: Value) {
        return [yield* concat([c, yield* reshape(x, [1])], 0), x] as [Value, Value];
      }, f64([0]), xs);
    }
    for (const p of [grow, jit(grow)]) {
      expect(() => run(p, f64([1, 2, 3]))).toThrow(ShapeError);
      expect(() => run(p, f64([1, 2, 3]))).toThrow(/carry before and after the body differ at value 0: \[1\].*\[2\]/);
    }
    // the jitted programs recover after the errors
    const ok = run(jit(two), f64([1, 2]), f64([3, 4])) as [Tensor, Tensor];
    expectSame(ok, run(two, f64([1, 2]), f64([3, 4])));
    expect(ok[0].buf[0]).toBe(11);
    expect(Array.from(ok[1].buf)).toEqual([0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
// A scan RNN: the jitted loss and gradients equal eager.

interface RnnParams {
  wx: Value;
  wh: Value;
  b: Value;
  wo: Value;
}

function* rnnLoss(p: RnnParams, xs: Value, targets: Value): Gen<Value> {
  const h0 = zeros([2, 4]);
  const [, ys] = yield* scan(
    function* (h: Value, x: Value) {
      const hNext = yield* tanh(yield* add(yield* add(yield* matmul(x, p.wx), yield* matmul(h, p.wh)), p.b));
      return [hNext, yield* matmul(hNext, p.wo)] as [Value, Value];
    },
    h0 as Value,
    xs,
  );
  return yield* mean(yield* square(yield* sub(ys, targets)));
}

describe("a scan RNN", () => {
  const params = (seed: number): RnnParams => ({
    wx: randomTensor([3, 4], seed, { lo: -0.5, hi: 0.5 }),
    wh: randomTensor([4, 4], seed + 1, { lo: -0.5, hi: 0.5 }),
    b: randomTensor([4], seed + 2, { lo: -0.1, hi: 0.1 }),
    wo: randomTensor([4, 1], seed + 3, { lo: -0.5, hi: 0.5 }),
  });
  const T = 6;
  const xs = randomTensor([T, 2, 3], 10);
  const targets = randomTensor([T, 2, 1], 11);

  it("jitted and eager losses agree; the loop is kept (not unrolled) in jit(loss)", () => {
    const j = jit(rnnLoss);
    for (const seed of [1, 2, 3]) expectSame(run(j, params(seed), xs, targets), run(rnnLoss, params(seed), xs, targets));
    expect(j.info).toMatchObject({ compiles: 1, hits: 2 });
    // the code for 40 steps is as long as the code for 6 steps: one loop with another bound
    const long = makeIR(rnnLoss)(params(1), randomTensor([40, 2, 3], 12), randomTensor([40, 2, 1], 13)).source;
    const [short] = j.info.sources();
    expect(short).toMatch(/for \(let t\d+ = 0; t\d+ < 6;/);
    expect(long).toMatch(/for \(let t\d+ = 0; t\d+ < 40;/);
    expect(long.split("\n").length).toBe(short!.split("\n").length);
    expect(long.split(".impl(").length).toBe(short!.split(".impl(").length);
  });

  it("jit(grad), jit(valueAndGrad) and grad(jit) equal eager grad; eager grad equals finite differences", () => {
    const p = params(4);
    const g = run(grad(rnnLoss), p, xs, targets) as RnnParams;
    const jg = jit(grad(rnnLoss));
    expectSame(run(jg, p, xs, targets), g);
    expectSame(run(jg, params(5), xs, targets), run(grad(rnnLoss), params(5), xs, targets));
    expect(jg.info).toMatchObject({ compiles: 1, hits: 1 });
    expectSame(run(jit(valueAndGrad(rnnLoss)), p, xs, targets), run(valueAndGrad(rnnLoss), p, xs, targets));
    const j = jit(rnnLoss);
    expectSame(run(grad(j), p, xs, targets), g);
    expect(j.info.inlined).toBe(1);
    // finite differences on the recurrent weights and the bias
    for (const key of ["wh", "b"] as const) {
      const partial = function* (w: Value) {
        return yield* rnnLoss({ ...p, [key]: w }, xs, targets);
      };
      expectSame(g[key], numericGrad(partial, [p[key]]), FD_REL);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// grad or vmap inside jit, with branch and loop bodies reading their values through closures
// (the condition, init and xs being jit's own staged arguments)

describe("closures over an inner transformation's values inside jit", () => {
  const xs = f64([0.5, -0.3, 0.8]);
  function* scanLoss(w: Value, data: Value) {
    const [c] = yield* scan(function* (h: Value, x: Value) {
      return [yield* tanh(yield* add(yield* mul(h, w), x)), 0] as [Value, Value];
    }, tensor(0.1), data);
    return c;
  }
  function* condLoss(w: Value, p: Value) {
    return yield* cond(p, function* () {
      return yield* sin(w);
    }, function* () {
      return yield* mul(w, w);
    });
  }
  function* whileLoss(w: Value, n: Value) {
    const [, acc] = yield* whileLoop(
      function* ([i]: [Value, Value]) {
        return yield* less(i, n);
      },
      function* ([i, a]: [Value, Value]) {
        return [yield* add(i, 1), yield* mul(a, w)] as [Value, Value];
      },
      [0, tensor(1)] as [Value, Value],
    );
    return acc;
  }
  const w = tensor(0.7);

  it("jit(grad) of scan and cond: unrolled / selected, equal to eager and finite differences", () => {
    const gs = run(grad(scanLoss), w, xs);
    expectSame(gs, numericGrad(scanLoss, [w, xs]), FD_REL);
    expectSame(run(jit(grad(scanLoss)), w, xs), gs);
    for (const p of [1, 0]) {
      const gc = run(grad(condLoss), w, p);
      expectSame(gc, numericGrad(condLoss, [w, p]), FD_REL);
      expectSame(run(jit(grad(condLoss)), w, p), gc);
    }
  });

  it("jit(grad) of loops carrying what they differentiate: real loops whose steps return pullback closures", () => {
    // Newton's √a with a in the carry: the trip count depends on the input, known at run time only
    function* sqrtCarry(a: Value) {
      const [, , x] = yield* whileLoop(
        function* ([, a, x]: [Value, Value, Value]) {
          return yield* greater(yield* abs(yield* sub(yield* mul(x, x), a)), yield* mul(a, 1e-12));
        },
        function* ([i, a, x]: [Value, Value, Value]) {
          return [yield* add(i, 1), a, yield* mul(0.5, yield* add(x, yield* div(a, x)))] as [Value, Value, Value];
        },
        [0, a, a] as [Value, Value, Value],
      );
      return x;
    }
    const jg = jit(grad(sqrtCarry));
    for (const a of [2, 10, 1e4]) {
      const g = run(grad(sqrtCarry), a) as number;
      expect(g).toBeCloseTo(0.5 / Math.sqrt(a), 10);
      expectSame(run(jg, a), g);
    }
    expect(jg.info.compiles).toBe(1); // one program for every trip count
    const ir = String(makeIR(grad(sqrtCarry))(2));
    expect(ir).toContain("while collecting");
    expect(ir).toContain("scan reverse");
    // scan with the weight in the carry (unchanged) and a tensor recurrence: a for loop and its reverse
    function* rnn(w: Value, xs: Value) {
      const [[, h], ys] = yield* scan(
        function* ([w, h]: [Value, Value], x: Value) {
          const n = yield* tanh(yield* add(yield* mul(h, w), x));
          return [[w, n], yield* sum(yield* mul(n, n))] as [[Value, Value], Value];
        },
        [w, tensor([0.1, -0.2])] as [Value, Value],
        xs,
      );
      return yield* add(yield* sum(h), yield* sum(ys));
    }
    const g2 = grad(rnn, { argnums: [0, 1] });
    const seq = f64([[1, 2], [3, -4], [0.5, -1], [0.25, 0.75]]);
    const want = run(g2, 0.7, seq);
    expectSame(want, numericGrad(rnn, [0.7, seq], { argnums: [0, 1] }), FD_REL);
    expectSame(run(jit(g2), 0.7, seq), want);
    const src = String(makeIR(g2)(0.7, seq));
    expect(src).toMatch(/= scan 4 /);
    expect(src).toMatch(/= scan reverse 4 /);
  });

  it("jit(grad) of a whileLoop with a data-dependent trip count: the clear error", () => {
    expectSame(run(grad(whileLoss), w, 3), tensor(3 * 0.49));
    expect(() => run(jit(grad(whileLoss)), w, 3)).toThrow(TransformError);
    expect(() => run(jit(grad(whileLoss)), w, 3)).toThrow(/use scan with a fixed length/);
  });

  it("jit(vmap) with the body reading the batched value", () => {
    const ws = f64([0.1, 0.7, -0.4]);
    const f = function* (v: Value, data: Value) {
      return yield* vmap((wi: Value) => scanLoss(wi, data))(v);
    };
    const want = run(f, ws, xs) as Tensor;
    expect(want.shape).toEqual([3]);
    expectSame(run(jit(f), ws, xs), want);
    const g = function* (v: Value, p: Value) {
      return yield* vmap((wi: Value) => condLoss(wi, p))(v);
    };
    for (const p of [1, 0]) expectSame(run(jit(g), ws, p), run(g, ws, p));
  });
});

// ---------------------------------------------------------------------------------------------
// Nested control flow

describe("nested control flow", () => {
  /** sum of xs if pred, else a product-like recurrence: scan inside cond. */
  function* scanInCond(p: Value, xs: Value): Gen<Value> {
    return yield* cond(
      p,
      function* (v: Value) {
        const [c] = yield* scan(function* (acc: Value, x: Value) {
          return [yield* add(acc, yield* sin(x)), 0] as [Value, Value];
        }, tensor(0), v);
        return c;
      },
      function* (v: Value) {
        const [c] = yield* scan(function* (acc: Value, x: Value) {
          return [yield* mul(acc, yield* add(x, 1)), 0] as [Value, Value];
        }, tensor(1), v);
        return c;
      },
      xs,
    );
  }

  /** a scan whose body branches per step: cond inside scan. */
  function* condInScan(xs: Value, w: Value): Gen<Value> {
    const [c, ys] = yield* scan(
      function* (acc: Value, x: Value) {
        const next = yield* cond(
          yield* greater(x, 0),
          function* (a: Value, b: Value) {
            return yield* add(a, yield* mul(b, w));
          },
          function* (a: Value, b: Value) {
            return yield* mul(a, yield* exp(b));
          },
          acc,
          x,
        );
        return [next, yield* square(next)] as [Value, Value];
      },
      tensor(0.5),
      xs,
    );
    return yield* add(c, yield* sum(ys));
  }

  const xs = f64([0.3, -0.7, 1.1, -0.2, 0.5]);

  it("scan inside cond: eager and jit agree on both branches; jit(grad) and FD", () => {
    const j = jit(scanInCond);
    for (const p of [1, 0]) expectSame(run(j, p, xs), run(scanInCond, p, xs));
    expect(j.info).toMatchObject({ compiles: 1, hits: 1 });
    const ir = makeIR(scanInCond)(1, xs).toString();
    expect(ir).toMatch(/cond[\s\S]*then:[\s\S]*scan 5[\s\S]*else:[\s\S]*scan 5/);
    for (const p of [1, 0]) {
      const f = (v: Value) => scanInCond(p, v);
      const g = run(grad(f), xs);
      expectSame(g, numericGrad(f, [xs]), FD_REL);
      expectSame(run(jit(grad(f)), xs), g);
    }
  });

  it("cond inside scan: eager and jit agree; jit(grad), grad(jit) and FD", () => {
    const w = tensor(0.8);
    const j = jit(condInScan);
    expectSame(run(j, xs, w), run(condInScan, xs, w));
    expectSame(run(j, f64([-1, -2, 3, 4, -5]), w), run(condInScan, f64([-1, -2, 3, 4, -5]), w));
    const ir = makeIR(condInScan)(xs, w).toString();
    expect(ir).toMatch(/scan 5[\s\S]*body:[\s\S]*cond/);
    const g = run(grad(condInScan, { argnums: [0, 1] }), xs, w);
    expectSame(g, numericGrad(condInScan, [xs, w], { argnums: [0, 1] }), FD_REL);
    expectSame(run(jit(grad(condInScan, { argnums: [0, 1] })), xs, w), g);
    const inline = jit(condInScan);
    expectSame(run(grad(inline, { argnums: [0, 1] }), xs, w), g);
    expect(inline.info.inlined).toBe(1);
    // vmap over a batch of sequences (the per-step cond becomes a select)
    const batch = tensor([[0.3, -0.7, 1.1, -0.2, 0.5], [-1, 2, -3, 0.4, 0.1]]);
    const vm = run(jit(vmap((s: Value) => condInScan(s, w))), batch) as Tensor;
    expect(vm.shape).toEqual([2]);
    [0, 1].forEach((i) => expect(vm.buf[i]).toBeCloseTo((run(condInScan, tensor(Array.from(batch.buf.subarray(i * 5, i * 5 + 5))), w) as Tensor).buf[0]!, 12));
  });

  it("while inside scan inside jit, with a tensor carry", () => {
    function* f(xs: Value) {
      return yield* scan(
        function* (h: Value, x: Value) {
          // shrink h + x until its norm is below 1
          const shrunk = yield* whileLoop(
            function* (v: Value) {
              return yield* greater(yield* sum(yield* square(v)), 1);
            },
            function* (v: Value) {
              return yield* mul(v, 0.5);
            },
            yield* add(h, x),
          );
          return [shrunk, yield* sum(shrunk)] as [Value, Value];
        },
        zeros([3]) as Value,
        xs,
      );
    }
    const seq = randomTensor([4, 3], 21, { lo: -3, hi: 3 });
    const j = jit(f);
    expectSame(run(j, seq), run(f, seq));
    const ir = makeIR(f)(seq).toString();
    expect(ir).toMatch(/scan 4[\s\S]*body:[\s\S]*while/);
  });
});
