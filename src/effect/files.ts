// Where checkpoint files are read and written: a service, so that yieldiff/effect runs wherever
// Effect does and a file system is provided where there is one — yieldiff/effect/node's
// NodeCheckpointFiles (Node, Deno, Bun), or a store of the user's own (say, IndexedDB in a
// browser). Without one, every file operation fails with a CheckpointError saying so.
import { Context, Effect } from "effect";
import { CheckpointError } from "../checkpoint.ts";

/** Byte storage for checkpoints, addressed by path. */
export interface CheckpointFilesShape {
  /** The bytes at `path` (a CheckpointError "io" when they cannot be read). */
  readonly read: (path: string) => Effect.Effect<Uint8Array, CheckpointError>;
  /** Replaces the bytes at `path` atomically: a failure or a crash leaves the old bytes or the new ones. */
  readonly write: (path: string, bytes: Uint8Array) => Effect.Effect<void, CheckpointError>;
  /** Whether something is stored at `path`. */
  readonly exists: (path: string) => Effect.Effect<boolean, CheckpointError>;
  /** False only for the default, which has no storage. */
  readonly available: boolean;
}

const missing = (path: string): CheckpointError =>
  new CheckpointError(
    "io",
    "no file system is provided for checkpoints: provide one with Effect.provide(NodeCheckpointFiles) " +
      '(import { NodeCheckpointFiles } from "yieldiff/effect/node") or a CheckpointFiles service of your own',
    path,
  );

/** The default: no storage; every operation fails with a CheckpointError that says what to provide. */
export const noCheckpointFiles: CheckpointFilesShape = {
  read: (path) => Effect.fail(missing(path)),
  write: (path) => Effect.fail(missing(path)),
  exists: (path) => Effect.fail(missing(path)),
  available: false,
};

/** The checkpoint storage that `Checkpoint.save` / `load` and `fit`'s checkpoints use (default: none). */
export const CheckpointFiles: Context.Reference<CheckpointFilesShape> = Context.Reference<CheckpointFilesShape>("yieldiff/CheckpointFiles", {
  defaultValue: () => noCheckpointFiles,
});

/** Fails with the "no file system" CheckpointError unless checkpoint storage is provided. */
export const requireCheckpointFiles = (path: string): Effect.Effect<void, CheckpointError> =>
  Effect.flatMap(Effect.service(CheckpointFiles), (files) => (files.available ? Effect.void : Effect.fail(missing(path))));
