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

/** Starts a call on `s` (zeroing what the last call used); returns what to pass to `leave`. */
export function enter(s: Scratch): Scratch | null {
  const previous = active;
  if (s.busy) {
    active = null;
    return previous;
  }
  if (s.need > s.buf.byteLength) s.buf = new ArrayBuffer(Math.ceil((s.need * 1.25) / 8) * 8);
  else if (s.used > 0) new Uint8Array(s.buf, 0, Math.min(s.used, s.buf.byteLength)).fill(0);
  s.used = 0;
  s.busy = true;
  active = s;
  return previous;
}

/** Ends the call started by `enter`. */
export function leave(s: Scratch, previous: Scratch | null): void {
  if (active === s) {
    s.need = Math.max(s.need, s.used);
    s.busy = false;
  }
  active = previous;
}

/** Runs `f` with no scratch active: what it allocates outlives the call (e.g. a result). */
export function outside<T>(f: () => T): T {
  const saved = active;
  active = null;
  try {
    return f();
  } finally {
    active = saved;
  }
}

/** `buf` if it does not live in `s`, else a copy (results must outlive the call). */
export const escape = (s: Scratch, buf: Buffer): Buffer => (buf.buffer === s.buf ? (buf.slice() as Buffer) : buf);
