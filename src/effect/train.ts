// Training as an Effect: the loop of mini-batch gradient descent (valueAndGrad + optimizer
// update), interruptible between steps and never inside one.
//
// A step computes the loss and gradients and applies the optimizer update in one synchronous,
// uninterruptible block, then publishes the new params and optimizer state as the trainer's
// latest snapshot. Interruption (Fiber.interrupt, Effect.timeout, Ctrl-C through `runMain`)
// is seen only between steps, so after it the latest snapshot is exactly the state after the
// last completed step. The trainer yields to the event loop after every step, so timers,
// signals and other fibers get their turn while it trains.
import { Clock, Duration, Effect, Pull, PubSub, Ref, Schedule, Stream } from "effect";
import type { Effect as Op } from "../../effects/effect.ts";
import { primal, type Value } from "../../effects/value.ts";
import { ValueError } from "../errors.ts";
import { checkOptions as checkOptionKeys, type OptionSpec } from "../options.ts";
import { run as runProgram } from "../run.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Optimizer } from "../train/fit.ts";
import { valueAndGrad } from "../transforms/grad.ts";
import * as Checkpoint from "./checkpoint.ts";
import { attempt, type YieldiffFailure } from "./errors.ts";
import { requireCheckpointFiles } from "./files.ts";

export type { Optimizer };

/** The batches of one epoch: any iterable (pulled one batch per step) or an Effect Stream. */
export type Batches<B, E = never, R = never> = Iterable<B> | Stream.Stream<B, E, R>;

/** What one completed step reports. */
export interface StepMetrics {
  /** Steps completed in all, counting this one (1-based). */
  readonly step: number;
  /** The epoch of this step (0-based) and its place in the epoch (1-based). */
  readonly epoch: number;
  readonly stepInEpoch: number;
  readonly loss: number;
  /** Examples in this step's batch. */
  readonly examples: number;
  /** Examples per second over the epoch so far (this run of it). */
  readonly examplesPerSecond: number;
  /** Wall time of this step, in seconds. */
  readonly seconds: number;
}

/** What an epoch reports when its data is used up. */
export interface EpochMetrics {
  readonly epoch: number;
  /** Mean loss of the epoch's steps done in this run (NaN for none). */
  readonly loss: number;
  readonly steps: number;
  readonly seconds: number;
}

/** The training state after a completed step: a training checkpoint (params, optimizer state, progress, losses). */
export type Snapshot<P, S> = Checkpoint.TrainingCheckpoint<P, S>;

/** Metrics an evaluation returns, stored in the history with the step they were measured at. */
export type EvalMetrics = Readonly<Record<string, number>>;

/**
 * When something runs during training: every `n` completed steps (a number), or by a `Schedule`.
 * A schedule is stepped with the metrics of a completed step and the current time, and its delay
 * is wall time: the action runs at the first completed step at or after the time it names, then
 * the schedule is stepped again for the next one; when the schedule ends, so does the action.
 * `Schedule.spaced("30 seconds")` runs it every 30 s of training; `Schedule.spaced("30
 * seconds").pipe(Schedule.take(5))`-like limits (`Schedule.upTo`, `Schedule.recurs`, `while`
 * on the input) stop it.
 */
export type Cadence = number | Schedule.Schedule<unknown, StepMetrics>;

/** How `fit` evaluates the params: when, and with what. */
export interface EvaluateOptions<P, S, E, R> {
  readonly every: Cadence;
  /** Measures the params of a snapshot (e.g. test accuracy). Runs between steps, never during one. */
  readonly run: (snapshot: Snapshot<P, S>) => Effect.Effect<EvalMetrics, E, R>;
  /** Also evaluate once when training ends (default true). */
  readonly atEnd?: boolean;
}

/** How `fit` saves and resumes training checkpoints. */
export interface CheckpointOptions {
  /** The file (a yieldiff checkpoint holding params, optimizer state, progress and losses), in the provided CheckpointFiles (yieldiff/effect/node's NodeCheckpointFiles). */
  readonly path: string;
  /** Save every so many steps or by a schedule (default: only on interruption and at the end). */
  readonly every?: Cadence;
  /** Save the last completed step when training is interrupted (default true). */
  readonly onInterrupt?: boolean;
  /** Save when training ends (default true). */
  readonly atEnd?: boolean;
  /** If the file exists, continue from it (default false). A file that is corrupted or does not match fails with its CheckpointError. */
  readonly resume?: boolean;
}

/** The options of `fit` and `makeTrainer`. */
export interface FitOptions<P, B, S, E = never, R = never> {
  /** The initial parameters (a pytree); never modified. */
  readonly params: P;
  /** A program (params, batch) → scalar loss. */
  readonly loss: (params: P, batch: B) => Generator<Op, Value, unknown>;
  readonly optimizer: Optimizer<P, S>;
  /** The batches: the same every epoch, or a function of the epoch (e.g. shuffled by `seed + epoch`). */
  readonly data: Batches<B, E, R> | ((epoch: number) => Batches<B, E, R>);
  /** Passes over the data (default 1). */
  readonly epochs?: number;
  /** Stop after this many steps in all (default: no limit). */
  readonly maxSteps?: number;
  /** Optimizer state to start from (default `optimizer.init(params)`). */
  readonly state?: S;
  /** Continue from a snapshot or a loaded training checkpoint (its params and state replace `params`/`state`). */
  readonly resumeFrom?: Snapshot<P, S>;
  /** Examples in a batch, for examples/s (default: the leading dimension of the first tensor in it, or an array's length, or 1). */
  readonly examplesIn?: (batch: B) => number;
  /** After every completed step. */
  readonly onStep?: (metrics: StepMetrics) => Effect.Effect<void, E, R>;
  /** After every epoch whose data is used up. */
  readonly onEpoch?: (metrics: EpochMetrics, snapshot: Snapshot<P, S>) => Effect.Effect<void, E, R>;
  readonly evaluate?: EvaluateOptions<P, S, E, R>;
  readonly checkpoint?: CheckpointOptions;
}

/** What `fit` (and a trainer's `run`) gives when training ends. */
export interface FitResult<P, S> {
  readonly params: P;
  readonly state: S;
  /** Steps completed in all (including those before a resume). */
  readonly steps: number;
  /** The loss of every step, in order (including those before a resume). */
  readonly losses: readonly number[];
  /** The evaluations of this run, with the step each was measured after. */
  readonly evaluations: readonly { readonly step: number; readonly metrics: EvalMetrics }[];
  /** Wall time of this run, in seconds. */
  readonly seconds: number;
}

/** A training run that can be watched, interrupted, and run again to continue. */
export interface Trainer<P, S, E = never, R = never> {
  /**
   * Trains from the latest snapshot to the end (all epochs, or `maxSteps`). Interruptible between
   * steps; running it again after an interruption continues where it stopped. Fails with the
   * data's and callbacks' errors `E`, yieldiff's tagged errors, or a CheckpointError.
   */
  readonly run: Effect.Effect<FitResult<P, S>, E | YieldiffFailure, R>;
  /** The state after the last completed step (the initial state before any). */
  readonly latest: Effect.Effect<Snapshot<P, S>>;
  /**
   * The metrics of every step completed while the stream is consumed. It ends when training
   * completes (not when it is interrupted or fails: running it again continues the stream).
   * Start consuming it before `run` (fork it first) to see every step.
   */
  readonly metrics: Stream.Stream<StepMetrics>;
}

// ---------------------------------------------------------------------------------------------

/** A snapshot; `losses` is a copy of the first `step` entries of a shared append-only history. */
class TrainSnapshot<P, S> implements Snapshot<P, S> {
  constructor(
    readonly params: P,
    readonly state: S,
    readonly step: number,
    readonly epoch: number,
    readonly stepInEpoch: number,
    private readonly history: number[],
  ) {}
  get losses(): readonly number[] {
    return this.history.slice(0, this.step);
  }
}

const lossNumber = (v: unknown, step: number): number => {
  const p = v instanceof Tensor || typeof v === "number" ? v : primal(v as Value);
  if (typeof p === "number") return p;
  if (p instanceof Tensor && p.size === 1) return p.buf[0]!;
  throw new ValueError(
    `fit: the loss program must return a scalar, got ${p instanceof Tensor ? `a tensor of shape [${p.shape.join(", ")}]` : typeof p} at step ${step}; reduce it with mean or sum`,
  );
};

/** The leading dimension of the first tensor in a batch, an array's length, or 1. */
const defaultExamples = (batch: unknown): number => {
  const stack: unknown[] = [batch];
  let budget = 64;
  while (stack.length > 0 && budget-- > 0) {
    const x = stack.shift();
    if (x instanceof Tensor) return x.shape.length > 0 ? x.shape[0]! : 1;
    if (Array.isArray(x)) stack.push(...x.slice(0, 8));
    else if (typeof x === "object" && x !== null) stack.push(...Object.values(x).slice(0, 8));
  }
  return Array.isArray(batch) ? batch.length : 1;
};

const toStream = <B, E, R>(b: Batches<B, E, R>): Stream.Stream<B, E, R> =>
  Stream.isStream(b) ? (b as Stream.Stream<B, E, R>) : Stream.fromIterable(b as Iterable<B>, { chunkSize: 1 });

const isBatches = (x: unknown): boolean =>
  Stream.isStream(x) || (typeof x === "object" && x !== null && typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function");

/** A due-check for a cadence: called after each completed step, true when the action should run. */
const makeCadence = (every: Cadence): Effect.Effect<(m: StepMetrics) => Effect.Effect<boolean>> => {
  if (typeof every === "number") return Effect.succeed((m) => Effect.succeed(m.step % every === 0));
  return Effect.gen(function* () {
    const step = yield* Schedule.toStep(every);
    let next: number | undefined;
    let done = false;
    // Steps the schedule; undefined when it has ended.
    const advance = (now: number, m: StepMetrics) =>
      step(now, m).pipe(
        Effect.map(([, delay]) => now + Duration.toMillis(delay)),
        Pull.catchDone(() => Effect.succeed(undefined)),
      );
    return (m: StepMetrics) =>
      Effect.gen(function* () {
        if (done) return false;
        const now = yield* Clock.currentTimeMillis;
        if (next === undefined) {
          next = yield* advance(now, m);
          if (next === undefined) return !(done = true);
        }
        if (now < next) return false;
        next = yield* advance(now, m);
        if (next === undefined) done = true;
        return true;
      });
  });
};

const checkCadence = (name: string, every: Cadence | undefined): void => {
  if (every === undefined || Schedule.isSchedule(every)) return;
  if (typeof every !== "number" || !Number.isSafeInteger(every) || every < 1)
    throw new ValueError(`fit: ${name}.every must be a positive whole number of steps or a Schedule, got ${String(every)}`);
};

/** The keys of FitOptions and of its evaluate and checkpoint options (any other key is a ValueError). */
const FIT_OPTIONS: OptionSpec = {
  params: "any", loss: "function", optimizer: "object", data: "any", epochs: "number", maxSteps: "number", state: "any",
  resumeFrom: "object", examplesIn: "function", onStep: "function", onEpoch: "function", evaluate: "object", checkpoint: "object",
};
const EVALUATE_OPTIONS: OptionSpec = { every: "any", run: "function", atEnd: "boolean" };
const CHECKPOINT_OPTIONS: OptionSpec = { path: "string", every: "any", onInterrupt: "boolean", atEnd: "boolean", resume: "boolean" };

const checkOptions = <P, B, S, E, R>(o: FitOptions<P, B, S, E, R>): void => {
  if (typeof o !== "object" || o === null) throw new ValueError("fit: expected an options object { params, loss, optimizer, data, ... }");
  checkOptionKeys("fit", o, FIT_OPTIONS);
  checkOptionKeys("fit", o.evaluate, EVALUATE_OPTIONS, "evaluate");
  checkOptionKeys("fit", o.checkpoint, CHECKPOINT_OPTIONS, "checkpoint");
  if (typeof o.loss !== "function") throw new ValueError("fit: loss must be a generator function (params, batch) → scalar loss");
  if (!o.optimizer || typeof o.optimizer.init !== "function" || typeof o.optimizer.update !== "function")
    throw new ValueError("fit: optimizer must have init(params) and update(grads, state, params), like the ones in optim");
  if (typeof o.data !== "function" && !isBatches(o.data))
    throw new ValueError("fit: data must be an iterable of batches, a Stream of batches, or a function (epoch) → either");
  const epochs = o.epochs ?? 1;
  if (!Number.isSafeInteger(epochs) || epochs < 0) throw new ValueError(`fit: epochs must be a whole number ≥ 0, got ${String(o.epochs)}`);
  if (o.maxSteps !== undefined && (!Number.isSafeInteger(o.maxSteps) || o.maxSteps < 0))
    throw new ValueError(`fit: maxSteps must be a whole number ≥ 0, got ${String(o.maxSteps)}`);
  checkCadence("evaluate", o.evaluate?.every);
  if (o.evaluate && typeof o.evaluate.run !== "function") throw new ValueError("fit: evaluate.run must be a function (snapshot) → Effect of metrics");
  checkCadence("checkpoint", o.checkpoint?.every);
  if (o.checkpoint && (typeof o.checkpoint.path !== "string" || o.checkpoint.path === ""))
    throw new ValueError("fit: checkpoint.path must be a file path");
};

/**
 * Makes a trainer: validates the options and, with `checkpoint.resume`, loads the checkpoint
 * file if there is one (its params, optimizer state and progress become the starting point).
 */
export const makeTrainer = <P, B, S, E = never, R = never>(
  options: FitOptions<P, B, S, E, R>,
): Effect.Effect<Trainer<P, S, E, R>, YieldiffFailure> =>
  Effect.gen(function* () {
    yield* attempt(() => checkOptions(options));
    const { loss, optimizer, data, epochs = 1, maxSteps, examplesIn = defaultExamples, onStep, onEpoch, evaluate, checkpoint } = options;
    // Checkpoints need storage: fail now, not when the first save is due.
    if (checkpoint) yield* requireCheckpointFiles(checkpoint.path);
    const dataFor = (epoch: number): Stream.Stream<B, E | YieldiffFailure, R> =>
      Stream.unwrap(
        attempt(() => {
          const d = typeof data === "function" ? (data as (epoch: number) => Batches<B, E, R>)(epoch) : data;
          if (!isBatches(d)) throw new ValueError(`fit: data(${epoch}) returned ${d === null ? "null" : typeof d}, not an iterable or a Stream of batches`);
          return toStream(d);
        }),
      );

    // The starting point: a checkpoint file (resume), a given snapshot, or the initial params.
    let start: Snapshot<P, S> | undefined = options.resumeFrom;
    if (start === undefined && checkpoint?.resume && (yield* Checkpoint.exists(checkpoint.path))) {
      const state0 = options.state ?? (yield* attempt(() => optimizer.init(options.params)));
      start = yield* Checkpoint.loadTraining(checkpoint.path, { params: options.params, state: state0 });
    }
    const history: number[] = start ? Array.from(start.losses) : [];
    if (start && history.length !== start.step)
      return yield* Effect.fail(new ValueError(`fit: resumeFrom has ${history.length} losses for ${start.step} steps`));
    const initial = start
      ? new TrainSnapshot(start.params, start.state, start.step, start.epoch, start.stepInEpoch, history)
      : new TrainSnapshot(options.params, options.state ?? (yield* attempt(() => optimizer.init(options.params))), 0, 0, 0, history);

    const latest = yield* Ref.make<TrainSnapshot<P, S>>(initial);
    const hub = yield* PubSub.unbounded<StepMetrics | null>();
    const vg = valueAndGrad(loss);
    let running = false;

    /** One step: loss, gradients, update, publish; all or nothing. */
    const step = (batch: B, epochStart: bigint, epochExamples: { n: number }) =>
      Effect.uninterruptible(
        Effect.gen(function* () {
          const t0 = yield* Clock.currentTimeNanos;
          const s = yield* Ref.get(latest);
          const examples = yield* attempt(() => examplesIn(batch));
          const [lossValue, grads] = yield* attempt(() => runProgram(vg, s.params, batch) as [Value, P]);
          const value = yield* attempt(() => lossNumber(lossValue, s.step + 1));
          if (!Number.isFinite(value))
            return yield* Effect.fail(
              new ValueError(
                `fit: the loss is ${value} at step ${s.step + 1} (epoch ${s.epoch + 1}, step ${s.stepInEpoch + 1}); ` +
                  "training diverged: lower the learning rate, clip gradients, or check the data",
              ),
            );
          const [params, state] = yield* attempt(() => optimizer.update(grads, s.state, s.params));
          history.length = s.step; // drop anything past the last completed step (never kept, but cheap to be sure)
          history.push(value);
          const next = new TrainSnapshot(params, state, s.step + 1, s.epoch, s.stepInEpoch + 1, history);
          yield* Ref.set(latest, next);
          const t1 = yield* Clock.currentTimeNanos;
          epochExamples.n += examples;
          const metrics: StepMetrics = {
            step: next.step,
            epoch: next.epoch,
            stepInEpoch: next.stepInEpoch,
            loss: value,
            examples,
            examplesPerSecond: t1 > epochStart ? epochExamples.n / (Number(t1 - epochStart) / 1e9) : 0,
            seconds: Number(t1 - t0) / 1e9,
          };
          return metrics;
        }),
      );

    const saveLatest = (path: string) => Ref.get(latest).pipe(Effect.flatMap((s) => Checkpoint.saveTraining(path, s)));

    const train = Effect.gen(function* () {
      const t0 = yield* Clock.currentTimeNanos;
      const evaluations: { step: number; metrics: EvalMetrics }[] = [];
      const evalDue = evaluate ? yield* makeCadence(evaluate.every) : undefined;
      const saveDue = checkpoint?.every !== undefined ? yield* makeCadence(checkpoint.every) : undefined;
      const runEval = Effect.gen(function* () {
        const s = yield* Ref.get(latest);
        if (evaluations.length > 0 && evaluations[evaluations.length - 1]!.step === s.step) return;
        evaluations.push({ step: s.step, metrics: yield* evaluate!.run(s) });
      });
      const limitReached = (s: Snapshot<P, S>) => maxSteps !== undefined && s.step >= maxSteps;

      // Let consumers forked just before `run` subscribe to the metrics before the first step.
      yield* Effect.yieldNow;
      for (;;) {
        const s = yield* Ref.get(latest);
        if (s.epoch >= epochs || limitReached(s)) break;
        const epoch = s.epoch;
        const epochStart = yield* Clock.currentTimeNanos;
        const counted = { n: 0 };
        let steps = 0;
        let sum = 0;
        let stopped = false;
        yield* Stream.runForEachWhile(dataFor(epoch).pipe(Stream.drop(s.stepInEpoch)), (batch) =>
          Effect.gen(function* () {
            const m = yield* step(batch, epochStart, counted);
            steps++;
            sum += m.loss;
            yield* PubSub.publish(hub, m);
            if (onStep) yield* onStep(m);
            if (evalDue && (yield* evalDue(m))) yield* runEval;
            if (saveDue && (yield* saveDue(m))) yield* saveLatest(checkpoint!.path);
            yield* Effect.yieldNow;
            stopped = limitReached(yield* Ref.get(latest));
            return !stopped;
          }),
        );
        if (stopped) break;
        // The epoch's data is used up: move on to the next epoch (an atomic update, no params change).
        const done = yield* Ref.updateAndGet(latest, (x) => new TrainSnapshot(x.params, x.state, x.step, x.epoch + 1, 0, history));
        const t1 = yield* Clock.currentTimeNanos;
        if (onEpoch) yield* onEpoch({ epoch, loss: steps > 0 ? sum / steps : NaN, steps, seconds: Number(t1 - epochStart) / 1e9 }, done);
        yield* Effect.yieldNow;
      }
      if (evaluate && evaluate.atEnd !== false) yield* runEval;
      if (checkpoint && checkpoint.atEnd !== false) yield* saveLatest(checkpoint.path);
      const end = yield* Ref.get(latest);
      // Training is complete: end the metrics stream (sticky: a consumer that starts later ends at once).
      yield* PubSub.end(hub, null);
      const t1 = yield* Clock.currentTimeNanos;
      const result: FitResult<P, S> = {
        params: end.params,
        state: end.state,
        steps: end.step,
        losses: end.losses,
        evaluations,
        seconds: Number(t1 - t0) / 1e9,
      };
      return result;
    });

    const runOnce: Effect.Effect<FitResult<P, S>, E | YieldiffFailure, R> = Effect.suspend(() => {
      if (running) return Effect.fail(new ValueError("fit: this trainer is already running; wait for it (or interrupt it) before running it again"));
      running = true;
      const withSave =
        checkpoint && checkpoint.onInterrupt !== false
          ? train.pipe(
              Effect.onInterrupt(() =>
                saveLatest(checkpoint.path).pipe(
                  // The interruption stays the outcome; a save that fails is reported, not hidden.
                  Effect.catch((e) => Effect.logError(`fit: could not save the checkpoint on interruption: ${e.message}`)),
                ),
              ),
            )
          : train;
      return withSave.pipe(Effect.ensuring(Effect.sync(() => void (running = false))));
    });

    const trainer: Trainer<P, S, E, R> = {
      run: runOnce,
      latest: Ref.get(latest),
      metrics: Stream.fromPubSub(hub).pipe(Stream.takeWhile((m): m is StepMetrics => m !== null)),
    };
    return trainer;
  });

/**
 * Trains `params` on `data` with `optimizer`: `makeTrainer(options)` and its `run`. Returns the
 * trained params, the optimizer state and the history (losses, evaluations). Interrupting it
 * stops between two steps; with `checkpoint` the last completed step is saved first, and
 * `checkpoint.resume` continues from that file next time.
 */
export const fit = <P, B, S, E = never, R = never>(
  options: FitOptions<P, B, S, E, R>,
): Effect.Effect<FitResult<P, S>, E | YieldiffFailure, R> => makeTrainer(options).pipe(Effect.flatMap((t) => t.run));
