// The page's training worker: loads the digits, trains the CNN (./trainer.ts) with progress
// messages, and classifies the page's drawings with the latest parameters, during training too.
// The 2-thread matmul runs here when the page is cross-origin isolated (its second thread is a
// worker this worker starts); the page's own thread never computes.
import { matmulThreadsUnavailableReason, run, setMatmulThreads, wasmUnavailableReason, type Tensor } from "yieldiff";
import { gemmFma } from "../../../src/kernels/wasm/gemm-module.ts"; // internal: whether the f32 products fuse multiply-adds (relaxed SIMD)
import { cnnLogProbs, type CnnParams } from "../../../examples/models/mnist-cnn.ts";
import { browserGunzip, decodeDigits } from "../digits/format.ts";
import { toInput } from "../digits/normalize.ts";
import type { FromWorker, ToWorker } from "../protocol.ts";
import { train } from "./trainer.ts";

const post = (m: FromWorker): void => postMessage(m);
/** How long training waits for the matmul's second thread to load. */
const START_MS = 10_000;
let params: CnnParams<Tensor> | undefined;
let busy = false;

/** The ten probabilities of one image, or null before there are parameters. */
function predict(pixels: Float32Array): number[] | null {
  if (!params) return null;
  const logProbs = run(cnnLogProbs, params, toInput(pixels, 1)) as Tensor;
  return Array.from(logProbs.data, Math.exp);
}

/**
 * Why matmuls run on one thread, or undefined once the second thread is there. Its worker loads
 * only while this thread's event loop runs, so this awaits it (up to START_MS) before training,
 * which keeps this thread busy for long stretches.
 */
async function secondThread(): Promise<string | undefined> {
  let reason = matmulThreadsUnavailableReason();
  for (const t0 = performance.now(); reason?.startsWith("the worker is still loading") && performance.now() - t0 < START_MS; ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    reason = matmulThreadsUnavailableReason();
  }
  return reason;
}

async function start(m: Extract<ToWorker, { type: "train" }>): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    if (m.oneThread === undefined) setMatmulThreads(2);
    post({ type: "status", text: "loading the digits…" });
    const response = await fetch(m.digitsUrl);
    if (!response.ok) throw new Error(`could not load the digits (${m.digitsUrl}: HTTP ${response.status})`);
    const data = await decodeDigits(await response.arrayBuffer(), browserGunzip);
    const reason = m.oneThread ?? (await secondThread());
    post({
      type: "engine",
      engine: { wasm: wasmUnavailableReason() ?? "WebAssembly SIMD", fma: gemmFma(), threads: reason === undefined ? "2 threads" : `1 thread: ${reason}` },
    });
    const result = await train(data, m.epochs, {
      start: (info) => post({ type: "start", ...info }),
      step: ({ params: p, ...info }) => {
        params = p;
        post({ type: "step", ...info });
      },
      accuracy: (info) => post({ type: "accuracy", ...info }),
    });
    post({ type: "done", steps: result.steps, seconds: result.seconds, accuracy: result.accuracy });
  } catch (e) {
    post({ type: "error", message: e instanceof Error ? e.message : String(e) });
  } finally {
    busy = false;
  }
}

onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === "train") void start(m);
  else if (m.type === "predict") {
    try {
      post({ type: "prediction", id: m.id, probabilities: predict(m.pixels) });
    } catch (err) {
      post({ type: "error", message: err instanceof Error ? err.message : String(err) });
    }
  }
};
