// The library's tests in a real browser: vitest's browser mode in headless Chromium (Debian's,
// through the playwright provider: test/browser/chromium.ts), by `npm run test:chromium`; `npm
// test` stays the Node suite (vitest.config.ts). The main suite with YIELDIFF_NO_FMA=1 (the
// kernels' bit-for-bit tests) and the relaxed-SIMD suite with the fused multiply-add that
// Chromium's feature probe finds, as in Node, and the demo page's modules (web/test). Pages are
// served with the headers of cross-origin isolation, so the 2-thread matmul has its
// SharedArrayBuffer; test/browser/ holds the browser's own tests of it. The Node-only files and
// tests (test/browser/node-only.ts) are left out by name, and the list is printed at every run.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { chromiumLaunchOptions } from "./test/browser/chromium.ts";
import { describeNodeOnly, nodeOnlyFiles, nodeOnlyTests, skipNodeOnlyTests } from "./test/browser/node-only.ts";

/** Prints the Node-only list when the run starts, and its length when it ends. */
const nodeOnlyReport = {
  onInit: () => console.log(`${describeNodeOnly()}\n`),
  onTestRunEnd: () =>
    console.log(`\nNot run in the browser: ${Object.keys(nodeOnlyFiles).length} Node-only test files and ${Object.keys(nodeOnlyTests).length} test (listed at the start)`),
};

const chromium = () => ({
  enabled: true,
  headless: true,
  provider: playwright({ launchOptions: chromiumLaunchOptions() }),
  instances: [{ browser: "chromium" as const }],
  screenshotFailures: false,
});

export default defineConfig({
  server: {
    headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
  },
  test: {
    testTimeout: 120_000,
    testNamePattern: skipNodeOnlyTests,
    reporters: ["default", nodeOnlyReport],
    projects: [
      {
        extends: true,
        test: {
          name: "browser",
          include: ["test/*.test.ts", "test/browser/*.test.ts"],
          exclude: Object.keys(nodeOnlyFiles),
          setupFiles: ["test/browser/env.ts"],
          provide: { env: { YIELDIFF_NO_FMA: "1" } },
          browser: chromium(),
        },
      },
      {
        // The demo page's own modules (web/src), which import the library as the page does.
        extends: true,
        resolve: { alias: { yieldiff: fileURLToPath(new URL("./src/index.ts", import.meta.url)) } },
        test: {
          name: "web",
          include: ["web/test/*.test.ts"],
          browser: chromium(),
        },
      },
      {
        extends: true,
        test: {
          name: "browser-relaxed-simd",
          include: ["test/relaxed-simd/*.test.ts", "test/browser/matmul-threads.test.ts"],
          setupFiles: ["test/browser/env.ts"],
          provide: { env: {} },
          browser: chromium(),
        },
      },
    ],
  },
});
