// Checkpoint files for Node (and Deno, Bun): the bytes of ../checkpoint.ts written atomically
// and read back on demand, so that a corrupted or hostile file is refused before its claimed
// sizes are allocated.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { CheckpointError, decodeSource, encodeCheckpoint, type CheckpointSource, type LoadOptions } from "../checkpoint.ts";

/**
 * Writes `params` to `path` atomically: the bytes go to a temporary file in the same folder,
 * which is flushed to disk and then renamed over `path`. A crash leaves the old file or the
 * new one, never half of one.
 */
export function saveCheckpoint(path: string, params: unknown): void {
  const bytes = encodeCheckpoint(params);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
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

/** Reads a checkpoint written by `saveCheckpoint`; a fresh pytree (plain objects, arrays, tensors, numbers). */
export function loadCheckpoint<T = unknown>(path: string, options: LoadOptions = {}): T {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new CheckpointError("io", `loadCheckpoint: could not open the checkpoint: ${(e as Error).message}`, path);
  }
  try {
    const size = fstatSync(fd).size;
    const source: CheckpointSource = {
      size,
      read(offset, length) {
        const out = new Uint8Array(length);
        let got = 0;
        while (got < length) {
          const n = readSync(fd, out, got, length - got, offset + got);
          if (n === 0) throw new CheckpointError("truncated", `loadCheckpoint: the file ended while reading bytes ${offset}..${offset + length}`);
          got += n;
        }
        return out;
      },
    };
    return decodeSource(source, options) as T;
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(e.reason, e.message, path);
    throw new CheckpointError("io", `loadCheckpoint: could not read the checkpoint: ${(e as Error).message}`, path);
  } finally {
    closeSync(fd);
  }
}
