// Turns the documentation's code blocks into programs, type-checks them with the project's
// tsconfig and runs each in a child process of its own.
//
// Each runnable block becomes a .ts file in a scratch folder under tmp/ (inside the repository, so
// that packages such as "effect" resolve from node_modules), with its imports of the package
// ("yieldiff", "yieldiff/node", ...) pointed at their sources and relative imports at the doc's
// folder. One tsc run checks them all; esbuild bundles them (one shared build, with code
// splitting), and each runs with plain node in an empty temporary working folder: node with tsx's
// loader spends ~1.3 s of CPU per block loading the sources, node with the bundle ~0.2 s.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import type { DocBlock } from "./markdown.ts";
import type { Entries } from "./entries.ts";

/** Where a line of a generated file comes from: a line of a doc, or nothing (added by the harness). */
type Origin = { doc: string; line: number } | undefined;

export interface Program {
  readonly block: DocBlock;
  /** "docs/guide.md:12" */
  readonly name: string;
  /** Absolute path of the generated .ts file. */
  readonly file: string;
  /** One entry per line of the file. */
  readonly origins: readonly Origin[];
  /** Index of the first line of the block's own code (after the blocks it continues). */
  readonly ownFrom: number;
  /** Problems found while generating it (an import the package does not export). */
  readonly problems: readonly string[];
}

/** Printed between the output of the blocks a block continues and its own output. */
const SENTINEL = "\u0000-- docs block output starts here --";

const require = createRequire(import.meta.url);

export function blockName(b: DocBlock): string {
  return `${b.doc}:${b.line}`;
}

/** Writes one .ts file per runnable block into `dir`. */
export function writePrograms(root: string, dir: string, blocks: readonly DocBlock[], entries: Entries): Program[] {
  mkdirSync(dir, { recursive: true });
  const programs: Program[] = [];
  for (const block of blocks) {
    if (block.marker === "fragment") continue;
    const problems: string[] = [];
    const lines: string[] = [];
    const origins: Origin[] = [];
    const chain: DocBlock[] = [];
    for (let b = block.previous; b; b = b.previous) chain.unshift(b);
    for (const b of [...chain, block]) {
      if (b === block && chain.length > 0) {
        lines.push(`process.stdout.write(${JSON.stringify(SENTINEL + "\n")});`);
        origins.push(undefined);
      }
      b.code.split("\n").forEach((text, i) => {
        const origin = { doc: b.doc, line: b.line + 1 + i };
        lines.push(rewriteImports(text, root, dir, b, entries, b === block ? problems : [], origin.line));
        origins.push(origin);
      });
    }
    const ownFrom = origins.findIndex((o) => o !== undefined && o.doc === block.doc && o.line > block.line);
    // Every file a module, so that blocks without imports do not share one global scope.
    lines.push("export {};");
    origins.push(undefined);
    const file = join(dir, `${block.doc.replace(/\.md$/, "").replace(/[^A-Za-z0-9]+/g, "_")}_L${block.line}.ts`);
    writeFileSync(file, lines.join("\n") + "\n");
    programs.push({ block, name: blockName(block), file, origins, ownFrom, problems });
  }
  return programs;
}

const IMPORT = /(\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"'\n]+)\2/g;

function rewriteImports(text: string, root: string, dir: string, b: DocBlock, entries: Entries, problems: string[], line: number): string {
  return text.replace(IMPORT, (all, head: string, quote: string, spec: string) => {
    let target: string | undefined;
    if (spec === entries.name || spec.startsWith(`${entries.name}/`)) {
      target = entries.sources.get(spec);
      if (!target) {
        problems.push(
          `${b.doc}:${line}: imports "${spec}", which package.json's "exports" do not provide (it has ${[...entries.sources.keys()].join(", ")})`,
        );
        return all;
      }
    } else if (spec.startsWith("./") || spec.startsWith("../")) {
      target = resolve(root, dirname(b.doc), spec);
    } else {
      return all;
    }
    let rel = relative(dir, target).split("\\").join("/");
    if (!rel.startsWith(".")) rel = `./${rel}`;
    return `${head}${quote}${rel}${quote}`;
  });
}

export interface TypeCheck {
  /** Errors of each program's own lines, by program name, as "docs/x.md:LINE:COL - error TSxxxx: ...". */
  readonly errors: ReadonlyMap<string, string[]>;
  /** Errors tsc reports without a file (a bad configuration), which concern every block. */
  readonly global: readonly string[];
}

/**
 * Type-checks the programs under the project's tsconfig.json, in one tsc run. tsc reports no
 * type errors at all while any file has a syntax error, so files with syntax errors are reported
 * as such and the others checked again without them.
 */
export async function typeCheck(root: string, dir: string, programs: readonly Program[]): Promise<TypeCheck> {
  const errors = new Map<string, string[]>();
  const global: string[] = [];
  let remaining = [...programs];
  for (let round = 0; round < 3 && remaining.length > 0; round++) {
    const found = await tscErrors(root, dir, remaining);
    global.push(...found.global);
    for (const [name, list] of found.errors) errors.set(name, list);
    const syntaxOnly = found.diagnostics > 0 && found.codes.every((c) => /^TS1\d{3}$/.test(c));
    if (!syntaxOnly) break;
    remaining = remaining.filter((p) => !found.errors.has(p.name));
  }
  return { errors, global };
}

async function tscErrors(
  root: string,
  dir: string,
  programs: readonly Program[],
): Promise<{ errors: Map<string, string[]>; global: string[]; codes: string[]; diagnostics: number }> {
  const config = join(dir, "tsconfig.json");
  writeFileSync(
    config,
    JSON.stringify(
      {
        extends: relative(dir, join(root, "tsconfig.json")).split("\\").join("/"),
        compilerOptions: { noEmit: true, incremental: false },
        files: programs.map((p) => relative(dir, p.file).split("\\").join("/")),
        include: [],
      },
      null,
      2,
    ),
  );
  const tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");
  const { stdout, stderr, code } = await exec(process.execPath, [tsc, "-p", config, "--pretty", "false"], { cwd: root, timeoutMs: 300_000 });
  const byFile = new Map(programs.map((p) => [resolve(p.file), p]));
  const errors = new Map<string, string[]>();
  const global: string[] = [];
  const codes: string[] = [];
  let diagnostics = 0;
  // "file(line,col): error TSxxxx: message", continued on indented lines
  const out = `${stdout}\n${stderr}`.split(/\r?\n/);
  for (let i = 0; i < out.length; i++) {
    const line = out[i]!;
    let j = i + 1;
    while (j < out.length && /^\s+\S/.test(out[j]!)) j++;
    const more = out.slice(i + 1, j).map((l) => `\n    ${l.trim()}`).join("");
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
    if (m) {
      diagnostics++;
      codes.push(m[4]!);
      const p = byFile.get(resolve(root, m[1]!));
      if (p) {
        const index = Number(m[2]) - 1;
        const origin = p.origins[index];
        if (index >= p.ownFrom && origin) {
          const list = errors.get(p.name) ?? [];
          list.push(`${origin.doc}:${origin.line}:${m[3]} - error ${m[4]}: ${m[5]}${more}`);
          errors.set(p.name, list);
        }
      }
      // errors in the library's own files are the project type-check's business
    } else if (/^error TS\d+/.test(line)) {
      global.push(line + more);
    }
    i = j - 1;
  }
  if (code !== 0 && diagnostics === 0 && global.length === 0) global.push(`tsc exited with code ${code}:\n${stdout}${stderr}`);
  return { errors, global, codes, diagnostics };
}

/** The .mjs file to run, or the reason it could not be built. */
export type Built = { readonly file: string } | { readonly error: string };

export interface Bundles {
  /** By program name. */
  readonly files: ReadonlyMap<string, Built>;
}

/** Bundles the programs with esbuild: the library's sources are shared chunks, packages stay external. */
export async function bundle(dir: string, programs: readonly Program[]): Promise<Bundles> {
  const esbuild = await import("esbuild");
  const outdir = join(dir, "js");
  const options = {
    bundle: true,
    splitting: true,
    format: "esm" as const,
    platform: "node" as const,
    target: "node20",
    packages: "external" as const,
    keepNames: true, // class names as written: errors print as ShapeError, not ShapeError2
    ignoreAnnotations: true, // package.json's "sideEffects" is about dist/: keep every module's side effects
    sourcemap: "inline" as const,
    outExtension: { ".js": ".mjs" },
    logLevel: "silent" as const,
    write: true,
    absWorkingDir: dir, // positions in messages are relative to it
  };
  const files = new Map<string, Built>();
  const outFile = (p: Program, base: string) => join(base, relative(dir, p.file).replace(/\.ts$/, ".mjs"));
  type Message = { text: string; location?: { file: string; line: number; column: number } | null };
  const messagesOf = (e: unknown): Message[] => (e as { errors?: Message[] }).errors ?? [];
  const byFile = new Map(programs.map((p) => [resolve(p.file), p]));
  const inBlock = (m: Message) => (m.location ? byFile.get(resolve(dir, m.location.file)) : undefined);
  // A position in a block is shown as its doc line, one in the library's files as that file's.
  const describe = (m: Message): string => {
    if (!m.location) return m.text;
    const p = inBlock(m);
    const at = p ? where(p, m.location.line - 1) : `${relative(process.cwd(), resolve(dir, m.location.file))}:${m.location.line}`;
    return `${at}:${m.location.column + 1} - ${m.text}`;
  };
  const failure = (e: unknown): Built => ({ error: messagesOf(e).map(describe).join("\n") || String(e) });
  // Blocks with syntax errors first (a quick transform each), so that they do not fail the shared build.
  const parsed: Program[] = [];
  for (const p of programs) {
    try {
      await esbuild.transform(readFileSync(p.file, "utf8"), { loader: "ts", sourcefile: p.file, logLevel: "silent" });
      parsed.push(p);
    } catch (e) {
      files.set(p.name, failure(e));
    }
  }
  try {
    await esbuild.build({ ...options, entryPoints: parsed.map((p) => p.file), outdir, outbase: dir });
    for (const p of parsed) files.set(p.name, { file: outFile(p, outdir) });
  } catch (e) {
    // Errors only in the library's own files (a source that does not build): every block fails alike.
    const found = messagesOf(e);
    if (found.length > 0 && found.every((m) => !inBlock(m))) {
      const error = `the library does not build:\n${found.map(describe).join("\n")}`;
      for (const p of parsed) files.set(p.name, { error });
      return { files };
    }
    // Something in a block that does not build (an import that does not resolve): build each alone.
    for (const [i, p] of parsed.entries()) {
      const out = join(outdir, `single${i}`);
      try {
        await esbuild.build({ ...options, entryPoints: [p.file], outdir: out, outbase: dir });
        files.set(p.name, { file: outFile(p, out) });
      } catch (e) {
        files.set(p.name, failure(e));
      }
    }
  }
  return { files };
}

function where(p: Program, index: number): string {
  const o = p.origins[index];
  return o ? `${o.doc}:${o.line}` : p.name;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** What the block itself printed (after the output of the blocks it continues). */
  readonly stdout: string;
  /** stderr, with the generated file's positions shown as doc lines. */
  readonly stderr: string;
  /** Files the block left in its working folder outside out/. */
  readonly strayFiles: readonly string[];
}

/**
 * Runs a bundled program with node in a fresh empty working folder (relative paths such as
 * out/x.svg land there), with YIELDIFF_NO_FMA=1 so float32 products print as on Node 20 on every
 * engine.
 */
export async function runProgram(p: Program, jsFile: string, timeoutMs: number): Promise<RunResult> {
  const cwd = mkdtempSync(join(tmpdir(), "yieldiff-docs-"));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, YIELDIFF_NO_FMA: "1", NO_COLOR: "1" };
    delete env.FORCE_COLOR;
    delete env.NODE_OPTIONS;
    const r = await exec(process.execPath, ["--enable-source-maps", jsFile], { cwd, env, timeoutMs });
    let stdout = r.stdout;
    const s = stdout.indexOf(SENTINEL + "\n");
    if (p.block.previous) stdout = s >= 0 ? stdout.slice(s + SENTINEL.length + 1) : "";
    const strayFiles = readdirSync(cwd).filter((f) => f !== "out");
    return { code: r.code, signal: r.signal, timedOut: r.timedOut, stdout, stderr: mapPositions(p, r.stderr), strayFiles };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** "…/docs_guide_L12.ts:5:3" → "docs/guide.md:16:3" */
function mapPositions(p: Program, text: string): string {
  const base = p.file.split(/[\\/]/).pop()!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(`(?:file://)?[^\\s(]*${base}:(\\d+)(?::(\\d+))?`, "g"), (all, line: string, col?: string) => {
    const o = p.origins[Number(line) - 1];
    return o ? `${o.doc}:${o.line}${col ? `:${col}` : ""}` : all;
  });
}

interface ExecResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ExecResult> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    let finished = false;
    const finish = (code: number | null, signal: string | null, extra = "") => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done({ code, signal, timedOut, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") + extra });
    };
    child.on("error", (e) => finish(null, null, String(e)));
    child.on("close", (code, signal) => finish(code, signal));
  });
}

/** Runs at most `n` tasks at a time. */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return (task) =>
    new Promise((done, fail) => {
      const start = () => {
        active++;
        task()
          .then(done, fail)
          .finally(() => {
            active--;
            queue.shift()?.();
          });
      };
      if (active < n) start();
      else queue.push(start);
    });
}

/** A fresh scratch folder for the generated files, inside the repository (ignored by git). */
export function scratchDir(root: string): string {
  const base = join(root, "tmp");
  if (!existsSync(base)) mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, "docs-"));
}
