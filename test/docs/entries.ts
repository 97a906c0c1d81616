// The package's entry points ("yieldiff", "yieldiff/node", ...) mapped to their TypeScript
// sources, read from package.json's "exports" so that the mapping follows the package as entries
// are added or moved. An export may point at the sources (./src/index.ts) or at the build
// (./dist/src/index.js, with tsconfig.build.json's outDir "dist" and rootDir "."): a built path
// is mapped back to the .ts file it is built from.

import { existsSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";

export interface Entries {
  /** The package name (what doc blocks import). */
  readonly name: string;
  /** Specifier ("yieldiff", "yieldiff/node") → absolute path of its .ts source. */
  readonly sources: ReadonlyMap<string, string>;
}

// Conditions to read, in order; "browser" targets are stubs that only throw.
const CONDITIONS = ["source", "import", "node", "default", "types"];

export function packageEntries(root: string): Entries {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    name: string;
    exports?: unknown;
    main?: string;
    types?: string;
  };
  const { outDir, rootDir } = buildDirs(root);
  const sources = new Map<string, string>();
  const exportsField = pkg.exports ?? pkg.main ?? pkg.types;
  const subpaths: [string, unknown][] =
    typeof exportsField === "string" || isConditions(exportsField)
      ? [[".", exportsField]]
      : Object.entries((exportsField ?? {}) as Record<string, unknown>);
  for (const [subpath, target] of subpaths) {
    if (subpath.includes("*")) continue; // no pattern exports today
    const specifier = subpath === "." ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, "")}`;
    const source = targets(target)
      .flatMap((t) => sourceCandidates(t, outDir, rootDir))
      .map((p) => join(root, p))
      .find((p) => existsSync(p));
    if (source) sources.set(specifier, source);
  }
  return { name: pkg.name, sources };
}

function isConditions(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).every((k) => !k.startsWith("."));
}

/** The target paths of an export, in the order of CONDITIONS, then any others (never "browser"). */
function targets(target: unknown): string[] {
  if (typeof target === "string") return [target];
  if (Array.isArray(target)) return target.flatMap(targets);
  if (typeof target !== "object" || target === null) return [];
  const conditions = target as Record<string, unknown>;
  const keys = [...CONDITIONS.filter((c) => c in conditions), ...Object.keys(conditions).filter((k) => !CONDITIONS.includes(k))];
  return keys.filter((k) => k !== "browser").flatMap((k) => targets(conditions[k]));
}

/** Source files a target path may be built from, relative to the root. */
function sourceCandidates(target: string, outDir: string, rootDir: string): string[] {
  const p = posix.normalize(target);
  const out: string[] = [p];
  const built = outDir && (p === outDir || p.startsWith(`${outDir}/`)) ? posix.join(rootDir, p.slice(outDir.length + 1)) : undefined;
  for (const q of built ? [built, p] : [p]) {
    out.push(q.replace(/\.d\.ts$/, ".ts").replace(/\.js$/, ".ts"), q.replace(/\.d\.mts$/, ".mts").replace(/\.mjs$/, ".mts"));
  }
  return [...new Set(out)].filter((q) => /\.(ts|mts|tsx)$/.test(q) && !/\.d\.m?ts$/.test(q));
}

function buildDirs(root: string): { outDir: string; rootDir: string } {
  let outDir = "dist";
  let rootDir = ".";
  const config = join(root, "tsconfig.build.json");
  if (existsSync(config)) {
    try {
      const options = (JSON.parse(readFileSync(config, "utf8")) as { compilerOptions?: { outDir?: string; rootDir?: string } }).compilerOptions;
      outDir = options?.outDir ?? outDir;
      rootDir = options?.rootDir ?? rootDir;
    } catch {
      // not plain JSON: keep the defaults
    }
  }
  return { outDir: posix.normalize(outDir).replace(/\/$/, ""), rootDir: posix.normalize(rootDir) };
}
