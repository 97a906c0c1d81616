// First-order derivatives of every operation, in both modes, against finite differences
// (float64, relative error < 1e-6), on random shapes and values from fast-check.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  abs, add, avgPool2d, broadcastTo, concat, conv2d, cos, customVjp, div, dot, equal, exp, expm1, grad, greater,
  greaterEqual, jvp, less, lessEqual, log, log1p, logSoftmax, logsumexp, matmul, max, maxPool2d, maximum, mean, min,
  minimum, mul, neg, pow, primal, relu, reshape, run, sigmoid, sign, sin, slice, softmax, sqrt, square, stopGradient,
  sub, sum, take, tan, tanh, tensor, transpose, valueAndGrad, vjp, where, Tensor,
  type Effect, type Value,
} from "../src/index.ts";
import {
  checkGrads, distinctLeaves, jvpVjpConsistent, numericGrad, randomLeaf, randomNumber, randomTensor, type Leaf, type ValueOptions,
} from "./check-grads.ts";

// GRAD_RUNS_SCALE=20 npx vitest run test/grad-ops.test.ts: a longer search (kept small by default)
const SCALE = Number(process.env.GRAD_RUNS_SCALE ?? 1);
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * SCALE)), includeErrorInReport: true });
const RUNS = runs(10);
const dim = fc.integer({ min: 1, max: 3 });
const shapeArb = (minRank = 0, maxRank = 3) => fc.array(dim, { minLength: minRank, maxLength: maxRank });
const seedArb = fc.integer({ min: 0, max: 0x3fffffff });
const fmt = (s: readonly number[] | null): string => (s === null ? "number" : `[${s.join(",")}]`);

type Shape = number[] | null; // null: a plain number
type Op1 = (x: Value) => Effect<Value>;
type Op2 = (a: Value, b: Value) => Effect<Value>;
const vals = (x: unknown): number[] => (typeof x === "number" ? [x] : Array.from((x as Tensor).data));

/**
 * n operand shapes that broadcast together: each is the output shape with some leading axes
 * dropped and some axes set to 1, or (about one time in six) a plain number.
 */
const broadcastShapes = (n: number, numbers = true) =>
  fc
    .record({
      out: shapeArb(0, 3),
      drop: fc.array(fc.nat(3), { minLength: n, maxLength: n }),
      ones: fc.array(fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), { minLength: n, maxLength: n }),
      num: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: n, maxLength: n }),
    })
    .map(({ out, drop, ones, num }) =>
      drop.map((d, k): Shape => (numbers && num[k] === 0 ? null : out.slice(Math.min(d, out.length)).map((x, i, arr) => (ones[k]![arr.length - 1 - i] ? 1 : x)))),
    );

/** An axis argument for a tensor of `rank`: undefined, one axis, or a list (negatives too). */
const axisArb = (rank: number) =>
  fc
    .record({
      kind: fc.integer({ min: 0, max: 3 }),
      pick: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      negate: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      reverse: fc.boolean(),
      first: fc.nat(2),
    })
    .map(({ kind, pick, negate, reverse, first }): number | number[] | undefined => {
      const signed = (a: number) => (negate[a] ? a - rank : a);
      if (rank === 0) return kind % 2 === 0 ? undefined : [];
      if (kind === 0) return undefined;
      if (kind === 1) return signed(first % rank);
      if (kind === 3) return [];
      const axes = Array.from({ length: rank }, (_, a) => a).filter((a) => pick[a]).map(signed);
      return reverse ? axes.reverse() : axes;
    });

// ---------------------------------------------------------------------------------------------
describe("the helper catches wrong derivatives", () => {
  it("a wrong reverse rule fails mode rev at order 1, naming the op and the error", () => {
    const bad = customVjp(
      function* (x: Value) {
        return yield* sin(x);
      },
      function* (x: Value) {
        return [yield* sin(x), x] as [Value, unknown];
      },
      function* (x: never, ct: never) {
        return [yield* mul(ct, yield* mul(1.001, yield* cos(x)))];
      },
    );
    const x = randomTensor([3], 1);
    expect(() => checkGrads(bad, [x], { name: "badSin", modes: ["fwd"] })).not.toThrow();
    expect(() => checkGrads(bad, [x], { name: "badSin", modes: ["rev"] })).toThrow(/badSin, order 1, mode rev.*max error/);
  });

  it("a derivative that ignores the input's dependence fails mode fwd and rev", () => {
    // x·primal(x): AD sees d/dx = primal(x), finite differences see 2x
    const bad = function* (x: Value) {
      return yield* mul(x, primal(x));
    };
    expect(() => checkGrads(bad, [randomTensor([2, 2], 2)], { name: "bad", modes: ["fwd"] })).toThrow(/bad, order 1, mode fwd.*max error/);
    expect(() => checkGrads(bad, [randomTensor([2, 2], 2)], { name: "bad", modes: ["rev"] })).toThrow(/bad, order 1, mode rev.*max error/);
    expect(() => jvpVjpConsistent(bad, [randomTensor([2, 2], 2)])).not.toThrow(); // J itself is consistent
  });

  it("a first derivative that is right but not differentiable fails at order 2", () => {
    const bad = customVjp(
      function* (x: Value) {
        return yield* sin(x);
      },
      function* (x: Value) {
        return [yield* sin(x), x] as [Value, unknown];
      },
      function* (x: never, ct: never) {
        return [yield* mul(ct, Math.cos(primal(x as Value) as number))];
      },
    );
    expect(() => checkGrads(bad, [0.4], { name: "constCos" })).not.toThrow();
    expect(() => checkGrads(bad, [0.4], { name: "constCos", order: 2, modes: ["rev"] })).toThrow(/constCos, order 2, mode (fwd|rev) over rev.*max error/);
  });

  it("numericGrad gives plain finite-difference gradients", () => {
    const f = function* (x: Value, y: Value) {
      return yield* sum(yield* mul(yield* sin(x), y));
    };
    const x = randomTensor([3], 3);
    const g = numericGrad(f, [x, 2]) as Tensor;
    expect(g.shape).toEqual([3]);
    vals(g).forEach((v, i) => expect(v).toBeCloseTo(2 * Math.cos(vals(x)[i]!), 9));
    const [gx, gy] = numericGrad(f, [x, 2], { argnums: [0, 1] }) as [Tensor, number];
    expect(typeof gy).toBe("number");
    expect(gy).toBeCloseTo(vals(x).reduce((s, v) => s + Math.sin(v), 0), 9);
    expect(vals(gx)).toEqual(vals(g));
  });
});

// ---------------------------------------------------------------------------------------------
const BINARY: [string, Op2, ValueOptions, ValueOptions][] = [
  ["add", add, {}, {}],
  ["sub", sub, {}, {}],
  ["mul", mul, {}, {}],
  ["div", div, {}, { awayFromZero: 0.5 }],
  ["pow", pow, { lo: 0.5, hi: 2 }, {}],
];

describe("elementwise binary ops, with broadcasting", () => {
  it.each(BINARY)("%s", (name, op, va, vb) => {
    fc.assert(
      fc.property(broadcastShapes(2), seedArb, ([sa, sb], seed) => {
        const a = randomLeaf(sa!, seed, va);
        const b = randomLeaf(sb!, seed ^ 0x5555, vb);
        checkGrads(function* (x: Value, y: Value) {
          return yield* op(x, y);
        }, [a, b], { name: `${name} ${fmt(sa!)} ${fmt(sb!)}` });
      }),
      RUNS,
    );
  });

  it.each([["maximum", maximum], ["minimum", minimum]] as [string, Op2][])("%s (no ties)", (name, op) => {
    fc.assert(
      fc.property(broadcastShapes(2), seedArb, ([sa, sb], seed) => {
        const [a, b] = distinctLeaves([sa!, sb!], seed);
        checkGrads(function* (x: Value, y: Value) {
          return yield* op(x, y);
        }, [a!, b!], { name: `${name} ${fmt(sa!)} ${fmt(sb!)}` });
      }),
      RUNS,
    );
  });

  it("pow with a constant exponent, a constant base, and integer powers of negatives", () => {
    fc.assert(
      fc.property(shapeArb(0, 2), seedArb, (s, seed) => {
        const x = randomTensor(s, seed, { lo: 0.5, hi: 2 });
        checkGrads(function* (v: Value) {
          return yield* pow(v, 2.5);
        }, [x], { name: "pow(x, 2.5)" });
        checkGrads(function* (v: Value) {
          return yield* pow(2, v);
        }, [x], { name: "pow(2, x)" });
        checkGrads(function* (v: Value) {
          return yield* pow(v, 3);
        }, [randomTensor(s, seed, { awayFromZero: 0.3 })], { name: "pow(x, 3) for any sign" });
      }),
      runs(5),
    );
  });

  it("where: the condition is constant, both branches broadcast", () => {
    fc.assert(
      fc.property(broadcastShapes(3), seedArb, ([sc, sa, sb], seed) => {
        const c = sc === null ? seed % 2 : maskTensor(sc!, seed ^ 0x777);
        const a = randomLeaf(sa!, seed, {});
        const b = randomLeaf(sb!, seed ^ 0x1234, {});
        checkGrads(function* (x: Value, y: Value) {
          return yield* where(c, x, y);
        }, [a, b], { name: `where ${fmt(sc!)} ${fmt(sa!)} ${fmt(sb!)}` });
      }),
      RUNS,
    );
    // a traced condition: leaky relu
    checkGrads(function* leakyRelu(x: Value) {
      return yield* where(yield* greater(x, 0), x, yield* mul(0.1, x));
    }, [randomTensor([2, 3], 9, { awayFromZero: 0.1 })]);
  });
});

const maskTensor = (shape: number[], seed: number): Tensor => {
  const t = randomTensor(shape, seed);
  return tensor(Float64Array.from(t.buf, (v) => (v > 0 ? 1 : 0)), { shape });
};

// ---------------------------------------------------------------------------------------------
const UNARY: [string, Op1, ValueOptions][] = [
  ["neg", neg, {}],
  ["exp", exp, {}],
  ["log", log, { lo: 0.2, hi: 3 }],
  ["sin", sin, {}],
  ["cos", cos, {}],
  ["tan", tan, { lo: -1.2, hi: 1.2 }],
  ["tanh", tanh, {}],
  ["sigmoid", sigmoid, { lo: -4, hi: 4 }],
  ["relu", relu, { awayFromZero: 0.05 }],
  ["sqrt", sqrt, { lo: 0.2, hi: 3 }],
  ["square", square, {}],
  ["abs", abs, { awayFromZero: 0.05 }],
  ["log1p", log1p, { lo: -0.7, hi: 3 }],
  ["expm1", expm1, {}],
  ["sign", sign, { awayFromZero: 0.05 }],
];

describe("elementwise unary ops", () => {
  it.each(UNARY)("%s", (name, op, vo) => {
    fc.assert(
      fc.property(shapeArb(0, 3), fc.boolean(), seedArb, (s, asNumber, seed) => {
        const x = randomLeaf(asNumber ? null : s, seed, vo);
        checkGrads(function* (v: Value) {
          return yield* op(v);
        }, [x], { name: `${name} ${asNumber ? "number" : fmt(s)}` });
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
const COMPARISONS: [string, Op2][] = [
  ["greater", greater],
  ["less", less],
  ["equal", equal],
  ["greaterEqual", greaterEqual],
  ["lessEqual", lessEqual],
];

/** Cotangents from vjp with a ones cotangent, and the jvp tangent along ones. */
const derivatives = (f: (...a: Value[]) => Generator<Effect, unknown, unknown>, args: Leaf[]) => {
  const out = run(f, ...args) as Leaf;
  const cts = run(function* () {
    const [, pb] = yield* vjp(f, ...args);
    return yield* pb(typeof out === "number" ? 1 : tensor(new Float64Array(out.size).fill(1), { shape: out.shape }));
  }) as Leaf[];
  const [, t] = run(function* () {
    return yield* jvp(f, args, args.map((a) => (typeof a === "number" ? 1 : tensor(new Float64Array(a.size).fill(1), { shape: a.shape }))));
  }) as [Leaf, Leaf];
  return { cts, t };
};

describe("comparisons and sign: derivative exactly zero", () => {
  it.each(COMPARISONS)("%s", (name, op) => {
    fc.assert(
      fc.property(broadcastShapes(2), seedArb, ([sa, sb], seed) => {
        const [a, b] = distinctLeaves([sa!, sb!], seed);
        const f = function* (x: Value, y: Value) {
          return yield* op(x, y);
        };
        const { cts, t } = derivatives(f, [a!, b!]);
        cts.forEach((c, i) => {
          expect(typeof c).toBe(typeof [a, b][i]);
          expect(vals(c).every((v) => v === 0)).toBe(true);
        });
        expect(vals(t).every((v) => v === 0)).toBe(true);
        // as a mask inside a differentiable program: the derivative is the mask
        checkGrads(function* (x: Value, y: Value) {
          return yield* mul(yield* op(x, y), yield* mul(x, y));
        }, [a!, b!], { name: `${name} mask ${fmt(sa!)} ${fmt(sb!)}` });
      }),
      runs(8),
    );
  });

  it("sign", () => {
    const x = randomTensor([2, 3], 5, { awayFromZero: 0.1 });
    const { cts, t } = derivatives(function* (v: Value) {
      return yield* sign(v);
    }, [x]);
    expect(vals(cts[0]).every((v) => v === 0)).toBe(true);
    expect(vals(t).every((v) => v === 0)).toBe(true);
    expect(run(grad(function* (v: Value) {
      return yield* sign(v);
    }), 0.7)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
type Reduce = (x: Value, axis?: number | readonly number[], keepdims?: boolean) => Effect<Value>;
const REDUCTIONS: [string, Reduce, boolean][] = [
  ["sum", sum, false],
  ["mean", mean, false],
  ["max", max, true],
  ["min", min, true],
  ["logsumexp", logsumexp, false],
];

describe("reductions, with axis variants and keepdims", () => {
  it.each(REDUCTIONS)("%s", (name, op, distinct) => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => fc.tuple(fc.constant(s), axisArb(s.length), fc.boolean(), seedArb)),
        ([s, axis, keepdims, seed]) => {
          const x = distinct ? distinctLeaves([s], seed)[0]! : randomTensor(s, seed);
          checkGrads(function* (v: Value) {
            return yield* op(v, axis, keepdims);
          }, [x], { name: `${name} ${fmt(s)} axis ${JSON.stringify(axis)} keepdims ${keepdims}` });
        },
      ),
      runs(15),
    );
  });

  it("reductions of plain numbers", () => {
    // max/min of a traced number are left out: lax.max/min crash on them (see the report)
    for (const [name, op] of REDUCTIONS.filter(([, , distinct]) => !distinct))
      checkGrads(function* (v: Value) {
        return yield* op(v);
      }, [0.7], { name: `${name} of a number` });
  });

  it("max/min send the derivative to the extreme element only", () => {
    const x = tensor([[0.3, 1.5, -2], [4, 0.1, 0.2]]);
    const g = run(grad(function* (v: Value) {
      return yield* sum(yield* max(v, 1));
    }), x) as Tensor;
    expect(g.toArray()).toEqual([[0, 1, 0], [1, 0, 0]]);
    const h = run(grad(function* (v: Value) {
      return yield* min(v, -2, true);
    }), tensor([[2], [1]])) as Tensor; // a [1, 1] output: grad of a size-1 tensor
    expect(h.toArray()).toEqual([[0], [1]]);
  });
});

describe("softmax and logSoftmax", () => {
  it.each([["softmax", softmax], ["logSoftmax", logSoftmax]] as [string, (x: Value, axis?: number) => Effect<unknown>][])("%s", (name, op) => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) => fc.tuple(fc.constant(s), fc.option(fc.integer({ min: -s.length, max: s.length - 1 })), seedArb)),
        ([s, axis, seed]) => {
          const x = randomTensor(s, seed, { lo: -3, hi: 3 });
          checkGrads(function* (v: Value) {
            return axis === null ? yield* op(v) : yield* op(v, axis);
          }, [x], { name: `${name} ${fmt(s)} axis ${axis}` });
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe("linear algebra", () => {
  const matmulCase = fc.record({
    m: dim,
    k: dim,
    n: dim,
    batch: shapeArb(0, 2),
    drop: fc.nat(2),
    onesA: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    onesB: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    aVec: fc.integer({ min: 0, max: 3 }),
    bVec: fc.integer({ min: 0, max: 3 }),
    seed: seedArb,
  });

  it("matmul: 1-d, 2-d, batched with broadcast batch dims", () => {
    fc.assert(
      fc.property(matmulCase, ({ m, k, n, batch, drop, onesA, onesB, aVec, bVec, seed }) => {
        const ba = batch.map((d, i) => (onesA[i] ? 1 : d));
        const bb = batch.slice(Math.min(drop, batch.length)).map((d, i, arr) => (onesB[arr.length - 1 - i] ? 1 : d));
        const sa = aVec === 0 ? [k] : [...ba, m, k];
        const sb = bVec === 0 ? [k] : [...bb, k, n];
        checkGrads(function* (a: Value, b: Value) {
          return yield* matmul(a, b);
        }, [randomTensor(sa, seed), randomTensor(sb, seed ^ 0x2222)], { name: `matmul ${fmt(sa)} ${fmt(sb)}` });
      }),
      runs(15),
    );
  });

  it("dot: vectors, matrices and scalars", () => {
    const cases: [Shape, Shape][] = [
      [[3], [3]],
      [[2, 3], [3]],
      [[3], [3, 2]],
      [[2, 3], [3, 4]],
      [null, [2, 3]],
      [[3], null],
      [null, null],
    ];
    cases.forEach(([sa, sb], i) =>
      checkGrads(function* (a: Value, b: Value) {
        return yield* dot(a, b);
      }, [randomLeaf(sa, i), randomLeaf(sb, i + 100)], { name: `dot ${fmt(sa)} ${fmt(sb)}` }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe("shape operations", () => {
  it("reshape (incl. -1)", () => {
    fc.assert(
      fc.property(shapeArb(0, 3), fc.integer({ min: 0, max: 4 }), seedArb, (s, kind, seed) => {
        const n = s.reduce((a, b) => a * b, 1);
        const target = [[n], [-1], [...s, 1], [1, n], [...s].reverse()][kind]!;
        checkGrads(function* (v: Value) {
          return yield* reshape(v, target);
        }, [randomTensor(s, seed)], { name: `reshape ${fmt(s)} to ${fmt(target)}` });
      }),
      RUNS,
    );
  });

  it("transpose (default and explicit perms)", () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) =>
          fc.tuple(fc.constant(s), fc.option(fc.shuffledSubarray(Array.from({ length: s.length }, (_, i) => i), { minLength: s.length, maxLength: s.length })), seedArb),
        ),
        ([s, perm, seed]) => {
          checkGrads(function* (v: Value) {
            return perm === null ? yield* transpose(v) : yield* transpose(v, perm);
          }, [randomTensor(s, seed)], { name: `transpose ${fmt(s)} ${JSON.stringify(perm)}` });
        },
      ),
      RUNS,
    );
  });

  it("broadcastTo (size-1 axes and new leading axes)", () => {
    fc.assert(
      fc.property(broadcastShapes(1, false), shapeArb(0, 1), seedArb, ([s], extra, seed) => {
        // the target: s with its 1s widened and possibly one more leading axis
        const target = [...extra, ...s!.map((d) => (d === 1 ? 2 : d))];
        checkGrads(function* (v: Value) {
          return yield* broadcastTo(v, target);
        }, [randomTensor(s!, seed)], { name: `broadcastTo ${fmt(s!)} to ${fmt(target)}` });
      }),
      RUNS,
    );
  });

  it("concat (1 to 3 operands, negative axes)", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) =>
          fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 }), fc.array(dim, { minLength: 1, maxLength: 3 }), seedArb),
        ),
        ([s, axis, lengths, seed]) => {
          const a = axis < 0 ? axis + s.length : axis;
          const xs = lengths.map((len, i) => randomTensor(s.map((d, j) => (j === a ? len : d)), seed + i));
          checkGrads(function* (...vs: Value[]) {
            return yield* concat(vs, axis);
          }, xs, { name: `concat ${xs.map((x) => fmt(x.shape as number[])).join(" ")} axis ${axis}` });
        },
      ),
      RUNS,
    );
  });

  it("slice", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.tuple(...s.map((d) => fc.tuple(fc.integer({ min: 0, max: d - 1 }), fc.integer({ min: 1, max: d })).map(([a, b]) => (a < b ? [a, b] : [b - 1, a + 1])))),
            seedArb,
          ),
        ),
        ([s, ranges, seed]) => {
          const starts = ranges.map((r) => r[0]!);
          const ends = ranges.map((r) => r[1]!);
          checkGrads(function* (v: Value) {
            return yield* slice(v, starts, ends);
          }, [randomTensor(s, seed)], { name: `slice ${fmt(s)} ${fmt(starts)}..${fmt(ends)}` });
        },
      ),
      RUNS,
    );
  });

  it("take (repeated indices, negative axes, index tensors)", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.integer({ min: -s.length, max: s.length - 1 }),
            fc.array(fc.nat(2), { minLength: 1, maxLength: 5 }),
            fc.integer({ min: 0, max: 2 }),
            seedArb,
          ),
        ),
        ([s, axis, raw, kind, seed]) => {
          const d = s[axis < 0 ? axis + s.length : axis]!;
          const idx = raw.map((i) => i % d);
          if (idx.length >= 2) idx[1] = idx[0]!; // a repeat: cotangents must add up
          const indices = kind === 0 ? idx : kind === 1 ? tensor(idx) : Int32Array.from(idx);
          checkGrads(function* (v: Value) {
            return yield* take(v, indices, axis);
          }, [randomTensor(s, seed)], { name: `take ${fmt(s)} ${JSON.stringify(idx)} axis ${axis}` });
        },
      ),
      RUNS,
    );
    // a 2-d index tensor
    checkGrads(function* (v: Value) {
      return yield* take(v, tensor([[0, 2], [2, 2]]), 1);
    }, [randomTensor([2, 3], 4)], { name: "take with a [2,2] index tensor" });
    // repeated indices accumulate: grad of sum(take(x, [1,1,1])) is 3 at 1
    const g = run(grad(function* (v: Value) {
      return yield* sum(yield* take(v, [1, 1, 1, 0]));
    }), tensor([5, 6, 7])) as Tensor;
    expect(g.toArray()).toEqual([1, 3, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
describe("neural network ops", () => {
  const pair = (v: number | [number, number]) => (typeof v === "number" ? [v, v] : v);

  it("conv2d (stride, padding)", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          c: fc.integer({ min: 1, max: 2 }),
          o: fc.integer({ min: 1, max: 2 }),
          h: fc.integer({ min: 3, max: 5 }),
          w: fc.integer({ min: 3, max: 5 }),
          kh: fc.integer({ min: 1, max: 3 }),
          kw: fc.integer({ min: 1, max: 3 }),
          stride: fc.constantFrom<number | [number, number]>(1, 2, [1, 2], [2, 1]),
          padding: fc.constantFrom<number | [number, number]>(0, 1, [1, 0], [0, 2]),
          seed: seedArb,
        }),
        ({ n, c, o, h, w, kh, kw, stride, padding, seed }) => {
          const [ph, pw] = pair(padding);
          if (h + 2 * ph < kh || w + 2 * pw < kw) return;
          const x = randomTensor([n, c, h, w], seed);
          const k = randomTensor([o, c, kh, kw], seed ^ 0x3333);
          checkGrads(function* (a: Value, b: Value) {
            return yield* conv2d(a, b, { stride, padding });
          }, [x, k], { name: `conv2d x [${n},${c},${h},${w}] w [${o},${c},${kh},${kw}] stride ${JSON.stringify(stride)} padding ${JSON.stringify(padding)}` });
        },
      ),
      RUNS,
    );
  });

  const poolCase = fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 2, max: 5 }),
    w: fc.integer({ min: 2, max: 5 }),
    size: fc.constantFrom<number | [number, number]>(1, 2, 3, [2, 1], [1, 3]),
    stride: fc.constantFrom<number | [number, number] | undefined>(undefined, 1, 2, [1, 2]),
    seed: seedArb,
  });

  it.each([["maxPool2d", maxPool2d], ["avgPool2d", avgPool2d]] as const)("%s (stride equal to or different from the size)", (name, op) => {
    fc.assert(
      fc.property(poolCase, ({ n, c, h, w, size, stride, seed }) => {
        const [sh, sw] = pair(size);
        if (h < sh || w < sw) return;
        const x = distinctLeaves([[n, c, h, w]], seed)[0]!;
        const options = stride === undefined ? { size } : { size, stride };
        checkGrads(function* (v: Value) {
          return yield* op(v, options);
        }, [x], { name: `${name} [${n},${c},${h},${w}] ${JSON.stringify(options)}` });
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe("stopGradient", () => {
  it("its derivative is exactly zero", () => {
    const x = randomTensor([2, 3], 11);
    const { cts, t } = derivatives(function* (v: Value) {
      return yield* stopGradient(v);
    }, [x]);
    expect(vals(cts[0]).every((v) => v === 0)).toBe(true);
    expect(vals(t).every((v) => v === 0)).toBe(true);
    expect(run(grad(function* (v: Value) {
      return yield* stopGradient(yield* sin(v));
    }), 0.3)).toBe(0);
  });

  it("grad of x·stopGradient(x) is exactly stopGradient(x) = x", () => {
    const x = randomTensor([4], 12);
    const g = run(grad(function* (v: Value) {
      return yield* sum(yield* mul(v, yield* stopGradient(v)));
    }), x) as Tensor;
    expect(vals(g)).toEqual(vals(x));
    const [, tangent] = run(function* () {
      return yield* jvp(function* (v: Value) {
        return yield* mul(v, yield* stopGradient(v));
      }, [x], [tensor([1, 1, 1, 1])]);
    }) as [Tensor, Tensor];
    expect(vals(tangent)).toEqual(vals(x));
  });
});

// ---------------------------------------------------------------------------------------------
describe("number-only programs", () => {
  const f = function* (x: Value, y: Value) {
    // sin(x)·exp(y) / (1 + x²) + tanh(x·y)
    const num = yield* mul(yield* sin(x), yield* exp(y));
    const den = yield* add(1, yield* square(x));
    return yield* add(yield* div(num, den), yield* tanh(yield* mul(x, y)));
  };
  const dfdx = (x: number, y: number) =>
    (Math.cos(x) * Math.exp(y) * (1 + x * x) - Math.sin(x) * Math.exp(y) * 2 * x) / (1 + x * x) ** 2 + y * (1 - Math.tanh(x * y) ** 2);
  const dfdy = (x: number, y: number) => (Math.sin(x) * Math.exp(y)) / (1 + x * x) + x * (1 - Math.tanh(x * y) ** 2);

  it("scalars in, number gradients out, matching closed forms", () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const x = randomNumber(seed);
        const y = randomNumber(seed ^ 0x4444);
        const [gx, gy] = run(grad(f, { argnums: [0, 1] }), x, y) as [number, number];
        expect(typeof gx).toBe("number");
        expect(typeof gy).toBe("number");
        expect(Math.abs(gx - dfdx(x, y))).toBeLessThan(1e-12 * (1 + Math.abs(gx)));
        expect(Math.abs(gy - dfdy(x, y))).toBeLessThan(1e-12 * (1 + Math.abs(gy)));
        const [value, g0] = run(valueAndGrad(f), x, y) as [number, number];
        expect(typeof value).toBe("number");
        expect(g0).toBe(gx);
        checkGrads(f, [x, y], { name: "number program" });
      }),
      RUNS,
    );
  });

  it("every unary op on a number gives a number gradient", () => {
    for (const [name, op, vo] of UNARY) {
      const x = randomNumber(name.length * 7919, vo);
      const g = run(grad(function* (v: Value) {
        return yield* op(v);
      }), x);
      expect(typeof g, name).toBe("number");
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe("float32", () => {
  const model = function* (x: Value, w: Value, k: Value) {
    const c = yield* conv2d(x, k, { padding: 1 }); // [1, 2, 3, 3]
    const p = yield* avgPool2d(yield* tanh(c), { size: 2, stride: 1 }); // [1, 2, 2, 2]
    const flat = yield* reshape(p, [1, 8]);
    const h = yield* matmul(flat, w); // [1, 3]
    const s = yield* logSoftmax(yield* add(h, yield* sigmoid(h)));
    return yield* neg(yield* mean(yield* mul(s, yield* exp(yield* mul(0.1, s)))));
  };
  const args64 = [randomTensor([1, 1, 3, 3], 21), randomTensor([8, 3], 22), randomTensor([2, 1, 3, 3], 23)];
  const args32 = args64.map((t) => tensor(t, { dtype: "float32" }));

  it("gradients of float32 inputs are float32 and close to the float64 ones", () => {
    const g64 = run(grad(model, { argnums: [0, 1, 2] }), ...(args64 as [Tensor, Tensor, Tensor])) as Tensor[];
    const g32 = run(grad(model, { argnums: [0, 1, 2] }), ...(args32 as [Tensor, Tensor, Tensor])) as Tensor[];
    g32.forEach((g, i) => {
      expect(g.dtype).toBe("float32");
      expect(g.shape).toEqual(args64[i]!.shape);
      expect(g64[i]!.dtype).toBe("float64");
      const scale = Math.max(...vals(g64[i]).map(Math.abs));
      vals(g).forEach((v, j) => expect(Math.abs(v - vals(g64[i])[j]!)).toBeLessThan(1e-5 * scale + 1e-7));
    });
  });

  it("float32 derivatives pass the finite-difference check at float32 tolerances", () => {
    checkGrads(model, args32, { name: "float32 model" });
    for (const [name, op, vo] of UNARY)
      checkGrads(function* (v: Value) {
        return yield* op(v);
      }, [randomTensor([3], name.length, { ...vo, dtype: "float32" })], { name: `${name} float32` });
  });
});
