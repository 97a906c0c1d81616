// Every operation of API.md (and the extras of src/ops.ts), run as an effect through `run`,
// against hand-computed values at float32 and float64.
import { describe, expect, it } from "vitest";
import {
  run, tensor, arange, Tensor, type DType, type Effect,
  add, sub, mul, div, pow, maximum, minimum,
  neg, exp, log, log1p, expm1, sin, cos, tan, tanh, sigmoid, relu, sqrt, square, abs, sign,
  greater, less, equal, greaterEqual, lessEqual, where,
  sum, mean, max, min, logsumexp, softmax, logSoftmax,
  matmul, dot, reshape, transpose, broadcastTo, concat, slice, take,
  conv2d, maxPool2d, avgPool2d, stopGradient,
} from "../src/index.ts";

const DTYPES: DType[] = ["float32", "float64"];

/** Runs one operation as a program: run(function* () { return yield* op(...) }). */
const ev = <R>(op: () => Effect<R>): R =>
  run(function* () {
    return yield* op();
  });

const T = (values: number | unknown[], dtype: DType, shape?: number[]): Tensor =>
  tensor(values as number[], shape ? { dtype, shape } : { dtype });

/** Asserts a Tensor of the given shape, dtype and (flat, row-major) values. */
const expectT = (v: unknown, shape: number[], values: number[], dtype: DType, tol?: number): void => {
  expect(v).toBeInstanceOf(Tensor);
  const t = v as Tensor;
  expect(t.shape).toEqual(shape);
  expect(t.dtype).toBe(dtype);
  const got = Array.from(t.data);
  expect(got.length).toBe(values.length);
  const eps = tol ?? (dtype === "float32" ? 2e-6 : 1e-12);
  got.forEach((g, i) => {
    const e = values[i]!;
    if (!Number.isFinite(e)) expect(g).toBe(e);
    else if (Math.abs(g - e) > eps * Math.max(1, Math.abs(e)))
      throw new Error(`element ${i}: got ${g}, expected ${e} (${dtype}, tol ${eps})`);
  });
};
const allFinite = (t: Tensor): boolean => Array.from(t.data).every(Number.isFinite);

describe.each(DTYPES)("elementwise binary at %s", (dtype) => {
  const a = () => T([[1, 2, 3], [4, 5, 6]], dtype);
  const b = () => T([[2, 2, 2], [-1, 0.5, 4]], dtype);

  it("same shapes", () => {
    expectT(ev(() => add(a(), b())), [2, 3], [3, 4, 5, 3, 5.5, 10], dtype);
    expectT(ev(() => sub(a(), b())), [2, 3], [-1, 0, 1, 5, 4.5, 2], dtype);
    expectT(ev(() => mul(a(), b())), [2, 3], [2, 4, 6, -4, 2.5, 24], dtype);
    expectT(ev(() => div(a(), b())), [2, 3], [0.5, 1, 1.5, -4, 10, 1.5], dtype);
    expectT(ev(() => pow(a(), b())), [2, 3], [1, 4, 9, 0.25, Math.sqrt(5), 1296], dtype);
    expectT(ev(() => maximum(a(), b())), [2, 3], [2, 2, 3, 4, 5, 6], dtype);
    expectT(ev(() => minimum(a(), b())), [2, 3], [1, 2, 2, -1, 0.5, 4], dtype);
  });

  it("plain-number scalars on either side keep the tensor's dtype", () => {
    const x = T([1, 2, 4], dtype);
    expectT(ev(() => add(x, 1)), [3], [2, 3, 5], dtype);
    expectT(ev(() => add(1, x)), [3], [2, 3, 5], dtype);
    expectT(ev(() => sub(10, x)), [3], [9, 8, 6], dtype);
    expectT(ev(() => sub(x, 10)), [3], [-9, -8, -6], dtype);
    expectT(ev(() => mul(x, -2)), [3], [-2, -4, -8], dtype);
    expectT(ev(() => div(1, x)), [3], [1, 0.5, 0.25], dtype);
    expectT(ev(() => div(x, 4)), [3], [0.25, 0.5, 1], dtype);
    expectT(ev(() => pow(2, x)), [3], [2, 4, 16], dtype);
    expectT(ev(() => pow(x, 2)), [3], [1, 4, 16], dtype);
    expectT(ev(() => pow(x, 0.5)), [3], [1, Math.SQRT2, 2], dtype);
    expectT(ev(() => maximum(x, 2)), [3], [2, 2, 4], dtype);
    expectT(ev(() => minimum(2, x)), [3], [1, 2, 2], dtype);
  });

  it("broadcasting: size-1 axes on both sides", () => {
    const col = T([[1], [2]], dtype); // [2, 1]
    const row = T([[10, 20, 30]], dtype); // [1, 3]
    expectT(ev(() => add(col, row)), [2, 3], [11, 21, 31, 12, 22, 32], dtype);
    expectT(ev(() => sub(row, col)), [2, 3], [9, 19, 29, 8, 18, 28], dtype);
    expectT(ev(() => mul(row, col)), [2, 3], [10, 20, 30, 20, 40, 60], dtype);
  });

  it("broadcasting: rank differences", () => {
    const m = a(); // [2, 3]
    const v = T([10, 20, 30], dtype); // [3]
    expectT(ev(() => add(m, v)), [2, 3], [11, 22, 33, 14, 25, 36], dtype);
    expectT(ev(() => sub(v, m)), [2, 3], [9, 18, 27, 6, 15, 24], dtype);
    // [2, 1, 3] with [2, 1]: -> [2, 2, 3]
    const p = T([[[1, 2, 3]], [[4, 5, 6]]], dtype);
    const q = T([[0], [100]], dtype);
    expectT(
      ev(() => add(p, q)),
      [2, 2, 3],
      [1, 2, 3, 101, 102, 103, 4, 5, 6, 104, 105, 106],
      dtype,
    );
    // a 0-d tensor broadcasts like a number
    expectT(ev(() => mul(T(3, dtype), v)), [3], [30, 60, 90], dtype);
    expectT(ev(() => mul(v, T(3, dtype))), [3], [30, 60, 90], dtype);
    // [1] with []: -> [1]
    expectT(ev(() => add(T([1], dtype), T(2, dtype))), [1], [3], dtype);
  });

  it("broadcasting with a size-0 axis gives an empty result", () => {
    const e = tensor([], { dtype, shape: [0, 3] });
    expectT(ev(() => add(e, T([1, 2, 3], dtype))), [0, 3], [], dtype);
    expectT(ev(() => mul(T([[1], [2]], dtype), tensor([], { dtype, shape: [0] }))), [2, 0], [], dtype);
  });

  it("0-d tensors give 0-d tensors", () => {
    expectT(ev(() => add(T(2, dtype), T(3, dtype))), [], [5], dtype);
    expectT(ev(() => mul(T(2, dtype), 4)), [], [8], dtype);
  });

  it("comparisons give 0/1 (with broadcasting and numbers)", () => {
    const x = T([1, 2, 3], dtype);
    expectT(ev(() => greater(x, 2)), [3], [0, 0, 1], dtype);
    expectT(ev(() => less(x, 2)), [3], [1, 0, 0], dtype);
    expectT(ev(() => equal(x, 2)), [3], [0, 1, 0], dtype);
    expectT(ev(() => greaterEqual(x, 2)), [3], [0, 1, 1], dtype);
    expectT(ev(() => lessEqual(x, 2)), [3], [1, 1, 0], dtype);
    expectT(ev(() => greater(2, x)), [3], [1, 0, 0], dtype);
    expectT(ev(() => equal(T([[1], [3]], dtype), x)), [2, 3], [1, 0, 0, 0, 0, 1], dtype);
  });

  it("where selects with a 0/1 condition, broadcasting all three operands", () => {
    const c = T([1, 0, 1], dtype);
    expectT(ev(() => where(c, T([1, 2, 3], dtype), T([-1, -2, -3], dtype))), [3], [1, -2, 3], dtype);
    expectT(ev(() => where(c, 5, T([[0, 0, 0], [9, 9, 9]], dtype))), [2, 3], [5, 0, 5, 5, 9, 5], dtype);
    expectT(ev(() => where(T([[1], [0]], dtype), T([1, 2], dtype), 0)), [2, 2], [1, 2, 0, 0], dtype);
    // a condition computed by a comparison
    expectT(
      ev(() => where(T([1, 0, 0], dtype), T([7, 7, 7], dtype), T([4, 5, 6], dtype))),
      [3],
      [7, 5, 6],
      dtype,
    );
  });

  it("stopGradient is the identity on values", () => {
    expectT(ev(() => stopGradient(T([1, -2], dtype))), [2], [1, -2], dtype);
  });
});

describe("dtype promotion", () => {
  const f32 = tensor([1, 2], { dtype: "float32" });
  const f64 = tensor([0.5, 0.25]);

  it("float32 with float64 gives float64, on either side", () => {
    expectT(ev(() => add(f32, f64)), [2], [1.5, 2.25], "float64");
    expectT(ev(() => mul(f64, f32)), [2], [0.5, 0.5], "float64");
    expectT(ev(() => where(tensor([1, 0], { dtype: "float32" }), f32, f64)), [2], [1, 0.25], "float64");
    expectT(ev(() => matmul(f32, f64)), [], [1], "float64");
    // a 0-d float64 tensor promotes too (unlike a plain number)
    expect(ev(() => add(f32, tensor(1))).dtype).toBe("float64");
  });

  it("a plain number with a float32 tensor stays float32", () => {
    for (const r of [ev(() => add(f32, 0.1)), ev(() => mul(3, f32)), ev(() => pow(f32, 2)), ev(() => greater(f32, 1))])
      expect((r as Tensor).dtype).toBe("float32");
    expect(Array.from(ev(() => add(f32, 0.1)).data)).toEqual([Math.fround(1.1), Math.fround(2.1)]);
  });

  it("concat of mixed dtypes gives float64", () => {
    expectT(ev(() => concat([f32, f64])), [4], [1, 2, 0.5, 0.25], "float64");
    expectT(ev(() => concat([f32, f32])), [4], [1, 2, 1, 2], "float32");
  });
});

describe("programs on plain numbers return numbers", () => {
  it("binary, unary, comparison, where, reductions", () => {
    const cases: [unknown, number][] = [
      [ev(() => add(1, 2)), 3],
      [ev(() => sub(1, 2)), -1],
      [ev(() => mul(3, 4)), 12],
      [ev(() => div(1, 4)), 0.25],
      [ev(() => pow(2, 10)), 1024],
      [ev(() => maximum(2, 3)), 3],
      [ev(() => minimum(2, 3)), 2],
      [ev(() => neg(2)), -2],
      [ev(() => exp(0)), 1],
      [ev(() => log(1)), 0],
      [ev(() => sqrt(9)), 3],
      [ev(() => square(-3)), 9],
      [ev(() => abs(-3)), 3],
      [ev(() => relu(-3)), 0],
      [ev(() => sigmoid(0)), 0.5],
      [ev(() => greater(3, 2)), 1],
      [ev(() => less(3, 2)), 0],
      [ev(() => equal(2, 2)), 1],
      [ev(() => where(1, 2, 3)), 2],
      [ev(() => where(0, 2, 3)), 3],
      [ev(() => sum(5)), 5],
      [ev(() => mean(5)), 5],
      [ev(() => max(5)), 5],
      [ev(() => min(5)), 5],
      [ev(() => logsumexp(5)), 5],
      [ev(() => dot(2, 3)), 6],
      [ev(() => stopGradient(4)), 4],
    ];
    cases.forEach(([got, want]) => {
      expect(typeof got).toBe("number");
      expect(got).toBe(want);
    });
  });

  it("a whole program of number operations returns a number", () => {
    const f = function* (x: number) {
      const y = yield* mul(x, x);
      return yield* add(yield* sin(y), yield* exp(0));
    };
    const r = run(f, 2);
    expect(typeof r).toBe("number");
    expect(r).toBeCloseTo(Math.sin(4) + 1, 14);
  });
});

describe.each(DTYPES)("elementwise unary at %s", (dtype) => {
  const xs = [0.5, 1, 2];
  const x = () => T(xs, dtype);
  const ref = (f: (v: number) => number) => xs.map((v) => f(dtype === "float32" ? Math.fround(v) : v));

  it("math functions", () => {
    expectT(ev(() => neg(x())), [3], [-0.5, -1, -2], dtype);
    expectT(ev(() => exp(x())), [3], ref(Math.exp), dtype);
    expectT(ev(() => log(x())), [3], ref(Math.log), dtype);
    expectT(ev(() => log1p(x())), [3], ref(Math.log1p), dtype);
    expectT(ev(() => expm1(x())), [3], ref(Math.expm1), dtype);
    expectT(ev(() => sin(x())), [3], ref(Math.sin), dtype);
    expectT(ev(() => cos(x())), [3], ref(Math.cos), dtype);
    expectT(ev(() => tan(x())), [3], ref(Math.tan), dtype);
    expectT(ev(() => tanh(x())), [3], ref(Math.tanh), dtype);
    expectT(ev(() => sigmoid(x())), [3], ref((v) => 1 / (1 + Math.exp(-v))), dtype);
    expectT(ev(() => sqrt(T([0, 4, 9, 2.25], dtype))), [4], [0, 2, 3, 1.5], dtype);
    expectT(ev(() => square(T([-3, 0, 1.5], dtype))), [3], [9, 0, 2.25], dtype);
  });

  it("hand values at special points", () => {
    expectT(ev(() => exp(T([0], dtype))), [1], [1], dtype);
    expectT(ev(() => log(T([1, Math.E], dtype))), [2], [0, 1], dtype);
    expectT(ev(() => sin(T([0, Math.PI / 2], dtype))), [2], [0, 1], dtype);
    expectT(ev(() => cos(T([0, Math.PI], dtype))), [2], [1, -1], dtype);
    expectT(ev(() => tanh(T([0], dtype))), [1], [0], dtype);
    expectT(ev(() => sigmoid(T([0], dtype))), [1], [0.5], dtype);
  });

  it("piecewise functions", () => {
    const v = T([-2, -0.5, 0, 3], dtype);
    expectT(ev(() => relu(v)), [4], [0, 0, 0, 3], dtype);
    expectT(ev(() => abs(v)), [4], [2, 0.5, 0, 3], dtype);
    expectT(ev(() => sign(v)), [4], [-1, -1, 0, 1], dtype);
  });

  it("sigmoid and tanh saturate without NaN at ±1000", () => {
    const big = T([-1000, 1000], dtype);
    expectT(ev(() => sigmoid(big)), [2], [0, 1], dtype);
    expectT(ev(() => tanh(big)), [2], [-1, 1], dtype);
  });

  it("keep shape (including 0-d and size 0)", () => {
    expectT(ev(() => exp(T(0, dtype))), [], [1], dtype);
    expectT(ev(() => sin(tensor([], { dtype, shape: [2, 0] }))), [2, 0], [], dtype);
    expectT(ev(() => neg(T([[1, 2]], dtype))), [1, 2], [-1, -2], dtype);
  });
});

describe.each(DTYPES)("reductions at %s", (dtype) => {
  const x = () => T([[1, 2, 3], [4, 5, 6]], dtype);
  const y = () => T([[1, -2, 3], [-4, 5, -6]], dtype);

  it("sum: all, one axis, negative axes, axis lists, keepdims", () => {
    expectT(ev(() => sum(x())), [], [21], dtype);
    expectT(ev(() => sum(x(), 0)), [3], [5, 7, 9], dtype);
    expectT(ev(() => sum(x(), 1)), [2], [6, 15], dtype);
    expectT(ev(() => sum(x(), -1)), [2], [6, 15], dtype);
    expectT(ev(() => sum(x(), -2)), [3], [5, 7, 9], dtype);
    expectT(ev(() => sum(x(), [0, 1])), [], [21], dtype);
    expectT(ev(() => sum(x(), [1, 0])), [], [21], dtype);
    expectT(ev(() => sum(x(), [-1, 0])), [], [21], dtype);
    expectT(ev(() => sum(x(), 1, true)), [2, 1], [6, 15], dtype);
    expectT(ev(() => sum(x(), 0, true)), [1, 3], [5, 7, 9], dtype);
    expectT(ev(() => sum(x(), undefined, true)), [1, 1], [21], dtype);
  });

  it("sum(x, []) reduces nothing", () => {
    expectT(ev(() => sum(x(), [])), [2, 3], [1, 2, 3, 4, 5, 6], dtype);
    expectT(ev(() => sum(x(), [], true)), [2, 3], [1, 2, 3, 4, 5, 6], dtype);
    expectT(ev(() => mean(x(), [])), [2, 3], [1, 2, 3, 4, 5, 6], dtype);
    expectT(ev(() => max(y(), [])), [2, 3], [1, -2, 3, -4, 5, -6], dtype);
    expectT(ev(() => logsumexp(x(), [])), [2, 3], [1, 2, 3, 4, 5, 6], dtype);
  });

  it("3-d sums over several (negative) axes", () => {
    const z = tensor(arange(24), { dtype, shape: [2, 3, 4] }); // value = 12i + 4j + k
    expectT(ev(() => sum(z, [0, 2])), [3], [60, 92, 124], dtype);
    expectT(ev(() => sum(z, [-3, -1])), [3], [60, 92, 124], dtype);
    expectT(ev(() => sum(z, [0, 2], true)), [1, 3, 1], [60, 92, 124], dtype);
    expectT(ev(() => sum(z, 1)), [2, 4], [12, 15, 18, 21, 48, 51, 54, 57], dtype);
  });

  it("sum over an axis of size 0 gives zeros", () => {
    expectT(ev(() => sum(tensor([], { dtype, shape: [0, 2] }), 0)), [2], [0, 0], dtype);
  });

  it("mean", () => {
    expectT(ev(() => mean(x())), [], [3.5], dtype);
    expectT(ev(() => mean(x(), 0)), [3], [2.5, 3.5, 4.5], dtype);
    expectT(ev(() => mean(x(), -1, true)), [2, 1], [2, 5], dtype);
  });

  it("max and min", () => {
    expectT(ev(() => max(y())), [], [5], dtype);
    expectT(ev(() => min(y())), [], [-6], dtype);
    expectT(ev(() => max(y(), 0)), [3], [1, 5, 3], dtype);
    expectT(ev(() => max(y(), 1)), [2], [3, 5], dtype);
    expectT(ev(() => min(y(), 0)), [3], [-4, -2, -6], dtype);
    expectT(ev(() => min(y(), -1, true)), [2, 1], [-2, -6], dtype);
    expectT(ev(() => max(T([-3, -1, -2], dtype))), [], [-1], dtype);
  });

  it("logsumexp", () => {
    const z = T([[0, 0], [1, 1]], dtype);
    expectT(ev(() => logsumexp(z, 1)), [2], [Math.LN2, 1 + Math.LN2], dtype);
    expectT(ev(() => logsumexp(z)), [], [Math.log(2 + 2 * Math.E)], dtype);
    expectT(ev(() => logsumexp(z, 0, true)), [1, 2], [Math.log(1 + Math.E), Math.log(1 + Math.E)], dtype);
  });

  it("0-d tensors reduce to themselves", () => {
    for (const op of [sum, mean, max, min, logsumexp]) {
      expectT(ev(() => op(T(2, dtype))), [], [2], dtype);
      expectT(ev(() => op(T(2, dtype), [])), [], [2], dtype);
    }
  });

  it("softmax and logSoftmax along the last axis and along axis 0", () => {
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    const v = T([[1, 2, 3], [1, 2, 3]], dtype);
    expectT(ev(() => softmax(v)), [2, 3], [...e, ...e].map((t) => t / s), dtype);
    expectT(ev(() => logSoftmax(v)), [2, 3], [1, 2, 3, 1, 2, 3].map((t) => t - Math.log(s)), dtype);
    expectT(ev(() => softmax(v, 0)), [2, 3], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], dtype);
    expectT(ev(() => logSoftmax(v, -2)), [2, 3], Array(6).fill(-Math.LN2), dtype);
  });

  it("softmax / logSoftmax / logsumexp are stable at ±1000", () => {
    const big = T([[1000, 1000], [-1000, -1000], [1000, -1000]], dtype);
    // float32: softmax is computed as exp(x - logsumexp(x)), and logsumexp near 1000 is rounded
    // to float32 (ulp 6e-5) before the subtraction, so the result is exact only to about one
    // ulp of the input's magnitude (backward error), i.e. 1e-4 here. float64 is held to 1e-12.
    const tol = dtype === "float32" ? 1e-4 : undefined;
    const sm = ev(() => softmax(big)) as Tensor;
    expect(allFinite(sm)).toBe(true);
    expectT(sm, [3, 2], [0.5, 0.5, 0.5, 0.5, 1, 0], dtype, tol);
    const ls = ev(() => logSoftmax(big)) as Tensor;
    expect(allFinite(ls)).toBe(true);
    expectT(ls, [3, 2], [-Math.LN2, -Math.LN2, -Math.LN2, -Math.LN2, 0, -2000], dtype, tol);
    const lse = ev(() => logsumexp(big, 1)) as Tensor;
    expect(allFinite(lse)).toBe(true);
    expectT(lse, [3], [1000 + Math.LN2, -1000 + Math.LN2, 1000], dtype);
    expectT(ev(() => logsumexp(T([1000, 1000, 1000], dtype))), [], [1000 + Math.log(3)], dtype);
  });
});

describe.each(DTYPES)("linear algebra at %s", (dtype) => {
  const A = () => T([[1, 2], [3, 4]], dtype);
  const B = () => T([[5, 6], [7, 8]], dtype);

  it("matmul 2-d @ 2-d, including rectangular", () => {
    expectT(ev(() => matmul(A(), B())), [2, 2], [19, 22, 43, 50], dtype);
    expectT(ev(() => matmul(T([[1, 2, 3], [4, 5, 6]], dtype), T([[1], [0], [-1]], dtype))), [2, 1], [-2, -2], dtype);
  });

  it("matmul with 1-d operands as NumPy", () => {
    expectT(ev(() => matmul(T([1, 2], dtype), B())), [2], [19, 22], dtype);
    expectT(ev(() => matmul(A(), T([5, 6], dtype))), [2], [17, 39], dtype);
    expectT(ev(() => matmul(T([1, 2], dtype), T([3, 4], dtype))), [], [11], dtype);
  });

  it("matmul batched: batch dims broadcast", () => {
    const batch = T([[[1, 0], [0, 1]], [[2, 0], [0, 2]]], dtype); // [2, 2, 2]
    expectT(ev(() => matmul(batch, A())), [2, 2, 2], [1, 2, 3, 4, 2, 4, 6, 8], dtype);
    expectT(ev(() => matmul(A(), batch)), [2, 2, 2], [1, 2, 3, 4, 2, 4, 6, 8], dtype);
    // [2, 1, 2, 2] @ [3, 2, 2] -> [2, 3, 2, 2]; block (i, j) = (i + 1) * I @ (j + 1) * A
    const left = tensor([[[[1, 0], [0, 1]]], [[[2, 0], [0, 2]]]], { dtype });
    const right = tensor([1, 2, 3].flatMap((k) => [k, 2 * k, 3 * k, 4 * k]), { dtype, shape: [3, 2, 2] });
    const want: number[] = [];
    for (let i = 1; i <= 2; i++) for (let j = 1; j <= 3; j++) want.push(...[1, 2, 3, 4].map((v) => v * i * j));
    expectT(ev(() => matmul(left, right)), [2, 3, 2, 2], want, dtype);
  });

  it("matmul 1-d with batched operands", () => {
    const z = tensor(arange(12), { dtype, shape: [3, 2, 2] }); // batches [[0,1],[2,3]], [[4,5],[6,7]], [[8,9],[10,11]]
    // [2] @ [3, 2, 2] -> [3, 2]: row vector [1, 1] times each batch
    expectT(ev(() => matmul(T([1, 1], dtype), z)), [3, 2], [2, 4, 10, 12, 18, 20], dtype);
    // [3, 2, 2] @ [2] -> [3, 2]: each batch times column [1, -1]
    expectT(ev(() => matmul(z, T([1, -1], dtype))), [3, 2], [-1, -1, -1, -1, -1, -1], dtype);
  });

  it("dot", () => {
    expectT(ev(() => dot(T([1, 2, 3], dtype), T([4, 5, 6], dtype))), [], [32], dtype);
    expectT(ev(() => dot(A(), B())), [2, 2], [19, 22, 43, 50], dtype);
    expectT(ev(() => dot(A(), T([1, 1], dtype))), [2], [3, 7], dtype);
    expectT(ev(() => dot(2, A())), [2, 2], [2, 4, 6, 8], dtype);
    expectT(ev(() => dot(T(3, dtype), T([1, 2], dtype))), [2], [3, 6], dtype);
  });
});

describe.each(DTYPES)("shape operations at %s", (dtype) => {
  const x = () => tensor(arange(6), { dtype, shape: [2, 3] }); // [[0,1,2],[3,4,5]]

  it("reshape, with -1 inferred", () => {
    expectT(ev(() => reshape(x(), [3, 2])), [3, 2], [0, 1, 2, 3, 4, 5], dtype);
    expectT(ev(() => reshape(x(), [-1, 2])), [3, 2], [0, 1, 2, 3, 4, 5], dtype);
    expectT(ev(() => reshape(x(), [6, -1])), [6, 1], [0, 1, 2, 3, 4, 5], dtype);
    expectT(ev(() => reshape(x(), [-1])), [6], [0, 1, 2, 3, 4, 5], dtype);
    expectT(ev(() => reshape(x(), [1, 2, 1, 3])), [1, 2, 1, 3], [0, 1, 2, 3, 4, 5], dtype);
    expectT(ev(() => reshape(T(5, dtype), [1, 1])), [1, 1], [5], dtype);
    expectT(ev(() => reshape(T([5], dtype), [])), [], [5], dtype);
    expectT(ev(() => reshape(5, [1])), [1], [5], "float64");
  });

  it("transpose: default reverses axes; explicit and negative perms", () => {
    expectT(ev(() => transpose(x())), [3, 2], [0, 3, 1, 4, 2, 5], dtype);
    expectT(ev(() => transpose(x(), [1, 0])), [3, 2], [0, 3, 1, 4, 2, 5], dtype);
    expectT(ev(() => transpose(x(), [0, 1])), [2, 3], [0, 1, 2, 3, 4, 5], dtype);
    const z = tensor(arange(24), { dtype, shape: [2, 3, 4] }); // 12i + 4j + k
    const zt = ev(() => transpose(z)) as Tensor;
    expect(zt.shape).toEqual([4, 3, 2]);
    expect(zt.at(3, 1, 1)).toBe(12 * 1 + 4 * 1 + 3);
    expect(zt.at(2, 0, 1)).toBe(12 + 2);
    const zp = ev(() => transpose(z, [1, 0, 2])) as Tensor;
    expect(zp.shape).toEqual([3, 2, 4]);
    expect(zp.at(2, 1, 3)).toBe(12 * 1 + 4 * 2 + 3);
    const zn = ev(() => transpose(z, [-1, 0, 1])) as Tensor;
    expect(zn.shape).toEqual([4, 2, 3]);
    expect(zn.at(3, 1, 2)).toBe(12 * 1 + 4 * 2 + 3);
    expectT(ev(() => transpose(T(7, dtype))), [], [7], dtype);
    expectT(ev(() => transpose(T([1, 2], dtype))), [2], [1, 2], dtype);
  });

  it("broadcastTo", () => {
    expectT(ev(() => broadcastTo(T([1, 2, 3], dtype), [2, 3])), [2, 3], [1, 2, 3, 1, 2, 3], dtype);
    expectT(ev(() => broadcastTo(T([[1], [2]], dtype), [2, 3])), [2, 3], [1, 1, 1, 2, 2, 2], dtype);
    expectT(ev(() => broadcastTo(T([[1], [2]], dtype), [2, 2, 2])), [2, 2, 2], [1, 1, 2, 2, 1, 1, 2, 2], dtype);
    expectT(ev(() => broadcastTo(T(4, dtype), [2, 2])), [2, 2], [4, 4, 4, 4], dtype);
    expectT(ev(() => broadcastTo(4, [3])), [3], [4, 4, 4], "float64");
    expectT(ev(() => broadcastTo(x(), [2, 3])), [2, 3], [0, 1, 2, 3, 4, 5], dtype);
  });

  it("concat along axis 0, 1 and -1", () => {
    const y = () => T([[6, 7, 8]], dtype);
    expectT(ev(() => concat([x(), y()])), [3, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8], dtype);
    expectT(ev(() => concat([x(), y()], 0)), [3, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8], dtype);
    const c = T([[9], [10]], dtype);
    expectT(ev(() => concat([x(), c], 1)), [2, 4], [0, 1, 2, 9, 3, 4, 5, 10], dtype);
    expectT(ev(() => concat([c, x(), c], -1)), [2, 5], [9, 0, 1, 2, 9, 10, 3, 4, 5, 10], dtype);
    expectT(ev(() => concat([T([1], dtype), T([2, 3], dtype), T([4], dtype)])), [4], [1, 2, 3, 4], dtype);
    expectT(ev(() => concat([x()])), [2, 3], [0, 1, 2, 3, 4, 5], dtype);
  });

  it("slice: per-axis half-open ranges, negatives, empty ranges", () => {
    expectT(ev(() => slice(x(), [0, 1], [2, 3])), [2, 2], [1, 2, 4, 5], dtype);
    expectT(ev(() => slice(x(), [1, 0], [2, 3])), [1, 3], [3, 4, 5], dtype);
    expectT(ev(() => slice(x(), [-1, -2], [2, 3])), [1, 2], [4, 5], dtype);
    expectT(ev(() => slice(x(), [0, 0], [-1, -1])), [1, 2], [0, 1], dtype);
    expectT(ev(() => slice(x(), [0, 1], [2, 1])), [2, 0], [], dtype);
    expectT(ev(() => slice(x(), [0, 0], [2, 3])), [2, 3], [0, 1, 2, 3, 4, 5], dtype);
  });

  it("take with number[] indices, negative indices, along axes", () => {
    expectT(ev(() => take(x(), [1, 0])), [2, 3], [3, 4, 5, 0, 1, 2], dtype);
    expectT(ev(() => take(x(), [-1])), [1, 3], [3, 4, 5], dtype);
    expectT(ev(() => take(x(), [2, 0, 2], 1)), [2, 3], [2, 0, 2, 5, 3, 5], dtype);
    expectT(ev(() => take(x(), [-1, -3], -1)), [2, 2], [2, 0, 5, 3], dtype);
    expectT(ev(() => take(x(), [])), [0, 3], [], dtype);
    expectT(ev(() => take(x(), new Int32Array([1, 1]))), [2, 3], [3, 4, 5, 3, 4, 5], dtype);
  });

  it("take with integer-tensor indices: the result has the index shape in place of the axis", () => {
    const v = T([10, 20, 30], dtype);
    expectT(ev(() => take(v, tensor([[0, 2], [-1, 1]]))), [2, 2], [10, 30, 30, 20], dtype);
    expectT(ev(() => take(x(), tensor([[2], [0]]), 1)), [2, 2, 1], [2, 0, 5, 3], dtype);
    expectT(ev(() => take(x(), tensor([1], { dtype: "float32" }))), [1, 3], [3, 4, 5], dtype);
    // a 0-d index tensor removes the axis
    expectT(ev(() => take(x(), tensor(1), 1)), [2], [1, 4], dtype);
  });
});

describe.each(DTYPES)("neural-network operations at %s", (dtype) => {
  const img = () => tensor(arange(1, 10), { dtype, shape: [1, 1, 3, 3] }); // [[1,2,3],[4,5,6],[7,8,9]]
  const k = () => T([[[[1, 2], [3, 4]]]], dtype); // [1, 1, 2, 2]

  it("conv2d (cross-correlation), stride 1, no padding", () => {
    expectT(ev(() => conv2d(img(), k())), [1, 1, 2, 2], [37, 47, 67, 77], dtype);
  });

  it("conv2d with padding 1 and stride 2", () => {
    expectT(ev(() => conv2d(img(), k(), { stride: 2, padding: 1 })), [1, 1, 2, 2], [4, 18, 36, 77], dtype);
  });

  it("conv2d with per-axis stride and padding pairs", () => {
    expectT(ev(() => conv2d(img(), k(), { stride: [1, 2] })), [1, 1, 2, 1], [37, 67], dtype);
    // padding [1, 0]: one zero row above and below -> 4 output rows, 2 columns
    expectT(
      ev(() => conv2d(img(), k(), { padding: [1, 0] })),
      [1, 1, 4, 2],
      [3 * 1 + 4 * 2, 3 * 2 + 4 * 3, 37, 47, 67, 77, 7 + 2 * 8, 8 + 2 * 9],
      dtype,
    );
  });

  it("conv2d mixes channels and keeps batches apart", () => {
    // x: 2 batches of 2 channels, 1x2 images; w: 1x1 kernels, 2 outputs
    const x = T([[[[1, 2]], [[10, 20]]], [[[3, 4]], [[30, 40]]]], dtype); // [2, 2, 1, 2]
    const w = T([[[[1]], [[2]]], [[[-1]], [[0.5]]]], dtype); // [2, 2, 1, 1]
    expectT(
      ev(() => conv2d(x, w)),
      [2, 2, 1, 2],
      [21, 42, 4, 8, 63, 84, 12, 16],
      dtype,
    );
  });

  it("maxPool2d and avgPool2d, size 2 (stride = size)", () => {
    const x = T([[[[1, 9, 2, 0], [3, 4, -1, 5], [0, 0, 7, 1], [-2, 6, 1, 1]]]], dtype);
    expectT(ev(() => maxPool2d(x, { size: 2 })), [1, 1, 2, 2], [9, 5, 6, 7], dtype);
    expectT(ev(() => avgPool2d(x, { size: 2 })), [1, 1, 2, 2], [17 / 4, 6 / 4, 4 / 4, 10 / 4], dtype);
  });

  it("pooling with stride 1, odd sizes, per-axis sizes, and several channels", () => {
    expectT(ev(() => maxPool2d(img(), { size: 2, stride: 1 })), [1, 1, 2, 2], [5, 6, 8, 9], dtype);
    expectT(ev(() => avgPool2d(img(), { size: 2, stride: 1 })), [1, 1, 2, 2], [3, 4, 6, 7], dtype);
    expectT(ev(() => maxPool2d(img(), { size: [1, 3] })), [1, 1, 3, 1], [3, 6, 9], dtype);
    expectT(ev(() => avgPool2d(img(), { size: [3, 1] })), [1, 1, 1, 3], [4, 5, 6], dtype);
    // 3x3 input, size 2, stride 2: the last row/column is dropped
    expectT(ev(() => maxPool2d(img(), { size: 2 })), [1, 1, 1, 1], [5], dtype);
    const two = tensor([1, 2, 3, 4, -1, -2, -3, -4], { dtype, shape: [1, 2, 2, 2] });
    expectT(ev(() => maxPool2d(two, { size: 2 })), [1, 2, 1, 1], [4, -1], dtype);
    expectT(ev(() => avgPool2d(two, { size: 2 })), [1, 2, 1, 1], [2.5, -2.5], dtype);
  });
});
