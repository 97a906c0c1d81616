// TypeScript users of the packed package: the fixtures of test/package/types, copied into the
// consumer project, type-check with zero errors under strict settings (strict,
// noUncheckedIndexedAccess, exactOptionalPropertyTypes, verbatimModuleSyntax, no skipLibCheck,
// so the packed .d.ts files are checked too) in three profiles:
//   - moduleResolution nodenext, with @types/node: every entry;
//   - moduleResolution bundler, without @types/node: every entry;
//   - moduleResolution nodenext, without @types/node and without the DOM library: the core
//     entries, which need neither. (effect's own declarations use DOM types such as JsonWebKey.)
import { execFileSync } from "node:child_process";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const STRICT = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  verbatimModuleSyntax: true,
  allowImportingTsExtensions: true,
  skipLibCheck: false,
  noEmit: true,
  target: "ES2022",
};

const PROFILES = [
  { name: "nodenext, @types/node", options: { module: "nodenext", moduleResolution: "nodenext", types: ["node"], lib: ["ES2022", "DOM"] }, files: ["core.ts", "effect.ts"] },
  { name: "bundler, no @types/node", options: { module: "esnext", moduleResolution: "bundler", types: [], lib: ["ES2022", "DOM"] }, files: ["core.ts", "effect.ts"] },
  { name: "nodenext, no @types/node, no DOM", options: { module: "nodenext", moduleResolution: "nodenext", types: [], lib: ["ES2022"] }, files: ["core.ts"] },
];

/** Returns [ok, what, detail] for each profile. */
export function checkTypes(root, project) {
  const dir = join(project, "types");
  cpSync(join(root, "test", "package", "types"), dir, { recursive: true });
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  return PROFILES.map((p, i) => {
    const config = join(dir, `tsconfig.${i}.json`);
    writeFileSync(config, JSON.stringify({ compilerOptions: { ...STRICT, ...p.options }, files: p.files }, null, 2));
    try {
      execFileSync(process.execPath, [tsc, "-p", config], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      return [true, `TypeScript consumer (${p.name}; ${p.files.join(", ")}): no errors`];
    } catch (e) {
      return [false, `TypeScript consumer (${p.name}; ${p.files.join(", ")})`, `${e.stdout ?? ""}${e.stderr ?? ""}`];
    }
  });
}
