// Elementwise loops over whole buffers, in WebAssembly SIMD when it is on (./wasm/vector-module.ts,
// ./wasm/elementwise-module.ts) and in JS otherwise. On this kind of machine a JS typed-array loop
// costs ~2 ns per element while copying a buffer in or out of the arena is a memcpy (~0.02 ns per
// byte), so even with the copies the SIMD path is several times faster for large buffers:
// gradients, optimizer state, and the elementwise operations' operands.
import type { Buffer } from "../tensor/tensor.ts";
import { registerWasmModule, reserveArena, wasmViews } from "./wasm/gemm.ts";
import { elementwiseModuleBytes, type WasmBinary, type WasmUnary } from "./wasm/elementwise-module.ts";
import { vectorModuleBytes } from "./wasm/vector-module.ts";

type Fn = (...args: number[]) => void;
let k: Record<"sadd" | "ssgd" | "sadagrad" | "dadd" | "dsgd" | "dadagrad", Fn> | undefined;
registerWasmModule(vectorModuleBytes, (ex) => (k = ex as typeof k));
let ew: Record<string, Fn> | undefined;
registerWasmModule(elementwiseModuleBytes, (ex) => (ew = ex as typeof ew));

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

/**
 * From how many output elements the elementwise operations run in SIMD: below it, copying in
 * and out and the call cost more than the JS loop saves (measured: about even at 512). Tests
 * lower it, and count the calls that ran in SIMD.
 */
export const simdElementwise = { min: 1024, calls: 0 };

/** The kernel `f32_${name}` or `f64_${name}` (out's dtype) and the arena's view, if both exist and fit `bytes`. */
function elementwise(name: string, out: Buffer, bytes: number): { f: Fn; mem: Float32Array | Float64Array } | undefined {
  // (the first reservation loads the modules; only then can the kernel be looked up)
  const f = reserveArena(64) ? ew?.[(out instanceof Float32Array ? "f32_" : "f64_") + name] : undefined;
  if (f === undefined || !reserveArena(bytes)) return undefined;
  const v = wasmViews()!;
  return { f, mem: out instanceof Float32Array ? v.f32 : v.f64 };
}

/** out = op x in SIMD (the kernel an elementwise primitive names); false (the caller loops in JS) where it does not apply. */
export function unarySimd(name: WasmUnary, x: Buffer, out: Buffer): boolean {
  const n = out.length;
  if (n < simdElementwise.min || !same(x, out)) return false;
  const es = out.BYTES_PER_ELEMENT;
  const at = padded(n, es);
  const w = elementwise(name, out, 2 * at + 64);
  if (!w) return false;
  w.mem.set(x, 0);
  w.f(at, 0, Math.ceil((n * es) / 16));
  simdElementwise.calls++;
  out.set(w.mem.subarray(at / es, at / es + n));
  return true;
}

/**
 * How the second operand of {@link binarySimd} lines up with the output, which is `rows` runs
 * of `len` elements laid out as the full operand: "same" — laid out as the output too; "tile" —
 * `len` values, the same for every run ([n] over [m, n]); "runs" — one value per run, cycling
 * through its values (a number; [C, 1, 1] over [N, C, H, W]; [m, 1] over [m, n]).
 */
export type Part = "same" | "tile" | "runs";

/**
 * out = full op part (part op full when `partFirst`) in SIMD, op the kernel an elementwise
 * primitive names; false (the caller loops in JS) where it does not apply: a small output, mixed dtypes, or
 * a float32 operation with a number that float32 cannot hold (JS computes with the number as it
 * is, then rounds once).
 */
export function binarySimd(
  name: WasmBinary, full: Buffer, part: Buffer | number, partFirst: boolean, kind: Part, out: Buffer, rows: number, len: number,
): boolean {
  const n = out.length;
  if (n < simdElementwise.min || !same(full, out)) return false;
  const f32 = out instanceof Float32Array;
  if (typeof part === "number" ? f32 && Math.fround(part) !== part && part === part : !same(part, out)) return false;
  const es = out.BYTES_PER_ELEMENT;
  const m = typeof part === "number" ? 1 : part.length;
  const [at, bt] = [padded(n, es), padded(m, es)];
  const splat = kind === "runs";
  const w = elementwise(`${name}_${splat ? (partFirst ? "sv" : "vs") : partFirst ? "bv" : "vv"}`, out, 2 * at + bt + 64);
  if (!w) return false;
  const { f, mem } = w;
  mem.set(full, 0);
  if (typeof part === "number") mem[at / es] = part;
  else mem.set(part, at / es);
  const o = at + bt;
  const rb = len * es;
  f(o, 0, at, rows, rb, Math.ceil(rb / 16), splat ? at + m * es : kind === "same" ? rb : 0);
  simdElementwise.calls++;
  out.set(mem.subarray(o / es, o / es + n));
  return true;
}

/**
 * out = cond ≠ 0 ? a : b in SIMD, each operand laid out as out or a number; false (the caller
 * loops in JS) where it does not apply (a small output, or cond or a tensor operand of another
 * dtype than out). A number is stored in out's dtype as JS would store it.
 */
export function whereSimd(cond: Buffer, a: Buffer | number, b: Buffer | number, out: Buffer): boolean {
  const n = out.length;
  const fits = (x: Buffer | number): boolean => typeof x === "number" || same(x, out);
  if (n < simdElementwise.min || !same(cond, out) || !fits(a) || !fits(b)) return false;
  const es = out.BYTES_PER_ELEMENT;
  const at = padded(n, es);
  const w = elementwise("where", out, 4 * at + 64);
  if (!w) return false;
  const { f, mem } = w;
  mem.set(cond, 0);
  // a number fills one vector, which the kernel reads again and again
  const put = (x: Buffer | number, off: number): number => {
    if (typeof x === "number") mem.fill(x, off / es, off / es + 16 / es);
    else mem.set(x, off / es);
    return typeof x === "number" ? 0 : 16;
  };
  const [sa, sb] = [put(a, at), put(b, 2 * at)];
  f(3 * at, 0, at, 2 * at, Math.ceil((n * es) / 16), sa, sb);
  simdElementwise.calls++;
  out.set(mem.subarray((3 * at) / es, (3 * at) / es + n));
  return true;
}

/**
 * acc[o + j] += x[r, j] over `rows` rows of `len` (o moving on by len after every `per` rows:
 * a sum over the leading axes of [rows, len], or the middle one of [rows / per, per, len]) in
 * SIMD, with float64 sums as the JS loop's, bit for bit; false (the caller loops) where it does
 * not apply. `acc` (float64) holds the running sums and is updated.
 */
export function sumRowsSimd(x: Buffer, acc: Float64Array, rows: number, len: number, per: number): boolean {
  const n = x.length;
  if (n < simdElementwise.min || len < 2) return false;
  const es = x.BYTES_PER_ELEMENT;
  const at = padded(n, es);
  const w = elementwise("sumrows", x, at + acc.length * 8 + 64);
  if (!w) return false;
  w.mem.set(x, 0);
  const mem = wasmViews()!.f64;
  mem.set(acc, at / 8);
  w.f(at, 0, rows, len, per);
  simdElementwise.calls++;
  acc.set(mem.subarray(at / 8, at / 8 + acc.length));
  return true;
}
