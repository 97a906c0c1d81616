// Pieces W2–W6 share: seeded data and weights, one-hot labels, the correctness check every
// workload runs before timing (loss finite and decreasing), compile timing.
import { Random, nn, tensor, type Tensor } from "../../src/index.ts";

/** N(0, std²) weights of `shape`, float32, from `seed`. */
export const normal32 = (seed: number, shape: readonly number[], std: number): Tensor =>
  nn.init.normal(std)(seed, shape, "float32");

/** Uniform weights in [-limit, limit), float32, from `seed`. */
export const uniform32 = (seed: number, shape: readonly number[], limit: number): Tensor =>
  nn.init.uniform(-limit, limit)(seed, shape, "float32");

export const zeros32 = (shape: readonly number[]): Tensor => nn.init.zeros()(0, shape, "float32");

/** `n` seeded random integers in [0, k). */
export const randomInts = (seed: number, n: number, k: number): number[] => {
  const r = new Random(seed);
  return Array.from({ length: n }, () => r.int(k));
};

/** One-hot rows [indices.length, classes], float32. */
export const oneHot = (indices: readonly number[], classes: number): Tensor => {
  const buf = new Float32Array(indices.length * classes);
  indices.forEach((k, i) => (buf[i * classes + k] = 1));
  return tensor(buf, { shape: [indices.length, classes], dtype: "float32" });
};

/** One one-hot vector [classes], float32. */
export const oneHotVector = (k: number, classes: number): Tensor => {
  const buf = new Float32Array(classes);
  buf[k] = 1;
  return tensor(buf, { shape: [classes], dtype: "float32" });
};

/** The number behind a scalar loss (a number or a size-1 tensor). */
export const lossValue = (l: unknown): number => (typeof l === "number" ? l : (l as Tensor).item());

/**
 * The check before timing: runs `step` (one training step returning its loss) `n` times and
 * throws unless every loss is finite and the last is below the first. Returns the losses.
 */
export const checkTraining = (what: string, step: () => number, n: number): number[] => {
  const losses: number[] = [];
  for (let i = 0; i < n; i++) losses.push(step());
  if (!losses.every(Number.isFinite) || !(losses[losses.length - 1]! < losses[0]!))
    throw new Error(`${what}: training does not decrease the loss: ${losses.map((l) => l.toPrecision(6)).join(", ")}`);
  return losses;
};

/** The largest |a − b| over the leaves of two pytrees of tensors, relative to the largest |b|. */
export const maxRelDiff = (a: Record<string, Tensor>, b: Record<string, Tensor>): number => {
  let num = 0;
  let den = 0;
  for (const k of Object.keys(b)) {
    const x = a[k]!.data;
    const y = b[k]!.data;
    if (x.length !== y.length) return Infinity;
    for (let i = 0; i < x.length; i++) {
      num = Math.max(num, Math.abs(x[i]! - y[i]!));
      den = Math.max(den, Math.abs(y[i]!));
    }
  }
  return num / den;
};

/** How long a first call (staging + compiling) takes, in ms. */
export const compileTime = (firstCall: () => unknown): number => {
  const start = performance.now();
  firstCall();
  return performance.now() - start;
};

export const fmtLosses = (losses: readonly number[]): string =>
  `loss ${losses[0]!.toPrecision(4)} → ${losses[losses.length - 1]!.toPrecision(4)} over ${losses.length} steps`;
