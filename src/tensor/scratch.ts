// Scratch memory for the intermediate values of one compiled call. A compiled program knows that
// everything it computes dies when it returns, except its results (which it copies out). Making
// a new typed array costs ~0.5 µs on V8 however small (a backing store of its own, counted by the
// garbage collector), and a small-op program makes thousands per call; views into one reused
// buffer cost a fraction of that. Outside a compiled call nothing here is active.
import type { Buffer, DType } from "./tensor.ts";

export interface Scratch {
  buf: ArrayBuffer;
  /** Bytes handed out in the current call. */
  used: number;
  /** The most the last call wanted (the buffer grows to it for the next call). */
  need: number;
  /** Set while a call uses it (a nested call of the same program gets no scratch). */
  busy: boolean;
}

let active: Scratch | null = null;
/**
 * Where a call's results go (see outside): a second scratch of the program when it was jitted
 * with `reuseOutputs` (its results are then overwritten by its next call), else nowhere (fresh
 * buffers).
 */
let results: Scratch | null = null;

export const newScratch = (): Scratch => ({ buf: new ArrayBuffer(0), used: 0, need: 0, busy: false });

/** A zeroed buffer from the active scratch, or null (allocate normally). */
export function scratchBuffer(dtype: DType, n: number): Buffer | null {
  const s = active!;
  const es = dtype === "float32" ? 4 : 8;
  const at = (s.used + 7) & ~7;
  const end = at + n * es;
  s.used = end;
  if (end > s.buf.byteLength) return null;
  return es === 4 ? new Float32Array(s.buf, at, n) : new Float64Array(s.buf, at, n);
}

/** Whether a scratch is active (checked on every allocation: keep it cheap). */
export const scratchActive = (): boolean => active !== null;

/** Takes `s` for a call (zeroing what the last call used, growing it to what that call wanted);
 * false if a call already has it (a nested call of the same program). */
function claim(s: Scratch): boolean {
  if (s.busy) return false;
  if (s.need > s.buf.byteLength) s.buf = new ArrayBuffer(Math.ceil((s.need * 1.25) / 8) * 8);
  else if (s.used > 0) new Uint8Array(s.buf, 0, Math.min(s.used, s.buf.byteLength)).fill(0);
  s.used = 0;
  s.busy = true;
  return true;
}

/** Gives `s` back after a call: the next one makes it as large as this one wanted. */
function release(s: Scratch): void {
  s.need = Math.max(s.need, s.used);
  s.busy = false;
}

/** Starts a call on `s` (zeroing what the last call used); returns what to pass to `leave`. */
export function enter(s: Scratch): Scratch | null {
  const previous = active;
  active = claim(s) ? s : null;
  return previous;
}

/** Ends the call started by `enter`. */
export function leave(s: Scratch, previous: Scratch | null): void {
  if (active === s) release(s);
  active = previous;
}

/**
 * Starts a call's results on `r` (null: fresh buffers), zeroing what its last call returned;
 * returns what to pass to `leaveResults`. If an input of the call is one of those results (a
 * training step fed the parameters it returned), this call's results are fresh buffers instead:
 * zeroing would erase the input before the call reads it.
 */
export function enterResults(r: Scratch | null, inputs: readonly unknown[]): Scratch | null {
  const previous = results;
  results = r !== null && !inputs.some((x) => isView(x, r.buf)) && claim(r) ? r : null;
  return previous;
}

const isView = (x: unknown, buf: ArrayBuffer): boolean =>
  typeof x === "object" && x !== null && (x as { buf?: { buffer?: unknown } }).buf?.buffer === buf;

/** Ends the results started by `enterResults`. */
export function leaveResults(r: Scratch | null, previous: Scratch | null): void {
  if (r !== null && results === r) release(r);
  results = previous;
}

/** Runs `f` with the call's results scratch active (or none): what it allocates outlives the call. */
export function outside<T>(f: () => T): T {
  const saved = active;
  active = results;
  try {
    return f();
  } finally {
    active = saved;
  }
}

/** `buf` if it does not live in `s`, else a copy (results must outlive the call), in the results scratch if there is one. */
export function escape(s: Scratch, buf: Buffer): Buffer {
  if (buf.buffer !== s.buf) return buf;
  if (results === null) return buf.slice() as Buffer;
  const saved = active;
  active = results;
  const out = scratchBuffer(buf instanceof Float32Array ? "float32" : "float64", buf.length);
  active = saved;
  if (out === null) return buf.slice() as Buffer;
  out.set(buf);
  return out;
}
