// The 2-thread matmul in a page: vitest's browser mode runs this in Chromium, cross-origin
// isolated by the headers that vitest.browser.config.ts sets. There the second thread is a
// module Web Worker (no worker_threads), and the page's own thread may not sleep in
// Atomics.wait: products run on one thread until the worker has loaded, and the calling thread
// polls for the worker's half. (The Node suite's test/matmul-threads.test.ts and
// test/spawn-thread.test.ts sleep on the calling thread, which a page may not; this file is their
// browser counterpart.)
import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { SPLIT_CASES } from "../matmul-split-cases.ts";
import { matmulKernel } from "../../src/kernels/matmul.ts";
import { Tensor, allocate, type DType } from "../../src/tensor/tensor.ts";
import { Random } from "../../src/tensor/random.ts";
import { matmulThreadsUnavailableReason, setMatmulThreads } from "../../src/index.ts";
import { WASM_MIN_FLOPS, withWasmEnabled } from "../../src/kernels/wasm/gemm.ts";
import { THREAD_MIN_FLOPS, matmulWorker, threadSettings, threadStats } from "../../src/kernels/wasm/threads.ts";
import { spawnThread } from "../../src/kernels/wasm/spawn-thread.ts";
import { startGemmWorker } from "../../src/kernels/wasm/gemm-worker.ts";
import { SHARED_MAX_PAGES, sharedGemmModuleBytes } from "../../src/kernels/wasm/gemm-shared-module.ts";

const rand = (shape: number[], dtype: DType, seed: number): Tensor => {
  const r = new Random(seed);
  const buf = allocate(dtype, shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() * 2 - 1;
  return new Tensor(buf, shape);
};
const operands = (m: number, k: number, n: number, tA: boolean, tB: boolean, da: DType, db: DType, seed: number): [Tensor, Tensor] => [
  rand(tA ? [k, m] : [m, k], da, seed),
  rand(tB ? [n, k] : [k, n], db, seed + 1),
];

/** Waits (letting the page's event loop run) until `ready()` holds. */
async function until(ready: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = performance.now();
  while (!ready()) {
    if (performance.now() - t0 > ms) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const oneThread = (a: Tensor, b: Tensor, tA: boolean, tB: boolean): Tensor => {
  const was = threadSettings.minFlops;
  threadSettings.minFlops = Infinity;
  try {
    return matmulKernel(a, b, tA, tB);
  } finally {
    threadSettings.minFlops = was;
  }
};

/** The product on two threads, once the worker is free; checks that it was split. */
async function twoThreads(a: Tensor, b: Tensor, tA: boolean, tB: boolean): Promise<Tensor> {
  await until(() => matmulWorker()?.state() !== "running", "the worker to finish a half the page took over");
  const before = threadStats.calls;
  const c = matmulKernel(a, b, tA, tB);
  const [m, n] = c.shape.slice(-2) as [number, number];
  const size = m * a.shape[tA ? 0 : 1]! * n;
  expect(threadStats.calls - before).toBe(size >= WASM_MIN_FLOPS[c.dtype === "float32" ? "f32" : "f64"] && size >= threadSettings.minFlops ? 1 : 0);
  return c;
}

const expectSameBits = (got: Tensor, want: Tensor): void => {
  expect(got.shape).toEqual(want.shape);
  const g = got.buf, w = want.buf;
  for (let i = 0; i < w.length; i++) if (!Object.is(g[i], w[i])) expect([i, g[i]]).toEqual([i, w[i]]);
};

async function startTwoThreads(): Promise<void> {
  setMatmulThreads(2);
  await until(() => matmulThreadsUnavailableReason() === undefined, "the matmul worker to load");
}

afterEach(() => {
  setMatmulThreads(1);
  threadSettings.minFlops = THREAD_MIN_FLOPS;
  threadSettings.backoff = 4;
  vi.restoreAllMocks();
});

describe("the page", () => {
  it("is cross-origin isolated (SharedArrayBuffer, shared WebAssembly memory), and its thread may not block", () => {
    expect((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated).toBe(true);
    expect(typeof SharedArrayBuffer).toBe("function");
    expect(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0)).toThrow();
  });
});

describe("spawnThread in a page", () => {
  it("starts a module Web Worker that runs the program's entry with the start data, over shared memory", async () => {
    const words = new Int32Array(new SharedArrayBuffer(8));
    const t = spawnThread(
      "function main(d) { const w = new Int32Array(d.buf); Atomics.store(w, 1, d.x * 2 + (typeof process === 'undefined' ? 0 : 1000)); Atomics.store(w, 0, 1); }",
      "main",
      { buf: words.buffer, x: 21 },
    );
    await until(() => Atomics.load(words, 0) === 1, "the thread");
    expect(Array.from(words)).toEqual([1, 42]);
    await t.terminate();
  });

  it("a GemmWorker polled from the page's thread computes the module's products without Atomics.wait", async () => {
    const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: ArrayBuffer } } }).WebAssembly;
    const memory = new WA.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
    const worker = startGemmWorker(sharedGemmModuleBytes(), memory, false);
    const wait = vi.spyOn(Atomics, "wait");
    await until(() => worker.ready(5_000) === "ready", "the gemm worker to load");
    const f64 = new Float64Array(memory.buffer);
    f64.set([1, 2, 3, 4], 0);
    f64.set([5, 6, 7, 8], 8);
    worker.post(1, [0, 64, 128, 2, 2, 2, 1024, 8192, 16384, 16, 16, 16, 1]);
    worker.go();
    let state = worker.wait(0.1, 5_000);
    if (state === "running") await until(() => (state = worker.state()) !== "running", "the job");
    expect(state).toBe("ok");
    expect(Array.from(f64.subarray(16, 20))).toEqual([19, 22, 43, 50]);
    expect(wait).not.toHaveBeenCalled();
    worker.stop();
  });
});

describe("matmul on two threads in a page", () => {
  it("runs products on one thread while the worker loads, then splits them, never blocking the page", async () => {
    setMatmulThreads(2);
    const wait = vi.spyOn(Atomics, "wait");
    const [a, b] = operands(170, 161, 171, false, false, "float32", "float32", 1);
    const early = matmulKernel(a, b); // the worker may still be loading: one thread, the same bits
    await startTwoThreads();
    expectSameBits(early, oneThread(a, b, false, false));
    threadSettings.backoff = 0;
    for (const [m, k, n, tA, tB, dtype] of SPLIT_CASES) {
      const [x, y] = operands(m, k, n, tA, tB, dtype, dtype, m + n);
      expectSameBits(await twoThreads(x, y, tA, tB), oneThread(x, y, tA, tB));
    }
    expect(wait).not.toHaveBeenCalled();
  });

  it("odd shapes, transposed operands, both dtypes: bit for bit the single-thread product and close to the JS one (property)", async () => {
    await startTwoThreads();
    threadSettings.minFlops = 0;
    threadSettings.backoff = 0;
    const size = fc.oneof(fc.integer({ min: 4, max: 40 }), fc.constantFrom(5, 7, 9, 17, 33, 65, 129));
    const arb = fc.record({
      m: size, k: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.constantFrom(255, 257, 300)), n: size,
      tA: fc.boolean(), tB: fc.boolean(), da: fc.constantFrom<DType>("float32", "float64"), seed: fc.integer(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ m, k, n, tA, tB, da, seed }) => {
        const [a, b] = operands(m, k, n, tA, tB, da, da, seed);
        const got = await twoThreads(a, b, tA, tB);
        expectSameBits(got, oneThread(a, b, tA, tB));
        const js = withWasmEnabled(false, () => matmulKernel(a, b, tA, tB));
        const tol = da === "float64" ? 1e-12 : 1e-5;
        for (let i = 0; i < js.buf.length; i++) expect(Math.abs(got.buf[i]! - js.buf[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(js.buf[i]!)));
      }),
      { numRuns: 60 },
    );
  });

  it("a worker that exited between products: the next product runs on one thread, with the reason", async () => {
    await startTwoThreads();
    threadSettings.minFlops = 0;
    await matmulWorker()!.terminate();
    const calls = threadStats.calls;
    const [a, b] = operands(70, 90, 80, false, true, "float32", "float32", 5);
    expectSameBits(matmulKernel(a, b, false, true), oneThread(a, b, false, true));
    expect(threadStats.calls).toBe(calls);
    expect(matmulThreadsUnavailableReason()).toMatch(/^the worker (was terminated|exited)/);
  });
});
