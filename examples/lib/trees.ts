// Generated sentiment-like trees for the Tree-LSTM (seeded): random binary trees over a
// vocabulary of words, each word with a polarity −1 (negative), 0 (neutral) or +1 (positive).
// Every node is labelled by the summed polarity s of the words under it, in 5 classes as in the
// Stanford Sentiment Treebank: 0 (s ≤ −2), 1 (s = −1), 2 (s = 0), 3 (s = 1), 4 (s ≥ 2).
// Nodes are in post-order, as in WORKLOADS' trees.json: children before their parent, root last.
import { Random } from "../../src/index.ts";

export interface TreeNode {
  /** The word of a leaf (index into the vocabulary), −1 for an internal node. */
  word: number;
  /** Children (node indices), −1 for a leaf. */
  lch: number;
  rch: number;
  /** Sentiment class 0..4 of the subtree. */
  label: number;
}

export type Tree = TreeNode[];

export interface TreeOptions {
  count: number;
  seed: number;
  /** Leaves per tree, uniform in [minLeaves, maxLeaves] (default 5..40, WORKLOADS W5). */
  minLeaves?: number;
  maxLeaves?: number;
  /** Words in the vocabulary (default 100). */
  vocab?: number;
}

export const CLASSES = 5;

/** The polarity of a word: the first 30% negative, the last 30% positive, the rest neutral. */
export const polarity = (word: number, vocab: number): number => (word < 0.3 * vocab ? -1 : word >= 0.7 * vocab ? 1 : 0);
export const classOf = (s: number): number => Math.max(0, Math.min(4, s + 2));

export function makeTrees(options: TreeOptions): Tree[] {
  const { count, seed, minLeaves = 5, maxLeaves = 40, vocab = 100 } = options;
  const rng = new Random(seed);
  const trees: Tree[] = [];
  for (let t = 0; t < count; t++) {
    const leaves = minLeaves + rng.int(maxLeaves - minLeaves + 1);
    const nodes: TreeNode[] = [];
    // Builds a subtree over `n` leaves; returns [node index, summed polarity].
    const build = (n: number): [number, number] => {
      if (n === 1) {
        const word = rng.int(vocab);
        const s = polarity(word, vocab);
        nodes.push({ word, lch: -1, rch: -1, label: classOf(s) });
        return [nodes.length - 1, s];
      }
      const left = 1 + rng.int(n - 1);
      const [l, sl] = build(left);
      const [r, sr] = build(n - left);
      nodes.push({ word: -1, lch: l, rch: r, label: classOf(sl + sr) });
      return [nodes.length - 1, sl + sr];
    };
    build(leaves);
    trees.push(nodes);
  }
  return trees;
}

/** The share of the most frequent class among all nodes and among roots (accuracy by always guessing it). */
export function majorityBaseline(trees: readonly Tree[]): { nodes: number; roots: number } {
  const all = new Array<number>(CLASSES).fill(0);
  const roots = new Array<number>(CLASSES).fill(0);
  let n = 0;
  for (const t of trees) {
    for (const node of t) all[node.label]!++;
    roots[t[t.length - 1]!.label]!++;
    n += t.length;
  }
  return { nodes: Math.max(...all) / n, roots: Math.max(...roots) / trees.length };
}
