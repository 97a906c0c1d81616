// yieldiff/effect: typed failures, interruptible training, Schema-checked checkpoints.
// Every training here is a 4-parameter linear regression on 32 seeded examples (4 steps an
// epoch), so the whole file runs in a few seconds.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Cause, Deferred, Effect, Exit, Fiber, Ref, Result, Schedule, Schema, Stream } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import { CHECKPOINT_VERSION, crc32, encodeCheckpoint } from "../src/checkpoint.ts";
import { loadCheckpoint, saveCheckpoint } from "../src/node/index.ts";
import { NodeCheckpointFiles } from "../src/effect/node/index.ts";
import {
  Tensor,
  add,
  batches,
  grad,
  matmul,
  mean,
  mul,
  optim,
  randn,
  run,
  square,
  sub,
  sum,
  takeRows,
  tensor,
  trainLoop,
  type Value,
} from "../src/index.ts";
import {
  Checkpoint,
  CheckpointError,
  ShapeError,
  ValueError,
  fit,
  makeTrainer,
  runEffect,
  type CheckpointErrorReason,
  type FitOptions,
  type StepMetrics,
} from "../src/effect/index.ts";

const dir = mkdtempSync(join(tmpdir(), "yieldiff-effect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshPath = (): string => join(dir, `ckpt-${counter++}.ydf`);

// ---------------------------------------------------------------------------------------------
// The tiny model

interface Params {
  w: Tensor;
  b: number;
}
interface Batch {
  x: Tensor;
  y: Tensor;
}
const X = randn([32, 3], { seed: 1 });
const Y = tensor(Array.from({ length: 32 }, (_, i) => 1 * X.data[3 * i]! - 2 * X.data[3 * i + 1]! + 0.5 * X.data[3 * i + 2]! + 0.3));
const initParams = (): Params => ({ w: randn([3], { seed: 7 }), b: 0 });

function* mse(params: Params, batch: Batch) {
  const pred = yield* add(yield* matmul(batch.x, params.w), params.b);
  return yield* mean(yield* square(yield* sub(pred, batch.y)));
}
/** The batches of an epoch, shuffled by the epoch's seed (the same on every run). */
const epochBatches = (epoch: number): Batch[] =>
  [...batches(32, 8, { seed: 100 + epoch })].map((idx) => ({ x: takeRows(X, idx), y: takeRows(Y, idx) }));

const options = (over: Partial<FitOptions<Params, Batch, optim.AdamState>> = {}): FitOptions<Params, Batch, optim.AdamState> => ({
  params: initParams(),
  loss: mse,
  optimizer: optim.adam({ lr: 0.05 }),
  data: epochBatches,
  epochs: 3,
  ...over,
});

/** Every number of a pytree, in order (exact values). */
const leaves = (x: unknown): number[] =>
  x instanceof Tensor ? Array.from(x.data) : typeof x === "number" ? [x] : Array.isArray(x) ? x.flatMap(leaves) : typeof x === "object" && x !== null ? Object.values(x).flatMap(leaves) : [];

// Checkpoint files on the local file system (yieldiff/effect/node) for every program run here.
const runP = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(Effect.provide(e, NodeCheckpointFiles));
const runExit = <A, E>(e: Effect.Effect<A, E>): Promise<Exit.Exit<A, E>> => Effect.runPromiseExit(Effect.provide(e, NodeCheckpointFiles));
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success");
  const found = Cause.findErrorOption(exit.cause);
  if (found._tag !== "Some") throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`);
  return found.value;
};

// ---------------------------------------------------------------------------------------------

describe("runEffect", () => {
  function* f(x: Value) {
    return yield* sum(yield* mul(x, x));
  }

  it("succeeds with the program's value, and runs transformations", async () => {
    const x = tensor([1, 2, 3]);
    expect(((await runP(runEffect(f, x))) as Tensor).item()).toBe(14);
    expect(await runP(runEffect(f, 3))).toBe(9);
    expect(Array.from(((await runP(runEffect(grad(f), x))) as Tensor).data)).toEqual([2, 4, 6]);
  });

  it("a shape error inside a program is a typed failure, caught by its tag", async () => {
    function* bad(a: Value, b: Value) {
      return yield* add(a, b);
    }
    const program = runEffect(bad, tensor([1, 2]), tensor([1, 2, 3])).pipe(
      Effect.map(() => "no error"),
      Effect.catchTag("ShapeError", (e) => Effect.succeed(`caught ${e._tag}: ${e.message}`)),
    );
    const out = await runP(program);
    expect(out).toMatch(/^caught ShapeError: /);
    expect(out).toContain("[2]");
    expect(out).toContain("[3]");

    const exit = await runExit(runEffect(bad, tensor([1, 2]), tensor([1, 2, 3])));
    const error = failureOf(exit);
    expect(error).toBeInstanceOf(ShapeError);
    expect(error._tag).toBe("ShapeError");
  });

  it("the same inside grad, and other tags pass through catchTag untouched", async () => {
    function* bad(a: Value) {
      return yield* sum(yield* matmul(a, tensor([[1, 2, 3]])));
    }
    const caught = await runP(
      runEffect(grad(bad), tensor([[1, 2]])).pipe(
        Effect.map(() => "no error"),
        Effect.catchTag("DTypeError", () => Effect.succeed("wrong handler")),
        Effect.catchTag("ShapeError", () => Effect.succeed("shape")),
      ),
    );
    expect(caught).toBe("shape");
  });

  it("anything else thrown in a program is a defect, not a failure", async () => {
    function* buggy(x: Value) {
      const y = yield* mul(x, 2);
      (undefined as unknown as { boom(): void }).boom();
      return y;
    }
    const exit = await runExit(runEffect(buggy, 1));
    expect(Exit.isFailure(exit)).toBe(true);
    if (Exit.isFailure(exit)) {
      expect(Cause.hasFails(exit.cause)).toBe(false);
      expect(Cause.hasDies(exit.cause)).toBe(true);
      expect(Cause.squash(exit.cause)).toBeInstanceOf(TypeError);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("fit", () => {
  it("trains: the same params, state and losses as the core trainLoop, and a lower loss", async () => {
    const result = await runP(fit(options()));
    const reference = trainLoop({ params: initParams(), lossFn: mse, optimizer: optim.adam({ lr: 0.05 }), data: epochBatches, epochs: 3, progress: "none" });
    expect(result.steps).toBe(12);
    expect(result.losses).toEqual(reference.losses);
    expect(leaves(result.params)).toEqual(leaves(reference.params));
    expect(leaves(result.state)).toEqual(leaves(reference.state));
    expect(result.state.count).toBe(12);
    const epochMean = (e: number) => result.losses.slice(4 * e, 4 * e + 4).reduce((a, b) => a + b) / 4;
    expect(epochMean(2)).toBeLessThan(epochMean(0));
  });

  it("takes its data as an array, a function of the epoch, or an Effect Stream, with the same result", async () => {
    const fixed = epochBatches(0);
    const fromArray = await runP(fit(options({ data: fixed })));
    const fromStream = await runP(fit(options({ data: Stream.fromIterable(fixed) })));
    const fromStreamFn = await runP(fit(options({ data: () => Stream.fromIterable(fixed) })));
    expect(fromArray.steps).toBe(12);
    expect(leaves(fromStream.params)).toEqual(leaves(fromArray.params));
    expect(leaves(fromStreamFn.params)).toEqual(leaves(fromArray.params));
  });

  it("a stream's failure is fit's failure, with its own type", async () => {
    class DataError {
      readonly _tag = "DataError";
    }
    const data = Stream.fromIterable(epochBatches(0)).pipe(Stream.take(2), Stream.concat(Stream.fail(new DataError())));
    const out = await runP(
      fit({ ...options(), data }).pipe(
        Effect.map(() => "no error"),
        Effect.catchTag("DataError", () => Effect.succeed("data error")),
      ),
    );
    expect(out).toBe("data error");
  });

  it("a shape error in the loss fails fit with the ShapeError, and no step is applied", async () => {
    const badBatch = { x: takeRows(X, [0, 1]), y: tensor([1, 2, 3]) };
    const program = Effect.gen(function* () {
      const trainer = yield* makeTrainer(options({ data: [badBatch] }));
      const exit = yield* Effect.exit(trainer.run);
      return { exit, latest: yield* trainer.latest };
    });
    const { exit, latest } = await runP(program);
    expect(failureOf(exit)).toBeInstanceOf(ShapeError);
    expect(latest.step).toBe(0);
    expect(leaves(latest.params)).toEqual(leaves(initParams()));
  });

  it("a diverging loss fails with a ValueError that says so", async () => {
    const exit = await runExit(fit(options({ optimizer: optim.sgd({ lr: 1e6 }) as never, epochs: 50 })));
    const error = failureOf(exit);
    expect(error).toBeInstanceOf(ValueError);
    expect((error as Error).message).toMatch(/diverged/);
  });

  it("bad options are typed ValueErrors", async () => {
    expect(failureOf(await runExit(fit(options({ epochs: -1 }))))).toBeInstanceOf(ValueError);
    expect(failureOf(await runExit(fit(options({ data: 42 as never }))))).toBeInstanceOf(ValueError);
    expect(failureOf(await runExit(fit(options({ evaluate: { every: 0, run: () => Effect.succeed({}) } }))))).toBeInstanceOf(ValueError);
  });

  it("reports every step as a Stream of metrics", async () => {
    const program = Effect.gen(function* () {
      const trainer = yield* makeTrainer(options({ epochs: 2 }));
      const collector = yield* Effect.forkChild(Stream.runCollect(trainer.metrics));
      const result = yield* trainer.run;
      const metrics = yield* Fiber.join(collector);
      return { result, metrics: Array.from(metrics) as StepMetrics[] };
    });
    const { result, metrics } = await runP(program);
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(metrics.map((m) => [m.epoch, m.stepInEpoch])).toEqual([[0, 1], [0, 2], [0, 3], [0, 4], [1, 1], [1, 2], [1, 3], [1, 4]]);
    expect(metrics.map((m) => m.loss)).toEqual(result.losses);
    expect(metrics.every((m) => m.examples === 8 && Number.isFinite(m.examplesPerSecond) && m.examplesPerSecond >= 0)).toBe(true);
  });

  it("interrupted mid-run, the params are those of a run stopped after the same number of steps", async () => {
    const program = Effect.gen(function* () {
      const trainer = yield* makeTrainer(options({ epochs: 10_000 }));
      const reached = yield* Deferred.make<void>();
      const fiber = yield* Effect.forkChild(trainer.run);
      // Wait for step 5 without slowing training down, then interrupt.
      yield* Effect.forkChild(trainer.metrics.pipe(Stream.takeUntil((m) => m.step >= 5), Stream.runDrain, Effect.andThen(Deferred.succeed(reached, undefined))));
      yield* Deferred.await(reached);
      yield* Fiber.interrupt(fiber);
      return yield* trainer.latest;
    });
    const latest = await runP(program);
    expect(latest.step).toBeGreaterThanOrEqual(5);
    expect(latest.step).toBeLessThan(40_000);
    expect(latest.state.count).toBe(latest.step); // the optimizer state belongs to the same step
    expect(latest.losses.length).toBe(latest.step);
    const stopped = await runP(fit(options({ epochs: 10_000, maxSteps: latest.step })));
    expect(stopped.steps).toBe(latest.step);
    expect(leaves(latest.params)).toEqual(leaves(stopped.params));
    expect(leaves(latest.state)).toEqual(leaves(stopped.state));
    expect(latest.losses).toEqual(stopped.losses);
  });

  it("a timeout stops it between steps; running again continues to the same end as an uninterrupted run", async () => {
    const program = Effect.gen(function* () {
      const trainer = yield* makeTrainer(options({ epochs: 50 }));
      const timedOut = yield* Effect.exit(trainer.run.pipe(Effect.timeout("20 millis")));
      const atTimeout = yield* trainer.latest;
      const finished = yield* trainer.run;
      return { timedOut, atTimeout, finished };
    });
    const { timedOut, atTimeout, finished } = await runP(program);
    const uninterrupted = await runP(fit(options({ epochs: 50 })));
    expect(finished.steps).toBe(200);
    if (Exit.isFailure(timedOut)) {
      expect(Cause.isTimeoutError(Cause.squash(timedOut.cause))).toBe(true);
      const stopped = await runP(fit(options({ epochs: 50, maxSteps: atTimeout.step })));
      expect(leaves(atTimeout.params)).toEqual(leaves(stopped.params));
      expect(atTimeout.state.count).toBe(atTimeout.step);
    } else {
      // A machine fast enough to train 200 steps in 20 ms: nothing was interrupted.
      expect(atTimeout.step).toBe(200);
    }
    expect(leaves(finished.params)).toEqual(leaves(uninterrupted.params));
    expect(finished.losses).toEqual(uninterrupted.losses);
  });

  it("evaluates every n steps and at the end, on the params of that step", async () => {
    const program = fit(
      options({
        epochs: 3,
        evaluate: { every: 5, run: (s) => Effect.succeed({ loss: (run(mse, s.params, { x: X, y: Y }) as Tensor).item(), count: s.state.count }) },
      }),
    );
    const result = await runP(program);
    expect(result.evaluations.map((e) => e.step)).toEqual([5, 10, 12]);
    for (const e of result.evaluations) {
      expect(e.metrics.count).toBe(e.step);
      const atStep = await runP(fit(options({ epochs: 3, maxSteps: e.step })));
      expect(e.metrics.loss).toBe((run(mse, atStep.params, { x: X, y: Y }) as Tensor).item());
    }
  });

  it("evaluates on a Schedule stepped with the step metrics", async () => {
    const evaluate = (every: Schedule.Schedule<unknown, StepMetrics>) =>
      runP(fit(options({ epochs: 3, evaluate: { every, run: () => Effect.succeed({}), atEnd: false } }))).then((r) => r.evaluations.map((e) => e.step));
    // No delay: due after every step, for as long as the schedule goes on. The schedule is
    // stepped after each evaluation with that step's metrics, so `while` ends it after step 3.
    expect(await evaluate(Schedule.recurs(2))).toEqual([1, 2]);
    expect(await evaluate(Schedule.spaced(0).pipe(Schedule.setInputType<StepMetrics>(), Schedule.while(({ input }) => input.step < 3)))).toEqual([1, 2, 3]);
    // A long delay: never due during this short run.
    expect(await evaluate(Schedule.spaced("1 hour"))).toEqual([]);
  });

  it("calls onStep and onEpoch, and their failures are its failures", async () => {
    const seen: string[] = [];
    const out = await runP(
      fit({
        ...options({ epochs: 2 }),
        onStep: (m: StepMetrics) => Effect.sync(() => void seen.push(`s${m.step}`)),
        onEpoch: (e, s) => (e.epoch === 1 ? Effect.fail("stop" as const) : Effect.sync(() => void seen.push(`e${e.epoch}:${e.steps}:${s.epoch}`))),
      }).pipe(Effect.flip),
    );
    expect(out).toBe("stop");
    expect(seen).toEqual(["s1", "s2", "s3", "s4", "e0:4:1", "s5", "s6", "s7", "s8"]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("training checkpoints", () => {
  it("interrupted with a checkpoint path, it saves the last completed step; resuming gives the uninterrupted run's params", async () => {
    const path = freshPath();
    const epochs = 50;
    const program = Effect.gen(function* () {
      const trainer = yield* makeTrainer(options({ epochs, checkpoint: { path, resume: true } }));
      const reached = yield* Deferred.make<void>();
      const fiber = yield* Effect.forkChild(trainer.run);
      yield* Effect.forkChild(trainer.metrics.pipe(Stream.takeUntil((m) => m.step >= 7), Stream.runDrain, Effect.andThen(Deferred.succeed(reached, undefined))));
      yield* Deferred.await(reached);
      yield* Fiber.interrupt(fiber);
      return yield* trainer.latest;
    });
    const latest = await runP(program);
    expect(existsSync(path)).toBe(true);
    const saved = await runP(Checkpoint.loadTraining(path, { params: initParams(), state: optim.adam({ lr: 0.05 }).init(initParams()) }));
    expect(saved.step).toBe(latest.step);
    expect([saved.epoch, saved.stepInEpoch]).toEqual([latest.epoch, latest.stepInEpoch]);
    expect(leaves(saved.params)).toEqual(leaves(latest.params));
    expect(leaves(saved.state)).toEqual(leaves(latest.state));
    expect(saved.losses).toEqual(latest.losses);

    // A new process: the same options, resume from the file.
    const resumed = await runP(fit(options({ epochs, checkpoint: { path, resume: true } })));
    const uninterrupted = await runP(fit(options({ epochs })));
    expect(resumed.steps).toBe(4 * epochs);
    expect(leaves(resumed.params)).toEqual(leaves(uninterrupted.params));
    expect(leaves(resumed.state)).toEqual(leaves(uninterrupted.state));
    expect(resumed.losses).toEqual(uninterrupted.losses);
  });

  it("resumes mid-epoch from a checkpoint saved every 3 steps (the data of that epoch is skipped, not repeated)", async () => {
    const path = freshPath();
    // Stop after 6 steps (epoch 1, step 2 of it): the file holds step 6.
    await runP(fit(options({ epochs: 3, maxSteps: 6, checkpoint: { path, every: 3, atEnd: false } })));
    const saved = await runP(Checkpoint.loadTraining(path, { params: initParams(), state: optim.adam({ lr: 0.05 }).init(initParams()) }));
    expect([saved.step, saved.epoch, saved.stepInEpoch]).toEqual([6, 1, 2]);
    const resumed = await runP(fit(options({ epochs: 3, checkpoint: { path, resume: true } })));
    const uninterrupted = await runP(fit(options({ epochs: 3 })));
    expect(leaves(resumed.params)).toEqual(leaves(uninterrupted.params));
    expect(resumed.losses).toEqual(uninterrupted.losses);
  });

  it("a missing checkpoint file with resume starts from the initial params", async () => {
    const path = freshPath();
    const result = await runP(fit(options({ epochs: 1, checkpoint: { path, resume: true } })));
    expect(result.steps).toBe(4);
    expect(existsSync(path)).toBe(true); // saved at the end
  });

  it("a corrupted or mismatched checkpoint fails resume with its CheckpointError and leaves the live params intact", async () => {
    const path = freshPath();
    await runP(fit(options({ epochs: 1, checkpoint: { path } })));
    const good = readFileSync(path);
    const otherModel = (): Params => ({ w: randn([4], { seed: 7 }), b: 0 });
    const cases: [string, Uint8Array, () => Params, CheckpointErrorReason][] = [
      ["a flipped data byte", flip(good, good.length - 3), initParams, "corrupted"],
      ["a cut file", good.subarray(0, good.length - 16), initParams, "truncated"],
      ["a newer format version", setVersionOf(good, CHECKPOINT_VERSION + 1), initParams, "unsupported-version"],
      ["a live model of another shape", good, otherModel, "mismatch"],
    ];
    for (const [what, bytes, makeLive, reason] of cases) {
      const p = freshPath();
      writeFileSync(p, bytes);
      const live = makeLive();
      const before = leaves(live);
      const exit = await runExit(fit(options({ params: live, checkpoint: { path: p, resume: true } })));
      const error = failureOf(exit);
      expect(error, what).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).reason, what).toBe(reason);
      expect((error as CheckpointError).path, what).toBe(p);
      expect(leaves(live), what).toEqual(before);
      expect(readFileSync(p), what).toEqual(Buffer.from(bytes)); // and the file is left as it was
    }
  });
});

describe("runMain", () => {
  it("Ctrl-C (SIGINT) interrupts training between steps, saves the last completed step, and exits with 130", async () => {
    const root = join(import.meta.dirname, "..");
    const url = (p: string) => JSON.stringify(pathToFileURL(p).href);
    const script = join(dir, "ctrl-c.ts");
    const path = freshPath();
    writeFileSync(
      script,
      `import { Effect, Stream } from ${url(createRequire(import.meta.url).resolve("effect"))};
import { add, batches, matmul, mean, optim, randn, square, sub, takeRows, tensor } from ${url(join(root, "src", "index.ts"))};
import { makeTrainer } from ${url(join(root, "src", "effect", "index.ts"))};
import { runMain } from ${url(join(root, "src", "effect", "node", "index.ts"))};
const X = randn([32, 3], { seed: 1 });
const Y = tensor(Array.from({ length: 32 }, (_, i) => X.data[3 * i]!));
function* loss(p: any, b: any) {
  return yield* mean(yield* square(yield* sub(yield* add(yield* matmul(b.x, p.w), p.b), b.y)));
}
const data = (e: number) => [...batches(32, 8, { seed: e })].map((i) => ({ x: takeRows(X, i), y: takeRows(Y, i) }));
runMain(Effect.gen(function* () {
  const trainer = yield* makeTrainer({ params: { w: randn([3], { seed: 7 }), b: 0 }, loss, optimizer: optim.adam({ lr: 0.01 }), data, epochs: 1e6, checkpoint: { path: ${JSON.stringify(path)} } });
  yield* Effect.forkChild(trainer.metrics.pipe(Stream.filter((m) => m.step === 20), Stream.runForEach(() => Effect.sync(() => console.log("ready")))));
  yield* trainer.run;
}));
`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += String(d)));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on("data", (d) => {
        if (String(d).includes("ready")) {
          // Twice, as a terminal's Ctrl-C often arrives (once relayed by npm or tsx): the second must not cut the save short.
          child.kill("SIGINT");
          setTimeout(() => child.kill("SIGINT"), 1);
        }
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(code, stderr).toBe(130);
    const like = { params: { w: randn([3], { seed: 7 }), b: 0 }, state: optim.adam({ lr: 0.01 }).init({ w: randn([3], { seed: 7 }), b: 0 }) };
    const saved = await runP(Checkpoint.loadTraining(path, like));
    expect(saved.step).toBeGreaterThanOrEqual(20);
    expect(saved.state.count).toBe(saved.step);
    expect(saved.losses.length).toBe(saved.step);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// Checkpoint files: the Schema'd header, each corruption's reason, atomic saves

const flip = (bytes: Uint8Array, at: number): Uint8Array => {
  const out = Uint8Array.from(bytes);
  out[at] = out[at]! ^ 0x5a;
  return out;
};

const setVersionOf = (bytes: Uint8Array, v: number): Uint8Array => {
  const out = Uint8Array.from(bytes);
  new DataView(out.buffer).setUint32(8, v, true);
  return out;
};

const sampleParams = () => ({
  layers: [{ w: randn([3, 2], { seed: 2, dtype: "float32" }), b: tensor([0.5, -1], { dtype: "float32" }) }],
  scale: 1.5,
});

/** A file whose header is `edit(header)`, with a correct header CRC (so only the Schema can object). */
const withHeader = (bytes: Uint8Array, edit: (h: any) => unknown): Uint8Array => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(24, 24 + headerLength)));
  const newHeader = new TextEncoder().encode(JSON.stringify(edit(header)));
  const oldDataStart = Math.ceil((24 + headerLength) / 8) * 8;
  const data = bytes.subarray(oldDataStart);
  const newDataStart = Math.ceil((24 + newHeader.length) / 8) * 8;
  const out = new Uint8Array(newDataStart + data.length);
  out.set(bytes.subarray(0, 24));
  out.set(newHeader, 24);
  out.set(data, newDataStart);
  const v = new DataView(out.buffer);
  v.setUint32(12, newHeader.length, true);
  v.setUint32(16, crc32(newHeader), true);
  return out;
};

describe("Checkpoint", () => {
  it("save and load round-trip, and read and write the core's format", async () => {
    const params = sampleParams();
    const a = freshPath();
    await runP(Checkpoint.save(a, params));
    const back = await runP(Checkpoint.load<ReturnType<typeof sampleParams>>(a, { like: params }));
    expect(leaves(back)).toEqual(leaves(params));
    expect(back.layers[0]!.w.dtype).toBe("float32");
    expect(leaves(loadCheckpoint(a))).toEqual(leaves(params)); // the core reads it
    const b = freshPath();
    saveCheckpoint(b, params);
    expect(leaves(await runP(Checkpoint.load(b)))).toEqual(leaves(params)); // and writes what it reads
    expect(readFileSync(a)).toEqual(readFileSync(b));
  });

  it("the header of a file the core writes decodes with the Header schema", async () => {
    const bytes = encodeCheckpoint(sampleParams());
    const { prefix, header } = await runP(Checkpoint.decodeHeader(bytes));
    expect(prefix.version).toBe(CHECKPOINT_VERSION);
    expect(header.leaves.map((l) => [l.dtype, l.shape])).toEqual([["float32", [3, 2]], ["float32", [2]], ["float64", []]]);
    expect(header.tree.t).toBe("object");
    const raw = JSON.parse(new TextDecoder().decode(bytes.subarray(24, 24 + prefix.headerLength)));
    expect(Result.isSuccess(Schema.decodeUnknownResult(Checkpoint.Header)(raw))).toBe(true);
  });

  const bytes = encodeCheckpoint(sampleParams());
  const dataByte = bytes.length - 2;
  const corruptions: [string, Uint8Array, CheckpointErrorReason, RegExp][] = [
    ["another file type", new TextEncoder().encode("PK\u0003\u0004 not a checkpoint at all"), "bad-magic", /magic/],
    ["an empty file", new Uint8Array(0), "truncated", /fewer than the 24-byte prefix/],
    ["a cut prefix", bytes.subarray(0, 12), "truncated", /prefix/],
    ["a newer format version", setVersionOf(bytes, CHECKPOINT_VERSION + 1), "unsupported-version", /version 2 is not supported/],
    ["a cut header", bytes.subarray(0, 40), "truncated", /header claims/],
    ["a flipped header byte", flip(bytes, 30), "corrupted", /header's CRC-32/],
    ["a flipped data byte", flip(bytes, dataByte), "corrupted", /data section's CRC-32/],
    ["a cut data section", bytes.subarray(0, bytes.length - 8), "truncated", /claims \d+ bytes of data/],
    ["bytes appended", Uint8Array.from([...bytes, 0, 0, 0, 0, 0, 0, 0, 0]), "corrupted", /more than its header accounts for/],
    ["a header that is not JSON", withHeaderText(bytes, "{not json"), "bad-header", /not valid UTF-8 JSON/],
    ["an unknown dtype", withHeader(bytes, (h) => ((h.leaves[0].dtype = "float16"), h)), "bad-header", /Expected "float32" \| "float64"[\s\S]*\["leaves"\]\[0\]\["dtype"\]/],
    ["a negative dimension", withHeader(bytes, (h) => ((h.leaves[0].shape = [3, -2]), h)), "bad-header", /greater than or equal to 0[\s\S]*\["shape"\]\[1\]/],
    ["a byte length that does not fit the shape", withHeader(bytes, (h) => ((h.leaves[0].shape = [3, 3]), h)), "bad-header", /shape \[3, 3\] of float32 needs 36 bytes, the header says 24/],
    ["an unaligned offset", withHeader(bytes, (h) => ((h.leaves[1].offset = 28), h)), "bad-header", /multiple of 8[\s\S]*\["offset"\]/],
    ["overlapping leaves", withHeader(bytes, (h) => ((h.leaves[1].offset = 16), h)), "bad-header", /inside the previous leaf/],
    ["a leaf past the data", withHeader(bytes, (h) => ((h.leaves[2].offset = 4096), h)), "bad-header", /of a data section of/],
    ["an unused leaf", withHeader(bytes, (h) => ((h.tree.entries = h.tree.entries.slice(0, 1)), h)), "bad-header", /leaf 2 is not used/],
    ["a number leaf that is a tensor", withHeader(bytes, (h) => ((h.tree.entries[1][1].t = "number"), (h.tree.entries[0][1].items[0].entries[0][1].t = "number"), h)), "bad-header", /not a float64 scalar/],
    ["another format name", withHeader(bytes, (h) => ((h.format = "npz"), h)), "bad-header", /yieldiff-checkpoint/],
    ["an unknown node type", withHeader(bytes, (h) => ((h.tree.t = "map"), h)), "bad-header", /tree/],
    ["a duplicate key", withHeader(bytes, (h) => ((h.tree.entries[1][0] = "layers"), h)), "bad-header", /appears twice/],
  ];
  for (const [what, file, reason, message] of corruptions)
    it(`${what}: CheckpointError "${reason}"`, async () => {
      const path = freshPath();
      writeFileSync(path, file);
      const error = failureOf(await runExit(Checkpoint.load(path)));
      expect(error).toBeInstanceOf(CheckpointError);
      expect(error._tag).toBe("CheckpointError");
      expect(error.reason).toBe(reason);
      expect(error.path).toBe(path);
      expect(error.message).toMatch(message);
    });

  it("a file that differs from `like` fails with \"mismatch\" naming the place", async () => {
    const path = freshPath();
    writeFileSync(path, bytes);
    const like = sampleParams();
    const cases: [unknown, RegExp][] = [
      [{ ...like, scale: tensor([1]) }, /params\.scale/],
      [{ layers: [{ w: randn([2, 3], { seed: 2, dtype: "float32" }), b: like.layers[0]!.b }], scale: 1 }, /shape \[3, 2\] in the file, \[2, 3\] expected/],
      [{ layers: [{ w: randn([3, 2], { seed: 2 }), b: like.layers[0]!.b }], scale: 1 }, /dtype float32 in the file, float64 expected/],
      [{ layers: like.layers }, /unexpected keys \["scale"\]/],
    ];
    for (const [expected, message] of cases) {
      const error = failureOf(await runExit(Checkpoint.load(path, { like: expected })));
      expect(error.reason).toBe("mismatch");
      expect(error.message).toMatch(message);
    }
  });

  it("a missing file is an \"io\" CheckpointError, and a failed load leaves a live Ref untouched", async () => {
    const live = sampleParams();
    const before = leaves(live);
    const program = Effect.gen(function* () {
      const ref = yield* Ref.make(live);
      const exit = yield* Effect.exit(
        Checkpoint.load<typeof live>(join(dir, "no-such-file.ydf"), { like: live }).pipe(Effect.tap((p) => Ref.set(ref, p))),
      );
      return { exit, current: yield* Ref.get(ref) };
    });
    const { exit, current } = await runP(program);
    expect(failureOf(exit).reason).toBe("io");
    expect(current).toBe(live);
    expect(leaves(live)).toEqual(before);
  });

  it("save is atomic: a value that cannot be saved, or a missing folder, leaves the old file and no temporary file", async () => {
    const sub = mkdtempSync(join(dir, "atomic-"));
    const path = join(sub, "params.ydf");
    await runP(Checkpoint.save(path, sampleParams()));
    const old = readFileSync(path);
    const bad = failureOf(await runExit(Checkpoint.save(path, { w: tensor([1]), f: () => 1 })));
    expect(bad.reason).toBe("unsupported-value");
    expect(bad.path).toBe(path);
    expect(readFileSync(path)).toEqual(old);
    const io = failureOf(await runExit(Checkpoint.save(join(sub, "missing", "x.ydf"), sampleParams())));
    expect(io.reason).toBe("io");
    expect(readdirSync(sub)).toEqual(["params.ydf"]);
    // Overwriting works and replaces the file whole.
    await runP(Checkpoint.save(path, { only: tensor([1, 2]) }));
    expect(leaves(await runP(Checkpoint.load(path)))).toEqual([1, 2]);
    expect(readdirSync(sub)).toEqual(["params.ydf"]);
  });

  it("a training checkpoint whose progress does not fit its losses is a \"mismatch\"", async () => {
    const path = freshPath();
    const params = initParams();
    const state = optim.adam({ lr: 0.05 }).init(params);
    saveCheckpoint(path, { params, state, progress: { step: 3, epoch: 0, stepInEpoch: 3 }, losses: tensor([1, 2]) });
    const error = failureOf(await runExit(Checkpoint.loadTraining(path, { params, state })));
    expect(error.reason).toBe("mismatch");
    expect(error.message).toMatch(/2 losses .* for 3 steps/);
    saveCheckpoint(path, { params, state, progress: { step: 1.5, epoch: 0, stepInEpoch: 0 }, losses: tensor([1]) });
    expect(failureOf(await runExit(Checkpoint.loadTraining(path, { params, state }))).message).toMatch(/integer|int/i);
  });
});

// ---------------------------------------------------------------------------------------------

describe("the entry point", () => {
  it("is the package's ./effect export (the build of src/effect/index.ts; see package-json.test.ts)", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8"));
    expect(pkg.exports["./effect"]).toMatchObject({ types: "./dist/src/effect/index.d.ts", import: "./dist/src/effect/index.js" });
    expect(pkg.peerDependencies.effect).toMatch(/^\^4\./);
    expect(typeof runEffect).toBe("function");
    expect(typeof fit).toBe("function");
  });

  it("nothing outside src/effect imports effect (the core has no runtime dependency on it)", () => {
    const root = join(import.meta.dirname, "..");
    const offenders: string[] = [];
    const walk = (d: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) {
          if (p !== join(root, "src", "effect")) walk(p);
        } else if (/\.[cm]?[jt]s$/.test(name) && /from\s+["']effect(\/[^"']*)?["']|import\(\s*["']effect/.test(readFileSync(p, "utf8"))) offenders.push(p);
      }
    };
    walk(join(root, "src"));
    walk(join(root, "effects"));
    expect(offenders).toEqual([]);
  });
});

/** The checkpoint with its header replaced by arbitrary text (correct CRC). */
function withHeaderText(bytes: Uint8Array, text: string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12, true);
  const newHeader = new TextEncoder().encode(text);
  const data = bytes.subarray(Math.ceil((24 + headerLength) / 8) * 8);
  const start = Math.ceil((24 + newHeader.length) / 8) * 8;
  const out = new Uint8Array(start + data.length);
  out.set(bytes.subarray(0, 24));
  out.set(newHeader, 24);
  out.set(data, start);
  const v = new DataView(out.buffer);
  v.setUint32(12, newHeader.length, true);
  v.setUint32(16, crc32(newHeader), true);
  return out;
}
