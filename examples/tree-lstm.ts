// Lantern's binary Tree-LSTM (WORKLOADS W5: hidden 150, frozen random embeddings of 300,
// 5 classes, cross-entropy at every node, Adagrad lr 0.05 with a ±5 clip, one tree per step)
// on generated seeded trees whose labels are the summed polarity of the words under each node.
// Trained as one jit-compiled recursive program (fixpoint over the tree's index tables).
// Prints the accuracy next to the majority-class baseline.   npm run example -- tree-lstm
import { trainLoop } from "../src/index.ts";
import { isMain } from "./lib/main.ts";
import { majorityBaseline, makeTrees } from "./lib/trees.ts";
import { evaluateTrees, initTreeLstm, oneHotRows, stagedTreeLoss, treeOptimizer, treeTables } from "./models/tree-lstm.ts";

export const TRAIN_TREES = 200;
export const TEST_TREES = 100;
export const LEAVES: [number, number] = [5, 20];
export const EPOCHS = 2;

export function main(): { nodes: number; roots: number } {
  const shape = { minLeaves: LEAVES[0], maxLeaves: LEAVES[1], vocab: 100 };
  const train = makeTrees({ count: TRAIN_TREES, seed: 1, ...shape });
  const test = makeTrees({ count: TEST_TREES, seed: 2, ...shape });
  const base = majorityBaseline(test);
  const { params, embeddings } = initTreeLstm({ vocab: 100, embedding: 300, hidden: 150, seed: 0 });
  console.log(
    `Tree-LSTM (hidden 150, frozen embeddings 300) on ${TRAIN_TREES} generated trees of ${LEAVES[0]}..${LEAVES[1]} leaves; ` +
      `test on ${TEST_TREES} others. Majority-class baseline: ${(100 * base.nodes).toFixed(1)}% of nodes, ${(100 * base.roots).toFixed(1)}% of roots`,
  );
  const before = evaluateTrees(params, embeddings, test);
  // The staged model: one compiled program (a recursive function over the tree's index
  // tables, padded to the largest tree) serves every tree.
  const size = 2 * LEAVES[1] - 1;
  const onehot = oneHotRows("float32");
  const result = trainLoop({
    params,
    lossFn: stagedTreeLoss,
    jit: true,
    optimizer: treeOptimizer(0.05),
    data: train.map((tree) => ({ tables: treeTables(tree, size), embeddings, onehot })),
    epochs: EPOCHS,
    onEpochEnd: ({ params: p }) => {
      const acc = evaluateTrees(p, embeddings, test);
      return { "node accuracy": acc.nodes, "root accuracy": acc.roots };
    },
  });
  const after = evaluateTrees(result.params, embeddings, test);
  console.log(
    `test accuracy: nodes ${(100 * before.nodes).toFixed(1)}% → ${(100 * after.nodes).toFixed(1)}%, ` +
      `roots ${(100 * before.roots).toFixed(1)}% → ${(100 * after.roots).toFixed(1)}% ` +
      `(baseline ${(100 * base.nodes).toFixed(1)}% / ${(100 * base.roots).toFixed(1)}%); ${((1000 * result.seconds) / result.steps).toFixed(0)} ms per tree`,
  );
  return after;
}

if (isMain(import.meta.url)) main();
