// The benchmark page's script (bundled for the browser by bench/webgpu/build.mjs): fetches the
// shared MLP data the driver serves, and runs the workloads on the page's navigator.gpu. The
// driver (run.ts) calls `yieldiffGpuBench` and prints what it returns.
import { runGpuBenchmarks, type GpuReport, type MlpBytes } from "./workloads.ts";

declare global {
  // eslint-disable-next-line no-var
  var yieldiffGpuBench: (workloads: string[], time: number) => Promise<GpuReport>;
}

globalThis.yieldiffGpuBench = async (workloads, time) => {
  const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
  if (gpu === undefined) throw new Error("this page has no navigator.gpu: Chromium needs --enable-unsafe-webgpu");
  const meta = (await (await fetch("/bench-data/mlp.json")).json()) as MlpBytes["meta"];
  const floats = new Float32Array(await (await fetch("/bench-data/mlp.bin")).arrayBuffer());
  return runGpuBenchmarks({ gpu, mlp: { meta, floats }, workloads, time, log: (line) => console.log(line) });
};
