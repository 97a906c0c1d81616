// The WebGPU backend's tests (test/webgpu/), by `npm run test:webgpu`: headless Chromium
// (Debian's, as vitest.browser.config.ts starts it) with SwiftShader's WebGPU adapter, which
// runs compute shaders on the CPU, so the GPU kernels are tested on machines without a GPU.
// Node has no WebGPU of its own (the npm `webgpu` binding is not a dependency): these tests run
// in the browser only.
import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { chromiumLaunchOptions } from "./test/browser/chromium.ts";

/** Chromium's switches for WebGPU on SwiftShader (no GPU, no Vulkan driver needed). */
const webgpuArgs = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-unsafe-swiftshader"];
/** gc() for the test that buffers of collected tensors go back to the pool. */
const gcArgs = ["--js-flags=--expose-gc"];

const launch = chromiumLaunchOptions();

export default defineConfig({
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
