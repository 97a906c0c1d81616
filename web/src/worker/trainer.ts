// Training Lantern's MNIST CNN (examples/models/mnist-cnn.ts) in the worker: Adam on batches of
// the training digits, the test accuracy every EVAL_EVERY steps and at the end. Between steps it
// gives the worker's event loop a turn now and then, so that the page's predictions are
// answered while it trains.
import { batches, optim, run, takeRows, valueAndGrad, type Tensor, type Value } from "yieldiff";
import { cnnLoss, evaluateCnn, initCnn, type CnnParams } from "../../../examples/models/mnist-cnn.ts";
import type { DigitSets } from "../digits/format.ts";
import { toInput } from "../digits/normalize.ts";

export const BATCH = 50;
export const LR = 0.002;
/** The learning rate is multiplied by this after each epoch. */
export const DECAY = 0.7;
export const EVAL_EVERY = 30;
/** How long the loop runs before it lets messages in (ms). */
const TURN_MS = 40;

export interface TrainEvents {
  start(info: { steps: number; epochs: number; nTrain: number; nTest: number }): void;
  step(info: { step: number; epoch: number; loss: number; stepsPerSecond: number; params: CnnParams<Tensor> }): void;
  accuracy(info: { step: number; accuracy: number }): void;
}

/** One turn of the event loop (a message channel: no timer clamping). */
const turn = (): Promise<void> =>
  new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });

/** Trains for `epochs` epochs; returns the parameters, the steps, the seconds and the final test accuracy. */
export async function train(data: DigitSets, epochs: number, on: TrainEvents): Promise<{ params: CnnParams<Tensor>; steps: number; seconds: number; accuracy: number }> {
  const x = toInput(data.train.pixels);
  const labels = Int32Array.from(data.train.labels);
  const testX = toInput(data.test.pixels);
  const testLabels = Int32Array.from(data.test.labels);
  const nTrain = labels.length;
  const stepsPerEpoch = Math.ceil(nTrain / BATCH);
  const total = stepsPerEpoch * epochs;
  on.start({ steps: total, epochs, nTrain, nTest: testLabels.length });

  let params = initCnn(0);
  const optimizer = optim.adam({ lr: (step) => LR * DECAY ** Math.floor(step / stepsPerEpoch) });
  let state = optimizer.init(params);
  const step = valueAndGrad(cnnLoss);
  const t0 = performance.now();
  let lastTurn = t0;
  let steps = 0;
  let accuracy = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const idx of batches(nTrain, BATCH, { seed: 1000 + epoch })) {
      const batch = { x: takeRows(x, idx), labels: Int32Array.from(idx, (i) => labels[i]!) };
      const [loss, grads] = run(step, params, batch) as [Value, CnnParams<Tensor>];
      const lossNumber = typeof loss === "number" ? loss : (loss as Tensor).data[0]!;
      if (!Number.isFinite(lossNumber)) throw new Error(`the loss is ${lossNumber} at step ${steps + 1}: training diverged`);
      [params, state] = optimizer.update(grads, state, params);
      steps++;
      on.step({ step: steps, epoch, loss: lossNumber, stepsPerSecond: steps / ((performance.now() - t0) / 1000), params });
      if (steps % EVAL_EVERY === 0 || steps === total) {
        accuracy = evaluateCnn(params, testX, testLabels).accuracy;
        on.accuracy({ step: steps, accuracy });
      }
      if (performance.now() - lastTurn > TURN_MS) {
        await turn();
        lastTurn = performance.now();
      }
    }
  }
  return { params, steps, seconds: (performance.now() - t0) / 1000, accuracy };
}
