// jax-js (@jax-js/jax) as a benchmark peer (bench/workloads/peers.ts): the `wasm` device after
// `init("cpu", "wasm")`, eager and under `jit`. A devDependency for the benchmarks; never
// imported by src/. In Node there is no global Worker, so jax-js runs its kernels on one thread.
//
// jax-js frees memory by reference counting: every function takes ownership of the arrays it is
// given, `.ref` adds a reference, `.dispose()` drops one. The functions below consume each
// argument exactly once (`.ref` for every further use), and the trainers replace their
// parameters with the arrays a step returns, so that a run holds a fixed set of buffers.
// (jax-js 0.1.25 itself keeps some JavaScript heap per eager valueAndGrad call, about 3 KB for
// `w.add(1).sum()` and 20 KB with a tanh, while forward-only calls and jitted steps stay flat:
// eager W4 grows the heap by about 15 MB a step. The benchmarks run few enough steps for that.)
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import {
  blockUntilReady,
  defaultDevice,
  init,
  jit,
  jvp,
  lax,
  nn,
  numpy as np,
  grad,
  tree,
  valueAndGrad,
  type Array as JArray,
} from "@jax-js/jax";
import type { Arr, CnnSpec, HvpRunner, LossGrad, MlpSpec, Params, SeqSpec, Trainer, TreeSpec, TreeTrainer } from "../workloads/peers.ts";

export type JaxMode = "eager" | "jit";

let ready: Promise<void> | undefined;
/** init("cpu", "wasm") once, with `wasm` as the default device. */
export const useWasm = (): Promise<void> =>
  (ready ??= (async () => {
    const devices = await init("cpu", "wasm");
    if (!devices.includes("wasm")) throw new Error(`jax-js initialized ${devices.join(", ")}, not wasm`);
    defaultDevice("wasm");
  })());

type P = Record<string, JArray>;
// jax-js's transformations are typed over its JsTree generics; these programs use plain records.
type AnyFn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

const fromArr = (a: Arr): JArray => np.array(a.data as Float32Array<ArrayBuffer>).reshape(a.shape);
const fromParams = (ps: Params, names: readonly string[]): P => Object.fromEntries(names.map((k) => [k, fromArr(ps[k]!)]));
/** Reads (and so consumes) every array of a record. */
const readAll = (p: P): Record<string, Float32Array> => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.dataSync() as Float32Array]));
const mapP = (p: P, q: P, f: (a: JArray, b: JArray) => JArray): P => Object.fromEntries(Object.keys(p).map((k) => [k, f(p[k]!, q[k]!)]));
const maybeJit = <F extends AnyFn>(mode: JaxMode, f: F): F & { dispose?: () => void } => (mode === "jit" ? (jit(f) as unknown as F & { dispose: () => void }) : f);

/** W7: c = a b read back into a typed array (the jitted function is a single matmul). */
export function matmul(mode: JaxMode, a: Arr, b: Arr): { run: () => Float32Array; dispose: () => void } {
  const ja = fromArr(a);
  const jb = fromArr(b);
  const mm = maybeJit(mode, (x: JArray, y: JArray) => np.matmul(x, y));
  return {
    run: () => mm(ja.ref, jb.ref).dataSync() as Float32Array,
    dispose: () => {
      ja.dispose();
      jb.dispose();
      mm.dispose?.();
    },
  };
}

/** mean over the batch of logsumexp(z) − Σ z·onehot; consumes z and onehot. */
const softmaxXent = (z: JArray, onehot: JArray): JArray => nn.logsumexp(z.ref, -1).sub(z.mul(onehot).sum(-1)).mean();

type MlpConsts = { x: JArray; onehot: JArray };
const mlpLoss = (p: P, c: MlpConsts): JArray => {
  const h = nn.relu(np.matmul(c.x, p.W1!).add(p.b1!));
  return softmaxXent(np.matmul(h, p.W2!).add(p.b2!), c.onehot);
};

type Update = { kind: "sgd"; lr: number } | { kind: "adagrad"; lr: number; eps: number; clip: number };

/** One SGD or Adagrad (clipped gradient, accumulators m) update; consumes p, m and g. */
function applyUpdate(p: P, m: P, g: P, u: Update): [P, P] {
  if (u.kind === "sgd") return [mapP(p, g, (q, gq) => q.sub(gq.mul(u.lr))), m];
  const p2: P = {};
  const m2: P = {};
  for (const k of Object.keys(p)) {
    const gk = np.clip(g[k]!, -u.clip, u.clip);
    const mk = m[k]!.add(np.square(gk.ref));
    p2[k] = p[k]!.sub(gk.mul(u.lr).div(np.sqrt(mk.ref.add(u.eps))));
    m2[k] = mk;
  }
  return [p2, m2];
}

function trainer<C extends object>(mode: JaxMode, names: readonly string[], init0: Params, loss: (p: P, c: C) => JArray, consts: C, u: Update): Trainer {
  let params = fromParams(init0, names);
  let mem: P = u.kind === "adagrad" ? Object.fromEntries(names.map((k) => [k, np.zeros(init0[k]!.shape)])) : {};
  const vg = valueAndGrad(loss as AnyFn) as unknown as (p: P, c: C) => [JArray, P];
  /** One step; consumes p, m and c; returns [loss, new p, new m]. */
  const stepFn = (p: P, m: P, c: C): [JArray, P, P] => {
    const [l, g] = vg(tree.ref(p), c);
    return [l, ...applyUpdate(p, m, g, u)];
  };
  const step = maybeJit(mode, stepFn);
  const lossAndGrad = maybeJit(mode, vg);
  return {
    lossAndGrad(): LossGrad {
      const [l, g] = lossAndGrad(tree.ref(params), tree.ref(consts));
      return { loss: l.dataSync()[0]!, grads: readAll(g) };
    },
    async step(): Promise<number> {
      const [l, p2, m2] = step(params, mem, tree.ref(consts));
      params = p2;
      mem = m2;
      const value = l.dataSync()[0]!;
      await blockUntilReady([params, mem]);
      return value;
    },
    dispose(): void {
      tree.dispose([params, mem]);
      tree.dispose(consts as P);
      step.dispose?.();
      lossAndGrad.dispose?.();
    },
  };
}

/** W2: one SGD step of the MLP. */
export const mlp = (mode: JaxMode, s: MlpSpec): Trainer =>
  trainer<MlpConsts>(mode, ["W1", "b1", "W2", "b2"], s.params, mlpLoss, { x: fromArr(s.x), onehot: fromArr(s.onehot) }, { kind: "sgd", lr: s.lr });

type SeqConsts = { xs: JArray[]; ts: JArray[] };

/** W3 (cell "rnn") and W4 (cell "lstm"): one Adagrad iteration over the sequence. */
export function seq(mode: JaxMode, s: SeqSpec): Trainer {
  const loss = (p: P, c: SeqConsts): JArray => {
    let h = np.zeros([1, s.hidden]);
    let cell = np.zeros([1, s.hidden]);
    let total: JArray | undefined;
    for (let t = 0; t < c.xs.length; t++) {
      if (s.cell === "rnn") {
        h = np.tanh(np.matmul(c.xs[t]!, p.Wxh!.ref).add(np.matmul(h, p.Whh!.ref)).add(p.bh!.ref));
      } else {
        const hx = np.concatenate([h, c.xs[t]!], 1);
        const f = nn.sigmoid(np.matmul(hx.ref, p.Wf!.ref).add(p.bf!.ref));
        const i = nn.sigmoid(np.matmul(hx.ref, p.Wi!.ref).add(p.bi!.ref));
        const o = nn.sigmoid(np.matmul(hx.ref, p.Wo!.ref).add(p.bo!.ref));
        const g = np.tanh(np.matmul(hx, p.Wc!.ref).add(p.bc!.ref));
        cell = f.mul(cell).add(i.mul(g));
        h = o.mul(np.tanh(cell.ref));
      }
      const y = np.matmul(h.ref, p.Why!.ref).add(p.by!.ref);
      const l = nn.logsumexp(y.ref).sub(y.mul(c.ts[t]!).sum());
      total = total === undefined ? l : total.add(l);
    }
    h.dispose();
    cell.dispose();
    tree.dispose(p);
    return total!;
  };
  const consts: SeqConsts = { xs: s.xs.map(fromArr), ts: s.targets.map(fromArr) };
  return trainer(mode, Object.keys(s.params), s.params, loss, consts, { kind: "adagrad", lr: s.lr, eps: s.eps, clip: s.clip });
}

type CnnConsts = { x: JArray; onehot: JArray };

/** W6: one SGD step of the MNIST CNN (NCHW inputs, OIHW filters, as yieldiff). */
export function cnn(mode: JaxMode, s: CnnSpec): Trainer {
  const n = s.x.shape[0]!;
  /** 2x2 max pooling with stride 2 as a reshape and a max over the window axes. */
  const pool = (h: JArray): JArray => {
    const [b, ch, hh, ww] = h.shape as [number, number, number, number];
    return h.reshape([b, ch, hh / 2, 2, ww / 2, 2]).max([3, 5]);
  };
  const conv = (h: JArray, w: JArray, b: JArray): JArray => lax.conv(h, w, [1, 1], "VALID").add(b.reshape([1, -1, 1, 1]));
  const loss = (p: P, c: CnnConsts): JArray => {
    let h = nn.relu(pool(conv(c.x, p.c1w!, p.c1b!)));
    h = nn.relu(pool(conv(h, p.c2w!, p.c2b!))).reshape([n, -1]);
    const f = nn.relu(np.matmul(h, p.f1w!).add(p.f1b!));
    const z = np.matmul(f, p.f2w!).add(p.f2b!);
    return nn.logSoftmax(z, -1).mul(c.onehot).sum().mul(-1 / n);
  };
  const names = ["c1w", "c1b", "c2w", "c2b", "f1w", "f1b", "f2w", "f2b"];
  return trainer<CnnConsts>(mode, names, s.params, loss, { x: fromArr(s.x), onehot: fromArr(s.onehot) }, { kind: "sgd", lr: s.lr });
}

/**
 * W5: one Adagrad step on one tree, the tree's loss differentiated by valueAndGrad. Under "jit"
 * the two cells (leaf, internal node; forward with the node's loss) are jitted functions that
 * the eager recursion calls, and valueAndGrad differentiates through them; the update is
 * jitted too. A tree's shape changes from step to step, so the whole step is not jitted.
 */
export function treeLstm(mode: JaxMode, s: TreeSpec): TreeTrainer {
  const H = s.hidden;
  const names = Object.keys(s.params);
  const rows = s.rows.map(fromArr);
  const labels = Array.from({ length: s.classes }, (_, k) => fromArr({ shape: [s.classes], data: Float32Array.from({ length: s.classes }, (_, j) => +(j === k)) }));
  const u: Update = { kind: "adagrad", lr: s.lr, eps: s.eps, clip: s.clip };
  const xent = (z: JArray, y: JArray): JArray => nn.logsumexp(z.ref).sub(z.mul(y).sum());
  /** [h, c, loss] of a leaf from its word's row x. */
  const leafFn = (Wx: JArray, bx: JArray, W: JArray, bo: JArray, x: JArray, y: JArray): [JArray, JArray, JArray] => {
    const z = np.matmul(x, Wx).add(bx);
    const c = nn.sigmoid(z.ref.slice([0, H])).mul(np.tanh(z.ref.slice([2 * H, 3 * H])));
    const h = nn.sigmoid(z.slice([H, 2 * H])).mul(np.tanh(c.ref));
    return [h.ref, c, xent(np.matmul(h, W).add(bo), y)];
  };
  /** [h, c, loss] of an internal node from its children's states. */
  const nodeFn = (Ul: JArray, Ur: JArray, b: JArray, W: JArray, bo: JArray, hl: JArray, cl: JArray, hr: JArray, cr: JArray, y: JArray): [JArray, JArray, JArray] => {
    const z = np.matmul(hl, Ul).add(np.matmul(hr, Ur)).add(b);
    const gate = (k: number) => z.ref.slice([k * H, (k + 1) * H]);
    const c = nn
      .sigmoid(gate(0))
      .mul(np.tanh(gate(4)))
      .add(nn.sigmoid(gate(1)).mul(cl))
      .add(nn.sigmoid(gate(2)).mul(cr));
    const h = nn.sigmoid(gate(3)).mul(np.tanh(c.ref));
    z.dispose();
    return [h.ref, c, xent(np.matmul(h, W).add(bo), y)];
  };
  const leaf = maybeJit(mode, leafFn);
  const node = maybeJit(mode, nodeFn);
  let current = s.trees[0]!;
  const loss = (p: P): JArray => {
    const t = current;
    const hs: JArray[] = [];
    const cs: JArray[] = [];
    let total: JArray | undefined;
    for (let n = 0; n < t.word.length; n++) {
      const l = t.lch[n]!;
      const r = t.rch[n]!;
      const y = labels[t.label[n]!]!.ref;
      const [h, c, ln] =
        l < 0
          ? leaf(p.Wx!.ref, p.bx!.ref, p.W!.ref, p.bo!.ref, rows[t.word[n]!]!.ref, y)
          : node(p.Ul!.ref, p.Ur!.ref, p.b!.ref, p.W!.ref, p.bo!.ref, hs[l]!, cs[l]!, hs[r]!, cs[r]!, y); // children's states consumed here
      hs.push(h);
      cs.push(c);
      total = total === undefined ? ln : total.add(ln);
    }
    hs[hs.length - 1]!.dispose();
    cs[cs.length - 1]!.dispose();
    tree.dispose(p);
    return total!;
  };
  const vg = valueAndGrad(loss as AnyFn) as unknown as (p: P) => [JArray, P];
  const update = maybeJit(mode, (p: P, m: P, g: P) => applyUpdate(p, m, g, u));
  let params = fromParams(s.params, names);
  let mem: P = Object.fromEntries(names.map((k) => [k, np.zeros(s.params[k]!.shape)]));
  return {
    tree: (i: number) => void (current = s.trees[i]!),
    lossAndGrad(): LossGrad {
      const [l, g] = vg(tree.ref(params));
      return { loss: l.dataSync()[0]!, grads: readAll(g) };
    },
    async step(): Promise<number> {
      const [l, g] = vg(tree.ref(params));
      [params, mem] = update(params, mem, g);
      const value = l.dataSync()[0]!;
      await blockUntilReady([params, mem]);
      return value;
    },
    dispose(): void {
      tree.dispose([params, mem, rows, labels]);
      leaf.dispose?.();
      node.dispose?.();
      update.dispose?.();
    },
  };
}

/** W8: HVP forward over reverse, jvp of the gradient along v. */
export function hvp(mode: JaxMode, s: MlpSpec & { v: Params }): HvpRunner {
  const names = ["W1", "b1", "W2", "b2"];
  const params = fromParams(s.params, names);
  const v = fromParams(s.v, names);
  const consts: MlpConsts = { x: fromArr(s.x), onehot: fromArr(s.onehot) };
  const gradient = grad(mlpLoss as AnyFn) as unknown as (p: P, c: MlpConsts) => P;
  const hvpFn = (p: P, dir: P, c: MlpConsts): P => {
    const [g, hv] = jvp((q: P) => gradient(q, c), [p], [dir]) as unknown as [P, P];
    tree.dispose(g);
    return hv;
  };
  const g = maybeJit(mode, gradient);
  const h = maybeJit(mode, hvpFn);
  const callG = () => g(tree.ref(params), tree.ref(consts));
  const callH = () => h(tree.ref(params), tree.ref(v), tree.ref(consts));
  const timed = async (out: P) => {
    await blockUntilReady(out);
    tree.dispose(out);
  };
  return {
    grad: () => readAll(callG()),
    hvp: () => readAll(callH()),
    timedGrad: () => timed(callG()),
    timedHvp: () => timed(callH()),
    dispose: () => {
      tree.dispose([params, v]);
      tree.dispose(consts as P);
      g.dispose?.();
      h.dispose?.();
    },
  };
}

export interface WorkerTiming {
  value: number;
  slope: number;
  /** ms of the first call (tracing and, under jit, compiling). */
  firstMs: number;
  samples: number[];
}

// W1 runs in a worker thread: jax-js disposes a traced graph recursively, which overflows
// Node's default stack (about 1 MB) on a chain of 30,000 operations; a worker gets a larger one.
const W1_WORKER = `
const { parentPort, workerData: d } = require("node:worker_threads");
const { init, defaultDevice, numpy: np, valueAndGrad, jit } = require(d.path);
(async () => {
  await init("cpu", "wasm");
  defaultDevice("wasm");
  const chain = (x) => {
    let y = x.ref;
    for (let i = 0; i < d.steps; i++) y = np.sin(y.mul(x.ref)).add(x.ref);
    x.dispose();
    return y;
  };
  const vg = d.mode === "jit" ? jit(valueAndGrad(chain)) : valueAndGrad(chain);
  const once = () => {
    // float64 (np.array of a Float64Array needs Float16Array, which Node 20 lacks; np.full does not)
    const [v, g] = vg(np.full([], d.x, { dtype: np.float64 }));
    return [v.dataSync()[0], g.dataSync()[0]];
  };
  let t = performance.now();
  const [value, slope] = once();
  const firstMs = performance.now() - t;
  once();
  const samples = [];
  const start = performance.now();
  while (samples.length < d.iterations || performance.now() - start < d.time) {
    t = performance.now();
    once();
    samples.push(performance.now() - t);
  }
  parentPort.postMessage({ value, slope, firstMs, samples });
})().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));
`;

/** W1 in a worker with a 256 MB stack: value, slope and ms per run (after one warm-up run). */
export async function scalarChainInWorker(mode: JaxMode, steps: number, x: number, budget: { iterations: number; time: number }): Promise<WorkerTiming> {
  const path = createRequire(import.meta.url).resolve("@jax-js/jax");
  const worker = new Worker(W1_WORKER, { eval: true, workerData: { path, mode, steps, x, ...budget }, resourceLimits: { stackSizeMb: 256 } });
  try {
    const msg = await new Promise<WorkerTiming & { error?: string }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the jax-js W1 worker exited with code ${code}`)));
    });
    if (msg.error) throw new Error(msg.error);
    return msg;
  } finally {
    await worker.terminate();
  }
}
