// The MNIST CNN of examples/mnist-cnn.ts, trained as an Effect program with yieldiff/effect.
//
//   npm run example -- effect-train            train (or continue from out/effect-train.ckpt)
//   npm run example -- effect-train --fresh    forget the checkpoint and start over
//
// Press Ctrl-C at any time: training stops between two steps, the last completed step (params,
// Adam state, progress, loss history) is saved to out/effect-train.ckpt, and the program exits.
// Start it again and it continues from that step, with the same result as a run that was never
// stopped (the data order of every epoch is seeded). A checkpoint is also saved every minute.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cause, Console, Effect, Exit, Runtime, Schedule, Stream } from "effect";
import { Checkpoint, makeTrainer, type Snapshot } from "../src/effect/index.ts";
import { runMain } from "../src/effect/node/index.ts";
import { optim, takeRows, type Tensor } from "../src/index.ts";
import { writeLossCurveSvg } from "../src/node/index.ts";
import { isMain } from "./lib/main.ts";
import { loadMnist, mnistBatches } from "./lib/mnist.ts";
import { BATCH, DECAY, EPOCHS, LR } from "./mnist-cnn.ts";
import { cnnLoss, countParams, evaluateCnn, initCnn, type CnnParams } from "./models/mnist-cnn.ts";

const OUT = "out";
const CKPT = join(OUT, "effect-train.ckpt");

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export const program = Effect.gen(function* () {
  if (process.argv.includes("--fresh")) rmSync(CKPT, { force: true });
  mkdirSync(OUT, { recursive: true });
  const { train, test } = loadMnist({ trainSize: 8000, testSize: 2000, seed: 0 });
  const params = initCnn(0);
  const stepsPerEpoch = Math.ceil(train.labels.length / BATCH);
  const totalSteps = EPOCHS * stepsPerEpoch;
  // The learning rate follows Adam's own step count, which the checkpoint keeps: a resumed run
  // continues the schedule where it was.
  const optimizer = optim.adam({ lr: (step) => LR * DECAY ** Math.floor(step / stepsPerEpoch) });
  const quick = { x: takeRows(test.x, Array.from({ length: 500 }, (_, i) => i)), labels: test.labels.subarray(0, 500) };
  const accuracy = (s: Snapshot<CnnParams, unknown>, set: { x: Tensor; labels: Int32Array } = test) => evaluateCnn(s.params, set.x, set.labels).accuracy;

  yield* Console.log(`MNIST CNN as an Effect program: ${countParams(params).toLocaleString("en")} float32 parameters, Adam, batch ${BATCH}, ${EPOCHS} epochs`);
  const trainer = yield* makeTrainer({
    params,
    loss: cnnLoss,
    optimizer,
    data: (epoch) => mnistBatches(train, BATCH, 1000 + epoch),
    epochs: EPOCHS,
    // Evaluation and checkpoint cadence by Schedule: a quick look at 500 test digits every
    // 20 s, and a checkpoint every minute (plus one on Ctrl-C and one at the end).
    evaluate: {
      every: Schedule.spaced("20 seconds"),
      run: (s) => {
        const acc = accuracy(s, quick);
        return Console.log(`  step ${s.step}: accuracy ${pct(acc)} on 500 test digits`).pipe(Effect.as({ accuracy500: acc }));
      },
      atEnd: false,
    },
    checkpoint: { path: CKPT, every: Schedule.spaced("1 minute"), resume: true },
    onEpoch: (m, s) => Console.log(`epoch ${m.epoch + 1}/${EPOCHS}: loss ${m.loss.toFixed(4)} (${m.steps} steps, ${m.seconds.toFixed(1)} s), test accuracy ${pct(accuracy(s))}`),
  });

  const start = yield* trainer.latest;
  if (start.step >= totalSteps) {
    yield* Console.log(`${CKPT} holds a finished training (${start.step} steps); run with --fresh to train again.`);
  } else if (start.step > 0) {
    yield* Console.log(`continuing from ${CKPT}: step ${start.step}/${totalSteps} (epoch ${start.epoch + 1}, step ${start.stepInEpoch} of it)`);
  }
  if (start.step < totalSteps) yield* Console.log("Ctrl-C stops training and saves the last completed step; running again continues from it.\n");

  // Progress: the metrics stream, one line every 40 steps.
  yield* trainer.metrics.pipe(
    Stream.filter((m) => m.stepInEpoch % 40 === 0),
    Stream.runForEach((m) =>
      Console.log(
        `  epoch ${m.epoch + 1} step ${m.stepInEpoch}/${stepsPerEpoch}: loss ${m.loss.toFixed(4)}, ${Math.round(m.examplesPerSecond).toLocaleString("en")} examples/s`,
      ),
    ),
    Effect.forkChild,
  );

  const result = yield* trainer.run.pipe(
    Effect.onInterrupt(() =>
      trainer.latest.pipe(
        Effect.flatMap((s) => Console.log(`\ninterrupted: step ${s.step}/${totalSteps} saved to ${CKPT}; run again to continue`)),
      ),
    ),
  );
  const final = yield* trainer.latest;
  yield* Console.log(`\ntest accuracy ${pct(accuracy(final))} on ${test.labels.length} digits after ${result.steps} steps`);
  const svg = writeLossCurveSvg(join(OUT, "effect-train-loss.svg"), result.losses, { title: "MNIST CNN (Effect): training loss per step" });
  // The saved file is validated by the checkpoint header Schema when it is read back.
  const { header } = yield* Checkpoint.readBytes(CKPT).pipe(Effect.flatMap((b) => Checkpoint.decodeHeader(b, CKPT)));
  yield* Console.log(`loss curve: ${svg}\ncheckpoint: ${CKPT} (${header.leaves.length} arrays, ${header.dataBytes.toLocaleString("en")} bytes of data)`);
});

const CHILD = "YIELDIFF_EFFECT_TRAIN_CHILD";

export function main(): void {
  if (process.env[CHILD] === "1") {
    // A Ctrl-C that was handled (the last step saved) is a clean exit: code 0, not 130.
    runMain(program, {
      teardown: (exit, onExit) =>
        Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit),
    });
    return;
  }
  // `npm run example` runs this file under the tsx command, which answers Ctrl-C by killing its
  // child (SIGKILL) unless the child acknowledges the signal within about 60 ms; a process that
  // is busy in a training step cannot. So the training runs in a child process of its own
  // process group, started with tsx's loader only, and this process (whose event loop stays
  // free) passes each signal on to it once and exits with its exit code.
  const loader = (() => {
    try {
      return import.meta.resolve("tsx");
    } catch {
      return "tsx";
    }
  })();
  const child = spawn(process.execPath, ["--import", loader, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
    env: { ...process.env, [CHILD]: "1" },
  });
  let forwarded = false;
  const forward = (signal: NodeJS.Signals): void => {
    if (forwarded) return;
    forwarded = true;
    child.kill(signal);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
}

if (isMain(import.meta.url)) main();
