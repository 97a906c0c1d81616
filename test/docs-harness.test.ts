// The pieces of the docs test (test/docs.test.ts): reading blocks, markers and outputs from
// markdown, comparing outputs, and mapping the package's entries to their sources.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { packageEntries } from "./docs/entries.ts";
import { DocsFormatError, normalizeOutput, parseBlocks } from "./docs/markdown.ts";

const md = (...lines: string[]) => lines.join("\n");

describe("parseBlocks", () => {
  it("finds ts blocks with their line, code, marker and Output; skips other blocks", () => {
    const text = md(
      "# Title", //                       1
      "", //                              2
      "```ts", //                         3
      'console.log("a");', //             4
      "```", //                           5
      "", //                              6
      "Output:", //                       7
      "", //                              8
      "```text", //                       9
      "a", //                             10
      "```", //                           11
      "", //                              12
      "```sh", //                         13
      "```ts", //                         14: inside a sh block, not a block
      "```", //                           15
      "<!-- fragment: shows a shape -->", // 16
      "```typescript", //                 17
      "f(x);", //                         18
      "```", //                           19
      "- a list item:", //                20
      "", //                              21
      "  ```ts", //                       22
      "  const y = 1;", //                23
      "    const z = 2;", //              24
      "  ```", //                         25
      "<!-- continues -->", //            26
      "```ts", //                         27
      "console.log(y);", //               28
      "```", //                           29
      "A line with ```` ```ts ```` inline.", // 30
    );
    const blocks = parseBlocks("docs/x.md", text);
    expect(blocks.map((b) => [b.line, b.marker, b.code, b.output?.text, b.output?.line, b.previous?.line])).toEqual([
      [3, undefined, 'console.log("a");', "a", 9, undefined],
      [17, "fragment", "f(x);", undefined, undefined, undefined],
      [22, undefined, "const y = 1;\n  const z = 2;", undefined, undefined, undefined],
      [27, "continues", "console.log(y);", undefined, undefined, 22],
    ]);
  });

  it("rejects unknown markers, fragments without a reason, continues after a fragment, Output without a text block", () => {
    const bad = (...lines: string[]) => () => parseBlocks("docs/x.md", md(...lines));
    expect(bad("<!-- fragmnet: typo -->", "```ts", "x", "```")).toThrow(/docs\/x\.md:1: unknown marker/);
    expect(bad("<!-- fragment -->", "```ts", "x", "```")).toThrow(/say why/);
    expect(bad("<!-- continues -->", "```ts", "x", "```")).toThrow(/no ts block comes before/);
    expect(bad("<!-- fragment: f -->", "```ts", "x", "```", "<!-- continues -->", "```ts", "y", "```")).toThrow(/after a fragment/);
    expect(bad("```ts", "x", "```", "Output:", "```", "1", "```")).toThrow(/docs\/x\.md:4: "Output:" must be followed by a ```text block/);
    expect(bad("<!-- webgpu -->", "```ts", "x", "```")).toThrow(/say why the block cannot run here: <!-- webgpu: why -->/);
    expect(bad("<!-- webgpu: g -->", "```ts", "x", "```", "<!-- continues -->", "```ts", "y", "```")).toThrow(/after a webgpu block/);
    expect(parseBlocks("docs/x.md", md("<!-- webgpu: needs an adapter -->", "```ts", "x", "```"))[0]!.marker).toBe("webgpu");
    expect(bad("```ts fragment", "x", "```")).toThrow(DocsFormatError);
    expect(bad("```ts", "x")).toThrow(/never closed/);
  });
});

describe("normalizeOutput", () => {
  it("ignores trailing whitespace on lines and trailing blank lines, not leading or inner ones", () => {
    expect(normalizeOutput("a  \nb\t\n\n\n")).toBe("a\nb");
    expect(normalizeOutput("a\r\n\r\nb\r\n")).toBe("a\n\nb");
    expect(normalizeOutput(" a")).not.toBe(normalizeOutput("a"));
  });
});

describe("packageEntries", () => {
  const withPackage = (pkg: object, files: string[], build?: object) => {
    const root = mkdtempSync(join(tmpdir(), "yieldiff-entries-"));
    try {
      writeFileSync(join(root, "package.json"), JSON.stringify(pkg));
      if (build) writeFileSync(join(root, "tsconfig.build.json"), JSON.stringify(build));
      for (const f of files) {
        mkdirSync(join(root, f, ".."), { recursive: true });
        writeFileSync(join(root, f), "");
      }
      const { name, sources } = packageEntries(root);
      return { name, sources: Object.fromEntries([...sources].map(([k, v]) => [k, v.slice(root.length + 1)])) };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };

  it("maps exports that point at the sources", () => {
    const pkg = { name: "lib", exports: { ".": { types: "./src/index.ts", import: "./src/index.ts" }, "./effect": "./src/effect/index.ts" } };
    expect(withPackage(pkg, ["src/index.ts", "src/effect/index.ts"])).toEqual({
      name: "lib",
      sources: { lib: "src/index.ts", "lib/effect": "src/effect/index.ts" },
    });
  });

  it("maps built exports back to their sources (outDir/rootDir), skipping browser stubs and non-code entries", () => {
    const pkg = {
      name: "lib",
      exports: {
        ".": { types: "./dist/src/index.d.ts", import: "./dist/src/index.js" },
        "./node": { browser: "./stub.js", types: "./dist/src/node/index.d.ts", import: "./dist/src/node/index.js" },
        "./package.json": "./package.json",
      },
    };
    const files = ["src/index.ts", "src/node/index.ts", "stub.ts"];
    expect(withPackage(pkg, files, { compilerOptions: { outDir: "dist", rootDir: "." } }).sources).toEqual({
      lib: "src/index.ts",
      "lib/node": "src/node/index.ts",
    });
    // rootDir "src": dist/index.js is built from src/index.ts
    const flat = { name: "lib", exports: { ".": "./dist/index.js" } };
    expect(withPackage(flat, ["src/index.ts"], { compilerOptions: { outDir: "dist", rootDir: "src" } }).sources).toEqual({ lib: "src/index.ts" });
  });

  it("finds every entry of this package", () => {
    const { name, sources } = packageEntries(fileURLToPath(new URL("..", import.meta.url)));
    expect(name).toBe("yieldiff");
    expect(sources.get("yieldiff")).toMatch(/src[\\/]index\.ts$/);
  });
});
