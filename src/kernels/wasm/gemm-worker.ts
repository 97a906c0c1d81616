// The second thread of the 2-thread matrix product (see ./threads.ts): a worker (./spawn-thread.ts:
// worker_threads in Node, Deno and Bun, a Web Worker in a browser) that instantiates the shared
// gemm module (./gemm-shared-module.ts) over the same shared memory as the calling thread and
// then sleeps in Atomics.wait until a job is posted. Posting and
// collecting a job are synchronous for the caller: arguments go into a control Int32Array over a
// SharedArrayBuffer, Atomics.store + Atomics.notify wake the worker, and the caller polls or
// Atomics.waits (with a timeout) for the worker's done word — only polls where it may not block
// (a browser's main thread). No message passing, so the caller's event loop never has to run;
// the worker is unref'd where it can be, so it never keeps the process alive.
//
// A sleeping thread takes 20-60 µs to wake on this machine, so a job is posted in two steps: its
// arguments (pointers, known before any data moves) wake the worker while the caller is still
// copying the operands in, and a "go" word tells it they are in place. The worker polls for it
// for a short while, then sleeps on it; after a job it polls for the next one for a few
// milliseconds before it sleeps again.
import { spawnThread, type Thread } from "./spawn-thread.ts";

// Control words.
const STATE = 0; // 0 starting, 1 ready, -1 the module failed to instantiate
const JOB = 1; // the latest job posted (1, 2, ...); -1 asks the worker to return
const DONE = 2; // the latest job finished
const FAILED = 3; // 1 if that job threw
const GO = 4; // the latest job whose operands are in place; -1 asks the worker to return
const FN = 5; // 0 sgemm, 1 dgemm
const ARGS = 6; // the gemm's arguments
/** How long the worker polls for the go word before it sleeps on it. */
const POLL_MS = 0.25;
/**
 * How long the worker polls for the next job after finishing one before it sleeps. A training
 * step posts its large products a fraction of a millisecond apart; a worker that slept between
 * them was sometimes woken late on this virtual machine (its idle vCPU descheduled), and the
 * calling thread then took its half over. Polling keeps the second core busy only while
 * products keep coming, as BLAS thread pools spin before they sleep.
 */
const IDLE_POLL_MS = 3;
/** Arguments of the shared module's gemm: a, b, c, m, k, n, packA, packB, scratch, lda, ldb, ldc, overwrite. */
export const GEMM_ARGS = 13;

// The worker's whole program: a fixed string (nothing from the caller is spliced in; the module
// bytes, the memory and the control buffer arrive as its start data, see ./spawn-thread.ts).
const PROGRAM = `function work(workerData) {
const ctl = new Int32Array(workerData.control);
let fns;
try {
  const ex = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), { env: { memory: workerData.memory } }).exports;
  fns = [ex.sgemm, ex.dgemm];
  Atomics.store(ctl, ${STATE}, 1);
} catch {
  Atomics.store(ctl, ${STATE}, -1);
}
Atomics.notify(ctl, ${STATE});
let seen = 0;
while (fns) {
  Atomics.wait(ctl, ${JOB}, seen);
  const job = Atomics.load(ctl, ${JOB});
  if (job < 0) break;
  if (job === seen) continue;
  seen = job;
  const until = performance.now() + ${POLL_MS};
  while (Atomics.load(ctl, ${GO}) !== job && performance.now() < until);
  for (let go; (go = Atomics.load(ctl, ${GO})) !== job && go >= 0; ) Atomics.wait(ctl, ${GO}, go);
  if (Atomics.load(ctl, ${GO}) < 0) break;
  let failed = 0;
  try {
    const a = ${ARGS};
    fns[ctl[${FN}]](ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6], ctl[a + 7], ctl[a + 8], ctl[a + 9], ctl[a + 10], ctl[a + 11], ctl[a + 12]);
  } catch {
    failed = 1;
  }
  Atomics.store(ctl, ${FAILED}, failed);
  Atomics.store(ctl, ${DONE}, job);
  Atomics.notify(ctl, ${DONE});
  const idle = performance.now() + ${IDLE_POLL_MS};
  while (Atomics.load(ctl, ${JOB}) === seen && performance.now() < idle);
}
}`;

/** A job's outcome: done, threw, or not finished yet. */
export type JobState = "ok" | "failed" | "running";

/** One started worker and its control words. Construct only through startGemmWorker. */
export class GemmWorker {
  private job = 0;
  /** Why the worker is gone (it exited or threw outside a job), seen between calls. */
  gone: string | undefined;

  constructor(
    private readonly worker: Thread,
    private readonly ctl: Int32Array,
    /** Whether this thread may sleep in Atomics.wait (not on a browser's main thread): if not, it polls. */
    readonly canBlock: boolean,
  ) {
    worker.onGone((why) => (this.gone ??= why));
  }

  /**
   * Whether the worker starts only while this thread's event loop runs (a Web Worker, even one
   * started from a Web Worker that may block): then this thread never waits for it to load, since
   * waiting would keep it from ever starting; nor where this thread may not block.
   */
  get startsWithEventLoop(): boolean {
    return this.worker.startsWithEventLoop;
  }

  /** Whether this thread may wait for the worker to load (see startsWithEventLoop). */
  get canWaitForLoad(): boolean {
    return this.canBlock && !this.worker.startsWithEventLoop;
  }

  /** Waits up to `ms` for the worker to load the module (0: looks without waiting; no wait where canWaitForLoad is false). */
  ready(ms: number): "ready" | "failed" | "timed-out" {
    if (Atomics.load(this.ctl, STATE) === 0 && ms > 0 && this.canWaitForLoad) Atomics.wait(this.ctl, STATE, 0, ms);
    const state = Atomics.load(this.ctl, STATE);
    return state === 1 ? "ready" : state === 0 ? "timed-out" : "failed";
  }

  /**
   * Wakes the worker with fn(args) (0 sgemm, 1 dgemm); it runs once go() says the operands are in
   * place. Post again only when the job is no longer running.
   */
  post(fn: 0 | 1, args: readonly number[]): void {
    const ctl = this.ctl;
    ctl[FN] = fn;
    for (let i = 0; i < GEMM_ARGS; i++) ctl[ARGS + i] = args[i]!;
    Atomics.store(ctl, JOB, ++this.job);
    Atomics.notify(ctl, JOB, 1);
  }

  /** The posted job's operands are in place. */
  go(): void {
    Atomics.store(this.ctl, GO, this.job);
    Atomics.notify(this.ctl, GO, 1);
  }

  /** The posted job's state, now. */
  state(): JobState {
    if (Atomics.load(this.ctl, DONE) !== this.job) return "running";
    return Atomics.load(this.ctl, FAILED) === 0 ? "ok" : "failed";
  }

  /** Waits up to `ms` for the posted job, polling for the first `spinMs` before sleeping. */
  wait(spinMs: number, ms: number): JobState {
    const ctl = this.ctl;
    const now = performance.now();
    const until = now + ms;
    const spinUntil = now + spinMs;
    while (Atomics.load(ctl, DONE) !== this.job && performance.now() < (this.canBlock ? spinUntil : until));
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      const left = until - performance.now();
      if (done === this.job || left <= 0 || !this.canBlock) return this.state();
      Atomics.wait(ctl, DONE, done, left);
    }
  }

  /** Asks the worker to return and terminates it (also if it is stuck in a job). */
  stop(): void {
    Atomics.store(this.ctl, JOB, -1);
    Atomics.store(this.ctl, GO, -1);
    Atomics.notify(this.ctl, JOB);
    Atomics.notify(this.ctl, GO);
    this.gone ??= "stopped";
    this.terminate().catch(() => undefined);
  }

  /** Ends the thread as if it died: its end is seen (gone) when the caller's event loop runs. */
  terminate(): Promise<void> {
    return this.worker.terminate();
  }
}

/**
 * Starts a worker that instantiates `bytes` over `memory` (a shared WebAssembly.Memory); throws if
 * there are no worker threads or no SharedArrayBuffer. The worker loads asynchronously: see ready().
 */
export function startGemmWorker(bytes: Uint8Array, memory: object, canBlock: boolean): GemmWorker {
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (ARGS + GEMM_ARGS)));
  const worker = spawnThread(PROGRAM, "work", { bytes, memory, control: ctl.buffer });
  return new GemmWorker(worker, ctl, canBlock);
}
