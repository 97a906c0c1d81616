// A WebAssembly memory with float views over it, and growing it: the views must be made again
// after every growth (the old ones see the old, detached buffer). Shared by the kernel arena
// (./gemm.ts), the pinned-weights memory (../resident.ts) and the two-thread memory (./threads.ts).

/** The members of WebAssembly.Memory used here (the project's TypeScript libs do not declare them). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

export interface MemoryViews {
  readonly memory: WasmMemory;
  f32: Float32Array;
  f64: Float64Array;
  /** The memory's size in bytes when the views were made. */
  bytes: number;
}

const PAGE = 65536;

/** Views over `memory` as it is now. */
export const viewsOf = <M extends WasmMemory>(memory: M): { memory: M; f32: Float32Array; f64: Float64Array; bytes: number } => ({
  memory,
  f32: new Float32Array(memory.buffer),
  f64: new Float64Array(memory.buffer),
  bytes: memory.buffer.byteLength,
});

/** Grows `w` to at least `bytes` (at most `maxPages` pages) and renews its views; false if it cannot. */
export function growMemory(w: MemoryViews, bytes: number, maxPages: number): boolean {
  if (bytes <= w.bytes) return true;
  if (bytes > maxPages * PAGE) return false;
  try {
    w.memory.grow(Math.ceil((bytes - w.bytes) / PAGE));
  } catch {
    return false;
  }
  w.f32 = new Float32Array(w.memory.buffer);
  w.f64 = new Float64Array(w.memory.buffer);
  w.bytes = w.memory.buffer.byteLength;
  return true;
}
