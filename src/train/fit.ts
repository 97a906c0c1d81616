// trainLoop (alias fit): the usual loop of mini-batch training, written once.
//
//   for each epoch, for each batch:  [loss, grads] = valueAndGrad(lossFn)(params, batch)
//                                    [params, state] = optimizer.update(grads, state, params)
//
// It records the loss of every step, shows a progress bar (cli-progress, where it is installed
// and the runtime can load it) when the output is a terminal and plain periodic log lines
// otherwise (CI logs, pipes, files, a browser's console), and calls back after
// every step and epoch. Nothing here is hidden state: parameters and optimizer state go in and
// come out as pytrees.
import type { Effect } from "../../effects/effect.ts";
import { primal, type Value } from "../../effects/value.ts";
import { ValueError } from "../errors.ts";
import { checkOptions, type OptionSpec } from "../options.ts";
import { run } from "../run.ts";
import { Tensor } from "../tensor/tensor.ts";
import { valueAndGrad } from "../transforms/grad.ts";
import { jit } from "../staging/jit.ts";
import { optionalPackage } from "../runtime-modules.ts";

/** An optax-style optimizer: pure functions over pytrees. */
export interface Optimizer<P = any, S = any> {
  /** The initial state for `params`. */
  init(params: P): S;
  /** The new params and state after a step with `grads`. */
  update(grads: P, state: S, params: P): readonly [P, S];
}

/** Where progress goes: `process.stdout` by default (the console where there is none); a TTY gets a bar, anything else log lines. */
export interface ProgressStream {
  /** Writes text (lines end with "\n"). */
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** What `onStep` is told after every step. */
export interface StepInfo<P, S> {
  /** Steps done so far, counting this one (1-based, over all epochs). */
  step: number;
  /** The epoch (0-based) and the step within it (1-based). */
  epoch: number;
  stepInEpoch: number;
  loss: number;
  params: P;
  state: S;
}

/** What `onEpochEnd` is told after every epoch. */
export interface EpochInfo<P, S> {
  epoch: number;
  /** Mean loss over the epoch's steps. */
  loss: number;
  steps: number;
  seconds: number;
  params: P;
  state: S;
}

/** What `onEpochEnd` may return: metrics to print on the epoch's summary line, or `false` to stop. */
export type EpochResult = void | boolean | Record<string, number | string>;

/** The options of `trainLoop`. */
export interface TrainLoopOptions<P, B, S> {
  /** The initial parameters (a pytree); never modified. */
  params: P;
  /** A program (params, batch) → scalar loss. */
  lossFn: (params: P, batch: B) => Generator<Effect, Value, unknown>;
  optimizer: Optimizer<P, S>;
  /** The batches of one epoch (an array, reused every epoch), or a function making them per epoch (e.g. reshuffled). */
  data: readonly B[] | ((epoch: number) => Iterable<B>);
  /** Passes over the data (default 1). */
  epochs?: number;
  /**
   * Compile the step: `jit(valueAndGrad(lossFn))` (default false). Worth it for models of many
   * small operations (RNNs, Tree-LSTMs with `fixpoint`); batches of a new shape compile again.
   */
  jit?: boolean;
  /** Steps per epoch when `data` is a function (for the progress bar's total; counted after the first epoch otherwise). */
  stepsPerEpoch?: number;
  /** Optimizer state to continue from (default `optimizer.init(params)`). */
  state?: S;
  /** Called after every step; return `false` to stop training. */
  onStep?: (info: StepInfo<P, S>) => void | boolean;
  /** Called after every epoch; may return metrics (printed) or `false` to stop training. */
  onEpochEnd?: (info: EpochInfo<P, S>) => EpochResult;
  /** "auto" (default): a bar on a TTY, log lines elsewhere; "bar", "lines", or "none" (silent). */
  progress?: "auto" | "bar" | "lines" | "none";
  /** In "lines" mode, a line every this many steps (default: a line when `logSeconds` have passed since the last one). */
  logEvery?: number;
  /** In "lines" mode without `logEvery`, the seconds between step lines (default 10). */
  logSeconds?: number;
  /** Where progress is written (default process.stdout, or the console where there is no process). */
  stream?: ProgressStream;
}

/** What `trainLoop` returns. */
export interface TrainResult<P, S> {
  params: P;
  state: S;
  /** The loss of every step, in order. */
  losses: number[];
  /** The mean loss of every epoch. */
  epochLosses: number[];
  steps: number;
  seconds: number;
  /** True when a callback stopped training before the last epoch ended. */
  stopped: boolean;
}

const toNumber = (v: unknown, step: number): number => {
  const p = v instanceof Tensor || typeof v === "number" ? v : primal(v as Value);
  if (typeof p === "number") return p;
  if (p instanceof Tensor && p.size === 1) return p.buf[0]!;
  throw new ValueError(
    `trainLoop: lossFn must return a scalar loss, got ${p instanceof Tensor ? `a tensor of shape [${p.shape.join(", ")}]` : typeof p} at step ${step}; reduce it with mean or sum`,
  );
};

const fmtLoss = (x: number): string => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4));
const fmtMetric = (v: number | string): string => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v);

/** A progress display: a cli-progress bar, log lines, or nothing. */
interface Display {
  startEpoch(epoch: number, total: number | undefined): void;
  step(stepInEpoch: number, runningLoss: number, stepsPerSecond: number): void;
  endEpoch(line: string): void;
}

type BarLike = { start(total: number, value: number, payload?: object): void; update(value: number, payload?: object): void; stop(): void; setTotal(n: number): void };

/** process.stdout where there is one; otherwise each line goes to the console. */
const defaultStream = (): ProgressStream => {
  const out = (globalThis as { process?: { stdout?: ProgressStream } }).process?.stdout;
  if (out && typeof out.write === "function") return out;
  let pending = "";
  return {
    write(chunk: string) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) console.log(l);
      return true;
    },
  };
};

/** cli-progress, loaded only when a bar is shown (so importing yieldiff never needs it). */
const loadBar = (stream: ProgressStream, epochs: number): BarLike | undefined => {
  try {
    const cliProgress = optionalPackage<{ SingleBar: new (o: object) => BarLike }>("cli-progress");
    if (typeof cliProgress?.SingleBar !== "function") return undefined;
    const width = String(epochs).length;
    return new cliProgress.SingleBar({
      format: `epoch {epoch}/${epochs} {bar} {value}/{total} | loss {loss} | {rate} steps/s | eta {eta_formatted}`,
      barCompleteChar: "\u2588",
      barIncompleteChar: "\u2591",
      barsize: 28,
      hideCursor: false, // a hidden cursor would stay hidden if the process is killed mid-epoch
      clearOnComplete: true,
      stream,
      fps: 10,
      etaBuffer: 30,
      formatValue: (v: number, _o: unknown, type: string) => (type === "value" || type === "total" ? String(v) : String(v).padStart(width)),
    });
  } catch {
    return undefined;
  }
};

const makeDisplay = (
  mode: "bar" | "lines" | "none",
  stream: ProgressStream,
  epochs: number,
  logEvery: number | undefined,
  logSeconds: number,
): Display => {
  const none: Display = { startEpoch() {}, step() {}, endEpoch() {} };
  if (mode === "none") return none;
  const line = (s: string): void => void stream.write(`${s}\n`);
  if (mode === "bar") {
    const bar = loadBar(stream, epochs);
    if (bar) {
      let epochNo = 0;
      let started = false;
      return {
        startEpoch(epoch, total) {
          epochNo = epoch + 1;
          bar.start(total ?? 0, 0, { epoch: epochNo, loss: "-", rate: "-" });
          started = true;
        },
        step(k, loss, rate) {
          bar.update(k, { epoch: epochNo, loss: fmtLoss(loss), rate: rate.toFixed(1) });
        },
        endEpoch(summary) {
          if (started) bar.stop();
          started = false;
          line(summary);
        },
      };
    }
  }
  let total: number | undefined;
  let epochNo = 0;
  let last = performance.now();
  return {
    startEpoch(epoch, t) {
      epochNo = epoch + 1;
      total = t;
    },
    step(k, loss, rate) {
      if (k === total) return; // the epoch's summary line follows
      const now = performance.now();
      if (logEvery !== undefined ? k % logEvery === 0 : now - last >= logSeconds * 1000) {
        last = now;
        line(`epoch ${epochNo}/${epochs} step ${k}${total ? `/${total}` : ""} loss ${fmtLoss(loss)} (${rate.toFixed(1)} steps/s)`);
      }
    },
    endEpoch(summary) {
      last = performance.now();
      line(summary);
    },
  };
};

/** The options trainLoop accepts (any other key is a ValueError). */
const TRAIN_LOOP_OPTIONS: OptionSpec = {
  params: "any", lossFn: "function", optimizer: "object", data: ["array", "function"], epochs: "number", jit: "boolean",
  stepsPerEpoch: "number", state: "any", onStep: "function", onEpochEnd: "function", progress: "string",
  logEvery: "number", logSeconds: "number", stream: "object",
};

/** Trains `params` by mini-batch gradient descent with `optimizer`; returns the new params, state and loss history. */
export function trainLoop<P, B, S>(options: TrainLoopOptions<P, B, S>): TrainResult<P, S> {
  checkOptions("trainLoop", options, TRAIN_LOOP_OPTIONS);
  const { lossFn, optimizer, data, epochs = 1, onStep, onEpochEnd, progress = "auto", logEvery, logSeconds = 10, stream = defaultStream() } = options;
  if (typeof lossFn !== "function") throw new ValueError("trainLoop: lossFn must be a generator function (params, batch) → scalar loss");
  if (!optimizer || typeof optimizer.init !== "function" || typeof optimizer.update !== "function")
    throw new ValueError("trainLoop: optimizer must have init(params) and update(grads, state, params), like the ones in optim");
  if (!Number.isInteger(epochs) || epochs < 0) throw new ValueError(`trainLoop: epochs must be a non-negative integer, got ${String(epochs)}`);
  if (logEvery !== undefined && (!Number.isInteger(logEvery) || logEvery < 1))
    throw new ValueError(`trainLoop: logEvery must be a positive integer, got ${String(logEvery)}`);
  if (typeof logSeconds !== "number" || !(logSeconds >= 0)) throw new ValueError(`trainLoop: logSeconds must be a number ≥ 0, got ${String(logSeconds)}`);
  if (typeof data !== "function" && !Array.isArray(data))
    throw new ValueError("trainLoop: data must be an array of batches or a function (epoch) → iterable of batches");
  const mode = progress === "auto" ? (stream.isTTY ? "bar" : "lines") : progress;
  const display = makeDisplay(mode, stream, epochs, logEvery, logSeconds);
  const step = options.jit === true ? jit(valueAndGrad(lossFn)) : valueAndGrad(lossFn);

  let params = options.params;
  let state = options.state ?? optimizer.init(params);
  const losses: number[] = [];
  const epochLosses: number[] = [];
  let steps = 0;
  let stopped = false;
  let knownSteps = Array.isArray(data) ? data.length : options.stepsPerEpoch;
  const t0 = performance.now();

  for (let epoch = 0; epoch < epochs && !stopped; epoch++) {
    const batchesOfEpoch: Iterable<B> = typeof data === "function" ? data(epoch) : (data as readonly B[]);
    const e0 = performance.now();
    let k = 0;
    let sum = 0;
    display.startEpoch(epoch, knownSteps);
    try {
      for (const batch of batchesOfEpoch) {
        const [lossValue, grads] = run(step, params, batch) as [Value, P];
        const loss = toNumber(lossValue, steps + 1);
        if (!Number.isFinite(loss))
          throw new ValueError(
            `trainLoop: the loss is ${loss} at step ${steps + 1} (epoch ${epoch + 1}, step ${k + 1}); ` +
              "training diverged: lower the learning rate, clip gradients, or check the data",
          );
        [params, state] = optimizer.update(grads, state, params);
        steps++;
        k++;
        sum += loss;
        losses.push(loss);
        display.step(k, sum / k, k / ((performance.now() - e0) / 1000));
        if (onStep?.({ step: steps, epoch, stepInEpoch: k, loss, params, state }) === false) {
          stopped = true;
          break;
        }
      }
    } catch (e) {
      display.endEpoch(`epoch ${epoch + 1}/${epochs}: stopped by an error after ${k} steps`);
      throw e;
    }
    knownSteps ??= k;
    const seconds = (performance.now() - e0) / 1000;
    const meanLoss = k > 0 ? sum / k : NaN;
    epochLosses.push(meanLoss);
    const result = onEpochEnd?.({ epoch, loss: meanLoss, steps: k, seconds, params, state });
    if (result === false) stopped = true;
    const metrics = typeof result === "object" && result !== null ? Object.entries(result).map(([name, v]) => `, ${name} ${fmtMetric(v)}`).join("") : "";
    display.endEpoch(`epoch ${epoch + 1}/${epochs}: loss ${fmtLoss(meanLoss)} (${k} steps, ${seconds.toFixed(1)} s)${metrics}`);
  }
  return { params, state, losses, epochLosses, steps, seconds: (performance.now() - t0) / 1000, stopped };
}

/** The same as `trainLoop`. */
export const fit = trainLoop;
