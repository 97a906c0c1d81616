// TensorFlow.js as a benchmark peer (bench/workloads/peers.ts): tfjs-core with the `cpu` and
// `wasm` backends, float32 only. A devDependency for the benchmarks; never imported by src/.
// Memory is managed by hand: every step runs inside tf.tidy, replaced tensors are disposed, and
// each trainer checks that a step leaves the number of live tensors unchanged.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's Node build registers no gradients; this (ES module) file registers them all.
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
// Importing a name keeps the backend module in the bundle (its package marks it side-effect
// free, so a bare import would be dropped); loading it registers the `cpu` backend.
import { version_cpu } from "@tensorflow/tfjs-backend-cpu";
// Kept external in bench/bundle.mjs: its Emscripten loader needs its own __dirname.
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import type { Arr, CnnSpec, HvpRunner, LossGrad, MlpSpec, Params, SeqSpec, Trainer, TreeSpec, TreeTrainer } from "../workloads/peers.ts";

export type TfBackend = "cpu" | "wasm";
export const tfVersion = `tfjs-core ${tf.version_core}, backend-cpu ${version_cpu}`;

let configured = false;
/** Makes `backend` current; the wasm binaries are read from node_modules (no network). */
export async function useBackend(backend: TfBackend): Promise<void> {
  if (!configured) {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"))}/`);
    // Production mode skips TF.js's own debugging checks (and its console banner in Node).
    tf.enableProdMode();
    configured = true;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend "${backend}" did not initialize`);
  await tf.ready();
}

/** Whether the wasm backend runs its SIMD build (single-threaded either way in Node). */
export const wasmSimd = async (): Promise<boolean> => (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;

const fromArr = (a: Arr): tf.Tensor => tf.tensor(a.data, a.shape, "float32");
const read = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

/** W1: y0 = x, y(i+1) = sin(y(i)·x) + x; value and dy/dx at x (float32: TF.js has no float64). */
export function scalarChain(steps: number): (x: number) => [number, number] {
  const chain = (x: tf.Tensor): tf.Scalar => {
    let y = x;
    for (let i = 0; i < steps; i++) y = tf.add(tf.sin(tf.mul(y, x)), x);
    return y as tf.Scalar;
  };
  const vg = tf.valueAndGrad(chain);
  return (x0: number) =>
    tf.tidy(() => {
      const { value, grad } = vg(tf.scalar(x0));
      return [value.dataSync()[0]!, grad.dataSync()[0]!] as [number, number];
    });
}

/** W7: c = a b, read back into a typed array. */
export function matmul(a: Arr, b: Arr): { run: () => Float32Array; dispose: () => void } {
  const ta = fromArr(a);
  const tb = fromArr(b);
  return {
    run: () => {
      const c = tf.matMul(ta, tb);
      const out = read(c);
      c.dispose();
      return out;
    },
    dispose: () => tf.dispose([ta, tb]),
  };
}

type T = Record<string, tf.Tensor>;

/** mean over the batch of logsumexp(z) − Σ z·onehot. */
const softmaxXent = (z: tf.Tensor, onehot: tf.Tensor): tf.Scalar =>
  tf.mean(tf.sub(tf.logSumExp(z, -1), tf.sum(tf.mul(z, onehot), -1)));

const mlpLoss = (p: T, x: tf.Tensor, onehot: tf.Tensor): tf.Scalar => {
  const h = tf.relu(tf.add(tf.matMul(x, p.W1!), p.b1!));
  return softmaxXent(tf.add(tf.matMul(h, p.W2!), p.b2!), onehot);
};

interface TrainerOptions {
  names: readonly string[];
  init: Params;
  loss: (p: T) => tf.Scalar;
  update: { kind: "sgd"; lr: number } | { kind: "adagrad"; lr: number; eps: number; clip: number };
  /** Parameter layout conversions (yieldiff's layout <-> TF.js's), identity by default. */
  toTf?: (name: string, t: tf.Tensor) => tf.Tensor;
  fromTf?: (name: string, t: tf.Tensor) => tf.Tensor;
  consts: tf.Tensor[];
}

function trainer(o: TrainerOptions): Trainer {
  const toTf = o.toTf ?? ((_: string, t: tf.Tensor) => t);
  const fromTf = o.fromTf ?? ((_: string, t: tf.Tensor) => t);
  let params = o.names.map((k) => tf.tidy(() => toTf(k, fromArr(o.init[k]!))));
  let mem = o.update.kind === "adagrad" ? params.map((p) => tf.zerosLike(p)) : [];
  const vg = tf.valueAndGrads((...ps: tf.Tensor[]) => o.loss(Object.fromEntries(o.names.map((k, i) => [k, ps[i]!]))));
  const step = (): number => {
    const before = tf.memory().numTensors;
    const [loss, next, nextMem] = tf.tidy(() => {
      const { value, grads } = vg(params);
      const u = o.update;
      if (u.kind === "sgd") return [value, params.map((p, i) => tf.sub(p, tf.mul(grads[i]!, u.lr))), []];
      const g = grads.map((gi) => tf.clipByValue(gi, -u.clip, u.clip));
      const m = mem.map((mi, i) => tf.add(mi, tf.square(g[i]!)));
      return [value, params.map((p, i) => tf.sub(p, tf.div(tf.mul(g[i]!, u.lr), tf.sqrt(tf.add(m[i]!, u.eps))))), m];
    }) as [tf.Scalar, tf.Tensor[], tf.Tensor[]];
    tf.dispose([...params, ...mem]);
    params = next;
    mem = nextMem;
    const l = loss.dataSync()[0]!;
    loss.dispose();
    const after = tf.memory().numTensors;
    if (after !== before) throw new Error(`TF.js step leaked ${after - before} tensors`);
    return l;
  };
  return {
    lossAndGrad(): LossGrad {
      return tf.tidy(() => {
        const { value, grads } = vg(params);
        return {
          loss: value.dataSync()[0]!,
          grads: Object.fromEntries(o.names.map((k, i) => [k, read(fromTf(k, grads[i]!))])),
        };
      });
    },
    step,
    dispose: () => tf.dispose([...params, ...mem, ...o.consts]),
  };
}

/** W2: one SGD step of the MLP. */
export function mlp(s: MlpSpec): Trainer {
  const x = fromArr(s.x);
  const y = fromArr(s.onehot);
  return trainer({ names: ["W1", "b1", "W2", "b2"], init: s.params, loss: (p) => mlpLoss(p, x, y), update: { kind: "sgd", lr: s.lr }, consts: [x, y] });
}

/** W3 (cell "rnn") and W4 (cell "lstm"): one Adagrad iteration over the sequence. */
export function seq(s: SeqSpec): Trainer {
  const xs = s.xs.map(fromArr);
  const ts = s.targets.map(fromArr);
  const names = Object.keys(s.params);
  const loss = (p: T): tf.Scalar => {
    let h: tf.Tensor = tf.zeros([1, s.hidden]);
    let c: tf.Tensor = tf.zeros([1, s.hidden]);
    let total: tf.Tensor = tf.scalar(0);
    for (let t = 0; t < xs.length; t++) {
      if (s.cell === "rnn") {
        h = tf.tanh(tf.add(tf.add(tf.matMul(xs[t]!, p.Wxh!), tf.matMul(h, p.Whh!)), p.bh!));
      } else {
        const hx = tf.concat([h, xs[t]!], 1);
        const f = tf.sigmoid(tf.add(tf.matMul(hx, p.Wf!), p.bf!));
        const i = tf.sigmoid(tf.add(tf.matMul(hx, p.Wi!), p.bi!));
        const o = tf.sigmoid(tf.add(tf.matMul(hx, p.Wo!), p.bo!));
        const g = tf.tanh(tf.add(tf.matMul(hx, p.Wc!), p.bc!));
        c = tf.add(tf.mul(f, c), tf.mul(i, g));
        h = tf.mul(o, tf.tanh(c));
      }
      const y = tf.add(tf.matMul(h, p.Why!), p.by!);
      total = tf.add(total, tf.sub(tf.logSumExp(y), tf.sum(tf.mul(y, ts[t]!))));
    }
    return total as tf.Scalar;
  };
  return trainer({ names, init: s.params, loss, update: { kind: "adagrad", lr: s.lr, eps: s.eps, clip: s.clip }, consts: [...xs, ...ts] });
}

/** W6: one SGD step of the MNIST CNN. TF.js convolves NHWC with [kh, kw, in, out] filters:
 *  inputs and filters are transposed once at setup, filter gradients back for the check, and
 *  the pooled features go back to NCHW before flattening so that fc1 sees yieldiff's order. */
export function cnn(s: CnnSpec): Trainer {
  const x = tf.tidy(() => tf.transpose(fromArr(s.x), [0, 2, 3, 1]));
  const y = fromArr(s.onehot);
  const n = s.x.shape[0]!;
  const isFilter = (k: string) => k === "c1w" || k === "c2w";
  const pool = (h: tf.Tensor4D) => tf.maxPool(h, 2, 2, "valid");
  const loss = (p: T): tf.Scalar => {
    let h = tf.relu(pool(tf.add(tf.conv2d(x as tf.Tensor4D, p.c1w as tf.Tensor4D, 1, "valid"), p.c1b!)));
    h = tf.relu(pool(tf.add(tf.conv2d(h, p.c2w as tf.Tensor4D, 1, "valid"), p.c2b!)));
    const flat = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [n, -1]);
    const f = tf.relu(tf.add(tf.matMul(flat, p.f1w!), p.f1b!));
    const z = tf.add(tf.matMul(f, p.f2w!), p.f2b!);
    return tf.mul(tf.sum(tf.mul(tf.logSoftmax(z), y)), -1 / n) as tf.Scalar;
  };
  return trainer({
    names: ["c1w", "c1b", "c2w", "c2b", "f1w", "f1b", "f2w", "f2b"],
    init: s.params,
    loss,
    update: { kind: "sgd", lr: s.lr },
    toTf: (k, t) => (isFilter(k) ? tf.transpose(t, [2, 3, 1, 0]) : t),
    fromTf: (k, t) => (isFilter(k) ? tf.transpose(t, [3, 2, 0, 1]) : t),
    consts: [x, y],
  });
}

/** W5: one Adagrad step on one tree, the whole tree differentiated at once (tf.valueAndGrads
 *  of the loss summed over its nodes); states are rows [1, 150], the embedding one [1, 300]
 *  tensor per word (a lookup is an array index, as in Lantern and yieldiff). */
export function treeLstm(s: TreeSpec): TreeTrainer {
  const rows = s.rows.map((r) => tf.tensor(r.data, [1, r.shape[0]!], "float32"));
  const labels = Array.from({ length: s.classes }, (_, k) => tf.cast(tf.oneHot([k], s.classes), "float32"));
  let current = s.trees[0]!;
  const loss = (p: T): tf.Scalar => {
    const tree = current;
    const hs: tf.Tensor[] = [];
    const cs: tf.Tensor[] = [];
    let total: tf.Tensor = tf.scalar(0);
    for (let n = 0; n < tree.word.length; n++) {
      const l = tree.lch[n]!;
      const r = tree.rch[n]!;
      let c: tf.Tensor;
      let o: tf.Tensor;
      if (l < 0) {
        const [i, og, u] = tf.split(tf.add(tf.matMul(rows[tree.word[n]!]!, p.Wx!), p.bx!), 3, 1);
        c = tf.mul(tf.sigmoid(i!), tf.tanh(u!));
        o = og!;
      } else {
        const z = tf.add(tf.add(tf.matMul(hs[l]!, p.Ul!), tf.matMul(hs[r]!, p.Ur!)), p.b!);
        const [i, fl, fr, og, u] = tf.split(z, 5, 1);
        c = tf.add(tf.add(tf.mul(tf.sigmoid(i!), tf.tanh(u!)), tf.mul(tf.sigmoid(fl!), cs[l]!)), tf.mul(tf.sigmoid(fr!), cs[r]!));
        o = og!;
      }
      const h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      hs.push(h);
      cs.push(c);
      const logits = tf.add(tf.matMul(h, p.W!), p.bo!);
      total = tf.add(total, tf.sub(tf.logSumExp(logits), tf.sum(tf.mul(logits, labels[tree.label[n]!]!))));
    }
    return total as tf.Scalar;
  };
  const t = trainer({ names: Object.keys(s.params), init: s.params, loss, update: { kind: "adagrad", lr: s.lr, eps: s.eps, clip: s.clip }, consts: [...rows, ...labels] });
  return Object.assign(t, { tree: (i: number) => void (current = s.trees[i]!) });
}

/** W8: TF.js has no forward mode, so the HVP is reverse over reverse: ∇_p ⟨∇_p L, v⟩. */
export function hvp(s: MlpSpec & { v: Params }): HvpRunner {
  const names = ["W1", "b1", "W2", "b2"];
  const x = fromArr(s.x);
  const y = fromArr(s.onehot);
  const params = names.map((k) => fromArr(s.params[k]!));
  const v = names.map((k) => fromArr(s.v[k]!));
  const loss = (...ps: tf.Tensor[]) => mlpLoss(Object.fromEntries(names.map((k, i) => [k, ps[i]!])), x, y);
  const gradFn = tf.grads(loss);
  const hvpFn = tf.grads((...ps: tf.Tensor[]) => tf.addN(gradFn(ps).map((g, i) => tf.sum(tf.mul(g, v[i]!)))) as tf.Scalar);
  const readAll = (ts: tf.Tensor[]) => Object.fromEntries(names.map((k, i) => [k, read(ts[i]!)]));
  return {
    grad: () => tf.tidy(() => readAll(gradFn(params))),
    hvp: () => tf.tidy(() => readAll(hvpFn(params))),
    timedGrad: () => tf.tidy(() => void read(gradFn(params)[0]!)),
    timedHvp: () => tf.tidy(() => void read(hvpFn(params)[0]!)),
    dispose: () => tf.dispose([x, y, ...params, ...v]),
  };
}
