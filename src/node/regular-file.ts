// Opening a checkpoint for reading: only a regular file is read. A FIFO would block the open
// until a writer comes and then feed whatever it is sent, a device such as /dev/zero never ends,
// a directory holds no bytes: each is refused with a "not-a-file" CheckpointError. The kind is
// found by stat (following symbolic links) before the open, and confirmed by fstat on the open
// file, since the path may change in between; the open is non-blocking (O_NONBLOCK), so that a
// FIFO put there at the last moment cannot block it either.
import { constants, type Stats } from "node:fs";
import { CheckpointError } from "../checkpoint.ts";

/** open(2) flags for reading a checkpoint: read-only, non-blocking where the platform has it. */
export const READ_NONBLOCK: number = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** What the file is, in words, when it is not a regular file; undefined for a regular file. */
export function nonRegularKind(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "a special file";
}

/** The "not-a-file" CheckpointError for `path`, which is `kind`. */
export const notAFile = (path: string, kind: string): CheckpointError =>
  new CheckpointError(
    "not-a-file",
    `loadCheckpoint: the path is ${kind}, not a regular file; a checkpoint is read only from a regular file`,
    path,
  );

/** The error of a failed open: EISDIR (where a directory cannot be opened) is "not-a-file", anything else "io". */
export const openError = (path: string, e: unknown): CheckpointError => {
  if (e instanceof CheckpointError) return e;
  if ((e as NodeJS.ErrnoException | undefined)?.code === "EISDIR") return notAFile(path, "a directory");
  return new CheckpointError("io", `loadCheckpoint: could not open the checkpoint: ${e instanceof Error ? e.message : String(e)}`, path);
};
