// Checkpoint files on a real file system, for both loaders (the core loadCheckpoint of
// yieldiff/node and Checkpoint.load with yieldiff/effect/node's NodeCheckpointFiles):
//
// - what is not a regular file (a directory, /dev/zero, a FIFO with no writer) is refused
//   quickly, with a CheckpointError "not-a-file" naming the path and what it is. These run in a
//   child process killed after a deadline, so that a loader that blocks (a FIFO's open waits
//   for a writer) or reads forever (/dev/zero) fails the test instead of hanging the suite;
// - a file is read only as far as its header declares: one longer or shorter than declared is
//   refused before its data is read (sparse files of several GB, which take no disk space);
// - interrupting Checkpoint.load stops the read: the file is closed when the interruption ends;
// - a save removes the temporary files that killed saves to the same path left behind, when
//   the process that wrote them is dead, and never one of a live process.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Cause, Effect, Exit, Fiber } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import { CheckpointError, crc32, encodeCheckpoint } from "../src/checkpoint.ts";
import { loadCheckpoint, saveCheckpoint } from "../src/node/index.ts";
import { tempFileOwner, tempPathFor } from "../src/node/temp-files.ts";
import { Checkpoint } from "../src/effect/index.ts";
import { NodeCheckpointFiles } from "../src/effect/node/index.ts";
import { tensor } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "yieldiff-ckpt-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshDir = (): string => mkdtempSync(join(dir, `case-${counter++}-`));

const root = join(import.meta.dirname, "..");
const url = (p: string): string => JSON.stringify(pathToFileURL(p).href);
const isLinux = process.platform === "linux";

/** Whether `mkfifo` (coreutils) can make a FIFO here: Node has no mkfifo of its own. */
const haveMkfifo = (() => {
  const probe = join(dir, "probe.fifo");
  const r = spawnSync("mkfifo", [probe]);
  const ok = r.error === undefined && r.status === 0 && existsSync(probe);
  rmSync(probe, { force: true });
  return ok;
})();
const haveDevZero = existsSync("/dev/zero");

const failureOf = <A, E>(exit: Exit.Exit<A, E>): unknown => (Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined);

// ---------------------------------------------------------------------------------------------
// Special files, in a child process with a deadline

interface Outcome {
  name: string;
  ms: number;
  tag?: string;
  reason?: string;
  path?: string;
  message?: string;
}

/**
 * Runs `code` (a TypeScript module printing one JSON `Outcome` per line) with `node --import tsx`,
 * killed after `deadlineMs`. Returns the outcomes printed and how the process ended.
 */
async function runChild(code: string, deadlineMs: number) {
  const script = join(freshDir(), "child.mts");
  writeFileSync(script, code);
  const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, deadlineMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearTimeout(timer);
  const outcomes: Outcome[] = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  return { outcomes, killed, exitCode, stderr };
}

/** The special files to try: [name, path, what the message must call it]. */
function specialFiles(withFifo: boolean): [string, string, RegExp][] {
  const d = freshDir();
  const cases: [string, string, RegExp][] = [["directory", d, /a directory/]];
  if (haveDevZero) cases.push(["/dev/zero", "/dev/zero", /a character device/]);
  if (withFifo) {
    const fifo = join(d, "no-writer.fifo");
    const r = spawnSync("mkfifo", [fifo]);
    if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
    cases.push(["FIFO with no writer", fifo, /a FIFO/]);
  }
  return cases;
}

const CORE_CHILD = (cases: [string, string, RegExp][]) => `
import { loadCheckpoint } from ${url(join(root, "src", "node", "index.ts"))};
for (const [name, path] of ${JSON.stringify(cases.map(([n, p]) => [n, p]))}) {
  const t0 = performance.now();
  let out: Record<string, unknown>;
  try {
    loadCheckpoint(path);
    out = { name, tag: "loaded" };
  } catch (e: any) {
    out = { name, tag: e._tag ?? e.name, reason: e.reason, path: e.path, message: e.message };
  }
  console.log(JSON.stringify({ ...out, ms: performance.now() - t0 }));
}
`;

const EFFECT_CHILD = (cases: [string, string, RegExp][]) => `
import { Cause, Effect, Exit } from ${url(createRequire(import.meta.url).resolve("effect"))};
import { Checkpoint } from ${url(join(root, "src", "effect", "index.ts"))};
import { NodeCheckpointFiles } from ${url(join(root, "src", "effect", "node", "index.ts"))};
for (const [name, path] of ${JSON.stringify(cases.map(([n, p]) => [n, p]))}) {
  const t0 = performance.now();
  const exit = await Effect.runPromiseExit(Checkpoint.load(path).pipe(Effect.timeout("3 seconds"), Effect.provide(NodeCheckpointFiles)));
  const e: any = Exit.isFailure(exit) ? Cause.squash(exit.cause) : { _tag: "loaded" };
  console.log(JSON.stringify({ name, tag: e._tag ?? e.name, reason: e.reason, path: e.path, message: e.message, ms: performance.now() - t0 }));
}
`;

/** Each case was refused as "not-a-file", promptly, and the child then exited by itself. */
function expectRefused(result: Awaited<ReturnType<typeof runChild>>, cases: [string, string, RegExp][]): void {
  const done = result.outcomes.map((o) => o.name);
  const hung = cases.map(([n]) => n).filter((n) => !done.includes(n));
  expect(hung, `loads that never returned (the child was killed at its deadline); stderr: ${result.stderr.slice(0, 2000)}`).toEqual([]);
  for (const [name, path, kind] of cases) {
    const o = result.outcomes.find((x) => x.name === name)!;
    expect({ name, tag: o.tag, reason: o.reason, path: o.path }).toEqual({ name, tag: "CheckpointError", reason: "not-a-file", path });
    expect(o.message, name).toMatch(kind);
    expect(o.message, name).toMatch(/not a regular file/);
    expect(o.ms, `${name}: ms to refuse`).toBeLessThan(5000);
  }
  expect(result.killed, "the child process did not exit by itself: something still blocks it").toBe(false);
  expect(result.exitCode).toBe(0);
}

describe("what is not a regular file is refused quickly, without blocking", () => {
  if (!haveMkfifo) it.skip("a FIFO with no writer: not tried, coreutils' mkfifo is not available here (Node has no mkfifo)", () => {});

  it("core loadCheckpoint: a directory, /dev/zero and a FIFO with no writer", async () => {
    const cases = specialFiles(haveMkfifo);
    expectRefused(await runChild(CORE_CHILD(cases), 60_000), cases);
  }, 120_000);

  it("Checkpoint.load: a directory, /dev/zero and a FIFO with no writer", async () => {
    const cases = specialFiles(haveMkfifo);
    expectRefused(await runChild(EFFECT_CHILD(cases), 60_000), cases);
  }, 120_000);

  it("a symbolic link to a checkpoint loads; one to a directory is refused", async () => {
    const d = freshDir();
    const target = join(d, "real.ckpt");
    saveCheckpoint(target, { w: tensor([1, 2]) });
    const link = join(d, "link.ckpt");
    const linkToDir = join(d, "link-to-dir.ckpt");
    try {
      symlinkSync(target, link);
      symlinkSync(d, linkToDir);
    } catch {
      return; // no symbolic links here (Windows without the privilege)
    }
    expect(Array.from((loadCheckpoint(link) as { w: { data: Float64Array } }).w.data)).toEqual([1, 2]);
    const loaded = await Effect.runPromise(Checkpoint.load<{ w: { data: Float64Array } }>(link).pipe(Effect.provide(NodeCheckpointFiles)));
    expect(Array.from(loaded.w.data)).toEqual([1, 2]);
    expect(() => loadCheckpoint(linkToDir)).toThrow(/not a regular file/);
    const error = failureOf(await Effect.runPromiseExit(Checkpoint.load(linkToDir).pipe(Effect.provide(NodeCheckpointFiles))));
    expect((error as CheckpointError).reason).toBe("not-a-file");
  });
});

// ---------------------------------------------------------------------------------------------
// Reading only what the header declares

/** A valid checkpoint's bytes at the start of a sparse file of `size` bytes (zeros after them). */
function sparseFile(path: string, bytes: Uint8Array, size: number): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** A checkpoint whose header declares `dataBytes` of data (the data CRC is of nothing: it is never reached). */
function declaring(dataBytes: number): Uint8Array {
  const good = encodeCheckpoint({ w: tensor([1, 2, 3]) });
  const view = new DataView(good.buffer);
  const hlen = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(good.subarray(24, 24 + hlen)));
  header.dataBytes = dataBytes;
  const h = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((24 + h.length) / 8) * 8;
  const out = new Uint8Array(start);
  out.set(good.subarray(0, 24));
  const ov = new DataView(out.buffer);
  ov.setUint32(12, h.length, true);
  ov.setUint32(16, crc32(h), true);
  out.set(h, 24);
  return out;
}

const GB = 2 ** 30;

describe("a file is read only as far as its header declares", () => {
  const loadBoth = async (path: string) => {
    let core: unknown;
    try {
      loadCheckpoint(path);
    } catch (e) {
      core = e;
    }
    const t0 = performance.now();
    const effect = failureOf(await Effect.runPromiseExit(Checkpoint.load(path).pipe(Effect.provide(NodeCheckpointFiles))));
    return { core: core as CheckpointError, effect: effect as CheckpointError, effectMs: performance.now() - t0 };
  };

  it("a checkpoint followed by 3 GB of trailing bytes is \"corrupted\", refused before its data is read", async () => {
    const path = join(freshDir(), "trailing.ckpt");
    const good = encodeCheckpoint({ w: tensor([1, 2, 3]) });
    sparseFile(path, good, 3 * GB);
    const { core, effect, effectMs } = await loadBoth(path);
    for (const e of [core, effect]) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect([e.reason, e.path]).toEqual(["corrupted", path]);
      expect(e.message).toMatch(/more than its header accounts for/);
    }
    expect(effectMs).toBeLessThan(5000);
  });

  it("a header declaring 4 GB of data in a 3 GB file is \"truncated\", refused before its data is read", async () => {
    const path = join(freshDir(), "short.ckpt");
    sparseFile(path, declaring(4 * GB), 3 * GB);
    const { core, effect, effectMs } = await loadBoth(path);
    for (const e of [core, effect]) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect([e.reason, e.path]).toEqual(["truncated", path]);
      expect(e.message).toMatch(/claims 4294967296 bytes of data but the file holds \d+ after the header/);
    }
    expect(effectMs).toBeLessThan(5000);
  });

  it("a truncated file and a file with trailing garbage are refused by both loaders", async () => {
    const good = encodeCheckpoint({ w: tensor([1, 2, 3]), b: 0.5 });
    const d = freshDir();
    const cut = join(d, "cut.ckpt");
    writeFileSync(cut, good.subarray(0, good.length - 3));
    const garbage = join(d, "garbage.ckpt");
    writeFileSync(garbage, Buffer.concat([good, Buffer.from("garbage!")]));
    const a = await loadBoth(cut);
    const b = await loadBoth(garbage);
    expect([a.core.reason, a.effect.reason, a.core.path, a.effect.path]).toEqual(["truncated", "truncated", cut, cut]);
    expect([b.core.reason, b.effect.reason, b.core.path, b.effect.path]).toEqual(["corrupted", "corrupted", garbage, garbage]);
  });
});

// ---------------------------------------------------------------------------------------------
// Interruption

/** The paths this process has open (Linux: /proc/self/fd). */
const openPaths = (): string[] =>
  readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });

describe("interrupting Checkpoint.load stops the read", () => {
  it.skipIf(!isLinux)("Effect.timeout: the load settles promptly and the file is closed when it does (Linux: checks /proc/self/fd)", async () => {
    // 512 MB of declared data (a sparse file: no disk space), far more than is read before the timeout.
    const path = join(freshDir(), "big.ckpt");
    const size = 512 * 2 ** 20;
    const head = declaring(size);
    sparseFile(path, head, head.length + size);
    const t0 = performance.now();
    const exit = await Effect.runPromiseExit(Checkpoint.load(path).pipe(Effect.timeout("20 millis"), Effect.provide(NodeCheckpointFiles)));
    const ms = performance.now() - t0;
    const stillOpen = openPaths().filter((p) => p === path);
    expect(Exit.isFailure(exit) && (Cause.squash(exit.cause) as { _tag?: string })._tag).toBe("TimeoutError");
    expect(stillOpen, "the file is still open after the interrupted load returned: the read goes on").toEqual([]);
    expect(ms).toBeLessThan(5000);
  });

  it.skipIf(!isLinux)("Fiber.interrupt: the interruption completes once the read has stopped (Linux: checks /proc/self/fd)", async () => {
    const path = join(freshDir(), "big.ckpt");
    const size = 512 * 2 ** 20;
    const head = declaring(size);
    sparseFile(path, head, head.length + size);
    const program = Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(Checkpoint.load(path));
      // Wait until the read has begun (the file is open), then interrupt it.
      for (let i = 0; i < 500 && !openPaths().includes(path); i++) yield* Effect.sleep("2 millis");
      expect(openPaths()).toContain(path);
      const t0 = performance.now();
      yield* Fiber.interrupt(fiber);
      return { ms: performance.now() - t0, open: openPaths().filter((p) => p === path) };
    });
    const { ms, open } = await Effect.runPromise(program.pipe(Effect.provide(NodeCheckpointFiles)));
    expect(open, "the file is still open after Fiber.interrupt returned: the read goes on").toEqual([]);
    expect(ms).toBeLessThan(5000);
  });
});

// ---------------------------------------------------------------------------------------------
// Stale temporary files

/** The pid of a process that has exited (spawned and waited for). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise<void>((resolve, reject) => {
    child.on("exit", () => resolve());
    child.on("error", reject);
  });
  const pid = child.pid!;
  expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
  return pid;
}

/** A folder with a checkpoint path, temp files of a dead and a live process for it, and look-alikes that are not its temp files. */
async function staleSetup() {
  const d = freshDir();
  const path = join(d, "model.ckpt");
  const dead = await deadPid();
  const names = {
    deadTemp: `.model.ckpt.${dead}.lz8k2q1abc12.tmp`,
    deadLegacyEffectTemp: `.model.ckpt.${dead}.lz8k2q1a.3.tmp`,
    liveTemp: `.model.ckpt.${process.pid}.lz8k2q1def34.tmp`,
    otherTargetsTemp: `.model.ckpt.5.${dead}.lz8k2q1abc12.tmp`, // a temp file of "model.ckpt.5", not of "model.ckpt"
    otherFile: `.other.ckpt.${dead}.lz8k2q1abc12.tmp`,
    notTemp: `model.ckpt.${dead}.tmp`,
  };
  for (const n of Object.values(names)) writeFileSync(join(d, n), new Uint8Array(1024));
  mkdirSync(join(d, `.model.ckpt.${dead}.adirectory.tmp`));
  return { d, path, names, dead };
}

const expectCleaned = (d: string, names: Awaited<ReturnType<typeof staleSetup>>["names"], dead: number) => {
  const left = readdirSync(d).sort();
  expect(left).not.toContain(names.deadTemp);
  expect(left).not.toContain(names.deadLegacyEffectTemp);
  for (const keep of [names.liveTemp, names.otherTargetsTemp, names.otherFile, names.notTemp, `.model.ckpt.${dead}.adirectory.tmp`, "model.ckpt"])
    expect(left).toContain(keep);
};

describe("a save removes the temporary files of dead processes' saves to the same path", () => {
  it("the temporary file names both savers make are recognized as theirs, with their pid", () => {
    const p = join(dir, "x", "model.ckpt");
    const tmp = tempPathFor(p);
    expect(basename(tmp)).toMatch(/^\.model\.ckpt\.\d+\.[0-9a-z]+\.tmp$/);
    expect(tempFileOwner(basename(tmp), "model.ckpt")).toBe(process.pid);
    expect(tempFileOwner(basename(tmp), "model")).toBeUndefined();
    expect(tempFileOwner(basename(tempPathFor(join(dir, "model.ckpt.5"))), "model.ckpt")).toBeUndefined();
  });

  it("core saveCheckpoint", async () => {
    const { d, path, names, dead } = await staleSetup();
    saveCheckpoint(path, { w: tensor([1, 2]) });
    expectCleaned(d, names, dead);
    expect(Array.from((loadCheckpoint(path) as { w: { data: Float64Array } }).w.data)).toEqual([1, 2]);
  });

  it("Checkpoint.save with NodeCheckpointFiles", async () => {
    const { d, path, names, dead } = await staleSetup();
    await Effect.runPromise(Checkpoint.save(path, { w: tensor([1, 2]) }).pipe(Effect.provide(NodeCheckpointFiles)));
    expectCleaned(d, names, dead);
    expect(Array.from((loadCheckpoint(path) as { w: { data: Float64Array } }).w.data)).toEqual([1, 2]);
  });
});
