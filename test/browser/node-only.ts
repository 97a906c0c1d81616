// What of the Node test suite does not run in the browser (vitest.browser.config.ts), and why.
// Everything else — the operations, first and second-order gradients, jit, vmap, the
// WebAssembly kernels (plain SIMD, and relaxed SIMD after its probe), the training loop's pieces
// that need no files — runs in Chromium exactly as in Node. The browser suite prints this list.

/** Test files that need Node (files, processes, Node's own modules), with the reason. */
export const nodeOnlyFiles: Readonly<Record<string, string>> = {
  "test/api-contract.test.ts": "reads the repository's sources and declarations from disk (node:fs)",
  "test/checkpoint-files.test.ts": "checkpoint files on disk and processes killed mid-save (yieldiff/node, node:child_process)",
  "test/checkpoint.test.ts": "saves and loads checkpoint files (yieldiff/node); its byte-level cases run in Node only",
  "test/docs.test.ts": "type-checks and runs the docs' code blocks with tsc and Node",
  "test/docs-harness.test.ts": "the docs test's harness: temporary files and Node processes",
  "test/effect.test.ts": "yieldiff/effect with checkpoint files on disk and interrupted Node processes",
  "test/examples.test.ts": "runs the example programs in Node; they read the mnist package's files",
  "test/layering.test.ts": "reads the sources' import lines from disk (node:fs, node:path)",
  "test/number-kind.test.ts": "scans the sources on disk for second copies of the number-or-tensor decision (node:fs); its value cases are the transformations' own, which run here",
  "test/matmul-threads.test.ts":
    "sleeps in Atomics.wait on the calling thread (a page's thread may not) and starts a Node process with YIELDIFF_THREADS=2; test/browser/matmul-threads.test.ts is its browser counterpart",
  "test/misuse.test.ts": "checks how values print in Node's console (node:util inspect)",
  "test/package-json.test.ts": "reads package.json and the build output from disk",
  "test/spawn-thread.test.ts":
    "starts worker_threads and sleeps in Atomics.wait on the calling thread; test/browser/matmul-threads.test.ts starts Web Workers instead",
  "test/train.test.ts": "writes loss curves and checkpoints to files (yieldiff/node) and reads progress from Node streams",
};

/** Single tests, by their full name (their describe blocks and their own, joined by " > "), with the reason. */
export const nodeOnlyTests: Readonly<Record<string, string>> = {
  "switches and memory > YIELDIFF_NO_WASM=1 disables the path at import":
    "re-imports a module after vi.resetModules to see it read the switch at load; a page's module loader evaluates a module once",
};

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** vitest's testNamePattern that runs every test but those of nodeOnlyTests. */
export const skipNodeOnlyTests = new RegExp(`^(?!(?:${Object.keys(nodeOnlyTests).map(escape).join("|")})$)`);

/** The list, as the browser suite prints it before it runs. */
export function describeNodeOnly(): string {
  const lines = ["Not run in the browser (Node only):"];
  for (const [file, why] of Object.entries(nodeOnlyFiles)) lines.push(`  ${file}: ${why}`);
  for (const [test, why] of Object.entries(nodeOnlyTests)) lines.push(`  test "${test}": ${why}`);
  return lines.join("\n");
}
