// The temporary files of atomic checkpoint saves (saveCheckpoint here, NodeCheckpointFiles in
// yieldiff/effect/node): `.NAME.PID.TOKEN.tmp` in the folder of NAME, where PID is the saving
// process and TOKEN letters and digits. A save killed while it writes (SIGKILL, a crash, the
// power) leaves its temporary file behind, as large as the checkpoint; the next save to the same
// path removes those whose process is dead. A live process's file is never touched: it may be a
// save in progress.
//
// A name belongs to NAME only when exactly PID and TOKEN follow `.NAME.`: a temporary file of
// `NAME.5` is `.NAME.5.PID.TOKEN.tmp`, with one more dot, and is not taken for one of NAME's.
// Files that yieldiff/effect's saver named `.NAME.PID.TIME.N.tmp` before (TIME: 8 base-36
// characters of Date.now(), which start with a letter) are recognized too.
import { readdirSync, unlinkSync, type Dirent } from "node:fs";
import { basename, dirname, join } from "node:path";

let counter = 0;

/** A fresh temporary path next to `path`, for a save of the current process. */
export function tempPathFor(path: string): string {
  const token = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}${(counter++ % 1296).toString(36)}`;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${token.replace(/[^0-9a-z]/g, "")}.tmp`);
}

const TEMP_TAIL = /^([1-9]\d{0,9})\.(?:[0-9a-z]+|[a-z][0-9a-z]{7}\.[0-9a-z]+)\.tmp$/;

/** The pid of the process that made `name`, if `name` is a temporary file of a save to the file named `base`. */
export function tempFileOwner(name: string, base: string): number | undefined {
  const prefix = `.${base}.`;
  if (!name.startsWith(prefix)) return undefined;
  const m = TEMP_TAIL.exec(name.slice(prefix.length));
  if (m === null) return undefined;
  const pid = Number(m[1]);
  return pid <= 0x7fffffff ? pid : undefined;
}

/** True only when no process has this pid (kill(pid, 0) fails with ESRCH); a process of another user is alive (EPERM). */
export function processIsDead(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Of a folder's entries, the names of the regular files that are temporary files of `base` made by dead processes. */
export function staleTempFiles(entries: readonly Dirent[], base: string): string[] {
  return entries
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .filter((name) => {
      const pid = tempFileOwner(name, base);
      return pid !== undefined && processIsDead(pid);
    });
}

/** Removes the temporary files that dead processes' saves to `path` left (best effort: errors are ignored). */
export function removeStaleTempFiles(path: string): void {
  const dir = dirname(path);
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // the save itself reports a missing or unreadable folder
  }
  for (const name of staleTempFiles(entries, basename(path))) {
    try {
      unlinkSync(join(dir, name));
    } catch {
      // already removed (by another save), or not ours to remove
    }
  }
}
