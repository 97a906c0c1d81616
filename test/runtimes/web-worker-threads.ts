// The 2-thread matrix product over a Web Worker, as in a cross-origin-isolated browser page,
// checked in Deno (whose Worker is the web's): `deno run -A test/runtimes/web-worker-threads.ts`.
// The products must be split and give the single-thread bits exactly. `npm run test:package` runs it.
import { matmulKernel } from "../../src/kernels/matmul.ts";
import { Tensor, allocate } from "../../src/tensor/tensor.ts";
import { Random } from "../../src/tensor/random.ts";
import { setMatmulThreads, matmulThreadsUnavailableReason } from "../../src/kernels/wasm/threads.ts";
import { threadSettings, threadStats } from "../../src/kernels/wasm/threads.ts";
import { threadKind } from "../../src/kernels/wasm/spawn-thread.ts";

const rand = (shape: number[], seed: number): Tensor => {
  const r = new Random(seed);
  const buf = allocate("float32", shape[0]! * shape[1]!);
  for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() * 2 - 1;
  return new Tensor(buf, shape);
};

threadKind.use = "web";
const a = rand([96, 80], 1);
const b = rand([80, 72], 2);
const single = matmulKernel(a, b);
threadSettings.minFlops = 1;
setMatmulThreads(2);
// A Web Worker loads while the thread that started it lets its event loop run (in a browser it
// cannot start before): products run on one thread until it has, so this waits by awaiting.
let reason = matmulThreadsUnavailableReason();
for (const t0 = performance.now(); reason?.startsWith("the worker is still loading") && performance.now() - t0 < 10_000; ) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  reason = matmulThreadsUnavailableReason();
}
if (reason !== undefined) throw new Error(`no second thread: ${reason}`);
let same = true;
for (let i = 0; i < 20; i++) {
  const c = matmulKernel(a, b);
  same &&= c.data.every((v, j) => Object.is(v, single.data[j]));
}
setMatmulThreads(1);
if (!same) throw new Error("the 2-thread product differs from the single-thread one");
if (threadStats.calls < 1) throw new Error("no product ran on two threads");
console.log(`web worker: ${threadStats.calls} of 20 products on two threads, bit for bit the single-thread result`);
