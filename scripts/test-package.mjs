// npm run test:package: yieldiff as a new user gets it. Packs the repository, installs the
// tarball into a fresh project, and checks there that
//   1. the smoke program (test/package/smoke.mjs) gives the right values, with no TypeScript
//      loader, on Node 20, 22, 24, 26, Bun and Deno;
//   2. the 2-thread matmul works over a Web Worker (Deno's);
//   3. strict TypeScript projects type-check against the packed declarations (test/package/types);
//   4. a browser bundle of the main entry has no node: import and fits its size budget, and one
//      of yieldiff/node fails at build time (scripts/package/bundle.mjs).
// Prints one line per check and ends with "N passed, N failed"; exits 1 if any failed.
import { copyFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeConsumer } from "./package/consumer.mjs";
import { RUNTIMES, runWith } from "./package/runtimes.mjs";
import { checkTypes } from "./package/types.mjs";
import { checkBundles } from "./package/bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv.slice(2); // e.g. `npm run test:package -- types bundle`
const wanted = (step) => only.length === 0 || only.includes(step);
let passed = 0;
let failed = 0;
const report = (ok, what, detail = "") => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok && detail) console.log(detail.replace(/^/gm, "     "));
};

const t0 = performance.now();
const { work, project, packed } = makeConsumer(root);
console.log(`packed ${packed.filename}: ${packed.entryCount} files, ${(packed.size / 1024).toFixed(0)} kB (installed in ${project})`);
report(!packed.files.some((f) => /^(test|bench|examples|scripts|\.ci)\//.test(f.path)), "the tarball holds no tests, benchmarks, examples or scripts");
report(packed.files.some((f) => f.path === "LICENSE"), "the tarball holds the LICENSE");
try {
  if (wanted("runtimes")) {
    copyFileSync(join(root, "test", "package", "smoke.mjs"), join(project, "smoke.mjs"));
    for (const rt of RUNTIMES) {
      const r = runWith(rt, "smoke.mjs", project);
      const summary = r.output.trim().split("\n").at(-1) ?? "";
      report(r.status === 0, `smoke program on ${rt.name}: ${summary}`, r.output);
    }
  }
  if (wanted("web-worker")) {
    const deno = RUNTIMES.find((rt) => rt.name === "Deno");
    const r = runWith(deno, join(root, "test", "runtimes", "web-worker-threads.ts"), root);
    report(r.status === 0, `2-thread matmul over a Web Worker (Deno): ${r.output.trim().split("\n").at(-1)}`, r.output);
  }
  if (wanted("types")) for (const [ok, what, detail] of checkTypes(root, project)) report(ok, what, detail);
  if (wanted("bundle")) for (const [ok, what, detail] of checkBundles(root, project)) report(ok, what, detail);
} finally {
  if (!process.env.KEEP_PACKAGE_TEST) rmSync(work, { recursive: true, force: true });
}
console.log(`package checks took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
