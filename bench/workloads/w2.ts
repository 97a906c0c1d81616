// W2 mlp-step: MLP 784-256-10, relu, float32, batch 64, mean softmax cross-entropy; one SGD
// step (lr 0.01) = forward + backward + update, on the shared data of mlp.bin.
import { add, jit, matmul, optim, relu, run, softmaxCrossEntropy, valueAndGrad, type Tensor, type Value } from "../../src/index.ts";
import { loadMlp } from "../data.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";
import { checkTraining, compileTime, fmtLosses, lossValue } from "./models.ts";

type Params = { W1: Value; b1: Value; W2: Value; b2: Value };

function* loss(p: Params, x: Value, onehot: Value) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  const z = yield* add(yield* matmul(h, p.W2), p.b2);
  return yield* softmaxCrossEntropy(z, onehot);
}

export async function w2(): Promise<Row[]> {
  const d = loadMlp();
  const initial = lossValue(run(loss, d.params, d.x, d.onehot));
  if (Math.abs(initial - d.lossReference) > 1e-5 * Math.abs(d.lossReference))
    throw new Error(`W2: initial loss ${initial} vs reference ${d.lossReference}`);
  const opt = optim.sgd({ lr: 0.01 });
  const eager = valueAndGrad(loss);
  const jitted = jit(valueAndGrad(loss));
  /** A training loop: each call does one step from the current params and returns the loss. */
  const trainer = (vg: typeof eager) => {
    let params = d.params as Params;
    let state = opt.init(params);
    return (): number => {
      const [l, g] = run(vg, params, d.x, d.onehot);
      [params, state] = opt.update(g, state, params);
      return lossValue(l);
    };
  };
  const eagerLosses = checkTraining("W2 eager", trainer(eager), 5);
  const compile = compileTime(() => run(jitted, d.params, d.x, d.onehot));
  const jitLosses = checkTraining("W2 jit", trainer(jitted), 5);
  if (jitLosses.some((l, i) => Math.abs(l - eagerLosses[i]!) > 1e-5 * Math.abs(eagerLosses[i]!)))
    throw new Error(`W2: jit losses ${jitLosses} vs eager ${eagerLosses}`);
  const t = await time({ eager: trainer(eager), jit: trainer(jitted) }, { time: 1500 });
  const check = `initial loss ${initial.toFixed(6)} = reference ${d.lossReference.toFixed(6)}; ${fmtLosses(eagerLosses)}`;
  return [
    { workload: "W2", system: "yieldiff eager", unit: "ms/step", ...t.eager!, note: check },
    { workload: "W2", system: "yieldiff jit", unit: "ms/step", ...t.jit!, note: `jit(valueAndGrad(loss)); compiles in ${compile.toFixed(0)} ms` },
  ];
}
