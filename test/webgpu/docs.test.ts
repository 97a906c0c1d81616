// The docs' blocks that need WebGPU (`<!-- webgpu: why -->`, see test/docs/markdown.ts) run here,
// in Chromium on SwiftShader: vitest.webgpu.config.ts serves each as a module
// (`virtual:webgpu-doc-blocks`), its TypeScript compiled and `yieldiff` resolved to src/. The
// Node suite type-checks them (test/docs.test.ts). A block followed by "Output:" must print it.
import { describe, expect, it } from "vitest";
import { setBackend } from "../../src/index.ts";
import { blocks } from "virtual:webgpu-doc-blocks";

describe("docs: the blocks that need WebGPU", () => {
  it("there are some (the plugin found the marked blocks)", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });
  for (const block of blocks) {
    it(`${block.name} runs${block.output === null ? "" : " and prints its Output"}`, async () => {
      const printed: string[] = [];
      const log = console.log;
      console.log = (...args: unknown[]) => {
        printed.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
        log(...args);
      };
      try {
        await block.load();
      } finally {
        console.log = log;
        await setBackend("cpu");
      }
      expect(printed.length).toBeGreaterThan(0);
      if (block.output !== null) expect(printed.join("\n").trimEnd()).toBe(block.output.trimEnd());
    });
  }
});
