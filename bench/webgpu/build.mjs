// `npm run bench -- --backend webgpu ...` (routed here by bench/bundle.mjs): bundles the page's
// script for the browser and the driver for Node with esbuild, then runs the driver
// (bench/webgpu/run.ts), which runs the workloads in Node if it has WebGPU, else in Chromium.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";

const outdir = "out/bench-webgpu";

/** Builds both bundles and runs the driver with `args`; its exit status. */
export async function runWebgpuBench(args) {
  const common = { bundle: true, format: "esm", logLevel: "warning" };
  await build({ ...common, entryPoints: { page: "bench/webgpu/page.ts" }, platform: "browser", target: "chrome120", outdir });
  await build({
    ...common,
    entryPoints: { run: "bench/webgpu/run.ts" },
    platform: "node",
    target: "node20",
    outdir,
    outExtension: { ".js": ".mjs" },
    // Loaded from node_modules at run time (playwright-core reads its own files; `webgpu` is looked for, not required).
    external: ["playwright-core", "webgpu"],
    banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
  });
  return spawnSync(process.execPath, [`${outdir}/run.mjs`, ...args], { stdio: "inherit" }).status ?? 1;
}
