// A module Web Worker that test/browser/threads-from-a-worker.test.ts starts: the 2-thread
// matmul used from a thread that may block in Atomics.wait, as a page's training worker uses it.
// Its own worker can start only while this thread's event loop runs.
import { matmul, matmulThreadsUnavailableReason, randn, run, setMatmulThreads, type Tensor } from "../../src/index.ts";
import { threadStats } from "../../src/kernels/wasm/threads.ts";

/** What the test checks. */
export interface Report {
  /** How long from setMatmulThreads(2) until the second thread was there (ms). */
  readyMs: number;
  /** How long setMatmulThreads(2) and a product right after it took (ms). */
  firstMs: number;
  /** matmulThreadsUnavailableReason() right after, before the event loop ran. */
  reasonAtOnce: string | undefined;
  /** The reason after letting the event loop run (up to 10 s). */
  reason: string | undefined;
  /** Products split in two by the product after that. */
  split: number;
  /** Whether both products have the same bits. */
  same: boolean;
}

const product = (a: Tensor): Tensor => run(function* () {
  return yield* matmul(a, a);
});

const scope = globalThis as unknown as { onmessage: (() => void) | null; postMessage(report: Report): void };

scope.onmessage = async () => {
  const a = randn([200, 200], { seed: 1, dtype: "float32" });
  const t0 = performance.now();
  setMatmulThreads(2);
  const first = product(a);
  const firstMs = performance.now() - t0;
  const reasonAtOnce = matmulThreadsUnavailableReason();
  let reason = reasonAtOnce;
  for (const t1 = performance.now(); reason !== undefined && performance.now() - t1 < 10_000; ) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    reason = matmulThreadsUnavailableReason();
  }
  const calls = threadStats.calls;
  const second = product(a);
  const report: Report = { readyMs: performance.now() - t0, firstMs, reasonAtOnce, reason, split: threadStats.calls - calls, same: first.data.every((v, i) => Object.is(v, second.data[i])) };
  scope.postMessage(report);
};
