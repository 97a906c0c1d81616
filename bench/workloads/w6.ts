// W6 mnist-cnn, Lantern's NIPS18 MNIST CNN: conv 1→10 5x5, maxpool 2, relu, conv 10→20 5x5,
// maxpool 2, relu, flatten 320, fc 50, relu, fc 10, log-softmax + NLL (mean); batch 100 of
// 28x28 inputs N(0, 1) with random labels; SGD lr 0.05; float32; init uniform ±1/√fan_in
// (weights and biases, as PyTorch's Conv2d/Linear); no dropout.
import { jit, logSoftmax, maxPool2d, nllLoss, nn, optim, relu, reshape, run, valueAndGrad, type Value } from "../../src/index.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";
import { checkTraining, compileTime, fmtLosses, lossValue, oneHot, randomInts, uniform32 } from "./models.ts";

const BATCH = 100;

export type Params = { conv1: nn.Conv2dParams; conv2: nn.Conv2dParams; fc1: nn.LinearParams; fc2: nn.LinearParams };

const conv = (seed: number, cin: number, cout: number): nn.Conv2dParams => {
  const bound = 1 / Math.sqrt(cin * 25);
  return { w: uniform32(seed, [cout, cin, 5, 5], bound), b: uniform32(seed + 1, [cout], bound) };
};
const dense = (seed: number, nin: number, nout: number): nn.LinearParams => {
  const bound = 1 / Math.sqrt(nin);
  return { W: uniform32(seed, [nin, nout], bound), b: uniform32(seed + 1, [nout], bound) };
};

export const initParams = (seed: number): Params => ({
  conv1: conv(seed, 1, 10),
  conv2: conv(seed + 2, 10, 20),
  fc1: dense(seed + 4, 320, 50),
  fc2: dense(seed + 6, 50, 10),
});

/** x [100, 1, 28, 28], onehot [100, 10]. */
export function* loss(p: Params, x: Value, onehot: Value) {
  let h = yield* relu(yield* maxPool2d(yield* nn.conv2d.apply(p.conv1, x), { size: 2 })); // [100, 10, 12, 12]
  h = yield* relu(yield* maxPool2d(yield* nn.conv2d.apply(p.conv2, h), { size: 2 })); // [100, 20, 4, 4]
  h = yield* relu(yield* nn.linear.apply(p.fc1, yield* reshape(h, [BATCH, 320])));
  const z = yield* nn.linear.apply(p.fc2, h);
  return yield* nllLoss(yield* logSoftmax(z, -1), onehot);
}

export async function w6(): Promise<Row[]> {
  const x = nn.init.normal(1)(61, [BATCH, 1, 28, 28], "float32");
  const onehot = oneHot(randomInts(62, BATCH, 10), 10);
  const opt = optim.sgd({ lr: 0.05 });
  const eager = valueAndGrad(loss);
  const jitted = jit(valueAndGrad(loss), { reuseOutputs: true }); // gradients consumed by each step
  const trainer = (vg: typeof eager) => {
    let params = initParams(60);
    let state = opt.init(params);
    return (): number => {
      const [l, g] = run(vg, params, x, onehot);
      [params, state] = opt.update(g, state, params);
      return lossValue(l);
    };
  };
  const eagerLosses = checkTraining("W6 eager", trainer(eager), 5);
  const compile = compileTime(() => run(jitted, initParams(60), x, onehot));
  const jitLosses = checkTraining("W6 jit", trainer(jitted), 5);
  const diff = Math.max(...jitLosses.map((l, i) => Math.abs(l - eagerLosses[i]!) / eagerLosses[i]!));
  if (!(diff < 1e-5)) throw new Error(`W6: jit losses ${jitLosses} vs eager ${eagerLosses}`);
  const t = await time({ eager: trainer(eager), jit: trainer(jitted) }, { time: 1500 });
  return [
    { workload: "W6", system: "yieldiff eager", unit: "ms/step", ...t.eager!, note: fmtLosses(eagerLosses) },
    { workload: "W6", system: "yieldiff jit", unit: "ms/step", ...t.jit!, note: `jit(valueAndGrad(loss), { reuseOutputs: true }); compiles in ${compile.toFixed(0)} ms` },
  ];
}
