// The code blocks of the documentation: every ```ts block of README.md and docs/*.md, with the
// output shown under it ("Output:" and a ```text block) and its marker, if any:
//
//   <!-- fragment: why -->   the block only shows the shape of some code and cannot run alone:
//                            it is neither type-checked nor run (keep these rare)
//   <!-- continues -->       the block continues the page's previous block: it runs as one
//                            program after it, and its Output is what it prints itself
//   <!-- webgpu: why -->     the block needs a WebGPU adapter: it is type-checked here and run
//                            in headless Chromium by test/webgpu/docs.test.ts
//
// A marker is an HTML comment on the last non-blank line before the block's opening fence.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type Marker = "fragment" | "continues" | "webgpu";

export interface DocBlock {
  /** The markdown file, relative to the repository root (forward slashes). */
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The code, without the fence's indentation; line i (0-based) is line `line + 1 + i` of the doc. */
  readonly code: string;
  readonly marker: Marker | undefined;
  /** The block it continues (for `continues`). */
  readonly previous: DocBlock | undefined;
  /** The ```text block under "Output:", if any: its text and the line of its opening fence. */
  readonly output: { readonly text: string; readonly line: number } | undefined;
}

/** A problem with the markdown itself (an unknown marker, "Output:" without a text block, ...). */
export class DocsFormatError extends Error {}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)(.*)$/;
const COMMENT = /^\s*<!--\s*(.*?)\s*-->\s*$/;
const TS_LANGS = new Set(["ts", "typescript"]);

/** The documentation files: README.md and docs/*.md, relative to the root. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs];
}

/** The ```ts blocks of one markdown text. */
export function parseBlocks(doc: string, text: string): DocBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: DocBlock[] = [];
  const where = (i: number) => `${doc}:${i + 1}`;
  let i = 0;
  while (i < lines.length) {
    const open = fence(lines[i]!);
    if (!open) {
      i++;
      continue;
    }
    const [, indent, marks, lang, rest] = open as unknown as [string, string, string, string, string];
    const end = findClose(lines, i + 1, marks);
    if (end < 0) throw new DocsFormatError(`${where(i)}: the code block is never closed`);
    if (!TS_LANGS.has(lang.toLowerCase())) {
      i = end + 1;
      continue;
    }
    if (rest.trim() !== "") {
      throw new DocsFormatError(
        `${where(i)}: unexpected words after \`\`\`${lang} ("${rest.trim()}"); mark a fragment with <!-- fragment: why --> before the block`,
      );
    }
    const code = lines
      .slice(i + 1, end)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()))
      .join("\n");
    const marker = markerBefore(lines, i, where);
    let previous: DocBlock | undefined;
    if (marker === "continues") {
      previous = blocks.at(-1);
      if (!previous) throw new DocsFormatError(`${where(i)}: <!-- continues --> but no ts block comes before it on the page`);
      if (previous.marker === "fragment" || previous.marker === "webgpu") {
        throw new DocsFormatError(
          `${where(i)}: <!-- continues --> after a ${previous.marker === "fragment" ? "fragment" : "webgpu block"} (line ${previous.line}), which does not run here`,
        );
      }
    }
    const output = outputAfter(lines, end + 1, where);
    blocks.push({ doc, line: i + 1, code, marker, previous, output });
    i = output ? output.end + 1 : end + 1;
  }
  return blocks;
}

/** The blocks of every documentation file. */
export function collectBlocks(root: string): DocBlock[] {
  return docFiles(root).flatMap((doc) => parseBlocks(doc, readFileSync(join(root, doc), "utf8")));
}

/** An opening fence; as in CommonMark, a backtick fence's info string has no backtick (```` ```ts ```` is inline code). */
function fence(line: string): RegExpExecArray | null {
  const m = FENCE.exec(line);
  return m && !(m[2]!.startsWith("`") && (m[3]! + m[4]!).includes("`")) ? m : null;
}

function findClose(lines: string[], from: number, marks: string): number {
  const close = new RegExp(`^\\s*${marks[0] === "`" ? "`" : "~"}{${marks.length},}\\s*$`);
  for (let j = from; j < lines.length; j++) if (close.test(lines[j]!)) return j;
  return -1;
}

function markerBefore(lines: string[], fenceIndex: number, where: (i: number) => string): Marker | undefined {
  let j = fenceIndex - 1;
  while (j >= 0 && lines[j]!.trim() === "") j--;
  const comment = j >= 0 ? COMMENT.exec(lines[j]!) : null;
  if (!comment) return undefined;
  const m = /^(fragment|continues|webgpu)\b\s*(:.*)?$/.exec(comment[1]!);
  if (!m) {
    throw new DocsFormatError(
      `${where(j)}: unknown marker <!-- ${comment[1]} --> before a ts block; the markers are <!-- fragment: why -->, <!-- continues --> and <!-- webgpu: why -->`,
    );
  }
  if ((m[1] === "fragment" || m[1] === "webgpu") && !(m[2] && m[2].slice(1).trim())) {
    throw new DocsFormatError(`${where(j)}: say why the block cannot run here: <!-- ${m[1]}: why -->`);
  }
  return m[1] as Marker;
}

function outputAfter(
  lines: string[],
  from: number,
  where: (i: number) => string,
): { text: string; line: number; end: number } | undefined {
  let j = from;
  while (j < lines.length && lines[j]!.trim() === "") j++;
  if (j >= lines.length || lines[j]!.trim() !== "Output:") return undefined;
  const label = j;
  j++;
  while (j < lines.length && lines[j]!.trim() === "") j++;
  const open = j < lines.length ? fence(lines[j]!) : null;
  if (!open || open[3] !== "text") throw new DocsFormatError(`${where(label)}: "Output:" must be followed by a \`\`\`text block`);
  const end = findClose(lines, j + 1, open[2]!);
  if (end < 0) throw new DocsFormatError(`${where(j)}: the text block is never closed`);
  const indent = open[1]!;
  const text = lines
    .slice(j + 1, end)
    .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()))
    .join("\n");
  return { text, line: j + 1, end };
}

/** Output compared line by line, without trailing whitespace on each line and trailing blank lines. */
export function normalizeOutput(s: string): string {
  const lines = s.replace(/\r\n/g, "\n").split("\n").map((l) => l.trimEnd());
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines.join("\n");
}
