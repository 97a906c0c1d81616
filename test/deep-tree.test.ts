// The Tree-LSTM (examples/models/tree-lstm.ts) recurses over the tree with `yield* call`, so a
// degenerate tree — a chain as deep as it has leaves — differentiates: 20,000 levels under
// grad (through yield*, the recursion would overflow the stack at a few thousand levels), with
// the loss of the same operations in a post-order loop; at 500 levels the gradient is exactly
// the loop's.
import { describe, expect, it } from "vitest";
import { nn, randn, run, softmaxCrossEntropy, take, concat, valueAndGrad, type Effect, type Tensor, type Value } from "../src/index.ts";
import { treeLoss, type TreeLstmParams } from "../examples/models/tree-lstm.ts";
import type { Tree } from "../examples/lib/trees.ts";

type Gen<R> = Generator<Effect, R, unknown>;

const DEPTH = 20_000;
const VOCAB = 5;

/** A left chain: ((((w0 w1) w2) w3) ...), in post-order; DEPTH internal nodes deep. */
const chain = (depth: number): Tree => {
  const tree: Tree = [{ word: 0, lch: -1, rch: -1, label: 0 }];
  for (let k = 1; k <= depth; k++) {
    tree.push({ word: k % VOCAB, lch: -1, rch: -1, label: (3 * k) % 5 });
    tree.push({ word: -1, lch: tree.length - 2, rch: tree.length - 1, label: k % 5 });
  }
  return tree;
};

/** The same model over the nodes in post-order, in a loop: no recursion. */
function* loopLoss(params: TreeLstmParams, ex: { tree: Tree; embeddings: Tensor }): Gen<Value> {
  const states: nn.TreeState[] = [];
  for (const node of ex.tree) {
    if (node.lch < 0) states.push(yield* nn.treeLstmCell.leaf(params.cell, yield* take(ex.embeddings, [node.word], 0)));
    else states.push(yield* nn.treeLstmCell.node(params.cell, states[node.lch]!, states[node.rch]!));
  }
  const logits = yield* nn.linear.apply(params.out, yield* concat(states.map(([h]) => h), 0));
  return yield* softmaxCrossEntropy(logits, ex.tree.map((n) => n.label), { reduction: "sum" });
}

const leaves = (p: TreeLstmParams<Tensor>): Tensor[] => [p.cell.Wx, p.cell.bx, p.cell.Ul, p.cell.Ur, p.cell.b, p.out.W, p.out.b!];

const init = (): TreeLstmParams<Tensor> => ({
  cell: nn.treeLstmCell.init(1, 2, 2, { dtype: "float64" }) as nn.TreeLstmCellParams<Tensor>,
  out: nn.linear.init(2, 2, 5, { dtype: "float64" }) as nn.LinearParams<Tensor>,
});
const embeddings = randn([VOCAB, 2], { seed: 3, dtype: "float64" });

describe("Tree-LSTM over a degenerate tree", () => {
  it("gives exactly the loss and gradient of the same operations in a loop (a chain 500 deep)", () => {
    const params = init();
    const ex = { tree: chain(500), embeddings };
    const [loss, g] = run(valueAndGrad(treeLoss), params, ex) as [Tensor, TreeLstmParams<Tensor>];
    const [refLoss, refG] = run(valueAndGrad(loopLoss), params, ex) as [Tensor, TreeLstmParams<Tensor>];
    expect(loss.item()).toBe(refLoss.item());
    leaves(g).forEach((t, k) => expect(Array.from(t.data)).toEqual(Array.from(leaves(refG)[k]!.data)));
    expect(leaves(g).some((t) => t.data.some((x) => Math.abs(x) > 1e-3))).toBe(true);
  });

  it(`differentiates a chain ${DEPTH.toLocaleString("en")} levels deep`, () => {
    const params = init();
    const ex = { tree: chain(DEPTH), embeddings };
    const [loss, g] = run(valueAndGrad(treeLoss), params, ex) as [Tensor, TreeLstmParams<Tensor>];
    expect(loss.item()).toBe((run(loopLoss, params, ex) as Tensor).item());
    for (const t of leaves(g)) expect(t.data.every(Number.isFinite)).toBe(true);
    // Every node's cross-entropy pulls on the classifier's bias: Σ (softmax − one-hot) ≠ 0.
    expect(Array.from(g.out.b!.data).some((x) => Math.abs(x) > 1)).toBe(true);
  }, 120_000);
});
