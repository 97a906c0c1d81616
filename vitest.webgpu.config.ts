// The WebGPU backend's tests (test/webgpu/), by `npm run test:webgpu`: headless Chromium
// (Debian's, as vitest.browser.config.ts starts it) with SwiftShader's WebGPU adapter, which
// runs compute shaders on the CPU, so the GPU kernels are tested on machines without a GPU.
// Node has no WebGPU of its own (the npm `webgpu` binding is not a dependency); Deno has one, and
// vitest.webgpu-deno.config.ts runs the same tests there.
import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { chromiumLaunchOptions } from "./test/browser/chromium.ts";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";
import type { Plugin } from "vite";
import { docFiles, parseBlocks } from "./test/docs/markdown.ts";

const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * `virtual:webgpu-doc-blocks`: the docs' ```ts blocks marked `<!-- webgpu: why -->`, each a module
 * of its own (TypeScript compiled by esbuild) that test/webgpu/docs.test.ts imports to run it.
 */
const docBlocks = (): Plugin => {
  const LIST = "virtual:webgpu-doc-blocks";
  const BLOCK = "virtual:webgpu-doc-block/";
  const blocks = () =>
    docFiles(root).flatMap((doc) => parseBlocks(doc, readFileSync(`${root}/${doc}`, "utf8")).filter((b) => b.marker === "webgpu"));
  return {
    name: "webgpu-doc-blocks",
    resolveId: (id) => (id === LIST || id.startsWith(BLOCK) ? `\0${id}` : undefined),
    async load(id) {
      if (id === `\0${LIST}`) {
        const entries = blocks().map(
          (b, k) => `{ name: ${JSON.stringify(`${b.doc}:${b.line}`)}, output: ${JSON.stringify(b.output?.text ?? null)}, load: () => import(${JSON.stringify(BLOCK + k)}) }`,
        );
        return `export const blocks = [${entries.join(",\n")}];`;
      }
      if (id.startsWith(`\0${BLOCK}`)) {
        const block = blocks()[Number(id.slice(BLOCK.length + 1))]!;
        return (await transform(block.code, { loader: "ts", format: "esm", target: "es2022" })).code;
      }
      return undefined;
    },
  };
};

/** Chromium's switches for WebGPU on SwiftShader (no GPU, no Vulkan driver needed). */
const webgpuArgs = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-unsafe-swiftshader"];
/** gc() for the test that buffers of collected tensors go back to the pool. */
const gcArgs = ["--js-flags=--expose-gc"];

const launch = chromiumLaunchOptions();

export default defineConfig({
  plugins: [docBlocks()],
  resolve: { alias: { yieldiff: fileURLToPath(new URL("./src/index.ts", import.meta.url)) } },
  test: {
    include: ["test/webgpu/*.test.ts"],
    testTimeout: 120_000,
    setupFiles: ["test/browser/env.ts"],
    provide: { env: {} },
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({ launchOptions: { ...launch, args: [...launch.args, ...webgpuArgs, ...gcArgs] } }),
      instances: [{ browser: "chromium" as const }],
      screenshotFailures: false,
    },
  },
});
