// Lantern's MNIST CNN (WORKLOADS W6): conv 1→10 5×5, maxpool 2, relu, conv 10→20 5×5,
// maxpool 2, relu, flatten 320, fc 50, relu, fc 10, log-softmax + NLL (mean), float32.
// Weights and biases uniform ±1/√fan_in (PyTorch's default, Lantern's init).
import { logSoftmax, maxPool2d, nllLoss, nn, relu, reshape, run, takeRows, Tensor, type Effect, type Value } from "../../src/index.ts";
import type { DigitBatch } from "../lib/mnist.ts";

type Gen<R> = Generator<Effect, R, unknown>;

export interface CnnParams<T extends Value = Value> {
  conv1: nn.Conv2dParams<T>;
  conv2: nn.Conv2dParams<T>;
  fc1: nn.LinearParams<T>;
  fc2: nn.LinearParams<T>;
}


const bound = (fanIn: number) => nn.init.uniform(-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));

export function initCnn(seed = 0): CnnParams<Tensor> {
  const dtype = "float32" as const;
  const w = nn.init.fanInUniform();
  return {
    conv1: nn.conv2d.init(seed * 16 + 1, 1, 10, 5, { wInit: w, bInit: bound(25), dtype }) as nn.Conv2dParams<Tensor>,
    conv2: nn.conv2d.init(seed * 16 + 2, 10, 20, 5, { wInit: w, bInit: bound(250), dtype }) as nn.Conv2dParams<Tensor>,
    fc1: nn.linear.init(seed * 16 + 3, 320, 50, { wInit: w, bInit: bound(320), dtype }) as nn.LinearParams<Tensor>,
    fc2: nn.linear.init(seed * 16 + 4, 50, 10, { wInit: w, bInit: bound(50), dtype }) as nn.LinearParams<Tensor>,
  };
}

/** Log-probabilities [n, 10] of the digits in x [n, 1, 28, 28]. */
export function* cnnLogProbs(params: CnnParams, x: Value): Gen<Value> {
  const n = (x as { shape: readonly number[] }).shape[0]!;
  let h = yield* nn.conv2d.apply(params.conv1, x); // [n, 10, 24, 24]
  h = yield* relu(yield* maxPool2d(h, { size: 2 })); // [n, 10, 12, 12]
  h = yield* nn.conv2d.apply(params.conv2, h); // [n, 20, 8, 8]
  h = yield* relu(yield* maxPool2d(h, { size: 2 })); // [n, 20, 4, 4]
  h = yield* reshape(h, [n, 320]);
  h = yield* relu(yield* nn.linear.apply(params.fc1, h));
  return yield* logSoftmax(yield* nn.linear.apply(params.fc2, h), -1);
}

/** Mean negative log-likelihood of a batch. */
export function* cnnLoss(params: CnnParams, batch: DigitBatch): Gen<Value> {
  return yield* nllLoss(yield* cnnLogProbs(params, batch.x), batch.labels);
}

/** Predicted digits and accuracy over a data set, evaluated in chunks. */
export function evaluateCnn(params: CnnParams, x: Tensor, labels: Int32Array, chunk = 500): { accuracy: number; predictions: Int32Array } {
  const n = x.shape[0]!;
  const predictions = new Int32Array(n);
  let correct = 0;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const idx = Array.from({ length: end - start }, (_, i) => start + i);
    const buf = (run(cnnLogProbs, params, takeRows(x, idx)) as Tensor).data;
    for (const [k, i] of idx.entries()) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (buf[k * 10 + c]! > buf[k * 10 + best]!) best = c;
      predictions[i] = best;
      if (best === labels[i]) correct++;
    }
  }
  return { accuracy: correct / n, predictions };
}

/** The number of scalars in a parameter pytree of tensors. */
export const countParams = (params: CnnParams<Tensor>): number =>
  [params.conv1, params.conv2, params.fc1, params.fc2].reduce((n, layer) => n + Object.values(layer).reduce((m, t) => m + (t as Tensor).size, 0), 0);
