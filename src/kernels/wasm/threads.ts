// The optional 2-thread matrix product. With setMatmulThreads(2) (or YIELDIFF_THREADS=2 at
// load), a large product C = A B is cut in two along the larger of m and n — rows of C with
// their rows of A, or columns of C with their columns of B — and the halves run at the same
// time: one on the calling thread, one on a worker (./gemm-worker.ts), both in the shared gemm
// module (./gemm-shared-module.ts) over one shared WebAssembly.Memory. The call stays synchronous.
// Each element of C is still summed by the same micro-kernel in the same k order (the cut moves
// only which tile it is in), so the result is bit for bit the single-thread WebAssembly product.
//
// A worker that is late (its core busy with another process) would make the product slower than
// on one thread, so the calling thread does not wait for it long: it computes the worker's half
// itself, piece by piece, into a second copy of C, and keeps whichever is finished first (the
// same bits either way). Products then run on one thread until that worker is free again.
// Whatever goes wrong (no worker threads, no shared memory, a worker that dies, throws or stays
// busy) leaves the products to the single-thread path, with the reason kept, until
// setMatmulThreads is called again. With the switch at 1 no worker is ever created.
//
// The worker is a worker_threads Worker in Node, Deno and Bun, a Web Worker in a browser page that
// is cross-origin isolated (SharedArrayBuffer exists only there). A browser's main thread may not
// sleep in Atomics.wait: there the calling thread polls for the worker's half instead of
// sleeping. A Web Worker starts only while the thread that created it lets its event loop run,
// so in a browser, on the main thread or in a worker, the products run on one thread until the
// worker has loaded, however long that takes, rather than wait for it.
import { ValueError } from "../../errors.ts";
import type { Buffer } from "../../tensor/tensor.ts";
import { GEMV_MAX_ROWS, copyOperand, turned, wasmEnabled, wasmSimdSupported, wasmStats, type Precision } from "./gemm.ts";
import { DGEMM, SGEMM, nr, packABytes, packBBytes, scratchBytes, type GemmShape } from "./gemm-module.ts";
import { SHARED_MAX_PAGES, sharedGemmModuleBytes } from "./gemm-shared-module.ts";
import { envValue } from "./env.ts";
import { growMemory, viewsOf, type WasmMemory } from "./memory-views.ts";
import { startGemmWorker, type GemmWorker } from "./gemm-worker.ts";

type SharedMemory = WasmMemory;
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: true }) => SharedMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
type GemmFn = (...args: number[]) => void;
type TransposeFn = (src: number, dst: number, rows: number, cols: number) => void;

const WA = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Products with fewer multiply-adds (m * k * n) stay on one thread. Waking the worker and
 * collecting its half cost tens of µs; measured here, float32, two threads against one (best
 * runs, the second core idle; on this shared machine it often is not): 0.26-1M multiply-adds
 * 0.6-1.2x, 2.1M 0.7-1.25x, 4.1M 1.25-1.35x, 12.8M 1.4-1.5x, 134M 1.6-1.9x.
 */
export const THREAD_MIN_FLOPS = 2 ** 22;

/**
 * minFlops: the size from which products are split (THREAD_MIN_FLOPS; tests lower it to split
 * small odd shapes). startMs: how long the calling thread waits for the worker to load. jobMs:
 * how long a half the calling thread took over may keep the worker busy before the worker is
 * given up. backoff: how many products run on one thread after a take-over (doubling while
 * take-overs keep happening, up to 64x): a core kept busy by another process stays busy for a
 * while, and splitting then only adds a third thread competing for two cores.
 */
export const threadSettings = { minFlops: THREAD_MIN_FLOPS, startMs: 5_000, jobMs: 2_000, backoff: 4 };

/**
 * After its own half, the calling thread waits for the worker's this long — half the time its
 * own half took, at least LATE_MIN_MS — then takes it over. A worker on an idle core finishes
 * within tens of µs of the calling thread (mostly the time it takes to wake up).
 */
const LATE_SHARE = 0.5;
const LATE_MIN_MS = 0.15;
/** Of that wait, the part spent polling before sleeping (waking from Atomics.wait costs tens of µs). */
const SPIN_MS = 0.2;
/** A half taken over is computed in this many pieces, checking the worker between them. */
const PIECES = 4;

/** Products that ran on two threads, and halves the calling thread took over (tests read them). */
export const threadStats = { calls: 0, takeovers: 0 };

interface Pool {
  worker: GemmWorker;
  memory: SharedMemory;
  started: boolean;
  /** When the worker was started (performance.now()). */
  startedAt: number;
  /** When the calling thread took over a half the worker is still computing (0: none). */
  since: number;
  /** Products left to run on one thread after a take-over, and the length of the last such run. */
  skip: number;
  backoff: number;
  sgemm: GemmFn;
  dgemm: GemmFn;
  t32: TransposeFn;
  t64: TransposeFn;
  f32: Float32Array;
  f64: Float64Array;
  bytes: number;
}

let threads = 1;
let note: string | undefined;
let pool: Pool | undefined;
let failure: string | undefined;

// YIELDIFF_THREADS, read once at load.
{
  const v = envValue("YIELDIFF_THREADS");
  if (v === "1" || v === "2") threads = Number(v);
  else if (v !== undefined && v !== "") note = `YIELDIFF_THREADS=${JSON.stringify(v)} is not 1 or 2, so matmuls run on one thread`;
}

/**
 * How many threads a large matrix product may use: 1 (the default) or 2 (the calling thread plus
 * one worker; it needs worker_threads and shared WebAssembly memory, as in Node). Products of at
 * least THREAD_MIN_FLOPS multiply-adds then run in two halves at the same time, with the same
 * numbers bit for bit; that pays only where a second core is idle. Setting it again after a
 * failure tries a new worker; 1 stops the worker.
 */
export function setMatmulThreads(n: number): void {
  if (n !== 1 && n !== 2) {
    const shown = typeof n === "number" ? String(n) : `${String(JSON.stringify(n))} (a ${typeof n})`;
    throw new ValueError(
      `setMatmulThreads: ${shown} threads is not supported; pass 1 (one thread, the default) or 2 (the calling thread plus one worker)`,
    );
  }
  threads = n;
  note = undefined;
  failure = undefined;
  if (n === 1) stop();
  else if (wasmEnabled() && wasmSimdSupported()) pool ??= start(); // starts loading while the caller goes on
}

/** The number of threads large matrix products may use (1 or 2). */
export function matmulThreads(): number {
  return threads;
}

/**
 * Why matmuls do not run on two threads, or undefined when they do (with the switch at 2, this
 * starts the worker if needed and waits for it).
 */
export function matmulThreadsUnavailableReason(): string | undefined {
  if (threads === 1) return note ?? "off: setMatmulThreads(2) or YIELDIFF_THREADS=2 turns it on";
  if (!wasmEnabled()) return "the WebAssembly path is off (YIELDIFF_NO_WASM or setWasmEnabled(false))";
  if (!wasmSimdSupported()) return "WebAssembly SIMD is not supported by this engine";
  return ready()
    ? undefined
    : (failure ??
        "the worker is still loading (this thread does not wait for it, so products run on one thread until it has; a Web Worker loads while the thread that started it lets its event loop run)");
}

/** The running worker, if any (tests stop it behind the product's back to see the fallback). */
export function matmulWorker(): GemmWorker | undefined {
  return pool?.worker;
}

function stop(): void {
  pool?.worker.stop();
  pool = undefined;
}

/** Records why the two-thread path is given up, drops the worker and its memory. */
function fail(reason: string): undefined {
  failure ??= reason;
  stop();
  return undefined;
}

let moduleBytes: Uint8Array | undefined;

/** Creates the shared memory, the calling thread's instance and the worker (which loads on its own). */
function start(): Pool | undefined {
  try {
    if (!WA) throw new Error("WebAssembly is not available");
    if (typeof SharedArrayBuffer !== "function") throw new Error("SharedArrayBuffer is not available (a browser page needs cross-origin isolation)");
    moduleBytes ??= sharedGemmModuleBytes();
    const memory = new WA.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
    const ex = new WA.Instance(new WA.Module(moduleBytes), { env: { memory } }).exports;
    return {
      worker: startGemmWorker(moduleBytes, memory, canBlock()),
      started: false,
      startedAt: performance.now(),
      since: 0,
      skip: 0,
      backoff: 0,
      sgemm: ex.sgemm as GemmFn,
      dgemm: ex.dgemm as GemmFn,
      t32: ex.t32 as TransposeFn,
      t64: ex.t64 as TransposeFn,
      ...viewsOf(memory),
    };
  } catch (e) {
    return fail(`cannot start a worker: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Whether this thread may sleep in Atomics.wait (a browser's main thread may not: it throws). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The pool, started and its worker loaded, or undefined (the reason is in `failure`, unless a
 * thread that may not block is still waiting for the worker to load).
 */
function ready(): Pool | undefined {
  if (failure !== undefined) return undefined;
  const p = (pool ??= start());
  if (!p) return undefined;
  if (p.worker.gone !== undefined) return fail(p.worker.gone);
  if (!p.started) {
    const left = threadSettings.startMs - (performance.now() - p.startedAt);
    const state = p.worker.ready(Math.max(0, left));
    if (state === "failed") return fail("the worker could not instantiate the gemm module");
    if (state !== "ready") {
      // A Web Worker is not given up on while it loads (it fails through onGone if it cannot).
      const late = p.worker.canWaitForLoad || (left <= 0 && !p.worker.startsWithEventLoop);
      return late ? fail(`the worker did not start within ${threadSettings.startMs} ms`) : undefined;
    }
    p.started = true;
  }
  return p;
}

/** Grows the shared memory to at least `bytes` (only the calling thread grows it, between jobs). */
const grow = (p: Pool, bytes: number): boolean => growMemory(p, bytes, SHARED_MAX_PAGES);

const align = (x: number): number => Math.ceil(x / 64) * 64;

/** Byte offsets in the shared memory: each thread's scratch tile and packing buffers, then A, B,
 * C, a second C for a half taken over, and the landing place of an operand stored transposed. */
function layout(s: GemmShape, m: number, k: number, n: number) {
  const s0 = 0;
  const pA0 = align(s0 + scratchBytes(s));
  const pB0 = align(pA0 + packABytes(s, k));
  const s1 = align(pB0 + packBBytes(s, k, n));
  const pA1 = align(s1 + scratchBytes(s));
  const pB1 = align(pA1 + packABytes(s, k));
  const a = align(pB1 + packBBytes(s, k, n));
  const b = align(a + m * k * s.es);
  const c = align(b + k * n * s.es);
  const c2 = align(c + m * n * s.es);
  const t = align(c2 + m * n * s.es);
  return { s0, pA0, pB0, s1, pA1, pB1, a, b, c, c2, t, end: t + Math.max(m * k, k * n) * s.es };
}

/** Where to cut `size` rows or columns in two: near the middle, on a whole register tile. */
const cutAt = (size: number, tile: number): number => Math.min(Math.max(Math.round(size / 2 / tile), 1) * tile, size - 1);

/** Copies rows (or columns) [i0, i1) of the row-major [m, n] matrix at view[from] to c at co. */
function copyOut(c: Buffer, co: number, view: Buffer, from: number, m: number, n: number, rows: boolean, i0: number, i1: number): void {
  if (rows) c.set(view.subarray(from + i0 * n, from + i1 * n), co + i0 * n);
  else for (let i = 0; i < m; i++) c.set(view.subarray(from + i * n + i0, from + i * n + i1), co + i * n + i0);
}

/**
 * c[co + i * n + j] = sum_p A[i, p] * B[p, j] (operands as in wasmMatmul) on two threads, if the
 * switch is at 2, the product is large enough and a shape the blocked gemm runs (row-vector
 * shapes have kernels of their own), and the worker is there and free; false otherwise (then c
 * may hold part of the product, and the caller runs the single-thread path, which overwrites it).
 */
export function threadedMatmul(
  prec: Precision,
  a: Buffer, ao: number, ars: number, acs: number,
  b: Buffer, bo: number, brs: number, bcs: number,
  c: Buffer, co: number,
  m: number, k: number, n: number,
): boolean {
  if (threads !== 2 || m * k * n < threadSettings.minFlops || m <= GEMV_MAX_ROWS || k < 2 || n < 2) return false;
  const p = ready();
  if (!p || !free(p)) return false;
  const s = prec === "f32" ? SGEMM : DGEMM;
  const es = s.es;
  const L = layout(s, m, k, n);
  if (!grow(p, L.end)) return false;
  const view = prec === "f32" ? p.f32 : p.f64;
  const gemm = prec === "f32" ? p.sgemm : p.dgemm;
  const lda = k * es, ldb = n * es, ldc = n * es;
  const byRows = m >= n;
  const size = byRows ? m : n;
  const tile = byRows ? s.mr : nr(s);
  const cut = cutAt(size, tile);
  // Rows or columns [from, to) of C into C at `into`, with our packing buffers or the worker's
  // (the strided gemm reads a block of columns of B and writes one of C).
  const part = (from: number, to: number, into: number, ours: boolean): number[] => [
    ...(byRows ? [L.a + from * lda, L.b, into + from * ldc, to - from, k, n] : [L.a, L.b + from * es, into + from * es, m, k, to - from]),
    ...(ours ? [L.pA0, L.pB0, L.s0] : [L.pA1, L.pB1, L.s1]),
    lda, ldb, ldc, 1, // overwrite: C is not zeroed first
  ];
  // Rows or columns [0, cut) here, the rest on the worker, which wakes while its operands are
  // copied in. By rows, our rows of A go in after that, unless A is stored transposed (then it
  // goes in as one block).
  p.worker.post(prec === "f32" ? 0 : 1, part(cut, size, L.c, false));
  const wholeA = !byRows || turned(ars, acs, m, k);
  const cAt = L.c / es;
  let t0 = 0;
  try {
    copyOperand(p, prec, L.b, b, bo, brs, bcs, k, n, L.t);
    if (wholeA) copyOperand(p, prec, L.a, a, ao, ars, acs, m, k, L.t);
    else copyOperand(p, prec, L.a + cut * lda, a, ao + cut * ars, ars, acs, m - cut, k, L.t);
    p.worker.go();
    t0 = performance.now();
    if (!wholeA) copyOperand(p, prec, L.a, a, ao, ars, acs, cut, k, L.t);
    gemm(...part(0, cut, L.c, true));
  } catch {
    fail("the product failed on the calling thread");
    return false;
  }
  const spent = performance.now() - t0;
  copyOut(c, co, view, cAt, m, n, byRows, 0, cut); // while the worker finishes
  const late = Math.max(LATE_MIN_MS, LATE_SHARE * spent);
  let state = p.worker.wait(Math.min(late, SPIN_MS), late);
  let from = cAt;
  if (state === "running") {
    // Late: compute its half here too, into the second C, piece by piece, unless it catches up.
    const c2At = L.c2 / es;
    const step = Math.ceil((size - cut) / PIECES / tile) * tile;
    try {
      for (let i = cut; i < size && state === "running"; i += step) {
        gemm(...part(i, Math.min(i + step, size), L.c2, true));
        state = p.worker.state();
      }
    } catch {
      fail("the product failed on the calling thread");
      return false;
    }
    if (state === "running") {
      from = c2At;
      p.since = performance.now();
      p.skip = p.backoff = Math.min(Math.max(2 * p.backoff, threadSettings.backoff), 64 * threadSettings.backoff);
      threadStats.takeovers++;
    }
  } else p.backoff >>= 1;
  if (state === "failed") {
    fail("the gemm threw on the worker");
    return false;
  }
  copyOut(c, co, view, from, m, n, byRows, cut, size);
  threadStats.calls++;
  wasmStats.calls++;
  return true;
}

/** Whether the worker is free for a new job: not still busy with a half the calling thread took
 * over (given up on after threadSettings.jobMs), nor resting after one. */
function free(p: Pool): boolean {
  const resting = p.skip > 0;
  if (resting) p.skip--;
  if (p.since !== 0) {
    const state = p.worker.state();
    if (state === "running") {
      if (performance.now() - p.since > threadSettings.jobMs) fail("the worker did not finish its half in time");
      return false;
    }
    p.since = 0;
    if (state === "failed") {
      fail("the gemm threw on the worker");
      return false;
    }
  }
  return !resting;
}
