// Long per-thread loops: a reduction or a cumulative sum walks its elements in one GPU thread.
// Mesa's llvmpipe (Deno's WebGPU on a machine without a GPU) stops a shader invocation after
// 65,535 loop iterations and leaves its result half-written without an error (a sum of 70,000
// ones gave 65,535): there the operation is a BackendError before it runs; on other adapters
// (SwiftShader here) the result is right.
import { describe, expect, it } from "vitest";
import { backendInfo, cumsum, matmul, max, run, setBackend, sum, tensor, type Tensor, type Value } from "../../src/index.ts";

describe("webgpu: reductions and scans longer than llvmpipe's loop limit", () => {
  it("a sum, a max, a cumsum and a matmul's sum over 70,000 elements: right, or a BackendError on llvmpipe, never a wrong number", async () => {
    await setBackend("webgpu");
    try {
      const cutsLoops = /llvmpipe/i.test(backendInfo().adapter ?? "");
      const x = tensor(new Float32Array(70_000).fill(1), { dtype: "float32" });
      const row = tensor(new Float32Array(70_000).fill(1), { shape: [1, 70_000], dtype: "float32" });
      const column = tensor(new Float32Array(70_000).fill(1), { shape: [70_000, 1], dtype: "float32" });
      const pair = tensor(new Float32Array([1, 1]), { shape: [1, 2], dtype: "float32" });
      const programs = {
        sum: function* (x: Value) { return yield* sum(x); },
        max: function* (x: Value) { return yield* max(x); },
        cumsum: function* (x: Value) { return yield* max(yield* cumsum(x, 0)); },
        // llvmpipe runs matmul with each thread's sum over K in one loop (its tiled shader would
        // take half a minute to compile there): a 1 × 70,000 by 70,000 × 2 product
        matmul: function* () { return yield* sum(yield* matmul(row, yield* matmul(column, pair))); },
      };
      for (const [name, program] of Object.entries(programs)) {
        if (cutsLoops) {
          expect(() => run(program, x), name).toThrow(/loop iterations in one GPU thread, and this adapter \(.*llvmpipe.*\) stops a shader's loops after 65535/);
          continue;
        }
        const got = (await (run(program, x) as Tensor).toArrayAsync()) as number;
        expect(got, name).toBe(name === "max" ? 1 : name === "matmul" ? 140_000 : 70_000); // (exact: integers in float32)
      }
      // a short one runs on every adapter
      expect(await (run(programs.sum, tensor(new Float32Array(60_000).fill(1), { dtype: "float32" })) as Tensor).toArrayAsync()).toBe(60_000);
    } finally {
      await setBackend("cpu");
    }
  });
});
