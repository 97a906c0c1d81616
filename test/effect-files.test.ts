// yieldiff/effect without a file system: Checkpoint's file functions and fit's checkpoints fail
// with a CheckpointError that says what to provide, before any training; with a CheckpointFiles
// of the user's own (here an in-memory one, as a browser would keep bytes in IndexedDB) they work.
import { Effect, Exit, Cause } from "effect";
import { describe, expect, it } from "vitest";
import { CheckpointError, CheckpointFiles, Checkpoint, fit, type CheckpointFilesShape } from "../src/effect/index.ts";
import { optim, square, sum, tensor, type Tensor } from "../src/index.ts";

const failureOf = <A, E>(exit: Exit.Exit<A, E>): unknown => (Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined);

function* loss(p: { w: Tensor }, _batch: number) {
  return yield* sum(yield* square(p.w));
}

describe("CheckpointFiles", () => {
  it("without one, save, load and exists fail with a CheckpointError naming NodeCheckpointFiles", async () => {
    for (const e of [Checkpoint.save("a.ckpt", { w: tensor([1]) }), Checkpoint.load("a.ckpt"), Checkpoint.exists("a.ckpt")]) {
      const error = failureOf(await Effect.runPromiseExit(e as Effect.Effect<unknown, CheckpointError>));
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).reason).toBe("io");
      expect((error as CheckpointError).message).toMatch(/NodeCheckpointFiles/);
      expect((error as CheckpointError).path).toBe("a.ckpt");
    }
  });

  it("without one, fit with a checkpoint fails before its first step", async () => {
    let steps = 0;
    const exit = await Effect.runPromiseExit(
      fit({
        params: { w: tensor([1, 2]) },
        loss,
        optimizer: optim.sgd({ lr: 0.1 }),
        data: [0, 0, 0],
        onStep: () => Effect.sync(() => void steps++),
        checkpoint: { path: "run.ckpt" },
      }),
    );
    expect(failureOf(exit)).toBeInstanceOf(CheckpointError);
    expect(steps).toBe(0);
  });

  it("a store of one's own holds the checkpoints of fit and Checkpoint.load", async () => {
    const stored = new Map<string, Uint8Array>();
    const memory: CheckpointFilesShape = {
      read: (path) => {
        const bytes = stored.get(path);
        return bytes ? Effect.succeed(bytes) : Effect.fail(new CheckpointError("io", "not stored", path));
      },
      write: (path, bytes) => Effect.sync(() => void stored.set(path, bytes.slice())),
      exists: (path) => Effect.succeed(stored.has(path)),
      available: true,
    };
    const program = Effect.gen(function* () {
      const result = yield* fit({ params: { w: tensor([1, 2]) }, loss, optimizer: optim.sgd({ lr: 0.25 }), data: [0, 0], checkpoint: { path: "run.ckpt" } });
      const saved = yield* Checkpoint.loadTraining("run.ckpt", { params: result.params, state: result.state });
      return { result, saved };
    });
    const { result, saved } = await Effect.runPromise(program.pipe(Effect.provideService(CheckpointFiles, memory)));
    expect(Array.from(result.params.w.data)).toEqual([0.25, 0.5]); // w ← w − 0.25·2w, twice
    expect(saved.step).toBe(2);
    expect(Array.from(saved.params.w.data)).toEqual([0.25, 0.5]);
  });
});
