import { describe, expect, it } from "vitest";
import { add, backend, matmul, run, setBackend, sum, tensor, toCpu } from "../../src/index.ts";

describe("smoke", () => {
  it("adds", async () => {
    await setBackend("webgpu");
    expect(backend()).toBe("webgpu");
    const a = tensor([1, 2, 3], { dtype: "float32" });
    const b = tensor([[10], [20]], { dtype: "float32" });
    const c = run(function* () { return yield* add(a, b); });
    expect(await c.toArrayAsync()).toEqual([[11, 12, 13], [21, 22, 23]]);
    const s = run(function* () { return yield* sum(c, 1); });
    expect(await s.toArrayAsync()).toEqual([36, 66]);
    const m = run(function* () { return yield* matmul(b, tensor([[1, 2]], { dtype: "float32" })); });
    expect(await m.toArrayAsync()).toEqual([[10, 20], [20, 40]]);
    expect((await toCpu(m)).toArray()).toEqual([[10, 20], [20, 40]]);
    await setBackend("cpu");
  });
});
