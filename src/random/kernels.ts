// Kernels of the random primitives, on concrete keys [..., 2] (each key makes its own block of
// the output, so a batch of keys — vmap's stacked keys — is one call). The bit layout is JAX's
// default ("partitionable") Threefry: element i of an output of any shape is the hash of the
// counter (hi, lo) = (⌊i / 2³²⌋, i mod 2³²), the 64-bit flat index.
import { ValueError } from "../errors.ts";
import { broadcastToKernel } from "../kernels/shape-ops.ts";
import { broadcastShapes, sizeOf, type Shape } from "../tensor/shape.ts";
import { Tensor, allocate, type DType } from "../tensor/tensor.ts";
import { erfinv32, erfinv64 } from "./erfinv.ts";
import { readWords } from "./key.ts";
import { threefry2x32Into } from "./threefry.ts";

const WORD = 2 ** 32;
const f32 = Math.fround;

/** Runs `each(k0, k1, keyIndex)` for every key of keys [..., 2]; gives the number of keys. */
const forKeys = (op: string, keys: Tensor, each: (k0: number, k1: number, index: number) => void): number => {
  const w = readWords(op, keys);
  const n = w.length / 2;
  for (let j = 0; j < n; j++) each(w[2 * j]!, w[2 * j + 1]!, j);
  return n;
};

/** The leading (batch) axes of keys [..., 2]. */
const batchOf = (keys: Tensor): number[] => keys.shape.slice(0, -1);

/** split: n new keys per key, key i being the hash of the counter (0, i) (JAX: split ≡ foldIn(key, i)). */
export const splitKernel = (op: string, keys: Tensor, n: number): Tensor => {
  const out = new Float64Array(sizeOf(batchOf(keys)) * n * 2);
  forKeys(op, keys, (k0, k1, j) => {
    for (let i = 0; i < n; i++) threefry2x32Into(k0, k1, Math.floor(i / WORD), i % WORD, out, 2 * (j * n + i));
  });
  return new Tensor(out, [...batchOf(keys), n, 2]);
};

/** foldIn: the hash of the counter (0, data mod 2³²); keys [...K, 2] and data [...D] broadcast. */
export const foldInKernel = (op: string, keys: Tensor, data: Tensor | number): Tensor => {
  const dshape = typeof data === "number" ? [] : data.shape;
  const shape = broadcastShapes(op, batchOf(keys), dshape);
  const k = broadcastToKernel(keys, [...shape, 2]);
  const d = typeof data === "number" ? null : broadcastToKernel(data, shape).buf;
  const out = new Float64Array(sizeOf(shape) * 2);
  forKeys(op, k, (k0, k1, j) => {
    const v = d === null ? (data as number) : d[j]!;
    threefry2x32Into(k0, k1, 0, wrapWord(op, v), out, 2 * j);
  });
  return new Tensor(out, [...shape, 2]);
};

/** An integer as a 32-bit word (two's complement for negative ones, as a cast to uint32). */
export const wrapWord = (op: string, v: number): number => {
  if (!Number.isSafeInteger(v)) throw new ValueError(`${op}: data must be an integer, got ${v}`);
  return ((v % WORD) + WORD) % WORD;
};
/**
 * Fills out[base + i], i < size, with `convert(b0, b1)` of the hash of counter i: one block
 * of random words per key.
 */
const fillBlocks = (op: string, keys: Tensor, size: number, out: { [i: number]: number }, convert: (b0: number, b1: number) => number): void => {
  const pair = [0, 0];
  forKeys(op, keys, (k0, k1, j) => {
    const base = j * size;
    for (let i = 0; i < size; i++) {
      threefry2x32Into(k0, k1, Math.floor(i / WORD), i % WORD, pair, 0);
      out[base + i] = convert(pair[0]!, pair[1]!);
    }
  });
};

/**
 * A uniform float in [0, 1) from the hash words, as JAX makes it: float32 takes the high 23 bits
 * of the 32-bit word b0 ^ b1 as the mantissa; float64 the high 52 bits of the 64-bit word
 * (b0 << 32) | b1.
 */
export const unitFloat = (dtype: DType, b0: number, b1: number): number =>
  dtype === "float32" ? ((b0 ^ b1) >>> 9) * 2 ** -23 : (b0 * 2 ** 20 + (b1 >>> 12)) * 2 ** -52;

/** lo + u·(hi − lo), at least lo, each step rounded to `dtype` (JAX's arithmetic, in order). */
const scaleInto = (dtype: DType, lo: number, hi: number): ((u: number) => number) => {
  if (dtype === "float32") {
    const a = f32(lo);
    const width = f32(f32(hi) - a);
    return (u) => Math.max(a, f32(f32(u * width) + a));
  }
  const width = hi - lo;
  return (u) => Math.max(lo, u * width + lo);
};

/** Uniform samples in [minval, maxval) of `shape` per key: keys [...K, 2] → [...K, ...shape]. */
export const uniformKernel = (op: string, keys: Tensor, shape: Shape, dtype: DType, minval: number, maxval: number): Tensor => {
  const size = sizeOf(shape);
  const out = allocate(dtype, sizeOf(batchOf(keys)) * size);
  const scale = scaleInto(dtype, minval, maxval);
  fillBlocks(op, keys, size, out, (b0, b1) => scale(unitFloat(dtype, b0, b1)));
  return new Tensor(out, [...batchOf(keys), ...shape]);
};

/** The float next to −1 toward 0 (nextafter(−1, 0)): the lower end of normal's uniform (JAX). */
const normalLow = (dtype: DType): number => (dtype === "float32" ? -(1 - 2 ** -24) : -(1 - 2 ** -53));

/**
 * Standard normal samples per key, as JAX draws them: u uniform in (−1, 1) (from the next
 * float above −1), then √2·erfinv(u).
 */
export const normalKernel = (op: string, keys: Tensor, shape: Shape, dtype: DType): Tensor => {
  const size = sizeOf(shape);
  const out = allocate(dtype, sizeOf(batchOf(keys)) * size);
  const scale = scaleInto(dtype, normalLow(dtype), 1);
  const sqrt2 = dtype === "float32" ? f32(Math.SQRT2) : Math.SQRT2;
  fillBlocks(op, keys, size, out, (b0, b1) => {
    const u = scale(unitFloat(dtype, b0, b1));
    return dtype === "float32" ? f32(sqrt2 * erfinv32(u)) : sqrt2 * erfinv64(u);
  });
  return new Tensor(out, [...batchOf(keys), ...shape]);
};

/** The smallest positive normal float of `dtype`: gumbel's uniform starts there (JAX). */
const tiny = (dtype: DType): number => (dtype === "float32" ? 2 ** -126 : 2 ** -1022);

/**
 * The shape of categorical's Gumbel noise per key: the samples' shape `shape` with the class
 * axis of the logits (shape `logits`, class axis `axis`) inserted where the logits have it.
 */
export const categoricalNoiseShape = (logits: Shape, axis: number, shape: Shape): number[] => {
  const batchRank = logits.length - 1;
  const prefix = shape.slice(0, shape.length - batchRank);
  const tail = shape.slice(shape.length - batchRank);
  return [...prefix, ...tail.slice(0, axis), logits[axis]!, ...tail.slice(axis)];
};

/**
 * Gumbel noise −log(−log(u)) of `shape` per key (u uniform in [tiny, 1), as JAX's `gumbel`),
 * each step rounded to `dtype`: keys [...K, 2] → [...K, ...shape]. What categorical adds to
 * the logits.
 */
export const gumbelNoise = (op: string, keys: Tensor, shape: Shape, dtype: DType): Tensor => {
  const size = sizeOf(shape);
  const out = allocate(dtype, sizeOf(batchOf(keys)) * size);
  const scale = scaleInto(dtype, tiny(dtype), 1);
  const g = dtype === "float32" ? (u: number) => -f32(Math.log(-f32(Math.log(u)))) : (u: number) => -Math.log(-Math.log(u));
  fillBlocks(op, keys, size, out, (b0, b1) => g(scale(unitFloat(dtype, b0, b1))));
  return new Tensor(out, [...batchOf(keys), ...shape]);
};

/**
 * Categorical samples by the Gumbel-max trick, as JAX's `categorical`: per key, Gumbel noise
 * of the shape `categoricalNoiseShape` is added to the logits (broadcast over the samples'
 * leading axes) and the argmax over the class axis taken (first index of the largest).
 * `axis` is the class axis of `logits` (non-negative); `shape` the samples' shape (ending
 * with the logits' other axes). Indices as float64.
 */
export const categoricalKernel = (op: string, keys: Tensor, logits: Tensor, axis: number, shape: Shape): Tensor => {
  const dtype = logits.dtype;
  const ls = logits.shape;
  const classes = ls[axis]!;
  const noiseShape = categoricalNoiseShape(ls, axis, shape);
  const tail = shape.slice(shape.length - (ls.length - 1));
  const prefixes = sizeOf(shape.slice(0, shape.length - tail.length));
  const logitsB = broadcastToKernel(logits, noiseShape.slice(noiseShape.length - ls.length)).buf;
  const inner = sizeOf(tail.slice(axis)); // elements after the class axis
  const outer = sizeOf(tail.slice(0, axis));
  const perPrefix = outer * classes * inner;
  const noiseSize = sizeOf(noiseShape);
  const samples = sizeOf(shape);
  const keyCount = sizeOf(batchOf(keys));
  const out = new Float64Array(keyCount * samples);
  const noise = gumbelNoise(op, keys, noiseShape, dtype).buf;
  const add = dtype === "float32" ? (a: number, b: number) => f32(a + b) : (a: number, b: number) => a + b;
  let o = 0;
  for (let j = 0; j < keyCount; j++)
    for (let p = 0; p < prefixes; p++)
      for (let a = 0; a < outer; a++)
        for (let c = 0; c < inner; c++) {
          let best = 0;
          let bestValue = NaN;
          for (let k = 0; k < classes; k++) {
            const at = a * classes * inner + k * inner + c;
            const v = add(noise[j * noiseSize + p * perPrefix + at]!, logitsB[at]!);
            // argmax: the first largest; a NaN wins (as NumPy's and JAX's argmax)
            if (k === 0 || v > bestValue || (Number.isNaN(v) && !Number.isNaN(bestValue))) {
              best = k;
              bestValue = v;
            }
          }
          out[o++] = best;
        }
  return new Tensor(out, [...batchOf(keys), ...shape]);
};

/**
 * A random permutation of 0..n−1 per key, as JAX's `permutation(key, n)`: ⌈3·ln n / ln(2³²−1)⌉
 * rounds of a stable sort by fresh 32-bit words (key, subkey = split(key); words = bits of
 * subkey), so that ties between words cannot bias the result. Values as float64.
 */
export const permutationKernel = (op: string, keys: Tensor, n: number): Tensor => {
  const rounds = Math.ceil((3 * Math.log(Math.max(1, n))) / Math.log(WORD - 1));
  const out = new Float64Array(sizeOf(batchOf(keys)) * n);
  const words = new Float64Array(n);
  const order = new Array<number>(n);
  const pair = [0, 0, 0, 0];
  forKeys(op, keys, (k0, k1, j) => {
    const x = Array.from({ length: n }, (_, i) => i);
    let key0 = k0;
    let key1 = k1;
    for (let r = 0; r < rounds; r++) {
      threefry2x32Into(key0, key1, 0, 0, pair, 0); // the new key: split's first
      threefry2x32Into(key0, key1, 0, 1, pair, 2); // the subkey: split's second
      [key0, key1] = [pair[0]!, pair[1]!];
      const s0 = pair[2]!;
      const s1 = pair[3]!;
      for (let i = 0; i < n; i++) {
        threefry2x32Into(s0, s1, Math.floor(i / WORD), i % WORD, pair, 0);
        words[i] = (pair[0]! ^ pair[1]!) >>> 0;
        order[i] = i;
      }
      order.sort((a, b) => words[a]! - words[b]! || a - b); // stable by position
      const next = order.map((i) => x[i]!);
      for (let i = 0; i < n; i++) x[i] = next[i]!;
    }
    out.set(x, j * n);
  });
  return new Tensor(out, [...batchOf(keys), n]);
};
