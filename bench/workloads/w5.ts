// W5 treelstm, Lantern's binary Tree-LSTM: hidden 150, embedding 300 (frozen, random
// [1000, 300]), 5 classes, softmax cross-entropy at every node (summed over the tree), separate
// left/right forget gates, Adagrad lr 0.05 (eps 1e-8) with a ±5 elementwise clip; weights
// N(0, 0.01²) and zero biases as Lantern's randinit; the 100 trees of trees.json (nodes in
// post-order, the root last), one tree per step; ms per tree averaged over the 100 trees.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { add, jit, nn, optim, run, softmaxCrossEntropy, tensor, valueAndGrad, type Tensor, type Value } from "../../src/index.ts";
import { oneHotRows, stagedTreeLoss, treeTables } from "../../examples/models/tree-lstm.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";
import { compileTime, lossValue, maxRelDiff, normal32, zeros32 } from "./models.ts";

const HIDDEN = 150;
const EMBED = 300;
const CLASSES = 5;

interface Tree {
  word: number[];
  lch: number[];
  rch: number[];
  label: number[];
}

export const loadTrees = (): { V: number; trees: Tree[] } =>
  JSON.parse(readFileSync(new URL("../shared/bench-data/trees.json", pathToFileURL(`${process.cwd()}/`)), "utf8"));

type Out = { W: Value; b: Value };
type Params = { cell: nn.TreeLstmCellParams; out: Out };

export const initParams = (seed: number): Params => ({
  cell: nn.treeLstmCell.init(seed, EMBED, HIDDEN, { wInit: nn.init.normal(0.01), dtype: "float32" }),
  out: { W: normal32(seed + 1, [HIDDEN, CLASSES], 0.01), b: zeros32([CLASSES]) },
});

/** The frozen embedding N(0, 1), one [300] tensor per word: a lookup is an array index, as in Lantern. */
export const embeddingRows = (vocab: number): Tensor[] => {
  const table = normal32(55, [vocab, EMBED], 1).data;
  return Array.from({ length: vocab }, (_, w) => tensor(table.slice(w * EMBED, (w + 1) * EMBED), { dtype: "float32" }));
};

// ---- eager: the whole tree is one program, differentiated by valueAndGrad ----

export function* treeLoss(p: Params, tree: Tree, rows: readonly Tensor[]) {
  const hs: Value[] = [];
  const cs: Value[] = [];
  let total: Value = 0;
  for (let n = 0; n < tree.word.length; n++) {
    const l = tree.lch[n]!;
    const r = tree.rch[n]!;
    const [h, c] =
      l < 0
        ? yield* nn.treeLstmCell.leaf(p.cell, rows[tree.word[n]!]!)
        : yield* nn.treeLstmCell.node(p.cell, [hs[l]!, cs[l]!], [hs[r]!, cs[r]!]);
    hs.push(h);
    cs.push(c);
    const logits = yield* nn.linear.apply(p.out, h);
    total = yield* add(total, yield* softmaxCrossEntropy(logits, tree.label[n]!));
  }
  return total;
}

// ---- jit: the whole tree is one staged program, examples/models/tree-lstm.ts's stagedTreeLoss:
// the recursion over the tree is a fixpoint (Lantern's FUN) over run-time index tables, so one
// compilation serves all 100 trees (tables padded to the largest tree). ----

export async function w5(): Promise<Row[]> {
  const { V, trees } = loadTrees();
  if (trees.length !== 100) throw new Error(`W5: trees.json holds ${trees.length} trees, expected 100`);
  const rows = embeddingRows(V);
  const eagerVG = valueAndGrad(treeLoss);
  const eagerStep = (p: Params, tree: Tree): [number, Params] => {
    const [l, g] = run(eagerVG, p, tree, rows);
    return [lossValue(l), g as Params];
  };
  const size = Math.max(...trees.map((t) => t.word.length));
  const nodesOf = (t: Tree) => t.word.map((word, i) => ({ word, lch: t.lch[i]!, rch: t.rch[i]!, label: t.label[i]! }));
  const tables = new Map(trees.map((t) => [t, treeTables(nodesOf(t), size)]));
  const embeddings = normal32(55, [V, EMBED], 1); // the rows of embeddingRows
  const onehot = oneHotRows("float32");
  const stagedVG = jit(valueAndGrad(stagedTreeLoss), { reuseOutputs: true }); // gradients consumed by each step
  const jitStep = (p: Params, tree: Tree): [number, Params] => {
    const [l, g] = run(stagedVG, p, { tables: tables.get(tree)!, embeddings, onehot });
    return [lossValue(l), g as Params];
  };

  // Check: the jitted cells give the eager gradient; training on one tree lowers its loss.
  const p0 = initParams(5);
  const [le, ge] = eagerStep(p0, trees[0]!);
  const compile = compileTime(() => jitStep(p0, trees[0]!));
  const [lj, gj] = jitStep(p0, trees[0]!);
  const flat = (g: Params) => ({ ...g.cell, W: g.out.W, b: g.out.b }) as unknown as Record<string, Tensor>;
  const gradDiff = maxRelDiff(flat(gj), flat(ge));
  if (!(Math.abs(lj - le) < 1e-5 * le) || !(gradDiff < 1e-4)) throw new Error(`W5: jit loss ${lj} vs eager ${le}, gradient difference ${gradDiff}`);

  /**
   * Training: each call does one Adagrad step on the next tree (cycling through `treesOf`),
   * returns its loss and records how long it took in `ms`.
   */
  const trainer = (step: typeof eagerStep, treesOf: readonly Tree[] = trees) => {
    // In place, as PyTorch's optimizer.step(): each trainer owns its params.
    const opt = optim.adagrad({ lr: 0.05, eps: 1e-8, clipValue: 5, inPlace: true });
    let params = initParams(5);
    let state = opt.init(params);
    let next = 0;
    const ms: number[] = [];
    const call = (): number => {
      const start = performance.now();
      const [l, g] = step(params, treesOf[next]!);
      [params, state] = opt.update(g, state, params);
      ms.push(performance.now() - start);
      next = (next + 1) % treesOf.length;
      return l;
    };
    return Object.assign(call, { ms });
  };
  const check = (step: typeof eagerStep, name: string): number[] => {
    const losses = Array.from({ length: 5 }, trainer(step, [trees[0]!]));
    if (!losses.every(Number.isFinite) || !(losses[4]! < losses[0]!)) throw new Error(`W5 ${name}: losses on one tree ${losses}`);
    return losses;
  };
  const eagerLosses = check(eagerStep, "eager");
  const jitLosses = check(jitStep, "jit");
  const diff = Math.max(...jitLosses.map((l, i) => Math.abs(l - eagerLosses[i]!) / eagerLosses[i]!));
  if (!(diff < 1e-4)) throw new Error(`W5: jit losses ${jitLosses} vs eager ${eagerLosses}`);

  // One step per tree; after tinybench's warm-up (>= 3 steps, >= 300 ms), exactly 100 timed
  // steps (time 0), the last 100 calls, so that each tree is timed once: the figure is their
  // mean (the trees differ in size, 9..79 nodes).
  const nodes = trees.reduce((n, t) => n + t.word.length, 0);
  const eager = trainer(eagerStep);
  const jitted = trainer(jitStep);
  const t = await time({ eager, jit: jitted }, { time: 0, iterations: trees.length });
  const perTree = (ms: readonly number[], p50: number) => {
    const epoch = ms.slice(-trees.length);
    if (ms.length < trees.length + 3) throw new Error(`W5: ${ms.length} steps, expected at least 3 warm-up + ${trees.length}`);
    return { median: epoch.reduce((a, b) => a + b, 0) / epoch.length, min: Math.min(...epoch), max: Math.max(...epoch), p50 };
  };
  const e = perTree(eager.ms, t.eager!.median);
  const j = perTree(jitted.ms, t.jit!.median);
  const losses = `loss on tree 0: ${eagerLosses[0]!.toFixed(2)} → ${eagerLosses[4]!.toFixed(2)} in 5 steps`;
  const figure = (x: typeof e) => `mean over the 100 trees (${nodes} nodes), min – max over the trees; per-tree median ${x.p50.toFixed(1)} ms`;
  return [
    { workload: "W5", system: "yieldiff eager", unit: "ms/tree", median: e.median, min: e.min, max: e.max, note: `valueAndGrad of the whole tree; ${figure(e)}; ${losses}` },
    { workload: "W5", system: "yieldiff jit", unit: "ms/tree", median: j.median, min: j.min, max: j.max, note: `${figure(j)}; jit(valueAndGrad, { reuseOutputs: true }) of the whole tree: one compiled recursive function (fixpoint) for all 100 trees, padded to ${size} nodes; first tree with the compilation ${compile.toFixed(0)} ms; gradient = eager's within ${gradDiff.toExponential(0)}` },
  ];
}
