// Checkpoint files on a real file system (Node, Deno, Bun) for yieldiff/effect: the
// CheckpointFiles service over `node:fs/promises`. Writes are atomic: the bytes go to a
// temporary file in the same folder, which is flushed to disk (fsync) and renamed over the
// target; the write runs to its end once started, and on any error the temporary file is
// removed and the target is untouched.
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Effect, Layer } from "effect";
import { CheckpointError } from "../../checkpoint.ts";
import { CheckpointFiles, type CheckpointFilesShape } from "../files.ts";

const ioError = (what: string, path: string) => (e: unknown) =>
  new CheckpointError("io", `${what}: ${e instanceof Error ? e.message : String(e)}`, path);

const read = (path: string): Effect.Effect<Uint8Array, CheckpointError> =>
  Effect.tryPromise({ try: () => readFile(path), catch: ioError("loadCheckpoint: could not read the checkpoint", path) }).pipe(
    Effect.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
  );

const exists = (path: string): Effect.Effect<boolean> => Effect.promise(() => stat(path).then(() => true, () => false));

let tmpCounter = 0;

const write = (path: string, bytes: Uint8Array): Effect.Effect<void, CheckpointError> => {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.${(tmpCounter++).toString(36)}.tmp`);
  const fail = ioError("saveCheckpoint: could not write the checkpoint", path);
  const written = Effect.acquireUseRelease(
    Effect.tryPromise({ try: () => open(tmp, "wx", 0o644), catch: fail }),
    (fh) =>
      Effect.tryPromise({
        try: async () => {
          await fh.writeFile(bytes);
          await fh.sync();
        },
        catch: fail,
      }),
    (fh) => Effect.promise(() => fh.close().catch(() => undefined)),
  ).pipe(
    Effect.andThen(Effect.tryPromise({ try: () => rename(tmp, path), catch: fail })),
    Effect.tapError(() => Effect.promise(() => rm(tmp, { force: true }).catch(() => undefined))),
  );
  // Make the rename durable (best effort: not every platform can fsync a folder).
  const syncDir = Effect.promise(async () => {
    try {
      const d = await open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // ignore
    }
  });
  return Effect.uninterruptible(Effect.andThen(written, syncDir));
};

/** Checkpoint files on the local file system (`node:fs/promises`). */
export const nodeCheckpointFiles: CheckpointFilesShape = { read, write, exists, available: true };

/** Provides nodeCheckpointFiles as the CheckpointFiles service: `effect.pipe(Effect.provide(NodeCheckpointFiles))`. */
export const NodeCheckpointFiles: Layer.Layer<never> = Layer.succeed(CheckpointFiles, nodeCheckpointFiles);
