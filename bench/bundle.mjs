// `npm run bench [-- W1 W8 ...]`: bundles bench/run.ts with esbuild (one chunk per workload,
// loaded on demand) and runs it with Node. Bundling matters: run through a TypeScript loader,
// every import between files becomes a getter call, which would be measured as if it were ours.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";

// `--backend webgpu`: W2, W6 and W7 on the GPU (bench/webgpu/); `--backend cpu` is the default.
const backendAt = process.argv.indexOf("--backend");
if (backendAt >= 0) {
  const name = process.argv[backendAt + 1];
  const rest = process.argv.slice(2).filter((_, i) => i !== backendAt - 2 && i !== backendAt - 1);
  if (name === "webgpu") process.exit(await (await import("./webgpu/build.mjs")).runWebgpuBench(rest));
  if (name !== "cpu") {
    console.error(`--backend ${name ?? ""}: choose cpu (the default) or webgpu`);
    process.exit(2);
  }
  process.argv.splice(backendAt, 2);
}

const outdir = "out/bench";
await build({
  entryPoints: ["bench/run.ts"],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir,
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
  // Loaded from node_modules at run time: its Emscripten loader finds its .wasm files by __dirname.
  external: ["@tensorflow/tfjs-backend-wasm"],
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
});
const result = spawnSync(process.execPath, ["--expose-gc", `${outdir}/run.mjs`, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
