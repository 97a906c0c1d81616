// Side by side: the JavaScript peers run the workloads of ../shared/WORKLOADS.md on the same data
// as yieldiff, in the same process: TensorFlow.js (tfjs-core with its `cpu` and `wasm` backends,
// float32 only) and jax-js (`wasm` device, eager and under `jit`). Runner ids W1-PEERS ... W8-PEERS;
// their rows carry the same id, so that a run of yieldiff's own W2 and one of W2-PEERS each keep
// the other's rows in the results table.
//
// Before a system is timed it must reproduce yieldiff's numbers computed in this run (W8 and the
// initial W2 loss/gradient: the shared PyTorch float64 reference of mlp.json): the loss and the
// gradient at the initial parameters, and the loss after one training step (which checks the
// update rule). A system that cannot run a workload, or computes something else, gets a row with
// no figure and the reason in its note. Budgets are small (a few runs per system): TF.js cpu
// takes seconds per W6 step.
import { Bench } from "tinybench";
import {
  add,
  concat,
  conv2d,
  logSoftmax,
  logsumexp,
  matmul,
  maxPool2d,
  mean,
  mul,
  rand,
  randn,
  relu,
  reshape,
  run,
  sigmoid,
  sin,
  sub,
  sum,
  tanh,
  tensor,
  valueAndGrad,
  zeros,
  type Tensor,
  type Value,
} from "../../src/index.ts";
import { loadMlp, type MlpData } from "../data.ts";
import type { Timing } from "../measure.ts";
import type { Row } from "../report.ts";
import * as jaxjs from "../peers/jaxjs.ts";
import { embeddingRows, initParams as treeInitParams, loadTrees, treeLoss } from "./w5.ts";
import * as tfjs from "../peers/tfjs.ts";

// ---- What the peers are given and what they return ----

/** A float32 array with its shape, in yieldiff's layout (row-major; NCHW / OIHW for W6). */
export interface Arr {
  readonly shape: number[];
  readonly data: Float32Array;
}
export type Params = Record<string, Arr>;
export interface MlpSpec {
  x: Arr;
  onehot: Arr;
  params: Params;
  lr: number;
}
export interface SeqSpec {
  cell: "rnn" | "lstm";
  hidden: number;
  /** One-hot rows [1, vocab], one per step; targets are the next characters. */
  xs: Arr[];
  targets: Arr[];
  params: Params;
  lr: number;
  eps: number;
  clip: number;
}
export interface CnnSpec {
  x: Arr;
  onehot: Arr;
  params: Params;
  lr: number;
}
/** W5: Lantern's Tree-LSTM with yieldiff's fused gate weights (nn.treeLstmCell): Wx [300, 3·150]
 *  (gates i, o, u), bx, Ul and Ur [150, 5·150] (gates i, fl, fr, o, u), b, and the output layer
 *  W [150, 5], bo. */
export interface TreeSpec {
  hidden: number;
  classes: number;
  /** The frozen embedding, one row [300] per word. */
  rows: Arr[];
  trees: Tree[];
  params: Params;
  lr: number;
  eps: number;
  clip: number;
}
/** Nodes in post-order (the root last): word (−1 inside), children (−1 at leaves), label. */
export interface Tree {
  word: number[];
  lch: number[];
  rch: number[];
  label: number[];
}
export interface LossGrad {
  loss: number;
  grads: Record<string, Float32Array>;
}
export interface Trainer {
  /** Loss and gradient at the current parameters; nothing is updated. */
  lossAndGrad(): LossGrad | Promise<LossGrad>;
  /** One training step (forward, backward, update), finished when it returns or resolves;
   *  gives the loss at the parameters it started from. */
  step(): number | Promise<number>;
  dispose(): void;
}
/** A trainer whose loss and steps are on the tree chosen last by `tree(i)`. */
export interface TreeTrainer extends Trainer {
  tree(i: number): void;
}
export interface HvpRunner {
  grad(): Record<string, Float32Array>;
  hvp(): Record<string, Float32Array>;
  /** The same computations for timing: wait for every output, read nothing back. */
  timedGrad(): unknown;
  timedHvp(): unknown;
  dispose(): void;
}

// ---- The systems ----

interface System {
  name: string;
  setup(): Promise<void>;
  tf?: tfjs.TfBackend;
  jax?: jaxjs.JaxMode;
}
const SYSTEMS: System[] = [
  { name: "TF.js cpu", tf: "cpu", setup: () => tfjs.useBackend("cpu") },
  { name: "TF.js wasm", tf: "wasm", setup: () => tfjs.useBackend("wasm") },
  { name: "jax-js eager", jax: "eager", setup: jaxjs.useWasm },
  { name: "jax-js jit", jax: "jit", setup: jaxjs.useWasm },
];

interface Budget {
  iterations: number;
  time: number;
  warmup: number;
}

/** ms per call of `fn` (median, min, max over at least `iterations` runs and `time` ms). */
async function timeIt(fn: () => unknown, b: Budget): Promise<Timing> {
  const bench = new Bench({ time: b.time, iterations: b.iterations, warmup: b.warmup > 0, warmupIterations: b.warmup, warmupTime: 0 });
  bench.add("peer", fn);
  await bench.run();
  const r = bench.tasks[0]!.result as unknown as { latency?: { p50: number; min: number; max: number }; error?: unknown };
  if (!r.latency) throw r.error instanceof Error ? r.error : new Error(`timing failed: ${JSON.stringify(r)}`);
  return { median: r.latency.p50, min: r.latency.min, max: r.latency.max };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 160);

/** A row without a figure (the report prints an empty cell): the system failed or was wrong. */
const noFigure = (workload: string, system: string, unit: string, note: string): Row => ({
  workload,
  system,
  unit,
  median: undefined as unknown as number,
  note,
});

class Mismatch extends Error {}

const relErr = (got: number, want: number): number => Math.abs(got - want) / Math.max(Math.abs(want), 1e-30);

/** max |got - want| / max |want| over each array, the largest over the record. */
function gradErr(got: Record<string, Float32Array>, want: Record<string, ArrayLike<number>>): number {
  let worst = 0;
  for (const [k, w] of Object.entries(want)) {
    const g = got[k];
    if (!g || g.length !== w.length) throw new Mismatch(`gradient ${k} has ${g?.length ?? "no"} entries, expected ${w.length}`);
    let num = 0;
    let den = 0;
    for (let i = 0; i < w.length; i++) {
      num = Math.max(num, Math.abs(g[i]! - w[i]!));
      den = Math.max(den, Math.abs(w[i]!));
    }
    worst = Math.max(worst, den === 0 ? num : num / den);
  }
  return worst;
}

const e1 = (x: number): string => x.toExponential(0);

// ---- Data, in yieldiff's layout, from yieldiff's seeded generators ----

const arr = (t: Tensor): Arr => ({ shape: [...t.shape], data: Float32Array.from(t.data) });
const normal = (shape: number[], seed: number, std = 1): Arr => {
  const a = arr(randn(shape, { seed, dtype: "float32" }));
  for (let i = 0; i < a.data.length; i++) a.data[i] *= std;
  return a;
};
const uniform = (shape: number[], seed: number, bound: number): Arr => {
  const a = arr(rand(shape, { seed, dtype: "float32" }));
  for (let i = 0; i < a.data.length; i++) a.data[i] = (2 * a.data[i]! - 1) * bound;
  return a;
};
const zerosArr = (shape: number[]): Arr => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const labels = (n: number, classes: number, seed: number): number[] => Array.from(rand([n], { seed }).data, (u) => Math.floor(u * classes));
const oneHot = (ls: readonly number[], classes: number): Arr => {
  const a = zerosArr([ls.length, classes]);
  ls.forEach((l, i) => (a.data[i * classes + l] = 1));
  return a;
};
const toTensor = (a: Arr): Tensor => tensor(a.data, { shape: a.shape, dtype: "float32" });
const toTensors = (p: Params): Record<string, Tensor> => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, toTensor(a)]));

type Update = { kind: "sgd"; lr: number } | { kind: "adagrad"; lr: number; eps: number; clip: number };

/** The parameters after one step from `p` with gradient `g` (Adagrad from zero accumulators). */
function updated(p: Params, g: Record<string, ArrayLike<number>>, u: Update): Params {
  const out: Params = {};
  for (const [k, a] of Object.entries(p)) {
    const gk = g[k]!;
    const d = new Float32Array(a.data.length);
    for (let i = 0; i < d.length; i++) {
      if (u.kind === "sgd") d[i] = a.data[i]! - u.lr * gk[i]!;
      else {
        const c = Math.min(u.clip, Math.max(-u.clip, gk[i]!));
        d[i] = a.data[i]! - (u.lr * c) / Math.sqrt(c * c + u.eps);
      }
    }
    out[k] = { shape: a.shape, data: d };
  }
  return out;
}

// ---- yieldiff's programs for the checks (the timed yieldiff rows live in w1.ts ... w8.ts) ----

type YP = Record<string, Value>;

function* mlpLoss(p: YP, x: Tensor, onehot: Tensor) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1!), p.b1!));
  const z = yield* add(yield* matmul(h, p.W2!), p.b2!);
  return yield* mean(yield* sub(yield* logsumexp(z, -1), yield* sum(yield* mul(z, onehot), -1)));
}

const seqLoss = (cell: "rnn" | "lstm", hidden: number) =>
  function* seqLossProgram(p: YP, xs: Tensor[], ts: Tensor[]) {
    let h: Value = zeros([1, hidden], "float32");
    let c: Value = zeros([1, hidden], "float32");
    let total: Value = 0;
    for (let t = 0; t < xs.length; t++) {
      if (cell === "rnn") {
        h = yield* tanh(yield* add(yield* add(yield* matmul(xs[t]!, p.Wxh!), yield* matmul(h, p.Whh!)), p.bh!));
      } else {
        const hx: Value = yield* concat([h, xs[t]!], 1);
        const f: Value = yield* sigmoid(yield* add(yield* matmul(hx, p.Wf!), p.bf!));
        const i: Value = yield* sigmoid(yield* add(yield* matmul(hx, p.Wi!), p.bi!));
        const o: Value = yield* sigmoid(yield* add(yield* matmul(hx, p.Wo!), p.bo!));
        const g: Value = yield* tanh(yield* add(yield* matmul(hx, p.Wc!), p.bc!));
        c = yield* add(yield* mul(f, c), yield* mul(i, g));
        h = yield* mul(o, yield* tanh(c));
      }
      const y = yield* add(yield* matmul(h, p.Why!), p.by!);
      total = yield* add(total, yield* sub(yield* logsumexp(y), yield* sum(yield* mul(y, ts[t]!))));
    }
    return total;
  };

function* cnnLoss(p: YP, x: Tensor, onehot: Tensor) {
  const n = x.shape[0]!;
  const conv = function* (h: Value, w: Value, b: Value) {
    return yield* add(yield* conv2d(h, w), yield* reshape(b, [1, -1, 1, 1]));
  };
  let h = yield* relu(yield* maxPool2d(yield* conv(x, p.c1w!, p.c1b!), { size: 2 }));
  h = yield* relu(yield* maxPool2d(yield* conv(h, p.c2w!, p.c2b!), { size: 2 }));
  const f = yield* relu(yield* add(yield* matmul(yield* reshape(h, [n, -1]), p.f1w!), p.f1b!));
  const z = yield* add(yield* matmul(f, p.f2w!), p.f2b!);
  return yield* mul(yield* sum(yield* mul(yield* logSoftmax(z, -1), onehot)), -1 / n);
}

interface Reference {
  init: LossGrad;
  afterLoss: number;
  /** Where the reference came from, for the notes. */
  source: string;
}

type YLoss = (p: YP, ...consts: never[]) => Generator<unknown, Value, unknown>;

/** yieldiff's loss and gradient at `params`, and its loss after one step of `u`. */
function yieldiffReference(loss: YLoss, params: Params, consts: unknown[], u: Update): Reference {
  const program = loss as unknown as (p: YP, ...c: unknown[]) => Generator<never, Value, unknown>;
  const [value, g] = run(valueAndGrad(program), toTensors(params), ...consts) as [Value, Record<string, Tensor>];
  const grads = Object.fromEntries(Object.entries(g).map(([k, t]) => [k, Float32Array.from(t.data)]));
  const after = run(program, toTensors(updated(params, grads, u)), ...consts) as Value;
  const num = (v: Value): number => (typeof v === "number" ? v : (v as Tensor).item());
  return { init: { loss: num(value), grads }, afterLoss: num(after), source: "yieldiff" };
}

// ---- Running one training workload on every system ----

async function training(
  id: string,
  unit: "ms/step" | "ms/iter",
  ref: Reference,
  make: (s: System) => Trainer,
  budget: Budget,
  tol = { loss: 1e-4, grad: 1e-3, after: 1e-3 },
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const sys of SYSTEMS) {
    console.log(`  ${id}: ${sys.name} ...`);
    let trainer: Trainer | undefined;
    try {
      await sys.setup();
      trainer = make(sys);
      const first = await trainer.lossAndGrad();
      const lErr = relErr(first.loss, ref.init.loss);
      const gErr = gradErr(first.grads, ref.init.grads);
      if (!(lErr <= tol.loss && gErr <= tol.grad))
        throw new Mismatch(`wrong: loss ${first.loss} vs ${ref.source} ${ref.init.loss}, gradient rel. error ${e1(gErr)}`);
      const start = performance.now();
      await trainer.step();
      const firstStep = performance.now() - start;
      // A step returns the loss before its update: the second one's is the loss after one step.
      const after = await trainer.step();
      const aErr = relErr(after, ref.afterLoss);
      if (!(aErr <= tol.after)) throw new Mismatch(`wrong update: loss after one step ${after} vs ${ref.source} ${ref.afterLoss}`);
      const t = await timeIt(() => trainer!.step(), budget);
      const compiled = sys.jax === "jit" ? `first step (trace + compile) ${firstStep.toFixed(0)} ms; ` : "";
      rows.push({
        workload: id,
        system: sys.name,
        unit,
        ...t,
        note: `${compiled}vs ${ref.source}: loss ${e1(lErr)}, gradient ${e1(gErr)}, loss after a step ${e1(aErr)}`,
      });
    } catch (e) {
      rows.push(noFigure(id, sys.name, unit, e instanceof Mismatch ? message(e) : `fails: ${message(e)}`));
    } finally {
      try {
        trainer?.dispose();
      } catch {
        // a failed run may leave its arrays half consumed; nothing more to free
      }
    }
  }
  return rows;
}

const forSystem = <T>(s: System, tf: (b: tfjs.TfBackend) => T, jax: (m: jaxjs.JaxMode) => T): T => (s.tf ? tf(s.tf) : jax(s.jax!));

// ---- W1 ----

const W1_STEPS = 10_000;
const W1_OPS = 3 * W1_STEPS;
function* chain(x: number) {
  let y = x;
  for (let i = 0; i < W1_STEPS; i++) y = yield* add(yield* sin(yield* mul(y, x)), x);
  return y;
}

export async function w1Peers(): Promise<Row[]> {
  const id = "W1-PEERS";
  const [value, slope] = run(valueAndGrad(chain), 0.5);
  const budget = { iterations: 3, time: 500, warmup: 1 };
  const perOp = (t: Timing): Timing => ({ median: (t.median * 1e6) / W1_OPS, min: (t.min * 1e6) / W1_OPS, max: (t.max * 1e6) / W1_OPS });
  const check = (v: number, d: number, tol: number): string => {
    const err = Math.max(relErr(v, value), relErr(d, slope));
    if (!(err <= tol)) throw new Mismatch(`wrong: (${v}, ${d}) vs yieldiff (${value}, ${slope})`);
    return e1(err);
  };
  const rows: Row[] = [];
  for (const sys of SYSTEMS) {
    console.log(`  ${id}: ${sys.name} ...`);
    try {
      if (sys.tf) {
        await sys.setup();
        const f = tfjs.scalarChain(W1_STEPS);
        const [v, d] = f(0.5);
        const err = check(v, d, 1e-4);
        const t = await timeIt(() => f(0.5), budget);
        rows.push({ workload: id, system: sys.name, unit: "ns/op", ...perOp(t), note: `float32 (TF.js has no float64); rel. error vs yieldiff float64 ${err}` });
      } else {
        const r = await jaxjs.scalarChainInWorker(sys.jax!, W1_STEPS, 0.5, budget);
        const err = check(r.value, r.slope, 1e-6);
        const sorted = [...r.samples].sort((a, b) => a - b);
        const mid = sorted.length >> 1;
        const t = { median: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2, min: sorted[0]!, max: sorted[sorted.length - 1]! };
        const first = sys.jax === "jit" ? `first call (trace + compile) ${(r.firstMs / 1000).toFixed(1)} s; ` : "";
        rows.push({ workload: id, system: sys.name, unit: "ns/op", ...perOp(t), note: `${first}float64, rel. error vs yieldiff ${err}; in a worker with a 256 MB stack (Node's default overflows)` });
      }
    } catch (e) {
      rows.push(noFigure(id, sys.name, "ns/op", e instanceof Mismatch ? message(e) : `fails: ${message(e)}`));
    }
  }
  return rows;
}

// ---- W2, W8: the MLP of mlp.bin ----

const mlpArrs = (d: MlpData) => ({
  x: arr(d.x),
  onehot: arr(d.onehot),
  params: Object.fromEntries(Object.entries(d.params).map(([k, t]) => [k, arr(t)])) as Params,
  v: Object.fromEntries(Object.entries(d.direction).map(([k, t]) => [k, arr(t)])) as Params,
});
const dataOf = (p: Record<string, Tensor>): Record<string, Float32Array> => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, t.data as Float32Array]));

export async function w2Peers(): Promise<Row[]> {
  const d = loadMlp();
  const m = mlpArrs(d);
  const spec: MlpSpec = { x: m.x, onehot: m.onehot, params: m.params, lr: 0.01 };
  // The initial loss and gradient: the shared PyTorch float64 reference; after a step: yieldiff.
  const y = yieldiffReference(mlpLoss, m.params, [d.x, d.onehot], { kind: "sgd", lr: spec.lr });
  const gY = gradErr(y.init.grads, dataOf(d.gradReference));
  if (relErr(y.init.loss, d.lossReference) > 1e-4 || gY > 1e-3) throw new Error(`W2-PEERS: yieldiff's own loss/gradient differ from mlp.json (${gY})`);
  const ref: Reference = { init: { loss: d.lossReference, grads: dataOf(d.gradReference) }, afterLoss: y.afterLoss, source: "mlp.json (after a step: yieldiff)" };
  return training("W2-PEERS", "ms/step", ref, (s) => forSystem(s, () => tfjs.mlp(spec), (mode) => jaxjs.mlp(mode, spec)), { iterations: 10, time: 1000, warmup: 2 });
}

export async function w8Peers(): Promise<Row[]> {
  const id = "W8-PEERS";
  const d = loadMlp();
  const m = mlpArrs(d);
  const spec = { x: m.x, onehot: m.onehot, params: m.params, v: m.v, lr: 0 };
  const budget = { iterations: 5, time: 1000, warmup: 2 };
  const rows: Row[] = [];
  for (const sys of SYSTEMS) {
    console.log(`  ${id}: ${sys.name} ...`);
    let r: HvpRunner | undefined;
    try {
      await sys.setup();
      r = forSystem(sys, () => tfjs.hvp(spec), (mode) => jaxjs.hvp(mode, spec));
      const gErr = gradErr(r.grad(), dataOf(d.gradReference));
      if (!(gErr <= 1e-3)) throw new Mismatch(`wrong gradient: max rel. error ${e1(gErr)} vs PyTorch float64`);
      const hErr = gradErr(r.hvp(), dataOf(d.hvpReference));
      if (!(hErr <= 1e-3)) throw new Mismatch(`wrong HVP: max rel. error ${e1(hErr)} vs PyTorch float64 (gradient right, ${e1(gErr)})`);
      const runner = r;
      const tg = await timeIt(() => runner.timedGrad(), budget);
      const th = await timeIt(() => runner.timedHvp(), budget);
      const how = sys.tf ? "reverse over reverse (no forward mode)" : "forward over reverse (jvp of grad)";
      rows.push({
        workload: id,
        system: sys.name,
        unit: "ratio",
        median: th.median / tg.median,
        note: `${how}; HVP ${th.median.toFixed(2)} ms, gradient ${tg.median.toFixed(2)} ms; max rel. error vs PyTorch float64: gradient ${e1(gErr)}, HVP ${e1(hErr)}`,
      });
    } catch (e) {
      rows.push(noFigure(id, sys.name, "ratio", e instanceof Mismatch ? message(e) : `fails: ${message(e)}`));
    } finally {
      try {
        r?.dispose();
      } catch {
        // see training()
      }
    }
  }
  return rows;
}

// ---- W3, W4: char-RNN and LSTM ----

const VOCAB = 26;
const HIDDEN = 50;
const SEQ = 20;

function seqSpec(cell: "rnn" | "lstm"): SeqSpec {
  const chars = labels(SEQ + 1, VOCAB, cell === "rnn" ? 31 : 41);
  const row = (c: number): Arr => oneHot([c], VOCAB);
  const w = (shape: number[], seed: number) => normal(shape, seed, 0.01);
  const params: Params =
    cell === "rnn"
      ? { Wxh: w([VOCAB, HIDDEN], 32), Whh: w([HIDDEN, HIDDEN], 33), bh: zerosArr([HIDDEN]), Why: w([HIDDEN, VOCAB], 34), by: zerosArr([VOCAB]) }
      : {
          Wf: w([HIDDEN + VOCAB, HIDDEN], 42),
          Wi: w([HIDDEN + VOCAB, HIDDEN], 43),
          Wo: w([HIDDEN + VOCAB, HIDDEN], 44),
          Wc: w([HIDDEN + VOCAB, HIDDEN], 45),
          bf: zerosArr([HIDDEN]),
          bi: zerosArr([HIDDEN]),
          bo: zerosArr([HIDDEN]),
          bc: zerosArr([HIDDEN]),
          Why: w([HIDDEN, VOCAB], 46),
          by: zerosArr([VOCAB]),
        };
  return {
    cell,
    hidden: HIDDEN,
    xs: chars.slice(0, SEQ).map(row),
    targets: chars.slice(1).map(row),
    params,
    lr: 0.1,
    eps: 1e-8,
    clip: 5,
  };
}

async function seqPeers(id: string, cell: "rnn" | "lstm", budget: Budget): Promise<Row[]> {
  const spec = seqSpec(cell);
  const ref = yieldiffReference(seqLoss(cell, HIDDEN), spec.params, [spec.xs.map(toTensor), spec.targets.map(toTensor)], {
    kind: "adagrad",
    lr: spec.lr,
    eps: spec.eps,
    clip: spec.clip,
  });
  return training(id, "ms/iter", ref, (s) => forSystem(s, () => tfjs.seq(spec), (mode) => jaxjs.seq(mode, spec)), budget);
}

export const w3Peers = (): Promise<Row[]> => seqPeers("W3-PEERS", "rnn", { iterations: 5, time: 1000, warmup: 1 });
export const w4Peers = (): Promise<Row[]> => seqPeers("W4-PEERS", "lstm", { iterations: 3, time: 1000, warmup: 1 });

// ---- W5: Tree-LSTM, with yieldiff's W5 model, parameters and embedding (w5.ts) ----

/** yieldiff's W5 loss over flat parameters (the peers' layout). */
function* treeLossFlat(p: YP, tree: Tree, rows: readonly Tensor[]) {
  const nested = { cell: { Wx: p.Wx!, bx: p.bx!, Ul: p.Ul!, Ur: p.Ur!, b: p.b! }, out: { W: p.W!, b: p.bo! } };
  return yield* treeLoss(nested as Parameters<typeof treeLoss>[0], tree, rows);
}

/**
 * Every system is checked on tree 0 (loss, gradient, loss after an Adagrad step), then steps
 * through the trees in order for about 5 s (at least 3 trees; jax-js eager takes seconds a tree).
 * The figure is ms per node over the trees timed times the mean size of the 100 trees (44.2
 * nodes), to compare with yieldiff's W5 (the mean over all 100 trees); min – max: the same per
 * tree.
 */
export async function w5Peers(): Promise<Row[]> {
  const id = "W5-PEERS";
  const { V, trees } = loadTrees();
  const rowsY = embeddingRows(V);
  const p0 = treeInitParams(5);
  const params: Params = {
    Wx: arr(p0.cell.Wx as Tensor),
    bx: arr(p0.cell.bx as Tensor),
    Ul: arr(p0.cell.Ul as Tensor),
    Ur: arr(p0.cell.Ur as Tensor),
    b: arr(p0.cell.b as Tensor),
    W: arr(p0.out.W as Tensor),
    bo: arr(p0.out.b as Tensor),
  };
  const spec: TreeSpec = { hidden: 150, classes: 5, rows: rowsY.map(arr), trees, params, lr: 0.05, eps: 1e-8, clip: 5 };
  const ref = yieldiffReference(treeLossFlat, params, [trees[0]!, rowsY], { kind: "adagrad", lr: spec.lr, eps: spec.eps, clip: spec.clip });
  const meanNodes = trees.reduce((n, t) => n + t.word.length, 0) / trees.length;
  const rows: Row[] = [];
  for (const sys of SYSTEMS) {
    console.log(`  ${id}: ${sys.name} ...`);
    let tr: TreeTrainer | undefined;
    try {
      await sys.setup();
      tr = forSystem<TreeTrainer>(sys, () => tfjs.treeLstm(spec), (mode) => jaxjs.treeLstm(mode, spec));
      tr.tree(0);
      const first = await tr.lossAndGrad();
      const lErr = relErr(first.loss, ref.init.loss);
      const gErr = gradErr(first.grads, ref.init.grads);
      if (!(lErr <= 1e-4 && gErr <= 1e-3)) throw new Mismatch(`wrong: loss ${first.loss} vs yieldiff ${ref.init.loss}, gradient rel. error ${e1(gErr)}`);
      await tr.step();
      const after = await tr.step();
      const aErr = relErr(after, ref.afterLoss);
      if (!(aErr <= 1e-3)) throw new Mismatch(`wrong update: loss after one step ${after} vs yieldiff ${ref.afterLoss}`);
      const perNode: number[] = [];
      let ms = 0;
      let nodes = 0;
      const start = performance.now();
      for (let k = 0; k < trees.length && (k < 3 || performance.now() - start < 5000); k++) {
        tr.tree(k);
        const t0 = performance.now();
        await tr.step();
        const dt = performance.now() - t0;
        ms += dt;
        nodes += trees[k]!.word.length;
        perNode.push(dt / trees[k]!.word.length);
      }
      const how = sys.jax === "jit" ? "jitted leaf/node cells inside an eager valueAndGrad of the tree, jitted update" : "valueAndGrad of the whole tree";
      rows.push({
        workload: id,
        system: sys.name,
        unit: "ms/tree",
        median: (ms / nodes) * meanNodes,
        min: Math.min(...perNode) * meanNodes,
        max: Math.max(...perNode) * meanNodes,
        note: `${how}; trees 0–${perNode.length - 1} timed (${nodes} nodes), ms per node × ${meanNodes.toFixed(1)}; vs yieldiff on tree 0: loss ${e1(lErr)}, gradient ${e1(gErr)}, loss after a step ${e1(aErr)}`,
      });
    } catch (e) {
      rows.push(noFigure(id, sys.name, "ms/tree", e instanceof Mismatch ? message(e) : `fails: ${message(e)}`));
    } finally {
      try {
        tr?.dispose();
      } catch {
        // see training()
      }
    }
  }
  return rows;
}

// ---- W6: MNIST CNN ----

export async function w6Peers(): Promise<Row[]> {
  const n = 100;
  const u = (shape: number[], seed: number, fanIn: number) => uniform(shape, seed, 1 / Math.sqrt(fanIn));
  const spec: CnnSpec = {
    x: normal([n, 1, 28, 28], 61),
    onehot: oneHot(labels(n, 10, 62), 10),
    params: {
      c1w: u([10, 1, 5, 5], 63, 25),
      c1b: u([10], 64, 25),
      c2w: u([20, 10, 5, 5], 65, 250),
      c2b: u([20], 66, 250),
      f1w: u([320, 50], 67, 320),
      f1b: u([50], 68, 320),
      f2w: u([50, 10], 69, 50),
      f2b: u([10], 70, 50),
    },
    lr: 0.05,
  };
  const ref = yieldiffReference(cnnLoss, spec.params, [toTensor(spec.x), toTensor(spec.onehot)], { kind: "sgd", lr: spec.lr });
  // The check itself (a gradient and two steps) is the warm-up: TF.js cpu takes seconds a step.
  return training("W6-PEERS", "ms/step", ref, (s) => forSystem(s, () => tfjs.cnn(spec), (mode) => jaxjs.cnn(mode, spec)), { iterations: 3, time: 500, warmup: 0 });
}

// ---- W7: matmul 512^3 float32 ----

export async function w7Peers(): Promise<Row[]> {
  const id = "W7-PEERS";
  const N = 512;
  const flops = 2 * N * N * N;
  const a = randn([N, N], { seed: 7, dtype: "float32" });
  const b = randn([N, N], { seed: 8, dtype: "float32" });
  const want = run(function* () {
    return yield* matmul(a, b);
  }).data as Float32Array;
  // |a| |b|, the scale of each entry's rounding error.
  const absA = a.data.map(Math.abs);
  const absB = b.data.map(Math.abs);
  const scale = new Float32Array(N * N);
  for (let i = 0; i < N; i++)
    for (let p = 0; p < N; p++) {
      const x = absA[i * N + p]!;
      for (let j = 0; j < N; j++) scale[i * N + j] += x * absB[p * N + j]!;
    }
  const A = arr(a);
  const B = arr(b);
  const rows: Row[] = [];
  for (const sys of SYSTEMS) {
    console.log(`  ${id}: ${sys.name} ...`);
    let mm: { run: () => Float32Array; dispose: () => void } | undefined;
    try {
      await sys.setup();
      mm = forSystem(sys, () => tfjs.matmul(A, B), (mode) => jaxjs.matmul(mode, A, B));
      const got = mm.run();
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale[i]!);
      if (!(worst <= 1e-5)) throw new Mismatch(`wrong: |c - yieldiff's c| reaches ${e1(worst)} · (|a||b|)`);
      const product = mm;
      const t = await timeIt(() => product.run(), { iterations: 5, time: 1000, warmup: 2 });
      rows.push({
        workload: id,
        system: sys.name,
        unit: "GFLOP/s",
        median: flops / (t.median * 1e6),
        min: flops / (t.max * 1e6),
        max: flops / (t.min * 1e6),
        note: `${sys.tf === "wasm" ? `${(await tfjs.wasmSimd()) ? "SIMD" : "no SIMD"}, one thread; ` : ""}result read back; max error ${e1(worst)} · (|a||b|) vs yieldiff`,
      });
    } catch (e) {
      rows.push(noFigure(id, sys.name, "GFLOP/s", e instanceof Mismatch ? message(e) : `fails: ${message(e)}`));
    } finally {
      mm?.dispose();
    }
  }
  return rows;
}
