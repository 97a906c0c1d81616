// Every elementwise operation on webgpu against the CPU: values over broadcast shapes and
// number operands, first derivatives in reverse and forward mode, and second derivatives.
import { describe, expect, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jvp, rand, sum, tensor, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

type Unary = (x: Value) => Y.Effect<Value>;
type Binary = (a: Value, b: Value) => Y.Effect<Value>;
const unary = (name: string): Unary => (Y as unknown as Record<string, Unary>)[name]!;
const binary = (name: string): Binary => (Y as unknown as Record<string, Binary>)[name]!;

const f32 = (shape: number[], seed: number, lo: number, hi: number): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => lo + (hi - lo) * v), { shape });
};

// Inputs inside each function's domain; tolerances for SwiftShader's float32 transcendentals.
const UNARY: [string, number, number][] = [
  ["neg", -2, 2], ["exp", -2, 2], ["log", 0.1, 3], ["log1p", -0.5, 2], ["expm1", -2, 2], ["sin", -3, 3], ["cos", -3, 3],
  ["tan", -1.2, 1.2], ["tanh", -3, 3], ["sigmoid", -6, 6], ["relu", -2, 2], ["sqrt", 0.1, 4], ["square", -2, 2],
  ["abs", -2, 2], ["sign", -2, 2], ["asin", -0.9, 0.9], ["acos", -0.9, 0.9], ["atan", -3, 3], ["sinh", -2, 2],
  ["cosh", -2, 2], ["asinh", -3, 3], ["acosh", 1.1, 4], ["atanh", -0.9, 0.9], ["log2", 0.1, 4], ["log10", 0.1, 4],
  ["exp2", -3, 3], ["cbrt", -3, 3], ["floor", -3, 3], ["ceil", -3, 3], ["round", -3, 3], ["trunc", -3, 3],
  ["softplus", -5, 5], ["silu", -5, 5],
];
const TOL = { rtol: 2e-4, atol: 2e-5 };

describe("webgpu: unary elementwise against the CPU", () => {
  for (const [name, lo, hi] of UNARY) {
    it(`${name}: values, grad, jvp and the second derivative`, async () => {
      const op = unary(name);
      const x = f32([3, 5], 11, lo, hi);
      const value = function* (x: Value) { return yield* op(x); };
      const loss = function* (x: Value) { return yield* sum(yield* op(x)); };
      await expectSameOnGpu(value, [x], TOL);
      await expectSameOnGpu(grad(loss), [x], TOL);
      await expectSameOnGpu(function* (x: Value, t: Value) { return yield* jvp(value, [x], [t]); }, [x, f32([3, 5], 12, -1, 1)], TOL);
      await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* grad(loss)(x)); }), [x], { rtol: 1e-3, atol: 1e-4 });
    });
  }

  for (const [name, lo, hi] of [["erf", -3, 3], ["erfc", -3, 5], ["erfinv", -0.95, 0.95], ["gelu", -4, 4]] as const) {
    it(`${name} (its JS series printed as WGSL): values, grad and the second derivative`, async () => {
      const op = unary(name);
      const x = f32([4, 6], 13, lo, hi);
      const loss = function* (x: Value) { return yield* sum(yield* op(x)); };
      await expectSameOnGpu(function* (x: Value) { return yield* op(x); }, [x], { rtol: 1e-5 * 20, atol: 1e-6 * 20 });
      await expectSameOnGpu(grad(loss), [x], TOL);
      await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* grad(loss)(x)); }), [x], { rtol: 1e-3, atol: 1e-4 });
    });
  }
  it("erfc keeps its relative precision far in the tail", () =>
    expectSameOnGpu(function* (x: Value) { return yield* unary("erfc")(x); }, [tensor([2, 4, 6, 8, 9], { dtype: "float32" })], { rtol: 1e-5, atol: 0 }));
});

const BINARY: [string, number, number, number, number][] = [
  ["add", -2, 2, -2, 2], ["sub", -2, 2, -2, 2], ["mul", -2, 2, -2, 2], ["div", -2, 2, 0.5, 2], ["pow", 0.2, 2, -2, 2],
  ["maximum", -2, 2, -2, 2], ["minimum", -2, 2, -2, 2], ["atan2", -2, 2, -2, 2], ["mod", -5, 5, 0.5, 2],
  ["logaddexp", -3, 3, -3, 3], ["hypot", -2, 2, -2, 2], ["greater", -2, 2, -2, 2], ["less", -2, 2, -2, 2],
  ["equal", -2, 2, -2, 2], ["greaterEqual", -2, 2, -2, 2], ["lessEqual", -2, 2, -2, 2],
];

describe("webgpu: binary elementwise against the CPU, with broadcasting and numbers", () => {
  for (const [name, alo, ahi, blo, bhi] of BINARY) {
    it(`${name}: [3, 1, 4] with [2, 4], with [4], with a number; grad of both operands`, async () => {
      const op = binary(name);
      const a = f32([3, 1, 4], 21, alo, ahi);
      const b = f32([2, 4], 22, blo, bhi);
      const c = f32([4], 23, blo, bhi);
      const value = function* (a: Value, b: Value) { return yield* op(a, b); };
      await expectSameOnGpu(value, [a, b], TOL);
      await expectSameOnGpu(value, [b, c], TOL);
      await expectSameOnGpu(value, [a, (blo + bhi) / 2 + 0.25], TOL);
      await expectSameOnGpu(value, [(alo + ahi) / 2 + 0.25, b], TOL);
      const loss = function* (a: Value, b: Value) { return yield* sum(yield* op(a, b)); };
      await expectSameOnGpu(grad(loss, { argnums: [0, 1] }), [a, b], TOL);
    });
  }

  it("where: a condition tensor picks between broadcast operands; gradients to both", async () => {
    const c = tensor([[1, 0, 1, 0]], { dtype: "float32" });
    const a = f32([3, 4], 31, -1, 1);
    const b = f32([3, 1], 32, -1, 1);
    await expectSameOnGpu(function* (c: Value, a: Value, b: Value) { return yield* Y.where(c, a, b); }, [c, a, b]);
    await expectSameOnGpu(
      grad(function* (c: Value, a: Value, b: Value) { return yield* sum(yield* Y.where(c, a, b)); }, { argnums: [1, 2] }),
      [c, a, b],
    );
  });
});
