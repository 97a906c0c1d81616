// `npm run bench [-- W1 W8 ...]`: bundles bench/run.ts with esbuild (one chunk per workload,
// loaded on demand) and runs it with Node. Bundling matters: run through a TypeScript loader,
// every import between files becomes a getter call, which would be measured as if it were ours.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";

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
