// W5 treelstm, Lantern's binary Tree-LSTM: hidden 150, embedding 300 (frozen, random
// [1000, 300]), 5 classes, softmax cross-entropy at every node (summed over the tree), separate
// left/right forget gates, Adagrad lr 0.05 (eps 1e-8) with a ±5 elementwise clip; weights
// N(0, 0.01²) and zero biases as Lantern's randinit; the 100 trees of trees.json (nodes in
// post-order, the root last), one tree per step; ms per tree averaged over the 100 trees.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { add, jit, nn, optim, run, softmaxCrossEntropy, tensor, valueAndGrad, vjp, type Tensor, type Value } from "../../src/index.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";
import { compileTime, lossValue, maxRelDiff, normal32, oneHotVector, zeros32 } from "./models.ts";

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

// ---- jit: the cells (leaf, internal node) are jitted, forward and backward; the recursion
// over the tree runs eagerly. The forward pass keeps each node's h and c; the backward pass
// goes through the nodes in reverse (parents before children) and calls a jitted cell VJP
// that recomputes the cell's forward, gives the children's cotangents and adds the cell's
// parameter gradient to the running sums passed in. ----

type LeafQ = { Wx: Value; bx: Value; out: Out };
type NodeQ = { Ul: Value; Ur: Value; b: Value; out: Out };

/** [h, c, loss] of a leaf; `Ul` only tells the cell its hidden size (a leaf does not use it). */
function* leafCell(q: LeafQ, Ul: Value, x: Value, y: Value) {
  const [h, c] = yield* nn.treeLstmCell.leaf({ Wx: q.Wx, bx: q.bx, Ul } as nn.TreeLstmCellParams, x);
  const loss = yield* softmaxCrossEntropy(yield* nn.linear.apply(q.out, h), y);
  return [h, c, loss] as [Value, Value, Value];
}

function* nodeCell(q: NodeQ, hl: Value, cl: Value, hr: Value, cr: Value, y: Value) {
  const [h, c] = yield* nn.treeLstmCell.node({ Ul: q.Ul, Ur: q.Ur, b: q.b } as nn.TreeLstmCellParams, [hl, cl], [hr, cr]);
  const loss = yield* softmaxCrossEntropy(yield* nn.linear.apply(q.out, h), y);
  return [h, c, loss] as [Value, Value, Value];
}

/** a + b leaf by leaf, for nested plain objects of values. */
const addTrees = function* <T extends Record<string, unknown>>(a: T, b: T): Generator<any, T, any> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(a))
    out[k] = Object.getPrototypeOf(a[k]) === Object.prototype ? yield* addTrees(a[k] as never, b[k] as never) : yield* add(a[k] as Value, b[k] as Value);
  return out as T;
};

const leafForward = jit(leafCell);
const nodeForward = jit(nodeCell);
const leafBackward = jit(function* (q: LeafQ, Ul: Value, x: Value, y: Value, dh: Value, dc: Value, acc: LeafQ) {
  const [, pullback] = yield* vjp((qq: LeafQ) => leafCell(qq, Ul, x, y), q);
  const [dq] = (yield* pullback([dh, dc, 1])) as [LeafQ];
  return yield* addTrees(acc, dq);
});
const nodeBackward = jit(function* (q: NodeQ, hl: Value, cl: Value, hr: Value, cr: Value, y: Value, dh: Value, dc: Value, acc: NodeQ) {
  const [, pullback] = yield* vjp((qq: NodeQ, a: Value, b: Value, c: Value, d: Value) => nodeCell(qq, a, b, c, d, y), q, hl, cl, hr, cr);
  const [dq, dhl, dcl, dhr, dcr] = (yield* pullback([dh, dc, 1])) as [NodeQ, Value, Value, Value, Value];
  return [yield* addTrees(acc, dq), dhl, dcl, dhr, dcr] as [NodeQ, Value, Value, Value, Value];
});

const zerosLike = (t: Value): Tensor => zeros32((t as Tensor).shape);

/** [loss, gradient] of one tree with the jitted cells. */
export const jitValueAndGrad = (p: Params, tree: Tree, rows: readonly Tensor[], labels: readonly Tensor[]): [number, Params] => {
  const { Wx, bx, Ul, Ur, b } = p.cell;
  const lq: LeafQ = { Wx, bx, out: p.out };
  const nq: NodeQ = { Ul, Ur, b, out: p.out };
  const N = tree.word.length;
  const hs: Value[] = new Array(N);
  const cs: Value[] = new Array(N);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const l = tree.lch[n]!;
    const r = tree.rch[n]!;
    const y = labels[tree.label[n]!]!;
    const [h, c, loss] =
      l < 0 ? run(leafForward, lq, Ul, rows[tree.word[n]!]!, y) : run(nodeForward, nq, hs[l]!, cs[l]!, hs[r]!, cs[r]!, y);
    hs[n] = h;
    cs[n] = c;
    total += lossValue(loss);
  }
  const zh = zeros32([HIDDEN]);
  const dhs: Value[] = new Array(N);
  const dcs: Value[] = new Array(N);
  dhs[N - 1] = zh;
  dcs[N - 1] = zh;
  let leafAcc: LeafQ = { Wx: zerosLike(Wx), bx: zerosLike(bx), out: { W: zerosLike(p.out.W), b: zerosLike(p.out.b) } };
  let nodeAcc: NodeQ = { Ul: zerosLike(Ul), Ur: zerosLike(Ur), b: zerosLike(b), out: { W: zerosLike(p.out.W), b: zerosLike(p.out.b) } };
  for (let n = N - 1; n >= 0; n--) {
    const l = tree.lch[n]!;
    const r = tree.rch[n]!;
    const y = labels[tree.label[n]!]!;
    if (l < 0) {
      leafAcc = run(leafBackward, lq, Ul, rows[tree.word[n]!]!, y, dhs[n]!, dcs[n]!, leafAcc);
    } else {
      [nodeAcc, dhs[l], dcs[l], dhs[r], dcs[r]] = run(nodeBackward, nq, hs[l]!, cs[l]!, hs[r]!, cs[r]!, y, dhs[n]!, dcs[n]!, nodeAcc);
    }
  }
  const out = run(function* () {
    return { W: yield* add(leafAcc.out.W, nodeAcc.out.W), b: yield* add(leafAcc.out.b, nodeAcc.out.b) };
  });
  const grads: Params = { cell: { Wx: leafAcc.Wx, bx: leafAcc.bx, Ul: nodeAcc.Ul, Ur: nodeAcc.Ur, b: nodeAcc.b }, out };
  return [total, grads];
};

export async function w5(): Promise<Row[]> {
  const { V, trees } = loadTrees();
  if (trees.length !== 100) throw new Error(`W5: trees.json holds ${trees.length} trees, expected 100`);
  const rows = embeddingRows(V);
  const labels = Array.from({ length: CLASSES }, (_, k) => oneHotVector(k, CLASSES));
  const eagerVG = valueAndGrad(treeLoss);
  const eagerStep = (p: Params, tree: Tree): [number, Params] => {
    const [l, g] = run(eagerVG, p, tree, rows);
    return [lossValue(l), g as Params];
  };
  const jitStep = (p: Params, tree: Tree): [number, Params] => jitValueAndGrad(p, tree, rows, labels);

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
    const opt = optim.adagrad({ lr: 0.05, eps: 1e-8, clipValue: 5 });
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
    { workload: "W5", system: "yieldiff jit", unit: "ms/tree", median: j.median, min: j.min, max: j.max, note: `${figure(j)}; jitted leaf/node cells (forward, and VJP recomputing the cell), recursion eager; first tree with the 4 compilations ${compile.toFixed(0)} ms; gradient = eager's within ${gradDiff.toExponential(0)}` },
  ];
}
