// Values at the edges of the functions' domains: WGSL leaves log, log2 and sqrt outside their
// domain, NaN operands and infinities to the implementation (SwiftShader's log(0) is about −88,
// its exp(NaN) Infinity), so the shaders go through helpers that give JavaScript's answers:
// −Infinity, NaN, Infinity — the CPU backend's values.
import { describe, it } from "vitest";
import * as Y from "../../src/index.ts";
import { log, log1p, log2, log10, logsumexp, sqrt, tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

const edges = () => tensor([0, -0, -1, Infinity, -Infinity, NaN, 1, 4, 1e-30], { dtype: "float32" });

describe("webgpu: special values", () => {
  const ops = { log: (x: Value) => log(x), log2: (x: Value) => log2(x), log10: (x: Value) => log10(x), sqrt: (x: Value) => sqrt(x), log1p: (x: Value) => log1p(x) };
  for (const [name, op] of Object.entries(ops)) {
    it(`${name} at 0, −0, −1, ±∞, NaN and ordinary values is the CPU's`, async () => {
      await expectSameOnGpu(function* (x: Value) { return yield* op(x); }, [edges()]);
    });
  }

  const wide = () => tensor([0, -0, -1, 1, -2, 2, Infinity, -Infinity, NaN, 0.5, 100, -100], { dtype: "float32" });
  const unary = ["acos", "acosh", "atanh", "asinh", "exp", "expm1", "tanh", "sigmoid", "softplus", "cosh", "sinh", "cbrt", "exp2", "sign", "abs", "erf", "erfinv", "gelu", "silu", "relu", "floor", "round"] as const;
  for (const name of unary) {
    it(`${name} at ±0, ±1, ±2, ±∞, NaN, ±100 is the CPU's (NaN in, NaN out)`, async () => {
      const op = Y[name] as (x: Value) => ReturnType<typeof Y.exp<Value>>;
      await expectSameOnGpu(function* (x: Value) { return yield* op(x); }, [wide()], { rtol: 1e-3, atol: 1e-5 });
    });
  }

  it("x / 0, x / −0 and x ** 0.5 (−∞ ** 0.5 is ∞) are the CPU's", async () => {
    const zeros = tensor([0, 0, 0, -0, 0, 1, 0, 0, 0, 0, 0, 0], { dtype: "float32" });
    await expectSameOnGpu(function* (x: Value, z: Value) { return yield* Y.div(x, z); }, [wide(), zeros]);
    await expectSameOnGpu(function* (x: Value) { return yield* Y.pow(x, 0.5); }, [wide()], { rtol: 1e-3 });
  });

  it("log1p at −1 is −∞; logsumexp of a row of −∞ is −∞", async () => {
    await expectSameOnGpu(function* (x: Value) { return yield* log1p(x); }, [tensor([-1, -2, -0.5], { dtype: "float32" })]);
    await expectSameOnGpu(function* (x: Value) { return yield* logsumexp(x, 1); }, [tensor([[-Infinity, -Infinity], [0, -Infinity]], { dtype: "float32" })]);
  });
});
