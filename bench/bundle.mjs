// `npm run bench [-- W1 W8 ...]`: bundles bench/run.ts into one ES module with esbuild and runs
// it with Node. Bundling matters: run through a TypeScript loader, every import between files
// becomes a getter call, which would be measured as if it were ours.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";

const outfile = "out/bench/run.mjs";
await build({
  entryPoints: ["bench/run.ts"],
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outfile,
  logLevel: "warning",
  // Loaded from node_modules at run time: its Emscripten loader finds its .wasm files by __dirname.
  external: ["@tensorflow/tfjs-backend-wasm"],
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
});
const result = spawnSync(process.execPath, ["--expose-gc", outfile, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
