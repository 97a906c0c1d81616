// Operands that stay in WebAssembly memory for the length of one compiled call. A recursive or
// unrolled program multiplies by the same weights at every node or step; copying a 450 KB weight
// matrix into the kernel arena for each matrix-vector product cost more than the product. Here
// a second memory (own instances of the gemv module) keeps each weight after its first use
// ("pinned", keyed by its buffer: a compiled call's inputs do not change while it runs).
// Everything is released when the outermost compiled call returns.
import type { Buffer } from "../tensor/tensor.ts";
import { Tensor, allocate as allocateBuffer } from "../tensor/tensor.ts";
import { WASM_MIN_FLOPS, wasmEnabled, wasmSimdSupported } from "./wasm/gemm.ts";
import { growMemory, viewsOf, type MemoryViews, type WasmMemory } from "./wasm/memory-views.ts";
import { DGEMV, SGEMV, bSlackBytes, gemvModuleBytes, gemvScratchBytes, paddedK, ySlackBytes, type GemvShape } from "./wasm/gemv-module.ts";

interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
type Fn = (...args: number[]) => void;

const WA = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
const MAX_PAGES = 32768;
/** Pinned weights beyond this many bytes are copied per use instead (bounds the memory). */
const PIN_LIMIT = 256 << 20;

interface Memory extends MemoryViews {
  k: Record<string, Fn>;
}

let mem: Memory | null | undefined;
let depth = 0;
/** Bytes in use by pins; temporaries go above. */
let top = 0;
const pins = new Map<Buffer, number>();

function load(): Memory | null {
  if (mem !== undefined) return mem;
  try {
    if (!WA || !wasmSimdSupported()) return (mem = null);
    const memory = new WA.Memory({ initial: 1, maximum: MAX_PAGES });
    const gv = new WA.Instance(new WA.Module(gemvModuleBytes()), { env: { memory } }).exports;
    mem = { ...viewsOf(memory), k: gv as Record<string, Fn> };
  } catch {
    mem = null; // e.g. a browser main thread refusing synchronous compilation: the arena path runs
  }
  return mem;
}

const align = (x: number): number => Math.ceil(x / 64) * 64;

/** Grows the memory to `bytes`; false if it cannot. */
const reserve = (m: Memory, bytes: number): boolean => growMemory(m, bytes, MAX_PAGES);

/** A compiled call starts: nested calls share the outer call's pins. */
export function beginCall(): void {
  depth++;
}

/** A compiled call ends: the outermost releases everything. */
export function endCall(): void {
  if (--depth > 0) return;
  depth = 0;
  pins.clear();
  top = 0;
}

/** The memory, if this call may use it. */
const active = (): Memory | null => (depth > 0 && wasmEnabled() ? load() : null);

/** A region of `bytes` that lives until the call ends, or -1. */
function allocate(m: Memory, bytes: number): number {
  const at = align(top);
  if (at + bytes > PIN_LIMIT || !reserve(m, at + bytes)) return -1;
  top = at + bytes;
  return at;
}

/** Where `buf` sits in the memory (copied in on its first use this call), or -1. */
function pin(m: Memory, buf: Buffer, slack: number): number {
  const known = pins.get(buf);
  if (known !== undefined) return known;
  const es = buf.BYTES_PER_ELEMENT;
  const at = allocate(m, buf.length * es + slack);
  if (at < 0) return -1;
  (es === 4 ? m.f32 : m.f64).set(buf, at / es);
  pins.set(buf, at);
  return at;
}

const shapeFor = (es: number): GemvShape => (es === 4 ? SGEMV : DGEMV);

/**
 * a·b (or a·bᵀ) for a few rows of a [m <= 3, k] and a weight b [k, n] (stored [n, k] when
 * transposed) that stays pinned: the gemv kernels on the pinned weight, only the rows of a and
 * the result copied. Null where this does not apply (the caller runs the ordinary kernel).
 */
export function pinnedMatvec(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor | null {
  if (transA || a.shape.length !== 2 || b.shape.length !== 2 || a.dtype !== b.dtype) return null;
  const m = a.shape[0]!;
  const k = a.shape[1]!;
  const n = transB ? b.shape[0]! : b.shape[1]!;
  if (m > 3 || k !== (transB ? b.shape[1]! : b.shape[0]!)) return null;
  // Products the ordinary kernel computes in JS (too small for the arena), or a single column
  // (which it sends to the dots kernel), stay with it: same kernel, same rounding as eager.
  if (m * k * n < WASM_MIN_FLOPS[a.dtype === "float32" ? "f32" : "f64"] || (n === 1 && !transB)) return null;
  const w = active();
  if (!w) return null;
  const es = a.buf.BYTES_PER_ELEMENT;
  const s = shapeFor(es);
  const at = pin(w, b.buf, bSlackBytes(s, k));
  if (at < 0) return null;
  const kp = transB ? paddedK(s, k) : k;
  const scratch = align(top);
  const x = align(scratch + gemvScratchBytes(s));
  const y = align(x + m * kp * es);
  if (!reserve(w, y + m * n * es + ySlackBytes(s))) return null;
  const view = es === 4 ? w.f32 : w.f64;
  if (transB) {
    // dots: rows of x zero-padded to whole vectors
    for (let i = 0; i < m; i++) {
      view.set(a.buf.subarray(i * k, (i + 1) * k), x / es + i * kp);
      view.fill(0, x / es + i * kp + k, x / es + (i + 1) * kp);
    }
    w.k[es === 4 ? "sdots" : "ddots"]!(x, at, y, m, k, n, scratch);
  } else {
    view.set(a.buf, x / es);
    w.k[es === 4 ? "srows" : "drows"]!(x, at, y, m, k, n);
  }
  const out = allocateBuffer(a.dtype, m * n); // the call's scratch memory
  out.set(view.subarray(y / es, y / es + m * n));
  return new Tensor(out, [m, n]);
}
