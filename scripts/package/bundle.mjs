// Browser bundles of the installed package, made with esbuild as an app would make them:
//   - an entry using run, grad, sin, mul, sum and tensor: it must bundle for the browser with no
//     node: import, fit BUDGET_KB minified and gzipped, and compute the right gradient when run;
//   - the whole main entry and yieldiff/effect: they must bundle with no node: import (sizes reported);
//   - yieldiff/node and yieldiff/effect/node: bundling them for a browser must fail at build
//     time, with esbuild naming the reason (package.json maps them to a file that says so).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** The budget of the small entry, in KiB of minified, gzipped JavaScript. */
export const BUDGET_KB = 40;

const SMALL = `import { run, grad, sin, mul, sum, tensor } from "yieldiff";
function* f(x) { return yield* sum(yield* sin(yield* mul(x, x))); }
console.log(JSON.stringify(run(grad(f), tensor([1, 2, 3])).toArray()));
`;
const FULL = `import * as yieldiff from "yieldiff";\nglobalThis.yieldiff = yieldiff;\n`;
const EFFECT = `import * as core from "yieldiff";\nimport * as fx from "yieldiff/effect";\nglobalThis.yieldiff = { core, fx };\n`;

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

/** Returns [ok, what, detail] for each check. */
export function checkBundles(root, project) {
  const esbuild = createRequire(join(root, "package.json"))("esbuild");
  const bundle = (source, name) => {
    const file = join(project, `${name}.entry.mjs`);
    writeFileSync(file, source);
    try {
      const r = esbuild.buildSync({ entryPoints: [file], bundle: true, platform: "browser", format: "esm", minify: true, write: false, metafile: true, logLevel: "silent", absWorkingDir: project });
      const code = r.outputFiles[0].contents;
      const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
      return { code, nodeImports: imports.filter((p) => p.startsWith("node:")), gz: gzipSync(code, { level: 9 }).length };
    } catch (e) {
      return { error: (e.errors ?? []).map((m) => `${m.text}${m.notes.map((n) => `\n  ${n.text}`).join("")}`).join("\n") || String(e) };
    }
  };
  const out = [];
  const small = bundle(SMALL, "small");
  if (small.error) out.push([false, "browser bundle of run, grad, sin, mul, sum, tensor", small.error]);
  else {
    out.push([small.nodeImports.length === 0, `browser bundle of run, grad, sin, mul, sum, tensor: no node: import`, small.nodeImports.join(", ")]);
    out.push([small.gz <= BUDGET_KB * 1024, `that bundle is ${kb(small.gz)} min+gzip (${kb(small.code.length)} min), within ${BUDGET_KB} KiB`]);
    const file = join(project, "small.bundle.mjs");
    writeFileSync(file, small.code);
    const printed = execFileSync(process.execPath, [file], { encoding: "utf8" }).trim();
    const want = [1, 2, 3].map((x) => 2 * x * Math.cos(x * x));
    const got = JSON.parse(printed);
    out.push([got.every((v, i) => Math.abs(v - want[i]) < 1e-12), `that bundle runs and gives 2x·cos(x²) (${printed})`]);
  }
  for (const [source, what] of [[FULL, "the whole main entry"], [EFFECT, "yieldiff and yieldiff/effect (with effect)"]]) {
    const b = bundle(source, what.replace(/\W+/g, "-"));
    if (b.error) out.push([false, `browser bundle of ${what}`, b.error]);
    else out.push([b.nodeImports.length === 0, `browser bundle of ${what}: no node: import, ${kb(b.gz)} min+gzip (${kb(b.code.length)} min)`, b.nodeImports.join(", ")]);
  }
  for (const entry of ["yieldiff/node", "yieldiff/effect/node"]) {
    const b = bundle(`import * as m from "${entry}";\nconsole.log(m);\n`, entry.replace(/\W+/g, "-"));
    const clear = b.error !== undefined && /yieldiff-node-entries-need-node-deno-or-bun/.test(b.error);
    out.push([clear, `a browser bundle of ${entry} fails at build time, saying why`, b.error ?? "it bundled"]);
  }
  return out;
}
