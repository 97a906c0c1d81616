// Parameter initializers: reproducible functions `(seedOrKey, shape, dtype?) → Tensor`.
// Each public name is a factory (`normal(0.01)`, `glorotUniform()`) that returns an
// initializer, as in JAX's `jax.nn.initializers`. Given a key (random.key, split, foldIn) an
// initializer draws JAX's values for that key (jax.nn.initializers' formulas on
// jax.random.uniform / normal); given an integer seed, the library's own seeded stream.
// Fans follow two layouts: a dense weight is [in, out]; a conv filter (rank >= 3) is
// [out, in, ...kernel].
import { ValueError, show } from "../errors.ts";
import { Random } from "../tensor/random.ts";
import { checkShape, sizeOf } from "../tensor/shape.ts";
import { Tensor, allocate, type DType } from "../tensor/tensor.ts";
import { checkDType } from "../tensor/create.ts";
import { checkKeyShape } from "../random/key.ts";
import { placed } from "../backend/placement.ts";
import { foldInKernel, normalKernel, uniformKernel } from "../random/kernels.ts";

/**
 * Makes a tensor of `shape` from an integer seed or a key (a float64 tensor of shape [2] from
 * `random.key`, `random.split` or `random.foldIn`); the same seed or key gives the same tensor.
 */
export type Initializer = (seed: number | Tensor, shape: readonly number[], dtype?: DType) => Tensor;

/** How an initializer draws from a key: its samples from JAX's uniform in [lo, hi) or standard normal. */
type KeyDraw = { kind: "uniform"; lo: number; hi: number; scale: number; shift: number } | { kind: "normal"; scale: number; shift: number };

/** Which fan scales an initializer: the inputs, the outputs, or their mean. */
export type FanMode = "fanIn" | "fanOut" | "fanAvg";
/** The distribution an initializer draws from. */
export type Distribution = "normal" | "uniform";

/**
 * A new seed from `seed` and an integer `data` (a stream number): distinct `data` give
 * unrelated seeds, so one layer seed can feed several weights (`foldIn(seed, 0)`, `foldIn(seed, 1)`).
 */
export function foldIn(seed: number, data: number): number;
/** With a key: `random.foldIn`'s key, computed at once (a plain function of a concrete key). */
export function foldIn(key: Tensor, data: number): Tensor;
/** A seed or a key: the same kind back. */
export function foldIn(seedOrKey: number | Tensor, data: number): number | Tensor;
export function foldIn(seed: number | Tensor, data: number): number | Tensor {
  if (seed instanceof Tensor) {
    checkKeyShape("init.foldIn", seed);
    if (!Number.isSafeInteger(data)) throw new ValueError(`foldIn: data must be an integer, got ${data}`);
    return foldInKernel("init.foldIn", seed, data);
  }
  checkSeed("foldIn", seed);
  if (!Number.isInteger(data)) throw new ValueError(`foldIn: data must be an integer, got ${data}`);
  let z = (seed ^ Math.imul((data | 0) + 0x632be5ab, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z = Math.imul(z ^ (z >>> 16), 0x27d4eb2f);
  return (z ^ (z >>> 15)) | 0;
}

/**
 * [fanIn, fanOut] of a weight shape: [] → [1, 1]; [n] → [n, n]; dense [in, out] → [in, out];
 * conv [O, C, ...k] → [C·prod(k), O·prod(k)].
 */
export const computeFans = (shape: readonly number[]): [number, number] => {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  const receptive = sizeOf(shape.slice(2));
  return [shape[1]! * receptive, shape[0]! * receptive];
};

const checkSeed = (op: string, seed: unknown): void => {
  if (typeof seed !== "number" || !Number.isInteger(seed))
    throw new ValueError(`${op}: seed must be an integer, got ${String(seed)}; pass e.g. 0, 1, 42`);
};

const checkFinite = (op: string, name: string, v: unknown): number => {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ValueError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  return v;
};

/**
 * Fills a new tensor: from a key, `keyDraw`'s JAX samples, scaled then shifted (each step
 * rounded to the dtype); from a seed, `draw(random)` per element.
 */
const fillOnCpu = (
  op: string,
  seed: number | Tensor,
  shape: readonly number[],
  dtype: DType | undefined,
  draw: ((r: Random) => number) | null,
  keyDraw?: KeyDraw,
): Tensor => {
  if (seed instanceof Tensor) {
    checkKeyShape(op, seed);
    const s = checkShape(op, shape);
    const d = checkDType(op, dtype);
    if (keyDraw === undefined) return fillOnCpu(op, 0, s, d, draw);
    const t = keyDraw.kind === "uniform" ? uniformKernel(op, seed, s, d, keyDraw.lo, keyDraw.hi) : normalKernel(op, seed, s, d);
    if (keyDraw.scale === 1 && keyDraw.shift === 0) return t;
    const round = d === "float32" ? Math.fround : (v: number) => v;
    const scale = round(keyDraw.scale);
    const shift = round(keyDraw.shift);
    for (let i = 0; i < t.buf.length; i++) t.buf[i] = round(round(t.buf[i]! * scale) + shift);
    return t;
  }
  checkSeed(op, seed);
  const s = checkShape(op, shape);
  const buf = allocate(checkDType(op, dtype), sizeOf(s));
  if (draw !== null) {
    const r = new Random(seed);
    for (let i = 0; i < buf.length; i++) buf[i] = draw(r);
  }
  return new Tensor(buf, s);
};

/** `fillOnCpu`'s tensor on the current backend, as the constructors place theirs (a float32 upload on webgpu). */
const fill = (...args: Parameters<typeof fillOnCpu>): Tensor => placed(fillOnCpu(...args), args[0]);

/** All zeros (the seed or key is ignored). */
export const zeros = (): Initializer => (seed, shape, dtype) => fill("init.zeros", seed, shape, dtype, null);

/** All ones (the seed or key is ignored). */
export const ones = (): Initializer => constant(1);

/** Every element `value` (the seed or key is ignored). */
export const constant = (value: number): Initializer => {
  checkFinite("init.constant", "value", value);
  return (seed, shape, dtype) => fill("init.constant", seed, shape, dtype, () => value);
};

/** Normal samples with standard deviation `std` (default 1) around `mean` (default 0); from a key, `mean + std·random.normal(key)` (JAX's `normal(std)` for mean 0). */
export const normal = (std = 1, mean = 0): Initializer => {
  checkFinite("init.normal", "std", std);
  checkFinite("init.normal", "mean", mean);
  if (std < 0) throw new ValueError(`init.normal: std must be >= 0, got ${std}`);
  return (seed, shape, dtype) => fill("init.normal", seed, shape, dtype, (r) => mean + std * r.normal(), { kind: "normal", scale: std, shift: mean });
};

/** Uniform samples in [low, high) (default [0, 1)); from a key, `random.uniform(key, shape, { minval: low, maxval: high })`. */
export const uniform = (low = 0, high = 1): Initializer => {
  checkFinite("init.uniform", "low", low);
  checkFinite("init.uniform", "high", high);
  if (high < low) throw new ValueError(`init.uniform: high (${high}) must be >= low (${low})`);
  return (seed, shape, dtype) =>
    fill("init.uniform", seed, shape, dtype, (r) => low + (high - low) * r.uniform(), { kind: "uniform", lo: low, hi: high, scale: 1, shift: 0 });
};

/**
 * Variance scaling: variance `scale / fan`, where fan is fanIn, fanOut or their average
 * (`computeFans`). "normal" draws N(0, scale/fan) (not truncated); "uniform" draws from
 * ±sqrt(3·scale/fan), which has the same variance. From a key: `std·random.normal(key)`, or
 * `limit·random.uniform(key, { minval: −1 })` as JAX's variance_scaling draws its uniform.
 */
export const varianceScaling = (scale: number, mode: FanMode, distribution: Distribution): Initializer => {
  checkFinite("init.varianceScaling", "scale", scale);
  if (scale <= 0) throw new ValueError(`init.varianceScaling: scale must be > 0, got ${scale}`);
  if (mode !== "fanIn" && mode !== "fanOut" && mode !== "fanAvg")
    throw new ValueError(`init.varianceScaling: mode must be "fanIn", "fanOut" or "fanAvg", got ${show(mode)}`);
  if (distribution !== "normal" && distribution !== "uniform")
    throw new ValueError(`init.varianceScaling: distribution must be "normal" or "uniform", got ${show(distribution)}`);
  return (seed, shape, dtype) => {
    const [fanIn, fanOut] = computeFans(checkShape("init.varianceScaling", shape));
    const fan = mode === "fanIn" ? fanIn : mode === "fanOut" ? fanOut : (fanIn + fanOut) / 2;
    const variance = fan > 0 ? scale / fan : 0; // a zero fan only happens for an empty shape
    if (distribution === "normal") {
      const std = Math.sqrt(variance);
      return fill("init.varianceScaling", seed, shape, dtype, (r) => std * r.normal(), { kind: "normal", scale: std, shift: 0 });
    }
    const limit = Math.sqrt(3 * variance);
    return fill("init.varianceScaling", seed, shape, dtype, (r) => limit * (2 * r.uniform() - 1), { kind: "uniform", lo: -1, hi: 1, scale: limit, shift: 0 });
  };
};

/** Glorot/Xavier uniform: ±sqrt(6 / (fanIn + fanOut)). */
export const glorotUniform = (): Initializer => varianceScaling(1, "fanAvg", "uniform");
/** Glorot/Xavier normal: std sqrt(2 / (fanIn + fanOut)). */
export const glorotNormal = (): Initializer => varianceScaling(1, "fanAvg", "normal");
/** He/Kaiming uniform (for relu): ±sqrt(6 / fanIn). */
export const heUniform = (): Initializer => varianceScaling(2, "fanIn", "uniform");
/** He/Kaiming normal (for relu): std sqrt(2 / fanIn). */
export const heNormal = (): Initializer => varianceScaling(2, "fanIn", "normal");
/** LeCun uniform: ±sqrt(3 / fanIn). */
export const lecunUniform = (): Initializer => varianceScaling(1, "fanIn", "uniform");
/** LeCun normal: std sqrt(1 / fanIn). */
export const lecunNormal = (): Initializer => varianceScaling(1, "fanIn", "normal");
/** ±1/sqrt(fanIn): PyTorch's default for Linear/Conv weights, and Lantern's MNIST init. */
export const fanInUniform = (): Initializer => varianceScaling(1 / 3, "fanIn", "uniform");
