// GPU memory without dispose: buffers come from a size-bucketed pool and go back to it when
// their tensor is disposed or garbage-collected, so a loop making the same shapes each step
// holds a bounded number of bytes.
import { describe, expect, it } from "vitest";
import { add, backendInfo, mul, run, setBackend, sum, tensor, type Tensor, type Value } from "../../src/index.ts";

const memory = () => backendInfo().memory!;
const collect = async (): Promise<void> => {
  (globalThis as unknown as { gc: () => void }).gc();
  await new Promise((r) => setTimeout(r, 50)); // finalizers run after the collection
  (globalThis as unknown as { gc: () => void }).gc();
  await new Promise((r) => setTimeout(r, 50));
};

describe("webgpu: the buffer pool", () => {
  it("dispose() returns a buffer at once: the next tensor of its bucket reuses it", async () => {
    await setBackend("webgpu");
    try {
      const a = tensor(new Float32Array(1000), { dtype: "float32" });
      const held = memory().heldBytes;
      const inUse = memory().inUseBytes;
      a.dispose();
      expect(memory().inUseBytes).toBe(inUse - 4096);
      const b = tensor(new Float32Array(900), { dtype: "float32" }); // the same 4096-byte bucket
      expect(memory().heldBytes).toBe(held);
      b.dispose();
    } finally {
      await setBackend("cpu");
    }
  });

  it("a 2,000-step loop without dispose holds bounded memory (collected tensors return their buffers)", async () => {
    await setBackend("webgpu");
    try {
      let x: Value = tensor(new Float32Array(4096).fill(1), { dtype: "float32", shape: [64, 64] });
      const step = function* (x: Value) { return yield* add(yield* mul(x, 0.5), 0.5); };
      const peaks: number[] = [];
      for (let i = 0; i < 2000; i++) {
        x = run(step, x);
        if (i % 100 === 99) {
          await collect();
          peaks.push(memory().heldBytes);
        }
      }
      expect(await (run(function* () { return yield* sum(x); }) as Tensor).toArrayAsync()).toBeCloseTo(4096, 3);
      // 2,000 steps of two 16 KiB results would be 64 MB; the pool holds what the 100 steps between collections need
      const last = peaks[peaks.length - 1]!;
      expect(last).toBeLessThan(6 * 1024 * 1024);
      expect(last).toBeLessThanOrEqual(peaks[1]! * 1.5);
      console.log(`pool after 2,000 steps: held ${(last / 1024).toFixed(0)} KiB, peak ${(memory().peakBytes / 1024).toFixed(0)} KiB`);
      (x as Tensor).dispose();
    } finally {
      await setBackend("cpu");
    }
  });
});
