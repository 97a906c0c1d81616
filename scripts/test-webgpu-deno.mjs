// `npm run test:webgpu:deno`: the WebGPU backend's tests (test/webgpu/) outside a browser, in Deno,
// whose built-in WebGPU (wgpu) finds the machine's adapter: a GPU, or Mesa's llvmpipe (a CPU
// rasterizer through OpenGL) on a machine without one. Node has no WebGPU of its own. Where Deno
// finds no adapter, this says so and skips (exit 0): the same tests then run in Chromium only
// (npm run test:webgpu).
import { spawnSync } from "node:child_process";

const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const deno = (...args) => spawnSync(npx, ["-y", "deno", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const probe = deno(
  "eval",
  "const a = await navigator.gpu?.requestAdapter(); console.log(a ? [a.info?.vendor, a.info?.description].filter(Boolean).join(' ') || 'an adapter' : '')",
);
if (probe.status !== 0) {
  console.error(`test:webgpu:deno: Deno did not start:\n${probe.stderr}`);
  process.exit(1);
}
const adapter = probe.stdout.trim();
if (adapter === "") {
  console.log(
    "test:webgpu:deno: skipped: Deno's WebGPU finds no adapter on this machine (no GPU, and no Mesa " +
      "OpenGL/Vulkan driver such as Debian's libgl1-mesa-dri or mesa-vulkan-drivers); npm run test:webgpu runs the tests in Chromium",
  );
  process.exit(0);
}
console.log(`test:webgpu:deno: Deno's WebGPU adapter: ${adapter}`);
const run = spawnSync(
  npx,
  ["-y", "deno", "run", "-A", "--v8-flags=--expose-gc", "node_modules/vitest/vitest.mjs", "run", "--config", "vitest.webgpu-deno.config.ts", ...process.argv.slice(2)],
  { stdio: "inherit" },
);
process.exit(run.status ?? 1);
