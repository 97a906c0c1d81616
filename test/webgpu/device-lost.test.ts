// A device lost mid-training (driver reset, GPU removed; here destroyed on purpose) surfaces as
// a BackendError from the next operation, and the CPU backend keeps working. Its own file: the
// device stays lost for the rest of the page.
import { describe, expect, it } from "vitest";
import { BackendError, add, mul, run, setBackend, sum, tensor, type Tensor, type Value } from "../../src/index.ts";
import { installedDevice } from "../../src/backend/device.ts";
import type { GpuContext } from "../../src/backend/webgpu/context.ts";

describe("webgpu: a lost device", () => {
  it("the next operation throws a BackendError; the CPU backend still computes", async () => {
    await setBackend("webgpu");
    const x = tensor([1, 2, 3], { dtype: "float32" });
    const step = function* (x: Value) { return yield* add(yield* mul(x, 2), 1); };
    expect(await (run(step, x) as Tensor).toArrayAsync()).toEqual([3, 5, 7]);
    const ctx = (installedDevice() as unknown as { context: GpuContext }).context;
    (ctx.device as unknown as { destroy(): void }).destroy();
    await new Promise((r) => setTimeout(r, 100)); // device.lost resolves
    expect(() => run(step, x)).toThrow(BackendError);
    expect(() => run(step, x)).toThrow(/mul: the WebGPU device was lost \(destroyed/);
    await setBackend("cpu");
    const c = run(function* () { return yield* sum(yield* step(tensor([1, 2, 3]))); });
    expect((c as Tensor).item()).toBe(15);
  });
});
