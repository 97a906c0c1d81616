// Values at the edges of the functions' domains: WGSL leaves log, log2 and sqrt outside their
// domain to the implementation (SwiftShader's log(0) is about −88), so the shaders go through
// helpers that give JavaScript's answers: −Infinity, NaN, Infinity — the CPU backend's values.
import { describe, it } from "vitest";
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

  it("log1p at −1 is −∞; logsumexp of a row of −∞ is −∞", async () => {
    await expectSameOnGpu(function* (x: Value) { return yield* log1p(x); }, [tensor([-1, -2, -0.5], { dtype: "float32" })]);
    await expectSameOnGpu(function* (x: Value) { return yield* logsumexp(x, 1); }, [tensor([[-Infinity, -Infinity], [0, -Infinity]], { dtype: "float32" })]);
  });
});
