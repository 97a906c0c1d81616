// The elementwise kernels' WebAssembly SIMD path against their JS loops, bit for bit (any NaN
// matches any NaN): random shapes with odd sizes, the broadcasts SIMD takes (bias [C, 1, 1] over
// [N, C, H, W], rows, columns, either side) and those it leaves to JS, numbers float32 can and
// cannot hold, float32 and float64, NaN, ±0, ±Infinity, subnormals and overflow. The size
// threshold is lowered so that small cases run in SIMD too.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binaryKernel, unaryKernel, whereKernel, type BinaryName, type Operand, type UnaryName } from "./elementwise-kernels.ts";
import { sumKernel } from "../src/kernels/reduce.ts";
import { simdElementwise } from "../src/kernels/vector.ts";
import { wasmSimdSupported, withWasmEnabled } from "../src/kernels/wasm/gemm.ts";
import { sizeOf } from "../src/tensor/shape.ts";
import { Tensor, type DType } from "../src/tensor/tensor.ts";

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1, -1, 2, 0.5, 1e-40, -1e-300, 5e-324, 3e38, -3e38, 1e300, 1.5];
const value = fc.oneof(
  { weight: 3, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) },
);
const tensorOf = (shape: number[], dtype: DType) =>
  fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((v) =>
    new Tensor(dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v), shape));

const dim = fc.integer({ min: 1, max: 9 });
const dtypeArb = fc.constantFrom<DType>("float32", "float64");
// A full operand and one shaped as a broadcast of it: a suffix with some axes set to 1.
const partShape = (out: number[]) =>
  fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
const number = fc.oneof(fc.constantFrom(0, -0, 1, 2, 0.5, -3, 0.1, 1e-7, NaN, Infinity, 1e40), fc.double({ noNaN: true }));
const operands = fc.tuple(fc.array(dim, { minLength: 1, maxLength: 4 }), dtypeArb, dtypeArb, fc.nat(4)).chain(([out, da, db, kind]): fc.Arbitrary<[Tensor, Operand]> =>
  kind === 0
    ? fc.tuple(tensorOf(out, da), number) // tensor with a number
    : kind <= 2
      ? fc.tuple(tensorOf(out, da), tensorOf(out, kind === 1 ? da : db)) // same shape (mixed dtypes at 2)
      : fc.tuple(tensorOf(out, da), partShape(out).chain((s) => tensorOf(s, kind === 3 ? da : db))),
).chain(([a, b]) => fc.boolean().map((swap): [Operand, Operand] => (swap ? [b, a] : [a, b])));

const BINARY: BinaryName[] = ["add", "sub", "mul", "div", "maximum", "minimum", "greater", "less", "equal", "greaterEqual", "lessEqual", "pow"];
const UNARY: UnaryName[] = ["neg", "abs", "relu", "square", "sqrt", "sign", "exp"];

const bits = (t: Tensor): number[] => Array.from(t.buf, (v) => (Number.isNaN(v) ? NaN : v));
/** The same shape, dtype and values, −0 told from +0. */
const expectSame = (got: Tensor, want: Tensor): void => {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  const [g, w] = [bits(got), bits(want)];
  for (let i = 0; i < w.length; i++) if (!Object.is(g[i], w[i])) expect(g[i], `[${i}] of ${w.length}`).toBe(w[i]);
};
const both = (f: () => Tensor): { simd: Tensor; calls: number } => {
  const js = withWasmEnabled(false, f);
  const calls = simdElementwise.calls;
  const simd = withWasmEnabled(true, f);
  expectSame(simd, js);
  return { simd, calls: simdElementwise.calls - calls };
};

describe.runIf(wasmSimdSupported())("elementwise kernels: WebAssembly SIMD = JS, bit for bit", () => {
  let min = 0;
  beforeAll(() => {
    min = simdElementwise.min;
    simdElementwise.min = 0;
  });
  afterAll(() => {
    simdElementwise.min = min;
  });

  it("binary operations over random shapes, broadcasts, numbers and special values (property)", () => {
    fc.assert(
      fc.property(operands, fc.constantFrom(...BINARY), ([a, b], name) => {
        both(() => binaryKernel(name, a, b));
      }),
      { numRuns: 400 },
    );
  });

  it("unary operations (property)", () => {
    fc.assert(
      fc.property(fc.array(dim, { minLength: 1, maxLength: 3 }).chain((s) => fc.tuple(dtypeArb.chain((d) => tensorOf(s, d)))), fc.constantFrom(...UNARY), ([x], name) => {
        both(() => unaryKernel(name, x));
      }),
      { numRuns: 200 },
    );
  });

  it("where, with tensors or numbers on either side (property)", () => {
    const side = (shape: number[], dtype: DType): fc.Arbitrary<Operand> =>
      fc.oneof(tensorOf(shape, dtype), dtypeArb.chain((d) => tensorOf(shape, d)), number, tensorOf([1], dtype));
    fc.assert(
      fc.property(
        fc.tuple(fc.array(dim, { minLength: 1, maxLength: 3 }), dtypeArb).chain(([s, d]) =>
          fc.tuple(fc.oneof(tensorOf(s, d), dtypeArb.chain((e) => tensorOf(s, e))), side(s, d), side(s, d))),
        ([c, a, b]) => {
          both(() => whereKernel(c, a, b));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("sums over leading or middle axes, each sum in the same order (property)", () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.array(dim, { minLength: 1, maxLength: 4 }), dtypeArb).chain(([s, d]) =>
          fc.tuple(tensorOf(s, d), fc.subarray([...s.keys()]), fc.boolean())),
        ([x, axes, keepdims]) => {
          both(() => sumKernel(x, axes, keepdims));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("takes the SIMD path where it applies, and only there", () => {
    const t = (shape: number[], dtype: DType = "float32", seed = 1): Tensor => {
      const n = sizeOf(shape);
      const b = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.sin(seed * 7.1 + i) * 3;
      return new Tensor(b, shape);
    };
    const calls = (f: () => Tensor): number => both(f).calls;
    for (const dtype of ["float32", "float64"] as const) {
      const x = t([3, 5, 7, 3], dtype);
      expect(calls(() => binaryKernel("add", x, t([5, 1, 1], dtype, 2)))).toBe(1); // bias per channel
      expect(calls(() => binaryKernel("sub", t([5, 1, 1], dtype, 2), x))).toBe(1);
      expect(calls(() => binaryKernel("div", t([3], dtype, 2), x))).toBe(1); // a row repeated
      expect(calls(() => binaryKernel("mul", x, t([3, 5, 7, 1], dtype, 2)))).toBe(1); // a column
      expect(calls(() => binaryKernel("maximum", x, t([3, 5, 7, 3], dtype, 2)))).toBe(1);
      expect(calls(() => binaryKernel("greater", x, 0))).toBe(1);
      expect(calls(() => binaryKernel("lessEqual", 0.5, x))).toBe(1);
      expect(calls(() => binaryKernel("minimum", t([1, 1], dtype, 2), x))).toBe(1);
      expect(calls(() => unaryKernel("relu", x))).toBe(1);
      // left to JS: both operands broadcast, an inner broadcast between kept axes, no kernel
      expect(calls(() => binaryKernel("add", t([3, 1], dtype), t([1, 4], dtype)))).toBe(0);
      expect(calls(() => binaryKernel("add", x, t([3, 1, 7, 1], dtype)))).toBe(0);
      expect(calls(() => binaryKernel("pow", x, 2))).toBe(0);
      expect(calls(() => unaryKernel("exp", x))).toBe(0);
    }
    expect(calls(() => sumKernel(t([7, 5]), [0], false))).toBe(1);
    expect(calls(() => sumKernel(t([2, 7, 3], "float64"), [1], true))).toBe(1);
    expect(calls(() => sumKernel(t([7, 5]), [1], false))).toBe(0);
    const c = t([6, 5]);
    expect(calls(() => whereKernel(c, t([6, 5], "float32", 2), 0.1))).toBe(1);
    expect(calls(() => whereKernel(c, 0, t([6, 5], "float32", 2)))).toBe(1);
    expect(calls(() => whereKernel(c, t([6, 5], "float64", 2), 0))).toBe(0);
    expect(calls(() => whereKernel(c, t([6, 1], "float32", 2), 0))).toBe(0);
    // mixed dtypes, and numbers float32 cannot hold, stay in JS
    expect(calls(() => binaryKernel("add", t([4, 4]), t([4, 4], "float64")))).toBe(0);
    expect(calls(() => binaryKernel("mul", t([4, 4]), 0.1))).toBe(0);
    expect(calls(() => binaryKernel("mul", t([4, 4], "float64"), 0.1))).toBe(1);
  });

  it("min and max follow Math.max/Math.min: NaN propagates, +0 is above −0", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const mk = (v: number[]) => new Tensor(dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v), [v.length]);
      const a = mk([NaN, 1, -0, 0, -0, 0, Infinity, -Infinity, 2]);
      const b = mk([1, NaN, 0, -0, -0, 0, NaN, 3, 2]);
      const max = both(() => binaryKernel("maximum", a, b)).simd;
      expect(bits(max).map((v) => (Object.is(v, -0) ? "-0" : v))).toEqual([NaN, NaN, 0, 0, "-0", 0, NaN, 3, 2]);
      const min = both(() => binaryKernel("minimum", a, b)).simd;
      expect(bits(min).map((v) => (Object.is(v, -0) ? "-0" : v))).toEqual([NaN, NaN, "-0", "-0", "-0", 0, NaN, -Infinity, 2]);
      expect(bits(both(() => unaryKernel("relu", a)).simd).map((v) => (Object.is(v, -0) ? "-0" : v))).toEqual([0, 1, 0, 0, 0, 0, Infinity, 0, 2]);
    }
  });
});
