// Checkpoint files on a real file system (Node, Deno, Bun) for yieldiff/effect: the
// CheckpointFiles service over `node:fs/promises`.
//
// Reading takes a regular file only (a directory, a FIFO, a device such as /dev/zero or a socket
// is refused with a "not-a-file" CheckpointError, found by stat before the open and by fstat
// after it; the open is non-blocking, so a FIFO with no writer cannot block it), and only as far
// as its header declares: the prefix and the header are read and checked first (Checkpoint's
// `decodeHeader`, against the file's size), then exactly the declared data, in chunks; a file
// longer or shorter than declared is refused before its data is read. Interruption stops the
// read between two chunks, and completes once it has stopped and the file is closed.
//
// Writes are atomic: the bytes go to a temporary file in the same folder, which is flushed to
// disk (fsync) and renamed over the target; the write runs to its end once started, and on any
// error the temporary file is removed and the target is untouched. Temporary files that killed
// saves to the same path left behind (their process is dead) are removed first.
import { open, readdir, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Effect, Layer } from "effect";
import { CHECKPOINT_MAGIC, CHECKPOINT_VERSION, CheckpointError } from "../../checkpoint.ts";
import { READ_NONBLOCK, nonRegularKind, notAFile, openError } from "../../node/regular-file.ts";
import { staleTempFiles, tempPathFor } from "../../node/temp-files.ts";
import { PREFIX_BYTES, decodeHeader } from "../checkpoint.ts";
import { CheckpointFiles, type CheckpointFilesShape } from "../files.ts";

const ioError = (what: string, path: string) => (e: unknown) =>
  new CheckpointError("io", `${what}: ${e instanceof Error ? e.message : String(e)}`, path);

/** Bytes read between two looks at the abort signal. */
const CHUNK = 1 << 22;

/** Opens `path` for reading if it is a regular file (see the top of this file); with its size. */
const openRegular = (path: string): Effect.Effect<{ fh: FileHandle; size: number }, CheckpointError> =>
  Effect.tryPromise({
    try: async () => {
      const kind = nonRegularKind(await stat(path));
      if (kind !== undefined) throw notAFile(path, kind);
      const fh = await open(path, READ_NONBLOCK);
      try {
        const stats = await fh.stat();
        const opened = nonRegularKind(stats);
        if (opened !== undefined) throw notAFile(path, opened);
        return { fh, size: stats.size };
      } catch (e) {
        await fh.close().catch(() => undefined);
        throw e;
      }
    },
    catch: (e) => openError(path, e),
  });

/** Reads bytes from..to of the file into `out` (at the same offsets), looking at `signal` between chunks. */
const readInto = async (fh: FileHandle, out: Uint8Array, from: number, to: number, signal: AbortSignal): Promise<void> => {
  for (let at = from; at < to; ) {
    if (signal.aborted) throw signal.reason;
    const { bytesRead } = await fh.read(out, at, Math.min(CHUNK, to - at), at);
    if (bytesRead === 0)
      throw new CheckpointError("truncated", `loadCheckpoint: the file ended at byte ${at} while reading bytes ${from}..${to}: it shrank while it was read`);
    at += bytesRead;
  }
};

/**
 * `readInto` as an Effect. Interrupting it aborts the read's signal, and the interruption
 * completes when the read has stopped (at the end of the chunk in progress).
 */
const readRange = (fh: FileHandle, out: Uint8Array, from: number, to: number, path: string): Effect.Effect<void, CheckpointError> =>
  Effect.callback<void, CheckpointError>((resume, signal) => {
    const reading = readInto(fh, out, from, to, signal);
    reading.then(
      () => resume(Effect.void),
      (e) => resume(Effect.fail(e instanceof CheckpointError ? e : ioError("loadCheckpoint: could not read the checkpoint", path)(e))),
    );
    return Effect.promise(() => reading.then(() => undefined, () => undefined));
  });

/** The bytes of the checkpoint in the open file `fh` of `size` bytes: the prefix and header, checked, then the declared data. */
const readDeclared = (fh: FileHandle, size: number, path: string): Effect.Effect<Uint8Array, CheckpointError> =>
  Effect.gen(function* () {
    const prefix = new Uint8Array(Math.min(PREFIX_BYTES, size));
    yield* readRange(fh, prefix, 0, prefix.length, path);
    let head = prefix;
    // The header is read only after a prefix that decodeHeader would accept: the magic, the
    // version, and a header length that fits in the file.
    if (prefix.length === PREFIX_BYTES && prefix.subarray(0, 8).every((b, i) => b === CHECKPOINT_MAGIC.charCodeAt(i))) {
      const view = new DataView(prefix.buffer, prefix.byteOffset, PREFIX_BYTES);
      const headerLength = view.getUint32(12, true);
      if (view.getUint32(8, true) === CHECKPOINT_VERSION && headerLength <= size - PREFIX_BYTES) {
        head = new Uint8Array(PREFIX_BYTES + headerLength);
        head.set(prefix);
        yield* readRange(fh, head, PREFIX_BYTES, head.length, path);
      }
    }
    // Everything about the prefix and the header, and the declared length against the file's
    // size, is checked here: only a file of exactly the declared length gets further.
    yield* decodeHeader(head, path, size);
    const bytes = new Uint8Array(size);
    bytes.set(head);
    yield* readRange(fh, bytes, head.length, size, path);
    const past = yield* Effect.tryPromise({
      try: () => fh.read(new Uint8Array(1), 0, 1, size),
      catch: ioError("loadCheckpoint: could not read the checkpoint", path),
    });
    if (past.bytesRead !== 0)
      return yield* Effect.fail(
        new CheckpointError("corrupted", "loadCheckpoint: the file grew while it was read: it is longer than its header declares", path),
      );
    return bytes;
  });

const read = (path: string): Effect.Effect<Uint8Array, CheckpointError> =>
  Effect.acquireUseRelease(
    openRegular(path),
    ({ fh, size }) => readDeclared(fh, size, path),
    ({ fh }) => Effect.promise(() => fh.close().catch(() => undefined)),
  );

const exists = (path: string): Effect.Effect<boolean> => Effect.promise(() => stat(path).then(() => true, () => false));

/** Removes the temporary files of dead processes' saves to `path` (best effort; see ../../node/temp-files.ts). */
const removeStaleTempFiles = (path: string): Effect.Effect<void> =>
  Effect.promise(async () => {
    const dir = dirname(path);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const name of staleTempFiles(entries, basename(path))) await rm(join(dir, name)).catch(() => undefined);
  });

const write = (path: string, bytes: Uint8Array): Effect.Effect<void, CheckpointError> => {
  const dir = dirname(path);
  const tmp = tempPathFor(path);
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
  return Effect.uninterruptible(removeStaleTempFiles(path).pipe(Effect.andThen(written), Effect.andThen(syncDir)));
};

/** Checkpoint files on the local file system (`node:fs/promises`). */
export const nodeCheckpointFiles: CheckpointFilesShape = { read, write, exists, available: true };

/** Provides nodeCheckpointFiles as the CheckpointFiles service: `effect.pipe(Effect.provide(NodeCheckpointFiles))`. */
export const NodeCheckpointFiles: Layer.Layer<never> = Layer.succeed(CheckpointFiles, nodeCheckpointFiles);
