// `npm run bench [-- W1 W8 ...]`: bundles bench/run.ts with esbuild (one chunk per workload,
// loaded on demand) and runs it with Node. Bundling matters: run through a TypeScript loader,
// every import between files becomes a getter call, which would be measured as if it were ours.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

// Figures are for the Node versions the package supports (package.json's engines, e.g.
// "^22.19.0 || ^24.0.0 || ^26.0.0"): on another Node (this kind of machine comes with Node 20),
// the benchmarks run on the oldest supported major instead, fetched by npx as CI does.
const engines = JSON.parse(readFileSync("package.json", "utf8")).engines.node;
const ranges = [...engines.matchAll(/\^(\d+)\.(\d+)\.(\d+)/g)].map((m) => m.slice(1).map(Number));
const [major, minor] = process.versions.node.split(".").map(Number);
if (!ranges.some(([M, m]) => major === M && minor >= m)) {
  const oldest = Math.min(...ranges.map(([M]) => M));
  console.log(`Node ${process.versions.node} is outside the package's engines (${engines}): running the benchmarks on Node ${oldest} (npx -p node@${oldest})`);
  const r = spawnSync("npx", ["-y", "-p", `node@${oldest}`, "node", "bench/bundle.mjs", ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

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
