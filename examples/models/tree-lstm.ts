// Lantern's binary Tree-LSTM sentiment model (WORKLOADS W5): a frozen random embedding per word,
// a Tree-LSTM cell with separate left and right forget gates (nn.treeLstmCell), and a softmax
// classifier at every node; the loss is the sum over the nodes of the cross-entropy.
// Adagrad lr 0.05 with an elementwise clip to [-5, 5]. Hidden 150, embedding 300 by default.
import {
  add, call, concat, cond, dynamicIndex, fixpoint, less, nn, optim, randn, run, softmaxCrossEntropy, take, tensor, Tensor, zeros, type Effect, type Value,
} from "../../src/index.ts";
import { CLASSES, type Tree } from "../lib/trees.ts";

type Gen<R> = Generator<Effect, R, unknown>;

export interface TreeLstmParams<T extends Value = Value> {
  cell: nn.TreeLstmCellParams<T>;
  out: nn.LinearParams<T>;
}

export interface TreeModelOptions {
  vocab?: number;
  embedding?: number;
  hidden?: number;
  seed?: number;
}

/** Trainable params and the frozen embedding table [vocab, embedding] (not a parameter: no gradient). */
export function initTreeLstm(options: TreeModelOptions = {}): { params: TreeLstmParams<Tensor>; embeddings: Tensor } {
  const { vocab = 100, embedding = 300, hidden = 150, seed = 0 } = options;
  const dtype = "float32" as const;
  return {
    params: {
      cell: nn.treeLstmCell.init(seed * 8 + 1, embedding, hidden, { dtype }) as nn.TreeLstmCellParams<Tensor>,
      out: nn.linear.init(seed * 8 + 2, hidden, CLASSES, { dtype }) as nn.LinearParams<Tensor>,
    },
    embeddings: randn([vocab, embedding], { seed: seed * 8 + 3, dtype }),
  };
}

/** Logits [nodes, 5] of every node of the tree, in the tree's (post-)order. */
export function* treeLogits(params: TreeLstmParams, embeddings: Tensor, tree: Tree): Gen<Value> {
  const states: nn.TreeState[] = new Array(tree.length);
  yield* call(encode, params.cell, embeddings, tree, tree.length - 1, states);
  return yield* nn.linear.apply(params.out, yield* concat(states.map(([h]) => h), 0));
}

/**
 * The state [h, c] of node i, from its children's (Lantern's recursion over the tree); also
 * stored in `states[i]`. Each child is a `call`, a frame on the driver's heap stack, so a tree
 * of any depth (a degenerate one is as deep as it has leaves) costs time linear in its size.
 */
function* encode(cell: nn.TreeLstmCellParams, embeddings: Tensor, tree: Tree, i: number, states: nn.TreeState[]): Gen<nn.TreeState> {
  const node = tree[i]!;
  const state =
    node.lch < 0
      ? yield* nn.treeLstmCell.leaf(cell, yield* take(embeddings, [node.word], 0))
      : yield* nn.treeLstmCell.node(
          cell,
          yield* call(encode, cell, embeddings, tree, node.lch, states),
          yield* call(encode, cell, embeddings, tree, node.rch, states),
        );
  states[i] = state;
  return state;
}

/** A training example: the tree and the frozen embeddings it reads. */
export interface TreeExample {
  tree: Tree;
  embeddings: Tensor;
}

/** Sum over the nodes of the softmax cross-entropy. */
export function* treeLoss(params: TreeLstmParams, example: TreeExample): Gen<Value> {
  const logits = yield* treeLogits(params, example.embeddings, example.tree);
  return yield* softmaxCrossEntropy(logits, example.tree.map((n) => n.label), { reduction: "sum" });
}

/** Adagrad stepping in place (as PyTorch does): 360K parameters are not copied per tree. */
export const treeOptimizer = (lr = 0.05) => optim.adagrad({ lr, clipValue: 5, inPlace: true });

// ---- The staged form (Lantern's FUN): the recursion over the tree is a `fixpoint` that reads
// the tree from run-time index tables, so `jit` compiles one program for every tree of a padded
// size, and under `jit(valueAndGrad)` each node's backward step is a closure its parent calls. ----

/** A tree as run-time tables (float64, post-order, padded with −1 to `size` nodes) and its root. */
export interface TreeTables {
  lch: Tensor;
  rch: Tensor;
  word: Tensor;
  label: Tensor;
  root: number;
}

export const treeTables = (tree: readonly { word: number; lch: number; rch: number; label: number }[], size: number): TreeTables => {
  const column = (k: "word" | "lch" | "rch" | "label") => tensor([...tree.map((n) => n[k]), ...Array<number>(size - tree.length).fill(-1)]);
  return { lch: column("lch"), rch: column("rch"), word: column("word"), label: column("label"), root: tree.length - 1 };
};

/** What the staged loss reads besides the params: the tables, the frozen embeddings [vocab, E], one-hot rows [5, 5]. */
export interface StagedTree {
  tables: TreeTables;
  embeddings: Tensor;
  onehot: Tensor;
}

export const oneHotRows = (dtype: "float32" | "float64" = "float32"): Tensor =>
  tensor(Array.from({ length: CLASSES }, (_, r) => Array.from({ length: CLASSES }, (_, c) => (r === c ? 1 : 0))), { dtype });

type Subtree = (p: TreeLstmParams, ex: StagedTree, i: Value) => Gen<[Value, Value, Value]>;
const byHidden = new Map<number, Subtree>();

/** The recursion for a hidden size: [h, c, summed loss of the subtree] of node i. */
const subtreeFor = (hidden: number): Subtree => {
  let found = byHidden.get(hidden);
  if (!found) byHidden.set(hidden, (found = makeSubtree(hidden)));
  return found;
};

const makeSubtree = (hidden: number): Subtree => {
  const subtree: Subtree = fixpoint(function* (p: TreeLstmParams, ex: StagedTree, i: Value): Gen<[Value, Value, Value]> {
    const t = ex.tables;
    function* nodeLoss(q: TreeLstmParams, h: Value) {
      const y = yield* dynamicIndex(ex.onehot, yield* dynamicIndex(t.label, i));
      return yield* softmaxCrossEntropy(yield* nn.linear.apply(q.out, h), y);
    }
    return yield* cond(
      yield* less(yield* dynamicIndex(t.lch, i), 0),
      function* (q: TreeLstmParams, i: Value) {
        const [h, c] = yield* nn.treeLstmCell.leaf(q.cell, yield* dynamicIndex(ex.embeddings, yield* dynamicIndex(t.word, i)));
        return [h, c, yield* nodeLoss(q, h)] as [Value, Value, Value];
      },
      function* (q: TreeLstmParams, i: Value) {
        const [hl, cl, ll] = yield* subtree(q, ex, yield* dynamicIndex(t.lch, i));
        const [hr, cr, lr] = yield* subtree(q, ex, yield* dynamicIndex(t.rch, i));
        const [h, c] = yield* nn.treeLstmCell.node(q.cell, [hl, cl], [hr, cr]);
        return [h, c, yield* add(yield* add(ll, lr), yield* nodeLoss(q, h))] as [Value, Value, Value];
      },
      p, // operands: under jit(grad) a branch differentiates only what it receives
      i,
    );
    // the declared result: [h, c] of the hidden size and a loss, float32 (shapes only)
  }, [zeros([hidden], "float32"), zeros([hidden], "float32"), zeros([], "float32")] as [Value, Value, Value]);
  return subtree;
};

/** Sum over the nodes of the softmax cross-entropy, as one staged recursion (float32 params). */
export function* stagedTreeLoss(params: TreeLstmParams, ex: StagedTree): Gen<Value> {
  const [, , loss] = yield* subtreeFor((params.cell.Ul as Tensor).shape[0]!)(params, ex, ex.tables.root);
  return loss;
}

/** Accuracy over all nodes and over the roots. */
export function evaluateTrees(params: TreeLstmParams, embeddings: Tensor, trees: readonly Tree[]): { nodes: number; roots: number } {
  let correct = 0;
  let total = 0;
  let rootsCorrect = 0;
  for (const tree of trees) {
    const logits = (run(treeLogits, params, embeddings, tree) as Tensor).data;
    tree.forEach((node, i) => {
      let best = 0;
      for (let c = 1; c < CLASSES; c++) if (logits[i * CLASSES + c]! > logits[i * CLASSES + best]!) best = c;
      if (best === node.label) {
        correct++;
        if (i === tree.length - 1) rootsCorrect++;
      }
    });
    total += tree.length;
  }
  return { nodes: correct / total, roots: rootsCorrect / trees.length };
}
