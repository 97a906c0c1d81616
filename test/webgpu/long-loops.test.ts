// Long per-thread loops: a reduction or a cumulative sum walks its elements in one GPU thread.
// Mesa's llvmpipe (Deno's WebGPU on a machine without a GPU) stops a shader invocation after
// 65,535 loop iterations and leaves its result half-written without an error (a sum of 70,000
// ones gave 65,535): there the operation is a BackendError before it runs; on other adapters
// (SwiftShader here) the result is right.
import { describe, expect, it } from "vitest";
import { backendInfo, cumsum, max, run, setBackend, sum, tensor, type Tensor, type Value } from "../../src/index.ts";

describe("webgpu: reductions and scans longer than llvmpipe's loop limit", () => {
  it("a sum, a max and a cumsum over 70,000 elements: right, or a BackendError on llvmpipe, never a wrong number", async () => {
    await setBackend("webgpu");
    try {
      const cutsLoops = /llvmpipe/i.test(backendInfo().adapter ?? "");
      const x = tensor(new Float32Array(70_000).fill(1), { dtype: "float32" });
      const programs = {
        sum: function* (x: Value) { return yield* sum(x); },
        max: function* (x: Value) { return yield* max(x); },
        cumsum: function* (x: Value) { return yield* max(yield* cumsum(x, 0)); },
      };
      for (const [name, program] of Object.entries(programs)) {
        if (cutsLoops) {
          expect(() => run(program, x), name).toThrow(/loop iterations in one GPU thread, and this adapter \(.*llvmpipe.*\) stops a shader's loops after 65535/);
          continue;
        }
        const got = (await (run(program, x) as Tensor).toArrayAsync()) as number;
        expect(got, name).toBe(name === "max" ? 1 : 70_000); // (exact: integers in float32)
      }
      // a short one runs on every adapter
      expect(await (run(programs.sum, tensor(new Float32Array(60_000).fill(1), { dtype: "float32" })) as Tensor).toArrayAsync()).toBe(60_000);
    } finally {
      await setBackend("cpu");
    }
  });
});
