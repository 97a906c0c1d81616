// Every code block in the docs is a test: it type-checks and runs, and its shown output is what it
// prints. The ```ts blocks of README.md and docs/*.md are type-checked under the project's
// tsconfig (strict) and each is run as a program of its own; where the block is followed by
// "Output:" and a ```text block, what it prints must equal that text (trailing whitespace and
// trailing blank lines aside). `<!-- fragment: why -->` before a block exempts it; `<!-- continues -->`
// runs it after the page's previous block; `<!-- webgpu: why -->` type-checks it here and runs it in
// test/webgpu/docs.test.ts. See docs/guide.md, "How the docs are tested".
//
// YIELDIFF_DOCS_KEEP=1 keeps the generated programs (tmp/docs-*/) for a look after the run.

import { availableParallelism } from "node:os";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { packageEntries } from "./docs/entries.ts";
import { blockName, bundle, limiter, runProgram, scratchDir, typeCheck, writePrograms, type Built, type Program, type RunResult, type TypeCheck } from "./docs/harness.ts";
import { docFiles, normalizeOutput, parseBlocks, type DocBlock } from "./docs/markdown.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RUN_TIMEOUT_MS = 60_000;

const pages = docFiles(root).map((doc) => {
  try {
    return { doc, blocks: parseBlocks(doc, readFileSync(join(root, doc), "utf8")), error: undefined };
  } catch (e) {
    return { doc, blocks: [] as DocBlock[], error: e as Error };
  }
});

let dir = "";
let programs = new Map<string, Program>();
let checked: Promise<TypeCheck>;
let runs = new Map<string, Promise<{ built: Built; run?: RunResult }>>();

beforeAll(() => {
  dir = scratchDir(root);
  const blocks = pages.flatMap((p) => p.blocks);
  const list = writePrograms(root, dir, blocks, packageEntries(root));
  programs = new Map(list.map((p) => [p.name, p]));
  checked = typeCheck(root, dir, list);
  const built = bundle(dir, list);
  const limit = limiter(Math.max(1, availableParallelism()));
  // (a block that needs WebGPU runs in Chromium: test/webgpu/docs.test.ts)
  const gpu = new Set(blocks.filter((b) => b.marker === "webgpu").map(blockName));
  runs = new Map(
    list.filter((p) => !gpu.has(p.name)).map((p) => [
      p.name,
      built.then(async (b) => {
        const target = b.files.get(p.name) ?? { error: "not built" };
        if (!("file" in target)) return { built: target };
        const run = await limit(() => runProgram(p, target.file, RUN_TIMEOUT_MS)).catch(
          (e: unknown): RunResult => ({ code: null, signal: null, timedOut: false, stdout: "", stderr: String(e), strayFiles: [] }),
        );
        return { built: target, run };
      }),
    ]),
  );
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([checked, ...runs.values()]);
  if (dir && !process.env.YIELDIFF_DOCS_KEEP) rmSync(dir, { recursive: true, force: true });
});

for (const page of pages.filter((p) => p.error || p.blocks.length > 0)) {
  describe(page.doc, () => {
    if (page.error) {
      test("is well formed", () => {
        throw page.error;
      });
    }
    for (const block of page.blocks) {
      const name = blockName(block);
      if (block.marker === "fragment") {
        test.skip(`line ${block.line}: fragment (not run)`, () => {});
        continue;
      }
      test(`line ${block.line}: type-checks`, async () => {
        const p = programs.get(name)!;
        expect(p.problems, `${name}: imports`).toEqual([]);
        const tc = await checked;
        expect(tc.global, "tsc could not check the docs").toEqual([]);
        const errors = tc.errors.get(name) ?? [];
        if (errors.length > 0) expect.fail(`${name}: the block does not type-check:\n${errors.join("\n")}`);
      }, 300_000);
      if (block.marker === "webgpu") {
        test.skip(`line ${block.line}: runs in Chromium's WebGPU (test/webgpu/docs.test.ts)`, () => {});
        continue;
      }
      test(`line ${block.line}: runs${block.output ? " and prints its Output" : ""}`, async () => {
        expect(programs.get(name)!.problems, `${name}: imports`).toEqual([]);
        const { built, run } = await runs.get(name)!;
        if ("error" in built) expect.fail(`${name}: the block does not build:\n${built.error}`);
        if (!run) expect.fail(`${name}: did not run`);
        if (run.timedOut) expect.fail(`${name}: still running after ${RUN_TIMEOUT_MS / 1000} s (killed)`);
        if (run.code !== 0) {
          expect.fail(`${name}: the block ${run.signal ? `was killed by ${run.signal}` : `exited with code ${run.code}`}:\n${run.stderr}`);
        }
        expect(run.strayFiles, `${name}: wrote files in its working folder outside out/`).toEqual([]);
        if (block.output) {
          expect(normalizeOutput(run.stdout), `${name}: what it prints differs from the Output at ${block.doc}:${block.output.line}`).toBe(
            normalizeOutput(block.output.text),
          );
        }
      }, 300_000);
    }
  });
}
