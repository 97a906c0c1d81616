// `npm run bench -- --backend webgpu [W2 W6 W7] [--adapter swiftshader]`: W2, W6 and W7 on the
// webgpu backend, eager and jit, with the adapter's name beside the figures. In Node when it has
// a WebGPU entry point (navigator.gpu, or the npm `webgpu` binding installed), else in headless
// Chromium (Debian's, as the test suites start it) on a page served from memory. Nothing is
// written: docs/benchmarks.md and bench/results.json keep the CPU's figures (a GPU figure depends
// on the machine's GPU, and SwiftShader's are CPU figures).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { chromiumArgs, chromiumLaunchOptions } from "../../test/browser/chromium.ts";
import { machine } from "../report.ts";
import { gpuTable } from "./table.ts";
import { GPU_WORKLOADS, runGpuBenchmarks, type GpuReport, type MlpBytes } from "./workloads.ts";

const args = process.argv.slice(2);
const adapterAt = args.indexOf("--adapter");
const adapterChoice = adapterAt >= 0 ? args[adapterAt + 1] : "gpu";
if (adapterChoice !== "gpu" && adapterChoice !== "swiftshader") {
  console.error(`--adapter ${adapterChoice ?? ""}: choose gpu (the default: a GPU if the browser finds one) or swiftshader`);
  process.exit(2);
}
const wanted = args.filter((a, i) => !a.startsWith("--") && !(adapterAt >= 0 && i === adapterAt + 1)).map((a) => a.toUpperCase());
const unknown = wanted.filter((w) => !GPU_WORKLOADS.includes(w));
if (unknown.length > 0) {
  console.error(`--backend webgpu runs ${GPU_WORKLOADS.join(", ")}; not ${unknown.join(", ")}`);
  process.exit(2);
}
/** ms of timed runs per row, after tinybench's warm-up. */
const TIME = 1500;

// Relative to the project root (npm runs scripts there), as bench/data.ts reads it.
const DATA = new URL("../shared/bench-data/", pathToFileURL(`${process.cwd()}/`));

/** Node's own WebGPU entry point, or why there is none. */
async function nodeGpu(): Promise<{ gpu: unknown } | { reason: string }> {
  const own = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
  if (own !== undefined) return { gpu: own };
  const binding = "webgpu"; // the npm package of Dawn's Node binding; not a dependency of this project
  try {
    const m = (await import(binding)) as { create(flags: string[]): unknown };
    return { gpu: m.create([]) };
  } catch {
    return { reason: `Node ${process.version} has no WebGPU entry point here (navigator.gpu is undefined and the npm \`webgpu\` binding is not installed)` };
  }
}

async function inNode(gpu: unknown): Promise<GpuReport> {
  const mlp: MlpBytes = {
    meta: JSON.parse(readFileSync(new URL("mlp.json", DATA), "utf8")) as MlpBytes["meta"],
    floats: new Float32Array(new Uint8Array(readFileSync(new URL("mlp.bin", DATA))).buffer),
  };
  return runGpuBenchmarks({ gpu, mlp, workloads: wanted, time: TIME, log: (line) => console.log(`  ${line}`) });
}

/** Chromium's switches: WebGPU on the GPU when there is one (Vulkan on Linux), or SwiftShader's adapter only. */
const webgpuSwitches = (choice: "gpu" | "swiftshader"): string[] =>
  choice === "swiftshader"
    ? [...chromiumArgs, "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-unsafe-swiftshader"]
    : [...chromiumArgs.filter((a) => a !== "--disable-gpu"), "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-angle=vulkan", "--enable-unsafe-swiftshader"];

async function inChromium(): Promise<{ report: GpuReport; browser: string }> {
  const { chromium } = await import("playwright-core");
  const launch = chromiumLaunchOptions();
  const browser = await chromium.launch({ ...launch, args: webgpuSwitches(adapterChoice as "gpu" | "swiftshader") });
  try {
    const page = await browser.newPage();
    page.on("console", (m) => console.log(`  ${m.text()}`));
    page.on("pageerror", (e) => console.error(`  page error: ${e.message}`));
    // Served from memory on http://localhost (a secure context, so navigator.gpu exists).
    const files: Record<string, { type: string; body: Buffer | string }> = {
      "/": { type: "text/html", body: '<!doctype html><meta charset="utf-8"><title>yieldiff webgpu bench</title><script type="module" src="/page.js"></script>' },
      "/page.js": { type: "text/javascript", body: readFileSync(new URL("./page.js", import.meta.url)) },
      "/bench-data/mlp.json": { type: "application/json", body: readFileSync(new URL("mlp.json", DATA)) },
      "/bench-data/mlp.bin": { type: "application/octet-stream", body: readFileSync(new URL("mlp.bin", DATA)) },
    };
    await page.route("http://localhost/**", (route) => {
      const file = files[new URL(route.request().url()).pathname];
      return file ? route.fulfill({ status: 200, contentType: file.type, body: file.body }) : route.fulfill({ status: 404, body: "" });
    });
    await page.goto("http://localhost/");
    await page.waitForFunction(() => typeof globalThis.yieldiffGpuBench === "function");
    const report = await page.evaluate(([w, t]) => globalThis.yieldiffGpuBench(w, t), [wanted, TIME] as [string[], number]);
    return { report, browser: `Chromium ${browser.version()}` };
  } finally {
    await browser.close();
  }
}

console.log(`yieldiff WebGPU benchmarks on ${machine()}`);
const node = await nodeGpu();
let result: { report: GpuReport; browser: string };
try {
  if ("gpu" in node) result = { report: await inNode(node.gpu), browser: `Node ${process.version}` };
  else {
    console.log(`${node.reason}: running in headless Chromium`);
    result = await inChromium();
  }
} catch (e) {
  console.error(`webgpu benchmarks failed: ${(e as Error).message}`);
  process.exit(1);
}
const { report, browser } = result;
console.log(`\nadapter: ${report.adapter} (in ${browser})${report.cpuEmulation ? ": CPU emulation, so these are CPU figures, not GPU ones" : ""}\n`);
console.log(gpuTable(report));
console.log("\nNot recorded in docs/benchmarks.md or bench/results.json (those hold the CPU runs).");
