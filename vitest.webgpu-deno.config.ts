// The WebGPU backend's tests (test/webgpu/) in Deno, whose built-in WebGPU (wgpu) finds the
// machine's adapter: a GPU, or Mesa's llvmpipe on a machine without one. Run by `npm run
// test:webgpu:deno` (scripts/test-webgpu-deno.mjs), which skips with the reason where Deno finds
// no adapter. The docs' WebGPU blocks come through the same plugin as in Chromium.
import { defineConfig } from "vitest/config";
import webgpu from "./vitest.webgpu.config.ts";

export default defineConfig({
  plugins: webgpu.plugins,
  resolve: webgpu.resolve,
  test: {
    include: ["test/webgpu/*.test.ts"],
    testTimeout: 120_000,
    // (worker threads share Deno's --v8-flags: gc() for the buffer pool's tests)
    pool: "threads",
    fileParallelism: false,
    // Deno's worker_threads lack parentPort.removeAllListeners, which vitest's thread pool calls
    // when a worker ends: that error (and only that one) is Deno's, not the tests'.
    onUnhandledError: (error) => !/Not implemented: parentPort\.removeAllListeners/.test(String(error?.message)),
  },
});
