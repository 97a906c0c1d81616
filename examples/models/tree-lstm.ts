// Lantern's binary Tree-LSTM sentiment model (WORKLOADS W5): a frozen random embedding per word,
// a Tree-LSTM cell with separate left and right forget gates (nn.treeLstmCell), and a softmax
// classifier at every node; the loss is the sum over the nodes of the cross-entropy.
// Adagrad lr 0.05 with an elementwise clip to [-5, 5]. Hidden 150, embedding 300 by default.
import { concat, nn, optim, randn, run, softmaxCrossEntropy, take, Tensor, type Effect, type Value } from "../../src/index.ts";
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
  const states: [Value, Value][] = [];
  for (const node of tree) {
    if (node.lch < 0) states.push(yield* nn.treeLstmCell.leaf(params.cell, yield* take(embeddings, [node.word], 0)));
    else states.push(yield* nn.treeLstmCell.node(params.cell, states[node.lch]!, states[node.rch]!));
  }
  return yield* nn.linear.apply(params.out, yield* concat(states.map(([h]) => h), 0));
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

export const treeOptimizer = (lr = 0.05) => optim.adagrad({ lr, clipValue: 5 });

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
