import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SPLIT_CASES } from "./matmul-split-cases.ts";
import { matmulKernel } from "../src/kernels/matmul.ts";
import { Tensor, allocate, type DType } from "../src/tensor/tensor.ts";
import { Random } from "../src/tensor/random.ts";
import { ValueError } from "../src/errors.ts";
import { matmulThreads, matmulThreadsUnavailableReason, setMatmulThreads } from "../src/index.ts";
import { WASM_MIN_FLOPS, wasmUnavailableReason, withWasmEnabled } from "../src/kernels/wasm/gemm.ts";
import { THREAD_MIN_FLOPS, matmulWorker, threadSettings, threadStats } from "../src/kernels/wasm/threads.ts";

const rand = (shape: number[], dtype: DType, seed: number): Tensor => {
  const r = new Random(seed);
  const buf = allocate(dtype, shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() * 2 - 1;
  return new Tensor(buf, shape);
};

/** With YIELDIFF_NO_WASM=1 (or no SIMD) products never reach the threads: they must still be right. */
const wasm = wasmUnavailableReason() === undefined;

/** The product with the split held off (same switch, same worker): the single-thread WebAssembly path. */
const oneThread = (a: Tensor, b: Tensor, tA: boolean, tB: boolean): Tensor => {
  const was = threadSettings.minFlops;
  threadSettings.minFlops = Infinity;
  try {
    return matmulKernel(a, b, tA, tB);
  } finally {
    threadSettings.minFlops = was;
  }
};

/**
 * The product on two threads; checks that it was split exactly when it ran in WebAssembly. First
 * waits for the worker to be free: after a half was taken over from a late worker, products run on
 * one thread until it has finished (and for threadSettings.backoff products more).
 */
const twoThreads = (a: Tensor, b: Tensor, tA: boolean, tB: boolean): Tensor => {
  for (let i = 0; i < 2_000 && matmulWorker()?.state() === "running"; i++) sleep(1);
  const before = threadStats.calls;
  const c = matmulKernel(a, b, tA, tB);
  const [m, n] = c.shape.slice(-2) as [number, number];
  const k = a.shape[tA ? 0 : 1]!;
  const size = m * k * n;
  expect(threadStats.calls - before).toBe(wasm && size >= WASM_MIN_FLOPS[c.dtype === "float32" ? "f32" : "f64"] && size >= threadSettings.minFlops ? 1 : 0);
  return c;
};

const expectSameBits = (got: Tensor, want: Tensor): void => {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  const g = got.buf, w = want.buf;
  for (let i = 0; i < w.length; i++) if (!Object.is(g[i], w[i])) expect([i, g[i]]).toEqual([i, w[i]]);
};

const expectClose = (got: Tensor, want: Tensor, rel: number): void => {
  for (let i = 0; i < want.buf.length; i++) expect(Math.abs(got.buf[i]! - want.buf[i]!)).toBeLessThanOrEqual(rel * (1 + Math.abs(want.buf[i]!)));
};

/** Operands for op(A)[m, k] op(B)[k, n], stored transposed where asked. */
const operands = (m: number, k: number, n: number, tA: boolean, tB: boolean, da: DType, db: DType, seed: number): [Tensor, Tensor] => [
  rand(tA ? [k, m] : [m, k], da, seed),
  rand(tB ? [n, k] : [k, n], db, seed + 1),
];

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

afterEach(() => {
  setMatmulThreads(1);
  threadSettings.minFlops = THREAD_MIN_FLOPS;
  threadSettings.jobMs = 2_000;
  threadSettings.backoff = 4;
});

describe("setMatmulThreads", () => {
  it("is off by default, takes 1 or 2, and names itself, the value and the fix otherwise", () => {
    expect(matmulThreads()).toBe(1);
    expect(matmulThreadsUnavailableReason()).toMatch(/^off/);
    setMatmulThreads(2);
    expect(matmulThreads()).toBe(2);
    setMatmulThreads(1);
    expect(matmulThreads()).toBe(1);
    for (const bad of [0, 3, 1.5, -1, NaN, Infinity, "2" as unknown as number]) {
      const f = (): void => setMatmulThreads(bad);
      expect(f).toThrow(ValueError);
      expect(f).toThrow(/^setMatmulThreads: .* threads is not supported; pass 1 \(one thread, the default\) or 2/);
    }
    expect(() => setMatmulThreads(3)).toThrow("setMatmulThreads: 3 threads is not supported");
    expect(() => setMatmulThreads("2" as unknown as number)).toThrow('setMatmulThreads: "2" (a string) threads');
    expect(matmulThreads()).toBe(1);
  });

  it("with the switch at 1 no product is split and no worker exists", () => {
    const [a, b] = operands(130, 129, 131, false, false, "float32", "float32", 1);
    const before = threadStats.calls;
    matmulKernel(a, b);
    expect(threadStats.calls).toBe(before);
    expect(matmulWorker()).toBeUndefined();
  });

  it("reads YIELDIFF_THREADS once at load", async () => {
    vi.resetModules();
    vi.stubEnv("YIELDIFF_THREADS", "2");
    try {
      const fresh = await import("../src/kernels/wasm/threads.ts");
      expect(fresh.matmulThreads()).toBe(2);
      fresh.setMatmulThreads(1);
      vi.resetModules();
      vi.stubEnv("YIELDIFF_THREADS", "four");
      const bad = await import("../src/kernels/wasm/threads.ts");
      expect(bad.matmulThreads()).toBe(1);
      expect(bad.matmulThreadsUnavailableReason()).toBe('YIELDIFF_THREADS="four" is not 1 or 2, so matmuls run on one thread');
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});

describe("YIELDIFF_THREADS=2 in a process of its own", () => {
  it("splits large products from the start, and the process exits with the worker alive", () => {
    const entry = JSON.stringify(fileURLToPath(new URL("../src/index.ts", import.meta.url)));
    const threadsFile = JSON.stringify(fileURLToPath(new URL("../src/kernels/wasm/threads.ts", import.meta.url)));
    const code =
      `const m = await import(${entry}); const t = await import(${threadsFile});` +
      `const a = m.randn([200, 200], { seed: 1, dtype: "float32" });` +
      `m.run(function* () { return yield* m.matmul(a, a); });` +
      `console.log(m.matmulThreads(), t.threadStats.calls);`;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { ...process.env, YIELDIFF_THREADS: "2" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe(wasm ? "2 1" : "2 0");
  });
});

describe("matmul on two threads", () => {
  it("odd shapes, transposed operands, both dtypes: bit for bit the single-thread product (property)", () => {
    setMatmulThreads(2);
    expect(matmulThreadsUnavailableReason()).toBe(wasm ? undefined : "the WebAssembly path is off (YIELDIFF_NO_WASM or setWasmEnabled(false))");
    threadSettings.minFlops = 0; // split small shapes too: halves of a few rows or columns, edge tiles
    threadSettings.backoff = 0; // and every one, even right after the worker was late
    const size = fc.oneof(fc.integer({ min: 4, max: 40 }), fc.constantFrom(4, 5, 7, 8, 9, 15, 17, 33, 65, 129));
    const arb = fc.record({
      m: size, k: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.constantFrom(255, 257, 300)), n: size,
      tA: fc.boolean(), tB: fc.boolean(),
      da: fc.constantFrom<DType>("float32", "float64"), mixed: fc.boolean(), seed: fc.integer(),
    });
    fc.assert(
      fc.property(arb, ({ m, k, n, tA, tB, da, mixed, seed }) => {
        const [a, b] = operands(m, k, n, tA, tB, da, mixed ? "float64" : da, seed);
        const got = twoThreads(a, b, tA, tB);
        expectSameBits(got, oneThread(a, b, tA, tB));
        const js = withWasmEnabled(false, () => matmulKernel(a, b, tA, tB));
        expectClose(got, js, got.dtype === "float64" ? 1e-12 : 1e-5);
      }),
      { numRuns: 120 },
    );
  });

  it("products above the default size are split, by rows or by columns, batched too", () => {
    setMatmulThreads(2);
    threadSettings.backoff = 0;
    for (const [m, k, n, tA, tB, dtype] of SPLIT_CASES) {
      const [a, b] = operands(m, k, n, tA, tB, dtype, dtype, m + n);
      expectSameBits(twoThreads(a, b, tA, tB), oneThread(a, b, tA, tB));
    }
    const a = rand([3, 70, 130], "float32", 5), b = rand([130, 470], "float32", 6);
    const before = threadStats.calls;
    const got = matmulKernel(a, b);
    const splits = threadStats.calls - before; // fewer than 3 if the worker was late for one
    if (wasm) expect(splits).toBeGreaterThanOrEqual(1);
    expect(splits).toBeLessThanOrEqual(wasm ? 3 : 0);
    expectSameBits(got, oneThread(a, b, false, false));
  });

  it("row-vector shapes and small products stay on the calling thread", () => {
    setMatmulThreads(2);
    const before = threadStats.calls;
    for (const [m, k, n] of [[1, 4096, 1024], [3, 4096, 512], [8192, 1, 600], [2048, 2048, 1], [60, 60, 60]] as const) {
      const [a, b] = operands(m, k, n, false, false, "float32", "float32", 7);
      expectSameBits(matmulKernel(a, b), oneThread(a, b, false, false));
    }
    expect(threadStats.calls).toBe(before);
  });
});

describe.runIf(wasm)("when the worker is late or gone", () => {
  const check = (seed: number): void => {
    const [a, b] = operands(70, 90, 80, false, true, "float32", "float32", seed);
    expectSameBits(matmulKernel(a, b, false, true), oneThread(a, b, false, true));
  };

  it("a worker that stops answering: its half is taken over, then products run on one thread", () => {
    setMatmulThreads(2);
    threadSettings.minFlops = 0;
    threadSettings.jobMs = 200;
    expect(matmulThreadsUnavailableReason()).toBeUndefined();
    void matmulWorker()!.terminate();
    sleep(100); // the thread ends; its exit event cannot arrive while this test runs synchronously
    const { calls, takeovers } = threadStats;
    const t0 = performance.now();
    check(1);
    expect(performance.now() - t0).toBeLessThan(500);
    expect([threadStats.calls - calls, threadStats.takeovers - takeovers]).toEqual([1, 1]);
    check(2); // the worker is still "busy": one thread
    expect(threadStats.calls - calls).toBe(1);
    sleep(250);
    check(3); // busy for longer than jobMs: given up
    expect(matmulThreadsUnavailableReason()).toBe("the worker did not finish its half in time");
    check(4);
    expect(threadStats.calls - calls).toBe(1);
    // Asking again starts a new worker.
    setMatmulThreads(2);
    const [a, b] = operands(40, 30, 50, true, false, "float64", "float64", 3);
    expectSameBits(twoThreads(a, b, true, false), oneThread(a, b, true, false));
  });

  it("a worker that exited between products: the next product runs on one thread at once", async () => {
    setMatmulThreads(2);
    threadSettings.minFlops = 0;
    expect(matmulThreadsUnavailableReason()).toBeUndefined();
    await matmulWorker()!.terminate();
    await new Promise((r) => setTimeout(r, 10));
    const calls = threadStats.calls;
    const t0 = performance.now();
    check(5);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(threadStats.calls).toBe(calls);
    expect(matmulThreadsUnavailableReason()).toMatch(/^the worker exited/);
  });
});
