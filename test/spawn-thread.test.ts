// The thread behind the 2-thread matmul: a program started on worker_threads, and a GemmWorker
// driven as on a browser's main thread (which may not sleep in Atomics.wait), where it polls.
import { afterEach, describe, expect, it, vi } from "vitest";
import { spawnThread } from "../src/kernels/wasm/spawn-thread.ts";
import { startGemmWorker } from "../src/kernels/wasm/gemm-worker.ts";
import { sharedGemmModuleBytes, SHARED_MAX_PAGES } from "../src/kernels/wasm/gemm-shared-module.ts";

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

afterEach(() => vi.restoreAllMocks());

describe("spawnThread", () => {
  it("runs the program's entry with the start data on another thread, over shared memory", () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    const t = spawnThread("function main(d) { const w = new Int32Array(d.buf); Atomics.store(w, 1, d.x * 2); Atomics.store(w, 0, 1); Atomics.notify(w, 0); }", "main", { buf: words.buffer, x: 21 });
    Atomics.wait(words, 0, 0, 5_000);
    expect(Array.from(words)).toEqual([1, 42]);
    return t.terminate();
  });
});

describe("GemmWorker on a thread that may not block", () => {
  it("never sleeps in Atomics.wait on the calling thread, and its products are those of the module", () => {
    const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: ArrayBuffer } } }).WebAssembly;
    const memory = new WA.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
    const worker = startGemmWorker(sharedGemmModuleBytes(), memory, false);
    const wait = vi.spyOn(Atomics, "wait");
    let state = worker.ready(5_000);
    expect(wait).not.toHaveBeenCalled();
    for (let i = 0; i < 5_000 && state !== "ready"; i++) {
      wait.mockRestore();
      sleep(1); // a test may sleep; the worker's calls above and below may not
      state = worker.ready(5_000);
    }
    expect(state).toBe("ready");
    // dgemm of 2 x 2 matrices at byte offsets: A at 0, B at 64, C at 128; packing and scratch after.
    const f64 = new Float64Array(memory.buffer);
    f64.set([1, 2, 3, 4], 0);
    f64.set([5, 6, 7, 8], 8);
    const spy = vi.spyOn(Atomics, "wait");
    worker.post(1, [0, 64, 128, 2, 2, 2, 1024, 8192, 16384, 16, 16, 16, 1]);
    worker.go();
    const done = worker.wait(0.1, 5_000);
    expect(spy).not.toHaveBeenCalled();
    expect(done).toBe("ok");
    expect(Array.from(f64.subarray(16, 20))).toEqual([19, 22, 43, 50]);
    worker.stop();
  });
});
