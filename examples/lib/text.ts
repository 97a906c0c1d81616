// A small text corpus for the character models: examples/data/river-notes.txt (prose written
// for this project), lowercased, with letters, space, '.' and ',' kept (newlines become spaces).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const CORPUS_PATH = fileURLToPath(new URL("../data/river-notes.txt", import.meta.url));

export interface Corpus {
  text: string;
  /** The characters of the vocabulary, in index order. */
  chars: string[];
  /** The text as vocabulary indices. */
  ids: Int32Array;
  index: ReadonlyMap<string, number>;
}

/** Cleans `raw` and indexes its characters (vocabulary sorted, so it is stable). */
export function makeCorpus(raw: string): Corpus {
  const text = raw
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/[^a-z .,]/g, "")
    .trim();
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c)!);
  return { text, chars, ids, index };
}

export const loadCorpus = (): Corpus => makeCorpus(readFileSync(CORPUS_PATH, "utf8"));

/** One training sequence: inputs ids[p .. p+len) and targets ids[p+1 .. p+len+1). */
export interface Sequence {
  inputs: number[];
  targets: number[];
}

/** Consecutive sequences of `length` over the corpus, starting at `offset` (min-char-rnn's walk). */
export function sequences(corpus: Corpus, length: number, offset = 0): Sequence[] {
  const out: Sequence[] = [];
  for (let p = offset; p + length + 1 <= corpus.ids.length; p += length)
    out.push({ inputs: Array.from(corpus.ids.subarray(p, p + length)), targets: Array.from(corpus.ids.subarray(p + 1, p + length + 1)) });
  return out;
}
