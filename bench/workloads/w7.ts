// W7: matmul 512 x 512 x 512 in float32, GFLOP/s (2 * 512^3 flops per product), including
// reading the result back into a JS typed array. yieldiff through the public API with the
// WebAssembly SIMD kernel (on one thread, and split across two with setMatmulThreads(2)) and with
// the pure-JS kernel forced, against a plain-JS i-k-j loop.
import { matmul, matmulThreadsUnavailableReason, randn, run, setMatmulThreads, type Tensor } from "../../src/index.ts";
import { wasmUnavailableReason, withWasmEnabled } from "../../src/kernels/wasm/gemm.ts";
import { time, type Timing } from "../measure.ts";
import type { Row } from "../report.ts";

const N = 512;
const FLOPS = 2 * N * N * N;

function* product(a: Tensor, b: Tensor) {
  return yield* matmul(a, b);
}

/** c = a b by the textbook i-k-j loop over Float32Arrays (the plain-JS floor). */
function ikj(a: Float32Array, b: Float32Array, n: number): Float32Array {
  const c = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += x * b[bp + j]!;
    }
  }
  return c;
}

const withWasm = withWasmEnabled;

/** ms per product -> GFLOP/s (the fastest run gives the max). */
const gflops = (t: Timing): { median: number; min: number; max: number } => ({
  median: FLOPS / (t.median * 1e6),
  min: FLOPS / (t.max * 1e6),
  max: FLOPS / (t.min * 1e6),
});

export async function w7(): Promise<Row[]> {
  const a = randn([N, N], { seed: 7, dtype: "float32" });
  const b = randn([N, N], { seed: 8, dtype: "float32" });
  const ad = a.data as Float32Array;
  const bd = b.data as Float32Array;
  const fast = (): Float32Array => withWasm(true, () => (run(product, a, b) as Tensor).data as Float32Array);
  const js = (): Float32Array => withWasm(false, () => (run(product, a, b) as Tensor).data as Float32Array);
  const floor = (): Float32Array => ikj(ad, bd, N);

  // Same product from every system before timing: |x - y| <= 1e-5 * (|a| |b|)[i, j].
  const scale = ikj(ad.map(Math.abs), bd.map(Math.abs), N);
  const ref = js();
  for (const [name, got] of [["WASM", fast()], ["i-k-j loop", floor()]] as const)
    for (let i = 0; i < ref.length; i++)
      if (Math.abs(got[i]! - ref[i]!) > 1e-5 * scale[i]!)
        throw new Error(`W7: ${name} gives ${got[i]} at ${i}, the pure-JS kernel ${ref[i]}`);
  const reason = withWasm(true, () => wasmUnavailableReason());
  // With setMatmulThreads(2): bit for bit the one-thread product.
  const one = fast();
  setMatmulThreads(2);
  const two = fast();
  const threadsReason = matmulThreadsUnavailableReason();
  setMatmulThreads(1);
  for (let i = 0; i < one.length; i++)
    if (!Object.is(two[i], one[i])) throw new Error(`W7: 2 threads give ${two[i]} at ${i}, 1 thread ${one[i]}`);

  const t = await time({ wasm: fast, js, floor }, { time: 2000 });
  // A Bench of its own, with the switch at 2 throughout (switching stops and starts the worker).
  setMatmulThreads(2);
  const t2 = await time({ wasm2: fast }, { time: 2000 }).finally(() => setMatmulThreads(1));
  const g = { wasm: gflops(t.wasm!), wasm2: gflops(t2.wasm2!), js: gflops(t.js!), floor: gflops(t.floor!) };
  return [
    {
      workload: "W7", system: "yieldiff matmul (WASM SIMD)", unit: "GFLOP/s", ...g.wasm,
      note: reason
        ? `WebAssembly unavailable (${reason}): this ran the JS kernel`
        : `${(g.wasm.median / g.floor.median).toFixed(1)}× the i-k-j loop`,
    },
    {
      workload: "W7", system: "yieldiff matmul (WASM SIMD, 2 threads)", unit: "GFLOP/s", ...g.wasm2,
      note: threadsReason
        ? `two threads unavailable (${threadsReason}): this ran on one`
        : `setMatmulThreads(2): uses 2 cores (the other rows and peers 1); ${(g.wasm2.median / g.wasm.median).toFixed(2)}× one thread, same bits`,
    },
    { workload: "W7", system: "yieldiff matmul (pure JS, YIELDIFF_NO_WASM)", unit: "GFLOP/s", ...g.js, note: "float64 accumulation, rounded to float32" },
    { workload: "W7", system: "plain-JS i-k-j loop", unit: "GFLOP/s", ...g.floor },
  ];
}
