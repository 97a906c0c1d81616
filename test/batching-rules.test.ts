// Every primitive batches: its record's `batch` rule (required by the type) is checked against
// running the primitive once per example, on random operands, with every operand batched or
// shared (vmap's inAxes 0 or null), and under grad both ways (grad of vmap, vmap of grad).
// The list of primitives is the registry of every primitive defined: a new primitive without
// a case here fails the first test.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add as addOp, customJvp, customVjp, grad, mul as mulOp, run, sin, cos, vmap } from "../src/index.ts";
import type { Gen } from "../src/transforms/common.ts";
import { definedPrimitives, type Primitive } from "../effects/primitive.ts";
import { bind } from "../effects/trace.ts";
import { shapeOf, type Value } from "../effects/value.ts";
import { add, mul } from "../src/primitives/binary.ts";
import { sum } from "../src/primitives/reduce.ts";
import { Tensor } from "../src/tensor/tensor.ts";
import { expectSame } from "./expect-same.ts";

/** How to draw one operand: its shape and its values' domain. */
interface Operand {
  readonly shape: readonly number[];
  /** "any": in [-2, 2); "pos": in [0.5, 2.5); an integer n: an integer in [0, n). */
  readonly domain?: "any" | "pos" | number;
  /** Whether grad differentiates it (float data the result depends on smoothly). */
  readonly diff?: boolean;
}
interface Case {
  readonly operands: readonly Operand[];
  /** The operation on one example's operands. */
  readonly apply: (...args: Value[]) => Gen<Value>;
}

const prim = (name: string): Primitive<unknown> => {
  const p = definedPrimitives().find((q) => q.name === name);
  if (!p) throw new Error(`no primitive ${name}`);
  return p as unknown as Primitive<unknown>;
};
const of = (name: string, params?: unknown) =>
  function* (...args: Value[]): Gen<Value> {
    return bind(prim(name), args, params);
  };
const t = (...shape: number[]): Operand => ({ shape, diff: true });
const pos = (...shape: number[]): Operand => ({ shape, domain: "pos", diff: true });
const data = (...shape: number[]): Operand => ({ shape, diff: false });
const index = (n: number): Operand => ({ shape: [], domain: n, diff: false });
const key = (): Operand => ({ shape: [2], domain: 2 ** 32, diff: false });

const unary = ["neg", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sqrt", "square", "abs", "sign"];
const binary = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "greater", "less", "equal", "greaterEqual", "lessEqual"];
const positive = new Set(["log", "log1p", "sqrt", "log2", "log10", "cbrt"]);
unary.push("log2", "log10", "cbrt", "atan", "sinh", "cosh", "asinh", "exp2", "erf", "erfc", "floor", "ceil", "round", "trunc", "softplus", "silu", "gelu");
binary.push("atan2", "logaddexp", "hypot");
/** A unary primitive applied to its operand mapped into its domain first (with primitives, so grad sees the map too). */
const within = (name: string, into: (x: Value) => Value) =>
  function* (x: Value): Gen<Value> {
    return bind(prim(name), [into(x)], undefined);
  };
const conv = { stride: [1, 2] as const, padding: [[1, 1], [0, 0]] as const, dilation: [1, 1] as const, groups: 1 };
const pool = { size: [2, 2] as const, stride: [2, 2] as const, padding: [[0, 0], [0, 0]] as const };
const takeParams = { indices: Int32Array.from([2, 0, 3]), indexShape: [3], axis: 0 };

const customF = customVjp(
  function* (x: Value, y: Value) {
    return yield* mulOp(yield* sin(x), y);
  },
  function* (x: Value, y: Value) {
    return [yield* mulOp(yield* sin(x), y), [x, y]] as [Value, unknown];
  },
  function* ([x, y]: [Value, Value], ct: Value) {
    return [yield* mulOp(ct, yield* mulOp(yield* cos(x), y)), yield* mulOp(ct, yield* sin(x))];
  },
);

/** A customJvp program: sin(x)·y with its derivative as the rule (reverse mode transposes it). */
const customG = customJvp(
  function* (x: Value, y: Value) {
    return yield* mulOp(yield* sin(x), y);
  },
  function* ([x, y]: [Value, Value], [tx, ty]: [Value, Value]) {
    const out = yield* mulOp(yield* sin(x), y);
    return [out, yield* addOp(yield* mulOp(yield* mulOp(yield* cos(x), y), tx), yield* mulOp(yield* sin(x), ty))] as const;
  },
);

/** A linalg primitive on a [3, 3] operand shifted by 5I (after a aᵀ where `spd`), then the other operands. */
const wellPosed = (name: string, params?: unknown, spd = false) =>
  function* (a: Value, ...rest: Value[]): Gen<Value> {
    const x = spd ? bind(prim("matmul"), [a, a], { transA: false, transB: true }) : a;
    const shift = new Tensor(Float64Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? 5 : 0)), [3, 3]);
    return bind(prim(name), [bind(prim("add"), [x, shift], undefined), ...rest], params);
  };

const cases: Record<string, Case> = {
  ...Object.fromEntries(unary.map((n) => [n, { operands: [positive.has(n) ? pos(2, 3) : t(2, 3)], apply: of(n) }])),
  ...Object.fromEntries(binary.map((n) => [n, { operands: n === "div" || n === "pow" ? [pos(2, 3), pos(3)] : [t(2, 3), t(3)], apply: of(n) }])),
  where: { operands: [data(3), t(2, 3), t(3)], apply: of("where") },
  // (operands in [-2, 2) or [0.5, 2.5) mapped into (−1, 1), or [1.5, 3.5) for acosh)
  ...Object.fromEntries(["asin", "acos", "atanh", "erfinv"].map((n) => [n, { operands: [t(2, 3)], apply: within(n, (x) => mul(0.4, x)) }])),
  acosh: { operands: [pos(2, 3)], apply: within("acosh", (x) => add(1, x)) },
  mod: { operands: [t(2, 3), pos(3)], apply: of("mod") },
  matmul: { operands: [t(2, 3), t(3, 4)], apply: of("matmul", { transA: false, transB: false }) },
  sum: { operands: [t(2, 3, 2)], apply: of("sum", { axes: [0, 2], keepdims: false }) },
  logsumexp: { operands: [t(2, 3)], apply: of("logsumexp", { axes: [1], keepdims: true }) },
  logSoftmax: { operands: [t(2, 3)], apply: of("logSoftmax", { axes: [1], keepdims: true }) },
  reshape: { operands: [t(2, 3)], apply: of("reshape", { shape: [3, 2] }) },
  transpose: { operands: [t(2, 3, 4)], apply: of("transpose", { perm: [2, 0, 1] }) },
  broadcastTo: { operands: [t(3, 1)], apply: of("broadcastTo", { shape: [2, 3, 4] }) },
  concat: { operands: [t(2, 3), t(2, 2)], apply: of("concat", { axis: 1 }) },
  slice: { operands: [t(4, 5)], apply: of("slice", { starts: [1, 0], ends: [3, 4] }) },
  pad: { operands: [t(2, 3)], apply: of("pad", { starts: [1, 1], shape: [4, 5] }) },
  take: { operands: [t(4, 3)], apply: of("take", takeParams) },
  scatterAdd: { operands: [t(3, 3)], apply: of("scatterAdd", { ...takeParams, dimSize: 4 }) },
  takeByIndex: { operands: [t(4, 3), { shape: [3], domain: 4, diff: false }], apply: of("takeByIndex", { axis: 0, fill: NaN }) },
  scatterByIndex: { operands: [t(3, 2), { shape: [3], domain: 4, diff: false }], apply: of("scatterByIndex", { axis: 0, dim: 4 }) },
  toNumber: { operands: [t(1)], apply: of("toNumber") },
  extremumGather: { operands: [data(3, 4), t(3, 4)], apply: of("extremumGather", { kind: "max", axes: [1], keepdims: false }) },
  extremumScatter: { operands: [data(3, 4), t(3)], apply: of("extremumScatter", { kind: "min", axes: [1], keepdims: false }) },
  maxPool2dGather: { operands: [data(1, 2, 4, 4), t(1, 2, 4, 4)], apply: of("maxPool2dGather", { ...pool, outShape: [1, 2, 2, 2] }) },
  maxPool2dScatter: { operands: [data(1, 2, 4, 4), t(1, 2, 2, 2)], apply: of("maxPool2dScatter", { ...pool, outShape: [1, 2, 2, 2] }) },
  conv2d: { operands: [t(2, 2, 5, 5), t(3, 2, 3, 3)], apply: of("conv2d", conv) },
  conv2dInputGrad: { operands: [t(2, 3, 5, 2), t(3, 2, 3, 3)], apply: of("conv2dInputGrad", { ...conv, shape: [2, 2, 5, 5] }) },
  conv2dWeightGrad: { operands: [t(2, 2, 5, 5), t(2, 3, 5, 2)], apply: of("conv2dWeightGrad", { ...conv, shape: [3, 2, 3, 3] }) },
  conv2dWeightGrads: { operands: [t(2, 1, 2, 5, 5), t(2, 1, 3, 5, 2)], apply: of("conv2dWeightGrads", { ...conv, shape: [3, 2, 3, 3] }) },
  avgPool2d: { operands: [t(1, 2, 4, 4)], apply: of("avgPool2d", pool) },
  avgPool2dGrad: { operands: [t(1, 2, 2, 2)], apply: of("avgPool2dGrad", { ...pool, shape: [1, 2, 4, 4] }) },
  dynamicIndex: { operands: [t(4, 3), index(4)], apply: of("dynamicIndex") },
  dynamicIndexAdjoint: { operands: [t(3), index(4)], apply: of("dynamicIndexAdjoint", { shape: [4, 3], dtype: "float64" }) },
  cast: { operands: [t(3)], apply: of("cast", { dtype: "float32" }) },
  stopGradient: { operands: [t(3)], apply: of("stopGradient") },
  customCall: { operands: [t(3), t(3)], apply: (x, y) => customF(x, y) as Gen<Value> },
  customJvpCall: { operands: [t(3), t(3)], apply: (x, y) => customG(x, y) as Gen<Value> },
  // random: keys are two 32-bit words (data); samples have zero derivative
  "random.split": { operands: [key()], apply: of("random.split", { n: 3 }) },
  "random.foldIn": { operands: [key(), index(1000)], apply: of("random.foldIn") },
  "random.uniform": { operands: [key()], apply: of("random.uniform", { shape: [2, 3], dtype: "float64", minval: -1, maxval: 2 }) },
  "random.normal": { operands: [key()], apply: of("random.normal", { shape: [3], dtype: "float32" }) },
  "random.categorical": { operands: [key(), t(2, 3)], apply: of("random.categorical", { axis: 1, shape: [4, 2] }) },
  "random.permutation": { operands: [key()], apply: of("random.permutation", { n: 5 }) },
  flip: { operands: [t(2, 3, 2)], apply: of("flip", { axes: [0, 2] }) },
  triangle: { operands: [t(3, 4)], apply: of("triangle", { lower: false, k: -1 }) },
  cumsum: { operands: [t(3, 4)], apply: of("cumsum", { axis: 1, reverse: false }) },
  cumprod: { operands: [t(3, 4)], apply: of("cumprod", { axis: 0, reverse: true }) },
  prod: { operands: [t(2, 3, 2)], apply: of("prod", { axes: [0, 2], keepdims: false }) },
  argReduce: { operands: [data(3, 4)], apply: of("argReduce", { kind: "max", axis: 1 }) },
  argsort: { operands: [data(3, 4)], apply: of("argsort", { axis: 0 }) },
  sortGather: { operands: [data(3, 4), t(3, 4)], apply: of("sortGather", { axis: 1 }) },
  sortScatter: { operands: [data(3, 4), t(3, 4)], apply: of("sortScatter", { axis: 0 }) },
  topKIndices: { operands: [data(3, 4)], apply: of("topKIndices", { k: 2 }) },
  topKGather: { operands: [data(3, 4), t(3, 4)], apply: of("topKGather", { k: 2 }) },
  topKScatter: { operands: [data(3, 4), t(3, 2)], apply: of("topKScatter", { k: 2 }) },
  dynamicSlice: { operands: [t(4, 3), index(4), index(3)], apply: of("dynamicSlice", { sizes: [2, 2], rows: false }) },
  dynamicUpdateSlice: { operands: [t(4, 3), t(2, 2), index(4), index(3)], apply: of("dynamicUpdateSlice", { rows: false }) },
  // linalg (operands made well posed first, with primitives: a diagonal away from zero; a aᵀ + 5I positive definite)
  triangularSolve: { operands: [t(3, 3), t(3, 2)], apply: wellPosed("triangularSolve", { lower: false, transposeA: true, unitDiagonal: false }) },
  cholesky: { operands: [t(3, 3)], apply: wellPosed("cholesky", undefined, true) },
  lu: { operands: [t(3, 3)], apply: wellPosed("lu") },
  qr: { operands: [t(4, 3)], apply: of("qr") },
  eigh: { operands: [t(3, 3)], apply: of("eigh") },
  svd: { operands: [t(3, 4)], apply: of("svd") },
};

/**
 * Primitives vmap never meets with operands of its own: jit's staged constructs under grad
 * (they exist only while jit stages, where vmap's boxes are already inlined). Their rules are
 * the explicit per-example rule.
 */
const onlyWhileStaging = new Set(["stagedCall", "stagedResult"]);

const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
  return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
};
const draw = (op: Operand, next: () => number): Value => {
  const n = op.shape.reduce((a, b) => a * b, 1);
  const d = op.domain ?? "any";
  const v = Float64Array.from({ length: n }, () => (typeof d === "number" ? Math.floor(next() * d) : d === "pos" ? 0.5 + 2 * next() : 4 * next() - 2));
  return op.shape.length === 0 ? v[0]! : new Tensor(v, op.shape);
};
/** Examples stacked along a new axis 0 (numbers become a vector). */
const stacked = (examples: readonly Value[]): Tensor => {
  const first = examples[0]!;
  const shape = typeof first === "number" ? [] : (first as Tensor).shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = new Float64Array(examples.length * n);
  examples.forEach((e, b) => (typeof e === "number" ? (buf[b] = e) : buf.set((e as Tensor).buf, b * n)));
  return new Tensor(buf, [examples.length, ...shape]);
};
const stackAll = (examples: readonly unknown[]): unknown =>
  Array.isArray(examples[0]) ? (examples[0] as unknown[]).map((_, i) => stackAll(examples.map((e) => (e as unknown[])[i]))) : stacked(examples as Value[]);
const asFloat64 = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(asFloat64) : v instanceof Tensor && v.dtype !== "float64" ? new Tensor(Float64Array.from(v.buf), v.shape) : v;

/** Σ out·w: a scalar loss of one example's output. */
const dot = (out: Value, w: Value): Value => {
  const m = mul(out, w);
  return sum(m, { axes: shapeOf(m).map((_, a) => a), keepdims: false });
};

const draws = fc.record({
  size: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer(),
  mask: fc.integer({ min: 1, max: 7 }), // which operands are batched (bit i: operand i); never none
});

describe("batching rules", () => {
  it("every primitive has a case here (and so a checked batching rule)", () => {
    const names = definedPrimitives().map((p) => p.name);
    for (const p of definedPrimitives()) expect(typeof p.batch, p.name).toBe("function");
    const missing = names.filter((n) => !(n in cases) && !onlyWhileStaging.has(n));
    expect(missing, "primitives without a batching case").toEqual([]);
    expect(Object.keys(cases).filter((n) => !names.includes(n))).toEqual([]);
  });

  for (const [name, c] of Object.entries(cases)) {
    const k = c.operands.length;
    const setup = ({ size, seed, mask }: { size: number; seed: number; mask: number }) => {
      const next = rng(seed);
      const batched = c.operands.map((_, i) => (mask & (1 << i)) !== 0 || (mask & ((1 << k) - 1)) === 0 && i === 0);
      const shared = c.operands.map((op) => draw(op, next));
      const examples = Array.from({ length: size }, () => c.operands.map((op, i) => (batched[i] ? draw(op, next) : shared[i]!)));
      const args = c.operands.map((_, i) => (batched[i] ? stacked(examples.map((e) => e[i]!)) : shared[i]!));
      const axes = batched.map((b) => (b ? 0 : null));
      return { batched, examples, args, axes, next };
    };

    it(`${name}: vmap agrees with one run per example, each operand batched or shared`, () => {
      fc.assert(
        fc.property(draws, (d) => {
          const { examples, args, axes } = setup(d);
          const got = run(vmap(c.apply, axes), ...args);
          const want = stacked(examples.map((e) => run(c.apply, ...e) as Value));
          expectSame(asFloat64(got), asFloat64(want), 1e-9);
        }),
        { numRuns: 12 },
      );
    });

    const argnums = c.operands.flatMap((op, i) => (op.diff ? [i] : []));
    if (argnums.length === 0) continue;
    function* loss(...a: Value[]): Gen<Value> {
      return dot(yield* c.apply(...a.slice(0, k)), a[k]!);
    }

    it(`${name}: grad of vmap and vmap of grad agree with per-example gradients`, () => {
      fc.assert(
        fc.property(draws, (d) => {
          const { batched, examples, args, axes, next } = setup(d);
          const outs = examples.map((e) => run(c.apply, ...e) as Value);
          const ws = outs.map((o) => draw({ shape: shapeOf(o) }, next));
          const perExample = examples.map((e, b) => run(grad(loss, { argnums }), ...e, ws[b]!) as unknown as Value[]);
          // vmap of grad: one gradient per example, for every operand.
          const vg = run(vmap(grad(loss, { argnums }), [...axes, 0]), ...args, stacked(ws));
          expectSame(asFloat64(vg), asFloat64(stackAll(perExample)), 1e-9);
          // grad of vmap: a batched operand's gradient per example; a shared one's summed.
          function* total(...a: Value[]): Gen<Value> {
            const out = (yield* vmap(c.apply, axes)(...a)) as Value;
            return dot(out, stacked(ws));
          }
          const gv = run(grad(total, { argnums }), ...args) as unknown as Value[];
          const want = argnums.map((i, j) => {
            const each = perExample.map((g) => g[j]!);
            if (batched[i]) return stacked(each);
            return each.slice(1).reduce((s, g) => run(function* () {
              return bind(prim("add"), [s, g], undefined);
            }) as Value, each[0]!);
          });
          expectSame(asFloat64(gv), asFloat64(want), 1e-9);
        }),
        { numRuns: 8 },
      );
    });
  }
});
