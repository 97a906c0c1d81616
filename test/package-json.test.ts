// package.json tells bundlers the truth: every module imported only for its effect (a bare
// `import "./x.ts"`) is listed in "sideEffects", so that tree-shaking keeps it — there is none
// (a primitive's rules, batching included, are fields of its record), so "sideEffects" is
// false; and every entry's built files are what tsconfig.build.json emits.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  sideEffects: string[] | false;
  exports: Record<string, string | Record<string, string>>;
  files: string[];
};
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
/** The built file of a source: dist/<path from the repository root>.js (rootDir ".", outDir "dist"). */
const built = (source: string): string => `./${posix.join("dist", relative(root, source).split("\\").join("/").replace(/\.ts$/, ".js"))}`;

describe("package.json", () => {
  it("lists every module imported only for its effect in sideEffects", () => {
    const bare = sources(join(root, "src"))
      .concat(sources(join(root, "effects")))
      .flatMap((file) => [...readFileSync(file, "utf8").matchAll(/^import\s+["'](\.[^"']+)["'];/gm)].map((m) => built(join(dirname(file), m[1]!))));
    if (bare.length === 0) expect(pkg.sideEffects).toBe(false);
    for (const target of bare) expect(pkg.sideEffects, target).toContain(target);
  });

  it("points each entry's types and code at the build of its source", () => {
    const entries: Record<string, string> = { ".": "src/index.ts", "./node": "src/node/index.ts", "./effect": "src/effect/index.ts", "./effect/node": "src/effect/node/index.ts" };
    for (const [entry, source] of Object.entries(entries)) {
      const conditions = pkg.exports[entry] as Record<string, string>;
      const js = built(join(root, source));
      expect(conditions, entry).toMatchObject({ types: js.replace(/\.js$/, ".d.ts"), import: js, default: js });
    }
  });
});
