// Elementwise loops over whole buffers, in WebAssembly SIMD when it is on (./wasm/vector-module.ts)
// and in JS otherwise. On this kind of machine a JS typed-array loop costs ~2 ns per element while
// copying a buffer in or out of the arena is a memcpy (~0.02 ns per byte), so even with the copies
// the SIMD path is several times faster for the large buffers of gradients and optimizer state.
import type { Buffer } from "../tensor/tensor.ts";
import { registerWasmModule, reserveArena, wasmViews } from "./wasm/gemm.ts";
import { vectorModuleBytes } from "./wasm/vector-module.ts";

type Fn = (...args: number[]) => void;
let k: Record<"sadd" | "ssgd" | "sadagrad" | "dadd" | "dsgd" | "dadagrad", Fn> | undefined;
registerWasmModule(vectorModuleBytes, (ex) => (k = ex as typeof k));

/** Below this many elements the copies cost more than the JS loop saves. */
const MIN = 256;

const padded = (n: number, es: number): number => Math.ceil((n * es) / 64) * 64;

/** The arena's view for this element type if the kernels can take `regions` buffers of `n`. */
function arena(buf: Buffer, n: number, regions: number): Float32Array | Float64Array | undefined {
  if (n < MIN) return undefined;
  const es = buf instanceof Float32Array ? 4 : 8;
  // (reserving loads the modules on first use, which fills in `k`)
  if (!reserveArena(regions * padded(n, es) + 64) || k === undefined) return undefined;
  const v = wasmViews()!;
  return es === 4 ? v.f32 : v.f64;
}

const same = (a: Buffer, b: Buffer): boolean => (a instanceof Float32Array) === (b instanceof Float32Array);

// JS loops, one per element type so each stays monomorphic.
const addF32 = (a: Float32Array, b: Float32Array): void => {
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
};
const addF64 = (a: Float64Array, b: Buffer): void => {
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
};

/** a += b (same length). */
export function addInto(a: Buffer, b: Buffer): void {
  const n = a.length;
  const mem = same(a, b) ? arena(a, n, 2) : undefined;
  if (mem) {
    const es = mem.BYTES_PER_ELEMENT;
    const at = padded(n, es);
    mem.set(a, 0);
    mem.set(b, at / es);
    (es === 4 ? k!.sadd : k!.dadd)(0, at, Math.ceil(n / (16 / es)));
    a.set(mem.subarray(0, n));
  } else if (a instanceof Float32Array && b instanceof Float32Array) addF32(a, b);
  else if (a instanceof Float64Array) addF64(a, b);
  else for (let i = 0; i < n; i++) a[i]! += b[i]!;
}

/** out = p − rate·(g + wd·p) in SIMD; false (the caller loops in JS) where it does not apply. */
export function sgdStep(p: Buffer, g: Buffer, out: Buffer, rate: number, wd: number): boolean {
  const n = p.length;
  const mem = same(p, g) && same(p, out) ? arena(p, n, 2) : undefined;
  if (!mem) return false;
  const es = mem.BYTES_PER_ELEMENT;
  const at = padded(n, es);
  mem.set(p, 0);
  mem.set(g, at / es);
  (es === 4 ? k!.ssgd : k!.dsgd)(0, at, Math.ceil(n / (16 / es)), rate, wd);
  out.set(mem.subarray(0, n));
  return true;
}

/**
 * Adagrad on one buffer: g clamped to [lo, hi], a' = a + g², p' = p − rate·g / sqrt(a' + eps),
 * written to outP and outA; false (the caller loops in JS) where it does not apply.
 */
export function adagradStep(p: Buffer, g: Buffer, a: Buffer, outP: Buffer, outA: Buffer, rate: number, eps: number, lo: number, hi: number): boolean {
  const n = p.length;
  const mem = same(p, g) && same(p, a) && same(p, outP) && same(p, outA) ? arena(p, n, 3) : undefined;
  if (!mem) return false;
  const es = mem.BYTES_PER_ELEMENT;
  const at = padded(n, es);
  mem.set(p, 0);
  mem.set(g, at / es);
  mem.set(a, (2 * at) / es);
  (es === 4 ? k!.sadagrad : k!.dadagrad)(0, at, 2 * at, Math.ceil(n / (16 / es)), rate, eps, lo, hi);
  outP.set(mem.subarray(0, n));
  outA.set(mem.subarray((2 * at) / es, (2 * at) / es + n));
  return true;
}
