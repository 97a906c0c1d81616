// W2 mlp-step: MLP 784-256-10, relu, float32, batch 64, mean softmax cross-entropy; one SGD
// step (lr 0.01) = forward + backward + update, on the shared data of mlp.bin. The jit step is
// timed again with setMatmulThreads(2): its two 12.8-million multiply-add products (x W1 and the
// gradient of W1) then run split across two cores.
import {
  add, jit, matmul, matmulThreadsUnavailableReason, optim, relu, run, setMatmulThreads, softmaxCrossEntropy, treeMap, valueAndGrad,
  type Value,
} from "../../src/index.ts";
import { loadMlp } from "../data.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";
import { checkTraining, compileTime, fmtLosses, lossValue } from "./models.ts";

type Params = { W1: Value; b1: Value; W2: Value; b2: Value };

export function* loss(p: Params, x: Value, onehot: Value) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  const z = yield* add(yield* matmul(h, p.W2), p.b2);
  return yield* softmaxCrossEntropy(z, onehot);
}

type Mlp = ReturnType<typeof loadMlp>;
/** The eager value-and-gradient of the loss (valueAndGrad makes a new function each call: this one is shared). */
export const eagerStep = valueAndGrad(loss);

/**
 * A training loop: each call does one SGD step from the current params and returns the loss. In
 * place, as PyTorch's optimizer.step(); each trainer steps a copy of the params of its own.
 */
export function w2Trainer(d: Mlp, vg: typeof eagerStep): () => number {
  const opt = optim.sgd({ lr: 0.01, inPlace: true });
  let params = treeMap((x) => x, d.params) as Params;
  let state = opt.init(params);
  return (): number => {
    const [l, g] = run(vg, params, d.x, d.onehot);
    [params, state] = opt.update(g, state, params);
    return lossValue(l);
  };
}

export async function w2(): Promise<Row[]> {
  const d = loadMlp();
  const initial = lossValue(run(loss, d.params, d.x, d.onehot));
  if (Math.abs(initial - d.lossReference) > 1e-5 * Math.abs(d.lossReference))
    throw new Error(`W2: initial loss ${initial} vs reference ${d.lossReference}`);
  const jitted = jit(valueAndGrad(loss), { reuseOutputs: true }); // gradients consumed by each step, as PyTorch keeps .grad
  const trainer = (vg: typeof eagerStep) => w2Trainer(d, vg);
  const eagerLosses = checkTraining("W2 eager", trainer(eagerStep), 5);
  const compile = compileTime(() => run(jitted, d.params, d.x, d.onehot));
  const jitLosses = checkTraining("W2 jit", trainer(jitted), 5);
  if (jitLosses.some((l, i) => Math.abs(l - eagerLosses[i]!) > 1e-5 * Math.abs(eagerLosses[i]!)))
    throw new Error(`W2: jit losses ${jitLosses} vs eager ${eagerLosses}`);
  // The split products are bit for bit the one-thread products: the same losses exactly.
  setMatmulThreads(2);
  const threadLosses = checkTraining("W2 jit, 2 threads", trainer(jitted), 5);
  const threadsReason = matmulThreadsUnavailableReason();
  setMatmulThreads(1);
  if (threadLosses.some((l, i) => l !== jitLosses[i]))
    throw new Error(`W2: jit losses with 2 threads ${threadLosses} vs one thread ${jitLosses}`);
  const t = await time({ eager: trainer(eagerStep), jit: trainer(jitted) }, { time: 1500 });
  // A Bench of its own, with the switch at 2 throughout (switching stops and starts the worker).
  setMatmulThreads(2);
  const t2 = await time({ jit2: trainer(jitted) }, { time: 1500 }).finally(() => setMatmulThreads(1));
  const check = `initial loss ${initial.toFixed(6)} = reference ${d.lossReference.toFixed(6)}; ${fmtLosses(eagerLosses)}`;
  return [
    { workload: "W2", system: "yieldiff eager", unit: "ms/step", ...t.eager!, note: check },
    { workload: "W2", system: "yieldiff jit", unit: "ms/step", ...t.jit!, note: `jit(valueAndGrad(loss), { reuseOutputs: true }); compiles in ${compile.toFixed(0)} ms` },
    {
      workload: "W2", system: "yieldiff jit, 2 threads", unit: "ms/step", ...t2.jit2!,
      note: threadsReason
        ? `two threads unavailable (${threadsReason}): this ran on one`
        : "setMatmulThreads(2): uses 2 cores, where the other rows, the peers and PyTorch's reference use 1; same losses bit for bit",
    },
  ];
}
