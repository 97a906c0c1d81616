// Checkpoint files for Node (and Deno, Bun): the bytes of ../checkpoint.ts written atomically
// and read back on demand, so that a corrupted or hostile file is refused before its claimed
// sizes are allocated. Only a regular file is read (./regular-file.ts), and only as far as its
// header declares; a save removes the temporary files of killed saves (./temp-files.ts).
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { CheckpointError, decodeSource, encodeCheckpoint, type CheckpointSource, type LoadOptions } from "../checkpoint.ts";
import { READ_NONBLOCK, nonRegularKind, notAFile, openError } from "./regular-file.ts";
import { removeStaleTempFiles, tempPathFor } from "./temp-files.ts";

/**
 * Writes `params` to `path` atomically: the bytes go to a temporary file in the same folder,
 * which is flushed to disk and then renamed over `path`. A crash leaves the old file or the
 * new one, never half of one. Temporary files that earlier saves to `path` left when their
 * process was killed (`.NAME.PID.TOKEN.tmp`, PID no longer running) are removed first.
 */
export function saveCheckpoint(path: string, params: unknown): void {
  const bytes = encodeCheckpoint(params);
  const dir = dirname(path);
  removeStaleTempFiles(path);
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", 0o644);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created or is already renamed
    }
    throw new CheckpointError("io", `saveCheckpoint: could not write the checkpoint: ${(e as Error).message}`, path);
  }
  // Make the rename itself durable (best effort: not every platform can fsync a folder).
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // ignore
  }
}

/**
 * Reads a checkpoint written by `saveCheckpoint`; a fresh pytree (plain objects, arrays, tensors,
 * numbers). Only a regular file is read: a directory, a FIFO, a device or a socket is refused
 * ("not-a-file") without being read, and a FIFO without blocking. The prefix and the header are
 * read and checked first; the data only when its declared length is what the file holds.
 */
export function loadCheckpoint<T = unknown>(path: string, options: LoadOptions = {}): T {
  let fd: number;
  try {
    const kind = nonRegularKind(statSync(path));
    if (kind !== undefined) throw notAFile(path, kind);
    fd = openSync(path, READ_NONBLOCK);
  } catch (e) {
    throw openError(path, e);
  }
  try {
    const stats = fstatSync(fd);
    const kind = nonRegularKind(stats);
    if (kind !== undefined) throw notAFile(path, kind);
    const size = stats.size;
    const source: CheckpointSource = {
      size,
      read(offset, length) {
        const out = new Uint8Array(length);
        let got = 0;
        while (got < length) {
          const n = readSync(fd, out, got, length - got, offset + got);
          if (n === 0)
            throw new CheckpointError(
              "truncated",
              `loadCheckpoint: the file ended at byte ${offset + got} while reading bytes ${offset}..${offset + length}: it shrank while it was read`,
            );
          got += n;
        }
        return out;
      },
    };
    const value = decodeSource(source, options) as T;
    // The file ends where its header says (decodeSource checked that against `size`): one that
    // grew while it was read is refused as well.
    if (readSync(fd, new Uint8Array(1), 0, 1, size) !== 0)
      throw new CheckpointError("corrupted", "loadCheckpoint: the file grew while it was read: it is longer than its header declares");
    return value;
  } catch (e) {
    if (e instanceof CheckpointError) throw e.path === undefined ? new CheckpointError(e.reason, e.message, path) : e;
    throw new CheckpointError("io", `loadCheckpoint: could not read the checkpoint: ${(e as Error).message}`, path);
  } finally {
    closeSync(fd);
  }
}
