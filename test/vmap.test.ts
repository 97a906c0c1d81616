// vmap: every operation, inAxes, pytrees, composition with the other transformations, and
// errors. The reference is always an explicit loop: split the inputs by hand (plain index
// arithmetic on the data, not library operations), `run(f, example)` once per example, and
// stack the results by hand along a new axis 0.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  run,
  vmap,
  grad,
  jvp,
  vjp,
  jacfwd,
  jacrev,
  hessian,
  checkpoint,
  customVjp,
  primal,
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  greater,
  less,
  equal,
  greaterEqual,
  lessEqual,
  neg,
  exp,
  log,
  log1p,
  expm1,
  sin,
  cos,
  tan,
  tanh,
  sigmoid,
  relu,
  sqrt,
  square,
  abs,
  sign,
  where,
  sum,
  mean,
  max,
  min,
  logsumexp,
  softmax,
  logSoftmax,
  matmul,
  dot,
  reshape,
  transpose,
  broadcastTo,
  concat,
  slice,
  take,
  conv2d,
  maxPool2d,
  avgPool2d,
  stopGradient,
  tensor,
  randn,
  rand,
  eye,
  Tensor,
  ShapeError,
  TransformError,
  EscapeError,
  type Value,
} from "../src/index.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Prog = (...args: any[]) => Generator<any, any, any>;
type Axes = number | null | readonly (number | null)[];

// ---------------------------------------------------------------------------------------------
// Reference: split, loop, stack — by hand.

const prod = (s: readonly number[]): number => s.reduce((n, d) => n * d, 1);

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;

/** Example `b` of `t` along `axis` (the axis removed). */
const exampleOf = (t: Tensor, axis: number, b: number): Tensor => {
  const s = t.shape;
  const a = axis < 0 ? axis + s.length : axis;
  const outer = prod(s.slice(0, a));
  const inner = prod(s.slice(a + 1));
  const n = s[a]!;
  const data = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) data[o * inner + i] = t.data[(o * n + b) * inner + i]!;
  return tensor(data, { shape: [...s.slice(0, a), ...s.slice(a + 1)] });
};

const mapLeaves = (x: unknown, f: (t: Tensor) => unknown): unknown => {
  if (x instanceof Tensor) return f(x);
  if (Array.isArray(x)) return x.map((v) => mapLeaves(v, f));
  if (isPlainObject(x)) return Object.fromEntries(Object.keys(x).map((k) => [k, mapLeaves(x[k], f)]));
  return x;
};

const firstLeaf = (x: unknown): Tensor | undefined => {
  if (x instanceof Tensor) return x;
  if (Array.isArray(x)) for (const v of x) { const l = firstLeaf(v); if (l) return l; }
  if (isPlainObject(x)) for (const k of Object.keys(x)) { const l = firstLeaf(x[k]); if (l) return l; }
  return undefined;
};

/** Stacks numbers / tensors of one shape along a new axis 0. */
const stack = (xs: readonly unknown[]): Tensor => {
  const parts = xs.map((x) => {
    if (typeof x === "number") return { shape: [] as number[], data: [x] };
    if (x instanceof Tensor) return { shape: [...x.shape], data: Array.from(x.data) };
    throw new Error(`stack: not a leaf: ${String(x)}`);
  });
  for (const p of parts) expect(p.shape).toEqual(parts[0]!.shape);
  return tensor(Float64Array.from(parts.flatMap((p) => p.data)), { shape: [xs.length, ...parts[0]!.shape] });
};

const stackTrees = (trees: readonly unknown[]): unknown => {
  const t0 = trees[0];
  if (typeof t0 === "number" || t0 instanceof Tensor) return stack(trees);
  if (Array.isArray(t0)) return t0.map((_, i) => stackTrees(trees.map((t) => (t as unknown[])[i])));
  if (isPlainObject(t0)) return Object.fromEntries(Object.keys(t0).map((k) => [k, stackTrees(trees.map((t) => (t as any)[k]))]));
  throw new Error(`stackTrees: unexpected ${String(t0)}`);
};

const axisOf = (inAxes: Axes, i: number): number | null => (Array.isArray(inAxes) ? (inAxes as (number | null)[])[i]! : (inAxes as number | null));

/** The reference: run `f` on each example and stack the results. */
const loop = (f: Prog, args: readonly unknown[], inAxes: Axes = 0): unknown => {
  let size = -1;
  args.forEach((arg, i) => {
    const axis = axisOf(inAxes, i);
    const leaf = firstLeaf(arg);
    if (axis !== null && leaf && size < 0) size = leaf.shape[axis < 0 ? axis + leaf.shape.length : axis]!;
  });
  expect(size).toBeGreaterThan(0);
  const results: unknown[] = [];
  for (let b = 0; b < size; b++) {
    const ex = args.map((arg, i) => {
      const axis = axisOf(inAxes, i);
      return axis === null ? arg : mapLeaves(arg, (t) => exampleOf(t, axis, b));
    });
    results.push(run(f, ...ex));
  }
  return stackTrees(results);
};

/** Same structure, tensors of the same shape and float64, values within a relative 1e-10. */
const expectTreeClose = (got: unknown, want: unknown, tol = 1e-10, path = "out"): void => {
  if (want instanceof Tensor) {
    expect(got, `${path}: a tensor`).toBeInstanceOf(Tensor);
    const g = got as Tensor;
    expect(g.shape, `${path}: shape`).toEqual(want.shape);
    expect(g.dtype, `${path}: dtype`).toBe("float64");
    for (let i = 0; i < want.size; i++) {
      const w = want.data[i]!;
      const v = g.data[i]!;
      if (Number.isNaN(w)) expect(v, `${path}[${i}]`).toBeNaN();
      else if (Math.abs(v - w) > tol * Math.max(1, Math.abs(w))) expect(v, `${path}[${i}] (flat)`).toBe(w);
    }
  } else if (typeof want === "number") {
    expect(typeof got, `${path}: a number`).toBe("number");
    if (Math.abs((got as number) - want) > tol * Math.max(1, Math.abs(want))) expect(got, path).toBe(want);
  } else if (Array.isArray(want)) {
    expect(Array.isArray(got), `${path}: an array`).toBe(true);
    expect((got as unknown[]).length, `${path}: length`).toBe(want.length);
    want.forEach((w, i) => expectTreeClose((got as unknown[])[i], w, tol, `${path}[${i}]`));
  } else if (isPlainObject(want)) {
    expect(isPlainObject(got), `${path}: an object`).toBe(true);
    expect(Object.keys(got as object).sort(), `${path}: keys`).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want)) expectTreeClose((got as any)[k], want[k], tol, `${path}.${k}`);
  } else throw new Error(`expectTreeClose: unexpected ${String(want)}`);
};

/** vmap(f, inAxes)(...args) equals the per-example loop. */
const checkVmap = (f: Prog, args: readonly unknown[], inAxes: Axes = 0, tol = 1e-10): unknown => {
  const got = run(vmap(f, inAxes as any), ...args);
  expectTreeClose(got, loop(f, args, inAxes), tol);
  return got;
};

let seedCounter = 1;
const rn = (shape: readonly number[]): Tensor => randn(shape, { seed: seedCounter++ });
/** Positive values in [0.5, 1.5). */
const pos = (shape: readonly number[]): Tensor => {
  const r = rand(shape, { seed: seedCounter++ });
  return tensor(Float64Array.from(r.data, (v) => v + 0.5), { shape });
};
/** `shape` with the batch `size` inserted at `axis` (negative counts from the end of the result). */
const withBatch = (shape: readonly number[], size: number, axis: number): number[] => {
  const a = axis < 0 ? axis + shape.length + 1 : axis;
  return [...shape.slice(0, a), size, ...shape.slice(a)];
};

const FC = { numRuns: 25, seed: 20240611 };

// ---------------------------------------------------------------------------------------------

describe("the reference helpers themselves", () => {
  it("exampleOf / stack invert each other along any axis", () => {
    const t = rn([2, 3, 4]);
    for (const axis of [0, 1, 2, -1]) {
      const a = axis < 0 ? axis + 3 : axis;
      const parts = Array.from({ length: t.shape[a]! }, (_, b) => exampleOf(t, axis, b));
      const st = stack(parts); // batch now on axis 0
      for (let b = 0; b < t.shape[a]!; b++) expect(exampleOf(st, 0, b).toArray()).toEqual(parts[b]!.toArray());
    }
    expect(exampleOf(tensor([[1, 2], [3, 4]]), 1, 1).toArray()).toEqual([2, 4]);
    expect(stack([1, 2, 3]).shape).toEqual([3]);
  });
});

describe("elementwise operations under vmap", () => {
  const unaryOps: [string, (x: Value) => any, boolean][] = [
    ["neg", neg, false],
    ["exp", exp, false],
    ["log", log, true],
    ["log1p", log1p, true],
    ["expm1", expm1, false],
    ["sin", sin, false],
    ["cos", cos, false],
    ["tan", tan, false],
    ["tanh", tanh, false],
    ["sigmoid", sigmoid, false],
    ["relu", relu, false],
    ["sqrt", sqrt, true],
    ["square", square, false],
    ["abs", abs, false],
    ["sign", sign, false],
  ];

  it("every unary op, any per-example shape, any batch axis (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...unaryOps),
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        fc.boolean(),
        ([, op, positive], shape, size, axisSeed, negative) => {
          const axis = axisSeed % (shape.length + 1);
          const full = withBatch(shape, size, axis);
          const x = positive ? pos(full) : rn(full);
          checkVmap(function* (x: Value) { return yield* op(x); }, [x], negative ? axis - shape.length - 1 : axis);
        },
      ),
      FC,
    );
  });

  const binaryOps: [string, (a: Value, b: Value) => any][] = [
    ["add", add],
    ["sub", sub],
    ["mul", mul],
    ["div", div],
    ["pow", pow],
    ["maximum", maximum],
    ["minimum", minimum],
    ["greater", greater],
    ["less", less],
    ["equal", equal],
    ["greaterEqual", greaterEqual],
    ["lessEqual", lessEqual],
  ];

  it("every binary op with broadcasting, each operand batched or shared, of larger or smaller rank (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...binaryOps),
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
        fc.record({ rank: fc.nat(), ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), batched: fc.boolean(), axis: fc.nat(), negative: fc.boolean() }),
        fc.record({ rank: fc.nat(), ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), batched: fc.boolean(), axis: fc.nat(), negative: fc.boolean() }),
        fc.integer({ min: 1, max: 3 }),
        ([name, op], full, A, B, size) => {
          if (!A.batched && !B.batched) A.batched = true;
          const operand = (o: typeof A, positive: boolean): [Tensor, number | null] => {
            const r = o.rank % (full.length + 1);
            const shape = full.slice(full.length - r).map((d, i) => (o.ones[i] ? 1 : d));
            if (!o.batched) return [positive ? pos(shape) : rn(shape), null];
            const axis = o.axis % (r + 1);
            const t = positive ? pos(withBatch(shape, size, axis)) : rn(withBatch(shape, size, axis));
            return [t, o.negative ? axis - r - 1 : axis];
          };
          const [a, axA] = operand(A, name === "pow");
          const [b, axB] = operand(B, false);
          checkVmap(function* (a: Value, b: Value) { return yield* op(a, b); }, [a, b], [axA, axB]);
        },
      ),
      FC,
    );
  });

  it("comparisons give exact 0/1 and ties compare equal per example", () => {
    const a = tensor([[1, 2, 3], [3, 2, 1]]);
    const b = tensor([2, 2, 2]);
    for (const [op, want] of [
      [greater, [[0, 0, 1], [1, 0, 0]]],
      [less, [[1, 0, 0], [0, 0, 1]]],
      [equal, [[0, 1, 0], [0, 1, 0]]],
      [greaterEqual, [[0, 1, 1], [1, 1, 0]]],
      [lessEqual, [[1, 1, 0], [0, 1, 1]]],
    ] as const) {
      const got = run(vmap(function* (a: Value, b: Value) { return yield* op(a, b); }, [0, null]), a, b) as Tensor;
      expect(got.toArray()).toEqual(want);
    }
  });

  it("numbers mix with batched values (shared scalar operands)", () => {
    const x = rn([4, 3]);
    checkVmap(function* (x: Value, c: Value) {
      return yield* add(yield* mul(2.5, x), yield* pow(c, 2));
    }, [x, 3], [0, null]);
    // a batch of scalars ([B] input) against a shared vector
    checkVmap(function* (s: Value, v: Value) { return yield* mul(s, v); }, [rn([5]), rn([3])], [0, null]);
  });

  it("where: each of cond, a, b batched or shared, with broadcasting", () => {
    const size = 3;
    const cases: [number[], number[], number[]][] = [
      [[4], [4], [4]],
      [[2, 1], [4], []],
      [[], [2, 4], [4]],
      [[4], [2, 4], [1]],
    ];
    for (const [cs, as, bs] of cases) {
      for (let mask = 1; mask < 8; mask++) {
        const batched = [mask & 1, mask & 2, mask & 4].map(Boolean);
        const args = [cs, as, bs].map((s, i) => (batched[i] ? rn([size, ...s]) : rn(s)));
        checkVmap(function* (c: Value, a: Value, b: Value) {
          return yield* where(yield* greater(c, 0), a, b);
        }, args, batched.map((bt) => (bt ? 0 : null)));
      }
    }
  });

  it("stopGradient is the identity on values under vmap", () => {
    checkVmap(function* (x: Value) { return yield* mul(yield* stopGradient(x), x); }, [rn([3, 2, 2])]);
  });
});

describe("reductions and normalizations under vmap", () => {
  const reducers: [string, (x: Value, axis?: any, keepdims?: boolean) => any][] = [
    ["sum", sum],
    ["mean", mean],
    ["max", max],
    ["min", min],
    ["logsumexp", logsumexp],
  ];

  it("sum/mean/max/min/logsumexp: all axes, subsets, negative axes, keepdims, any batch axis (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...reducers),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        fc.constantFrom("all", "one", "subset"),
        fc.boolean(),
        ([, op], shape, size, axisSeed, pick, negate, mode, keepdims) => {
          const r = shape.length;
          const axes = shape.map((_, i) => i).filter((i) => pick[i]).map((i) => (negate[i] ? i - r : i));
          const axis = mode === "all" ? undefined : mode === "one" ? (negate[0] ? -1 : r - 1) : axes.length ? axes : [0];
          const bAxis = axisSeed % (r + 1);
          checkVmap(function* (x: Value) { return yield* op(x, axis, keepdims); }, [rn(withBatch(shape, size, bAxis))], bAxis);
        },
      ),
      FC,
    );
  });

  it("default arguments (reduce everything, no keepdims) give one number per example", () => {
    for (const [, op] of reducers) {
      const got = checkVmap(function* (x: Value) { return yield* op(x); }, [rn([4, 2, 3])]) as Tensor;
      expect(got.shape).toEqual([4]);
    }
  });

  it("max/min pick the right example's maximum (a hand-made case)", () => {
    const x = tensor([[[1, 9], [5, 2]], [[7, 3], [0, 8]]]);
    expect((run(vmap(function* (x: Value) { return yield* max(x, 0); }), x) as Tensor).toArray()).toEqual([[5, 9], [7, 8]]);
    expect((run(vmap(function* (x: Value) { return yield* min(x, -1, true); }), x) as Tensor).toArray()).toEqual([[[1], [2]], [[3], [0]]]);
    expect((run(vmap(function* (x: Value) { return yield* max(x); }), x) as Tensor).toArray()).toEqual([9, 8]);
  });

  it("softmax / logSoftmax along the default, positive and negative axes", () => {
    for (const op of [softmax, logSoftmax]) {
      for (const axis of [undefined, 0, 1, -2, 2]) {
        for (const bAxis of [0, 2]) {
          checkVmap(function* (x: Value) { return yield* op(x, axis); }, [rn(withBatch([2, 3, 4], 3, bAxis))], bAxis);
        }
      }
    }
  });
});

describe("linear algebra under vmap", () => {
  const mm = function* (a: Value, b: Value) { return yield* matmul(a, b); };
  const dt = function* (a: Value, b: Value) { return yield* dot(a, b); };
  // per-example shapes of a and b
  const shapes: [number[], number[]][] = [
    [[3], [3]], // 1-d · 1-d
    [[3], [3, 4]], // 1-d · 2-d
    [[2, 3], [3]], // 2-d · 1-d
    [[2, 3], [3, 4]], // 2-d · 2-d
    [[5, 2, 3], [5, 3, 4]], // batched per example
    [[5, 2, 3], [3, 4]], // batched per example, broadcast
    [[2, 3], [5, 3, 4]],
    [[3], [5, 3, 4]],
    [[5, 2, 3], [3]],
    [[1, 2, 3], [5, 3, 4]],
  ];

  it("matmul: every rank combination, both batched, only a, only b", () => {
    for (const [as, bs] of shapes) {
      for (const axes of [[0, 0], [0, null], [null, 0], [-1, 1]] as const) {
        const a = axes[0] === null ? rn(as) : rn(withBatch(as, 3, axes[0]));
        const b = axes[1] === null ? rn(bs) : rn(withBatch(bs, 3, axes[1]));
        checkVmap(mm, [a, b], axes);
      }
    }
  });

  it("dot: vectors, matrix-vector, matrices, scalars", () => {
    for (const [as, bs] of [[[3], [3]], [[2, 3], [3]], [[3], [3, 2]], [[2, 3], [3, 4]], [[], [3]], [[2, 2], []]] as [number[], number[]][]) {
      for (const axes of [[0, 0], [0, null], [null, 0]] as const) {
        const a = axes[0] === null ? rn(as) : rn([4, ...as]);
        const b = axes[1] === null ? rn(bs) : rn([4, ...bs]);
        checkVmap(dt, [a, b], axes);
      }
    }
  });

  it("a layer: batched inputs against shared weights is x_b W + c", () => {
    const W = rn([3, 2]);
    const c = rn([2]);
    const X = rn([6, 3]);
    const got = checkVmap(function* (x: Value, W: Value, c: Value) {
      return yield* tanh(yield* add(yield* matmul(x, W), c));
    }, [X, W, c], [0, null, null]) as Tensor;
    // against the whole-batch computation too
    const whole = run(function* () { return yield* tanh(yield* add(yield* matmul(X, W), c)); }) as Tensor;
    expectTreeClose(got, whole);
  });
});

describe("shape operations under vmap", () => {
  it("reshape (with -1) and transpose (default and explicit perm)", () => {
    const x = rn([3, 2, 6]);
    const x1 = rn([2, 3, 6]);
    for (const shape of [[12], [3, -1], [-1, 2, 2], [2, 3, 2], [1, 12, 1]]) {
      checkVmap(function* (x: Value) { return yield* reshape(x, shape); }, [x]);
      checkVmap(function* (x: Value) { return yield* reshape(x, shape); }, [x1], 1);
    }
    const y = rn([2, 3, 4, 5]);
    for (const perm of [undefined, [0, 1, 2], [2, 0, 1], [1, 0, 2]]) {
      for (const axis of [0, 2, -1]) checkVmap(function* (x: Value) { return yield* transpose(x, perm); }, [y], axis);
    }
  });

  it("broadcastTo from smaller and equal rank", () => {
    for (const [from, to] of [[[3], [2, 3]], [[2, 1], [2, 4]], [[1, 3], [4, 2, 3]], [[], [2, 2]], [[3], [3]]] as [number[], number[]][]) {
      checkVmap(function* (x: Value) { return yield* broadcastTo(x, to); }, [rn([4, ...from])]);
    }
  });

  it("concat of batched and shared operands along positive and negative axes", () => {
    const a = rn([3, 2, 4]);
    const b = rn([2, 1]);
    const c = rn([3, 2, 3]);
    for (const axis of [1, -1]) {
      checkVmap(function* (a: Value, b: Value, c: Value) { return yield* concat([a, b, c], axis); }, [a, b, c], [0, null, 0]);
    }
    checkVmap(function* (a: Value, b: Value) { return yield* concat([a, b], 0); }, [rn([2, 3, 3]), rn([3, 3])], [1, null]);
    checkVmap(function* (a: Value, n: Value) { return yield* concat([a, n, a], 0); }, [rn([5, 2]), rn([1])], [0, null]);
  });

  it("slice and take (index arrays, index tensors, negative axes)", () => {
    const x = rn([3, 4, 5]);
    checkVmap(function* (x: Value) { return yield* slice(x, [1, 0], [3, 4]); }, [x]);
    checkVmap(function* (x: Value) { return yield* slice(x, [0, 2], [3, 3]); }, [x], 2);
    checkVmap(function* (x: Value) { return yield* take(x, [3, 0, 3]); }, [x]);
    checkVmap(function* (x: Value) { return yield* take(x, [4, 1], 1); }, [x]);
    checkVmap(function* (x: Value) { return yield* take(x, [2], -1); }, [x], 1);
    const idx = tensor([[0, 2], [1, 1]]);
    checkVmap(function* (x: Value) { return yield* take(x, idx, 1); }, [x]);
    const got = run(vmap(function* (x: Value) { return yield* take(x, idx, 1); }), x) as Tensor;
    expect(got.shape).toEqual([3, 4, 2, 2]);
  });
});

describe("convolution and pooling under vmap", () => {
  const conv = (opts: object) => function* (x: Value, w: Value) { return yield* conv2d(x, w, opts); };

  it("conv2d: batched input with a shared filter", () => {
    for (const opts of [{}, { stride: 2 }, { padding: 1 }, { stride: [1, 2], padding: [2, 0] }]) {
      checkVmap(conv(opts), [rn([3, 2, 2, 5, 6]), rn([4, 2, 3, 3])], [0, null]);
    }
    checkVmap(conv({ padding: 1 }), [rn([2, 2, 5, 5, 3]), rn([3, 2, 2, 2])], [-1, null]);
  });

  it("conv2d: a batched filter (shared input, and both batched) — the per-example path", () => {
    checkVmap(conv({ stride: 2, padding: 1 }), [rn([2, 2, 5, 5]), rn([3, 4, 2, 3, 3])], [null, 0]);
    checkVmap(conv({}), [rn([3, 1, 2, 4, 4]), rn([3, 2, 2, 2, 2])], [0, 0]);
    checkVmap(conv({ padding: [1, 0] }), [rn([1, 2, 4, 4, 3]), rn([2, 2, 3, 3, 3])], [4, 4]);
  });

  it("maxPool2d and avgPool2d with sizes, strides and batch axes", () => {
    for (const opts of [{ size: 2 }, { size: [2, 3] as [number, number], stride: 1 }, { size: 3, stride: [1, 2] as [number, number] }]) {
      checkVmap(function* (x: Value) { return yield* maxPool2d(x, opts); }, [rn([3, 2, 2, 6, 6])]);
      checkVmap(function* (x: Value) { return yield* avgPool2d(x, opts); }, [rn([3, 2, 2, 6, 6])]);
      checkVmap(function* (x: Value) { return yield* maxPool2d(x, opts); }, [rn([1, 2, 6, 3, 6])], 3);
      checkVmap(function* (x: Value) { return yield* avgPool2d(x, opts); }, [rn([1, 2, 6, 3, 6])], -2);
    }
  });

  it("a small CNN: conv → relu → maxPool → avgPool → linear, per-example images against shared weights", () => {
    const w = rn([3, 1, 3, 3]);
    const V = rn([12, 2]);
    const f = function* (img: Value, w: Value, V: Value) {
      const h = yield* relu(yield* conv2d(img, w, { padding: 1 }));
      const p = yield* avgPool2d(yield* maxPool2d(h, { size: 2 }), { size: 2 });
      return yield* matmul(yield* reshape(p, [1, -1]), V);
    };
    checkVmap(f, [rn([4, 1, 1, 8, 8]), w, V], [0, null, null]);
  });
});

describe("inAxes and pytrees", () => {
  const f = function* (x: Value, y: Value) { return yield* add(yield* sin(x), yield* mul(x, y)); };

  it("inAxes 0, 1, negative, per-argument arrays and null for shared arguments", () => {
    checkVmap(f, [rn([4, 3]), rn([4, 3])], 0);
    checkVmap(f, [rn([3, 4, 2]), rn([3, 4, 2])], 1);
    checkVmap(f, [rn([3, 2, 4]), rn([3, 2, 4])], -1);
    checkVmap(f, [rn([3, 2, 4]), rn([4, 3, 2])], [-1, 0]);
    checkVmap(f, [rn([2, 4]), rn([2])], [1, null]);
    checkVmap(f, [rn([2]), rn([5, 2])], [null, 0]);
    checkVmap(f, [1.5, rn([2, 5])], [null, -1]);
  });

  it("the batch axis moves to axis 0 of the output (identity program)", () => {
    const x = rn([2, 3, 4]);
    const id = function* (x: Value) { return yield* neg(yield* neg(x)); };
    const got = run(vmap(id, 1), x) as Tensor;
    expect(got.shape).toEqual([3, 2, 4]);
    for (let b = 0; b < 3; b++) expect(exampleOf(got, 0, b).toArray()).toEqual(exampleOf(x, 1, b).toArray());
    // returning an argument unchanged still moves its batch axis
    const same = run(vmap(function* (x: Value) { return x; }, 2), x) as Tensor;
    expect(same.shape).toEqual([4, 2, 3]);
    for (let b = 0; b < 4; b++) expect(exampleOf(same, 0, b).toArray()).toEqual(exampleOf(x, 2, b).toArray());
  });

  it("a pytree argument: an object of tensors mapped together, with a shared argument beside it", () => {
    const params = { W: rn([5, 3, 2]), b: rn([5, 2]), extra: [rn([5]), { s: rn([5, 1]) }] };
    const x = rn([3]);
    const g = function* (p: any, x: Value) {
      const h = yield* add(yield* matmul(x, p.W), p.b);
      return yield* add(yield* mul(h, p.extra[0]), p.extra[1].s);
    };
    checkVmap(g, [params, x], [0, null]);
    // the same along axis 1 / -1 for every leaf of the tree
    const p2 = { W: rn([3, 5, 2]), b: rn([2, 5]) };
    const g2 = function* (p: any) { return yield* sum(yield* mul(p.W, p.b)); };
    checkVmap(g2, [p2], [1]);
    const p3 = { W: rn([3, 2, 5]), b: rn([2, 5]) };
    checkVmap(g2, [p3], -1);
  });

  it("a pytree argument may carry non-tensor constants through unchanged", () => {
    const g = function* (p: any) {
      expect(p.name).toBe("layer");
      expect(p.flag).toBe(true);
      return yield* mul(p.x, p.k);
    };
    const out = run(vmap(g), { name: "layer", flag: true, x: rn([4, 2]), k: rn([4, 1]) }) as unknown as Tensor;
    expect(out.shape).toEqual([4, 2]);
  });

  it("number outputs become a [B] tensor; outputs that do not depend on the batch are broadcast", () => {
    const x = rn([4, 3]);
    const s = run(vmap(function* (x: Value) { return yield* sum(x); }), x) as Tensor;
    expect(s).toBeInstanceOf(Tensor);
    expect(s.shape).toEqual([4]);
    // (vmap's static type still says number here; at run time it is a [B] tensor)
    const konst = run(vmap(function* (_x: Value) { return 7; }), x) as unknown as Tensor;
    expect(konst).toBeInstanceOf(Tensor);
    expect(konst.toArray()).toEqual([7, 7, 7, 7]);
    const shared = run(vmap(function* (_x: Value, c: Value) { return yield* mul(c, 2); }, [0, null]), x, 1.5) as Tensor;
    expect(shared.toArray()).toEqual([3, 3, 3, 3]);
    const sharedT = run(vmap(function* (_x: Value, c: Value) { return yield* exp(c); }, [0, null]), x, tensor([0, 1])) as Tensor;
    expect(sharedT.shape).toEqual([4, 2]);
    for (let b = 0; b < 4; b++) {
      expect(sharedT.at(b, 0)).toBe(1);
      expect(sharedT.at(b, 1)).toBeCloseTo(Math.E, 14);
    }
    // a shared argument returned as is
    const passthrough = run(vmap(function* (_x: Value, c: Value) { return c; }, [0, null]), x, tensor([[1, 2]])) as Tensor;
    expect(passthrough.toArray()).toEqual([[[1, 2]], [[1, 2]], [[1, 2]], [[1, 2]]]);
  });

  it("pytree outputs: arrays and objects mixing batched, numeric and constant leaves", () => {
    const g = function* (x: Value, c: Value) {
      const s = yield* sum(x);
      return { s, parts: [yield* exp(x), 2, yield* mul(c, c)], nested: { y: yield* mul(x, c) } };
    };
    checkVmap(g, [rn([3, 2]), tensor([1, 2])], [0, null]);
    const got = run(vmap(g, [0, null]), rn([3, 2]), tensor([1, 2])) as any;
    expect(got.parts[1].toArray()).toEqual([2, 2, 2]);
    expect(got.parts[2].toArray()).toEqual([[1, 4], [1, 4], [1, 4]]);
  });

  it("many arguments with mixed axes (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.constantFrom(0, 1, -1, null), { minLength: 3, maxLength: 3 }), (size, raw) => {
        const axes: (number | null)[] = [...raw];
        if (!axes.some((a) => a !== null)) axes[0] = 0;
        const args = axes.map((a) => (a === null ? rn([2, 3]) : rn(withBatch([2, 3], size, a))));
        checkVmap(function* (a: Value, b: Value, c: Value) {
          return yield* sub(yield* mul(a, yield* tanh(b)), yield* softmax(c, 0));
        }, args, axes);
      }),
      FC,
    );
  });
});

describe("vmap composed with the other transformations", () => {
  // per example: a scalar loss of a [3] input
  const loss = function* (x: Value) {
    const y = yield* tanh(yield* mul(x, yield* sin(x)));
    return yield* add(yield* sum(yield* mul(y, y)), yield* max(x));
  };

  it("vmap(grad(f)) equals per-example gradients", () => {
    const X = rn([5, 3]);
    const got = checkVmap(grad(loss), [X]) as Tensor;
    expect(got.shape).toEqual([5, 3]);
    // and along another batch axis
    checkVmap(grad(loss), [rn([3, 4])], 1);
  });

  it("grad(x ↦ sum(vmap(f)(x))) equals the per-example gradients", () => {
    const X = rn([5, 3]);
    const total = function* (X: Value) { return yield* sum(yield* vmap(loss)(X)); };
    expectTreeClose(run(grad(total), X), loop(grad(loss), [X]));
    // mean over the batch, with the batch on axis 1
    const Y = rn([3, 4]);
    const meanLoss = function* (Y: Value) { return yield* mean(yield* vmap(loss, 1)(Y)); };
    const perEx = loop(grad(loss), [Y], 1) as Tensor; // [4, 3]
    const want = tensor(Float64Array.from({ length: 12 }, (_, k) => perEx.data[(k % 4) * 3 + Math.floor(k / 4)]! / 4), { shape: [3, 4] });
    expectTreeClose(run(grad(meanLoss), Y), want);
  });

  it("per-example gradients of shared parameters: vmap(grad(loss), [null, 0]) and the summed gradient", () => {
    const W = rn([3, 2]);
    const X = rn([4, 3]);
    const T = rn([4, 2]);
    const l = function* (W: Value, x: Value, t: Value) {
      const y = yield* logSoftmax(yield* matmul(x, W));
      return yield* neg(yield* sum(yield* mul(y, yield* softmax(t))));
    };
    const perEx = checkVmap(grad(l), [W, X, T], [null, 0, 0]) as Tensor;
    expect(perEx.shape).toEqual([4, 3, 2]);
    const total = function* (W: Value) { return yield* sum(yield* vmap(l, [null, 0, 0])(W, X, T)); };
    const g = run(grad(total), W) as Tensor;
    const summed = new Float64Array(6);
    for (let b = 0; b < 4; b++) for (let k = 0; k < 6; k++) summed[k]! += perEx.data[b * 6 + k]!;
    expectTreeClose(g, tensor(summed, { shape: [3, 2] }));
  });

  it("vmap(grad) through every family's derivative rules (selections, pooling, conv, take, slice, concat, broadcasting)", () => {
    const w = rn([2, 1, 2, 2]);
    const f = function* (x: Value, w: Value) {
      const c = yield* conv2d(x, w, { padding: 1 }); // [1, 2, 4, 4]
      const m = yield* maxPool2d(c, { size: 2 }); // [1, 2, 2, 2]
      const a = yield* avgPool2d(c, { size: 2, stride: 1 }); // [1, 2, 3, 3]
      const t = yield* take(yield* reshape(a, [-1]), [0, 4, 4, 17]);
      const s = yield* slice(yield* reshape(m, [2, 4]), [0, 1], [2, 3]);
      const cat = yield* concat([s, yield* reshape(t, [2, 2])], 1);
      const b = yield* mul(cat, yield* broadcastTo(yield* reshape(yield* max(x, [1, 2, 3]), [1, 1]), [2, 4]));
      return yield* add(yield* sum(yield* mul(b, b)), yield* logsumexp(yield* min(c, -1)));
    };
    const X = rn([3, 1, 1, 3, 3]);
    checkVmap(grad(f), [X, w], [0, null]);
    checkVmap(grad(f, { argnums: 1 }), [X, w], [0, null]);
    // batched filters too (conv per example)
    checkVmap(grad(f, { argnums: [0, 1] }), [X, rn([3, 2, 1, 2, 2])], [0, 0]);
  });

  it("vmap(jvp) over unit tangents gives the Jacobian (rows = JVPs) = jacfwd; vmap of a pullback gives jacrev", () => {
    const A = rn([4, 3]);
    const g = function* (x: Value) { return yield* tanh(yield* mul(yield* matmul(A, x), yield* sum(yield* sin(x)))); };
    const x = rn([3]);
    const jvpAlong = function* (v: Value) {
      const [, t] = yield* jvp(g, [x], [v]);
      return t;
    };
    const rows = run(vmap(jvpAlong), eye(3)) as Tensor; // [3 (unit vectors), 4]
    expect(rows.shape).toEqual([3, 4]);
    const J = run(jacfwd(g), x) as Tensor; // [4, 3]
    const Jt = tensor(Float64Array.from({ length: 12 }, (_, k) => J.data[(k % 4) * 3 + Math.floor(k / 4)]!), { shape: [3, 4] });
    expectTreeClose(rows, Jt);
    checkVmap(jvpAlong, [eye(3)]);
    // the pullback of each unit cotangent is one row of the Jacobian
    const vjpAlong = function* (ct: Value) {
      const [, pb] = yield* vjp(g, x);
      const [gx] = yield* pb(ct);
      return gx;
    };
    expectTreeClose(run(vmap(vjpAlong), eye(4)), run(jacrev(g), x));
    expectTreeClose(run(vmap(vjpAlong), eye(4)), J);
  });

  it("jvp(vmap(f)) equals the per-example jvps", () => {
    const X = rn([4, 3]);
    const V = rn([4, 3]);
    const got = run(function* () { return yield* jvp(vmap(loss), [X], [V]); }) as [Tensor, Tensor];
    const want = loop(function* (x: Value, v: Value) { return yield* jvp(loss, [x], [v]); }, [X, V]) as [Tensor, Tensor];
    expectTreeClose(got, want);
    // with a shared tangent direction for a shared parameter
    const W = rn([3, 2]);
    const h = function* (W: Value, x: Value) { return yield* tanh(yield* matmul(x, W)); };
    const dW = rn([3, 2]);
    const got2 = run(function* () { return yield* jvp(vmap(h, [null, 0]), [W, X], [dW, tensor(new Float64Array(12), { shape: [4, 3] })]); }) as [Tensor, Tensor];
    const want2 = loop(function* (x: Value) { return yield* jvp(function* (W: Value) { return yield* h(W, x); }, [W], [dW]); }, [X]) as [Tensor, Tensor];
    expectTreeClose(got2, want2);
  });

  it("vmap(vmap(f)) on a [B1, B2, ...] input equals the double loop; nested shared axes make an outer product", () => {
    const X = rn([3, 4, 2]);
    const f = function* (x: Value) { return yield* softmax(yield* mul(x, yield* sum(x))); };
    const got = run(vmap(vmap(f)), X) as Tensor;
    const want = loop(vmap(f), [X]) as Tensor;
    expectTreeClose(got, want);
    const double = stack(Array.from({ length: 3 }, (_, i) => stack(Array.from({ length: 4 }, (_, j) => run(f, exampleOf(exampleOf(X, 0, i), 0, j))))));
    expectTreeClose(got, double);
    // inner over axis 1 of each example, outer over axis 0
    const Z = rn([3, 2, 4]);
    expectTreeClose(run(vmap(vmap(f, 1)), Z), loop(vmap(f, 1), [Z]));
    // out[j][i] = a_i * b_j
    const a = tensor([1, 2, 3]);
    const b = tensor([10, 20]);
    const outer = run(vmap(vmap(function* (x: Value, y: Value) { return yield* mul(x, y); }, [0, null]), [null, 0]), a, b) as Tensor;
    expect(outer.toArray()).toEqual([[10, 20, 30], [20, 40, 60]]);
    // the inner program returns a value batched only by the outer vmap: broadcast along the inner batch
    const W2 = tensor([[1, 2], [3, 4], [5, 6]]);
    const bc = run(vmap(vmap(function* (w: Value, _y: Value) { return w; }, [null, 0]), [0, null]), W2, rn([4, 5])) as Tensor;
    expect(bc.shape).toEqual([3, 4, 2]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expect([bc.at(i, j, 0), bc.at(i, j, 1)]).toEqual([W2.at(i, 0), W2.at(i, 1)]);
    // a batched inner program with a batched shared argument
    const W = rn([3, 2, 2]);
    const Y = rn([3, 5, 2]);
    const inner = function* (W: Value, y: Value) { return yield* matmul(W, y); };
    checkVmap(vmap(inner, [null, 0]), [W, Y], [0, 0]);
  });

  it("vmap(hessian(f)) equals the per-example Hessians", () => {
    const f = function* (x: Value) {
      return yield* add(yield* sum(yield* pow(x, 3)), yield* mul(yield* sum(yield* sin(x)), yield* sum(yield* square(x))));
    };
    const got = checkVmap(hessian(f), [rn([3, 3])]) as Tensor;
    expect(got.shape).toEqual([3, 3, 3]);
    // symmetric per example
    for (let b = 0; b < 3; b++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(got.at(b, i, j)).toBeCloseTo(got.at(b, j, i), 12);
  });

  it("vmap of a checkpoint program: values and gradients both ways", () => {
    const body = function* (x: Value) { return yield* sum(yield* tanh(yield* mul(x, yield* exp(x)))); };
    const ck = checkpoint(body);
    const X = rn([4, 3]);
    expectTreeClose(run(vmap(ck), X), loop(body, [X]));
    expectTreeClose(run(vmap(grad(ck)), X), loop(grad(body), [X]));
    expectTreeClose(run(grad(function* (X: Value) { return yield* sum(yield* vmap(ck)(X)); }), X), loop(grad(body), [X]));
  });

  it("vmap of a customVjp program: values, and gradients use the custom backward rule", () => {
    const f = function* (x: Value) { return yield* sum(yield* mul(x, x)); };
    // a deliberately non-standard backward (3x rather than 2x) so the test sees it used
    const fwd = function* (x: Value): Generator<any, [Value, Value], any> { return [yield* f(x), x]; };
    const bwd = function* (x: never, ct: never): Generator<any, Value[], any> { return [yield* mul(yield* mul(x as Value, 3), ct as Value)]; };
    const cf = customVjp(f, fwd, bwd);
    const X = rn([4, 3]);
    expectTreeClose(run(vmap(cf), X), loop(f, [X]));
    const want = tensor(Float64Array.from(X.data, (v) => 3 * v), { shape: [4, 3] });
    expectTreeClose(run(vmap(grad(cf)), X), want);
    expectTreeClose(run(grad(function* (X: Value) { return yield* sum(yield* vmap(cf)(X)); }), X), want);
    // forward mode differentiates f itself
    const V = rn([4, 3]);
    const [, t] = run(function* () { return yield* jvp(vmap(cf), [X], [V]); }) as [Tensor, Tensor];
    expectTreeClose(t, loop(function* (x: Value, v: Value) { return (yield* jvp(f, [x], [v]))[1]; }, [X, V]));
  });

  it("stopGradient under vmap stops derivatives of transformations outside and inside vmap", () => {
    const f = function* (x: Value) { return yield* sum(yield* mul(x, yield* stopGradient(yield* sin(x)))); };
    const X = rn([3, 4]);
    const want = tensor(Float64Array.from(X.data, Math.sin), { shape: [3, 4] }); // d/dx x·sg(sin x) = sin x
    expectTreeClose(run(grad(function* (X: Value) { return yield* sum(yield* vmap(f)(X)); }), X), want);
    expectTreeClose(run(vmap(grad(f)), X), want);
    const V = rn([3, 4]);
    const [, t] = run(function* () { return yield* jvp(vmap(f), [X], [V]); }) as [Tensor, Tensor];
    const wantT = Array.from({ length: 3 }, (_, b) => [0, 1, 2, 3].reduce((acc, j) => acc + Math.sin(X.at(b, j)) * V.at(b, j), 0));
    expectTreeClose(t, tensor(wantT));
  });

  it("vmap of jacfwd / jacrev / grad with per-example scalars and vectors, and grad w.r.t. a shared number", () => {
    const cube = function* (x: Value) { return yield* mul(x, yield* mul(x, x)); };
    const xs = tensor([1, 2, 3]);
    expect((run(vmap(grad(cube)), xs) as Tensor).toArray()).toEqual([3, 12, 27]);
    expect((run(vmap(jacfwd(cube)), xs) as Tensor).toArray()).toEqual([3, 12, 27]);
    expect((run(vmap(jacrev(cube)), xs) as Tensor).toArray()).toEqual([3, 12, 27]);
    expect((run(vmap(hessian(cube)), xs) as Tensor).toArray()).toEqual([6, 12, 18]);
    const v = function* (x: Value) { return yield* mul(x, yield* sum(yield* sin(x))); };
    checkVmap(jacrev(v), [rn([3, 2])]);
    checkVmap(jacfwd(v), [rn([3, 2])]);
    // the derivative with respect to a shared scalar differs per example
    const g = function* (x: Value, c: Value) { return yield* sum(yield* mul(x, yield* sin(c))); };
    const X = tensor([[1, 2], [3, 4]]);
    const got = checkVmap(grad(g, { argnums: 1 }), [X, 0.5], [0, null]) as Tensor;
    expect(got.at(0)).toBeCloseTo(3 * Math.cos(0.5), 14);
    expect(got.at(1)).toBeCloseTo(7 * Math.cos(0.5), 14);
  });

  it("an empty batch: a [0, ...] result from rules and from the per-example path, also under grad", () => {
    const e = run(vmap(function* (x: Value) { return yield* sum(yield* sin(x), 0); }), rn([0, 3, 2])) as Tensor;
    expect(e.shape).toEqual([0, 2]);
    // conv with batched filters has no batching rule: it runs per example
    const conv = function* (w: Value, x: Value) { return yield* conv2d(x, w, { padding: 1 }); };
    const x = rn([1, 2, 4, 4]);
    const c = run(vmap(conv, [0, null]), rn([0, 3, 2, 3, 3]), x) as Tensor;
    expect(c.shape).toEqual([0, 1, 3, 4, 4]);
    const gx = run(grad(function* (x: Value) { return yield* sum(yield* vmap(conv, [0, null])(rn([0, 3, 2, 3, 3]), x)); }), x) as Tensor;
    expect(gx.shape).toEqual([1, 2, 4, 4]);
    expect(Array.from(gx.data).every((v) => v === 0)).toBe(true);
    const gw = run(grad(function* (w: Value) { return yield* sum(yield* vmap(conv, [0, null])(w, x)); }), rn([0, 3, 2, 3, 3])) as Tensor;
    expect(gw.shape).toEqual([0, 3, 2, 3, 3]);
  });

  it("primal of a shared (unbatched) value inside vmap is its concrete value", () => {
    const c = tensor([1, 2]);
    const got = run(vmap(function* (x: Value, c: Value) {
      const k = primal(c) as Tensor;
      expect(k.toArray()).toEqual([1, 2]);
      return yield* mul(x, k.at(1));
    }, [0, null]), tensor([1, 2, 3]), c) as Tensor;
    expect(got.toArray()).toEqual([2, 4, 6]);
  });
});

describe("errors, and recovery after them", () => {
  const f = function* (x: Value, y: Value) { return yield* mul(x, y); };
  const worksAfter = () => {
    const got = run(vmap(f), tensor([1, 2, 3]), tensor([4, 5, 6])) as Tensor;
    expect(got.toArray()).toEqual([4, 10, 18]);
    expectTreeClose(run(vmap(grad(function* (x: Value) { return yield* sum(yield* sin(x)); })), tensor([[0, 1], [2, 3]])), loop(grad(function* (x: Value) { return yield* sum(yield* sin(x)); }), [tensor([[0, 1], [2, 3]])]));
  };

  it("mismatched batch sizes across arguments: a ShapeError naming both sizes", () => {
    const call = () => run(vmap(f), rn([3, 2]), rn([5, 2]));
    expect(call).toThrow(ShapeError);
    expect(call).toThrow(/\b5\b/);
    expect(call).toThrow(/\b3\b/);
    worksAfter();
    // inside one pytree argument, and with different axes
    expect(() => run(vmap(function* (p: any) { return yield* add(p.a, p.b); }), { a: rn([3]), b: rn([4]) })).toThrow(ShapeError);
    worksAfter();
    const call2 = () => run(vmap(f, [0, 1]), rn([6, 2]), rn([2, 7]));
    expect(call2).toThrow(ShapeError);
    expect(call2).toThrow(/\b6\b/);
    expect(call2).toThrow(/\b7\b/);
    worksAfter();
  });

  it("an inAxes out of range (too large, too negative, not an integer, on a number): ShapeError", () => {
    for (const axis of [2, 5, -3, 0.5]) {
      expect(() => run(vmap(f, axis), rn([3, 4]), rn([3, 4]))).toThrow(ShapeError);
      worksAfter();
    }
    expect(() => run(vmap(f, [0, 0]), rn([3]), 2)).toThrow(ShapeError);
    expect(() => run(vmap(f, [0, 0]), rn([3]), 2)).toThrow(/argument 1/);
    worksAfter();
  });

  it("an inAxes array of the wrong length: TransformError", () => {
    expect(() => run(vmap(f, [0]), rn([3]), rn([3]))).toThrow(TransformError);
    expect(() => run(vmap(f, [0, 0, null]), rn([3]), rn([3]))).toThrow(TransformError);
    worksAfter();
  });

  it("primal of a batched value inside vmap: a TransformError naming vmap", () => {
    const branchy = function* (x: Value) {
      if ((primal(x) as Tensor).item() > 0) return yield* sin(x);
      return yield* cos(x);
    };
    const call = () => run(vmap(branchy), tensor([1, -1]));
    expect(call).toThrow(TransformError);
    expect(call).toThrow(/vmap/);
    worksAfter();
    // also through a transformation nested inside vmap
    expect(() => run(vmap(grad(function* (x: Value) { primal(x); return yield* sin(x); })), tensor([1, 2]))).toThrow(TransformError);
    worksAfter();
    // and a batched value computed inside (not an argument)
    expect(() => run(vmap(function* (x: Value) { return primal(yield* exp(x)); }), tensor([1, 2]))).toThrow(TransformError);
    worksAfter();
  });

  it("no mapped argument: TransformError", () => {
    expect(() => run(vmap(f, null), rn([3]), rn([3]))).toThrow(TransformError);
    expect(() => run(vmap(f, [null, null]), rn([3]), rn([3]))).toThrow(TransformError);
    expect(() => run(vmap(function* (p: any) { return 1; }), {})).toThrow(TransformError);
    expect(() => run(vmap(function* () { return 1; }))).toThrow(TransformError);
    worksAfter();
  });

  it("a batched value used after its vmap returned: EscapeError", () => {
    let leaked: Value | null = null;
    run(vmap(function* (x: Value) { leaked = x; return yield* sin(x); }), tensor([1, 2]));
    expect(() => run(function* () { return yield* sin(leaked!); })).toThrow(EscapeError);
    worksAfter();
  });

  it("an operation error inside vmap speaks in per-example shapes and leaves vmap usable", () => {
    const bad = () => run(vmap(function* (x: Value, W: Value) { return yield* matmul(x, W); }, [0, null]), rn([5, 3]), rn([4, 2]));
    expect(bad).toThrow(ShapeError);
    expect(bad).toThrow(/\[3\]/);
    expect(bad).toThrow(/\[4, 2\]/);
    worksAfter();
    // and an error thrown by the program itself
    expect(() => run(vmap(function* (x: Value) { yield* sin(x); throw new RangeError("mine"); }), rn([2]))).toThrow(RangeError);
    worksAfter();
  });
});
