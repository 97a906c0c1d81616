// Bad input on webgpu: synchronous reads, float64, tensors of two backends in one operation,
// operations the GPU does not have yet, jit, a missing adapter, use after dispose — each a
// tagged error that says what to do, never a wrong number.
import { afterEach, describe, expect, it } from "vitest";
import * as Y from "../../src/index.ts";
import { BackendError, DTypeError, add, backend, jit, mul, run, setBackend, sum, tensor, toCpu, toDevice, type Tensor, type Value } from "../../src/index.ts";
import { createWebGPUBackend } from "../../src/backend/webgpu/backend.ts";

const onGpu = async (values: number[]): Promise<Y.Tensor> => {
  await setBackend("webgpu");
  return tensor(values, { dtype: "float32" });
};
afterEach(() => setBackend("cpu"));

describe("webgpu: bad input", () => {
  it("synchronous reads of a GPU tensor name the async form", async () => {
    const t = await onGpu([1, 2, 3]);
    for (const read of [() => t.toArray(), () => t.item(), () => t.data, () => t.at(0), () => +t]) {
      expect(read).toThrow(BackendError);
      expect(read).toThrow(/toArrayAsync/);
    }
    expect(String(t)).toBe("Tensor(float32, [3], webgpu)");
    expect(() => tensor(t)).toThrow(/tensor: the values are a webgpu tensor/);
    expect(await t.toArrayAsync()).toEqual([1, 2, 3]);
    expect(Array.from(await t.dataAsync())).toEqual([1, 2, 3]);
    expect((await toCpu(t)).toArray()).toEqual([1, 2, 3]);
  });

  it("float64 stays CPU-only: the constructors and toDevice say so", async () => {
    await setBackend("webgpu");
    expect(() => tensor([1, 2])).toThrow(DTypeError);
    expect(() => tensor([1, 2])).toThrow(/float64 tensors stay CPU-only/);
    expect(() => Y.zeros([2])).toThrow(/zeros: float64 tensors stay CPU-only/);
    await setBackend("cpu");
    expect(() => toDevice(tensor([1, 2]))).toThrow(/toDevice: float64 tensors stay CPU-only/);
  });

  it("mixing a CPU and a GPU tensor in one operation names both backends", async () => {
    const g = await onGpu([1, 2]);
    await setBackend("cpu");
    const c = tensor([3, 4], { dtype: "float32" });
    const mixed = () => run(function* () { return yield* add(g, c); });
    expect(mixed).toThrow(BackendError);
    expect(mixed).toThrow(/add: operand 1 is a cpu tensor and another operand is a webgpu tensor/);
    // the explicit transfer works
    expect(await run(function* () { return yield* add(g, toDevice(c)); }).toArrayAsync()).toEqual([4, 6]);
  });

  it("a sample made on the CPU backend (samples go to the current backend) meeting a GPU tensor names both backends", async () => {
    const m = await onGpu([4, 2, 2, 3]);
    await setBackend("cpu");
    const u = run(function* () { return yield* Y.random.uniform(Y.random.key(0), [4], { dtype: "float32" }); });
    expect(u.backend).toBe("cpu");
    expect(() => run(function* () { return yield* add(m, u); })).toThrow(/add: operand 1 is a cpu tensor and another operand is a webgpu tensor/);
  });

  it("jit: a CPU tensor captured by a program on GPU arguments names both backends; the next call works", async () => {
    const g = await onGpu([1, 2]);
    const c = await toCpu(g);
    const f = jit(function* (x: Value) { return yield* add(yield* mul(x, 2), c); });
    expect(() => run(f, g)).toThrow(/add: operand 1 is a cpu tensor and another operand is a webgpu tensor/);
    const h = jit(function* (x: Value) { return yield* sum(yield* mul(x, 2)); });
    expect(await (run(h, g) as Tensor).toArrayAsync()).toBe(6);
  });

  it("clipGlobalNorm with a number leaf among GPU params says why (its scale would be read synchronously)", async () => {
    const g = await onGpu([1, 2]);
    const clipped = Y.optim.adam({ lr: 0.1, clipGlobalNorm: 1 });
    const p = { w: g, s: 0.5 };
    expect(() => clipped.update({ w: g, s: 1 }, clipped.init(p), p)).toThrow(/adam\.update: clipGlobalNorm on webgpu params needs every leaf on webgpu/);
  });

  it("a disposed tensor cannot be used; dispose twice is harmless", async () => {
    const g = await onGpu([1, 2]);
    g.dispose();
    g.dispose();
    expect(() => run(function* () { return yield* add(g, 1); })).toThrow(/disposed webgpu tensor/);
    await expect(g.toArrayAsync()).rejects.toThrow(/disposed webgpu tensor/);
  });

  it("a missing adapter or WebGPU is a BackendError that says what is missing", async () => {
    await expect(createWebGPUBackend({ requestAdapter: async () => null })).rejects.toThrow(/offers no adapter/);
    await expect(createWebGPUBackend({ requestAdapter: () => Promise.reject(new Error("blocked")) })).rejects.toThrow(/requestAdapter failed \(blocked\)/);
    await expect(createWebGPUBackend({ requestAdapter: async () => null })).rejects.toThrow(/--enable-unsafe-webgpu/);
  });

  it("an unknown backend name is refused; the current backend stays", async () => {
    await setBackend("cpu");
    await expect(setBackend("tpu" as "cpu")).rejects.toThrow(/unknown backend "tpu"/);
    expect(backend()).toBe("cpu");
  });
});
