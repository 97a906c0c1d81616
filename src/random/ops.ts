// The random operations as effects (used with `yield*`), each checking its arguments before it
// is performed: a key operand must be one key (a float64 tensor of shape [2]); batches of keys
// go through vmap, as in JAX.
import { CompositeOp, PrimitiveOp } from "../../effects/operation.ts";
import type { Effect } from "../../effects/effect.ts";
import { bind } from "../../effects/trace.ts";
import { Traced, dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt } from "../errors.ts";
import { checkOperand } from "../lax.ts";
import type { ArrayOut } from "../ops.ts";
import { checkOptions } from "../options.ts";
import { lessP } from "../primitives/binary.ts";
import { reshape, slice } from "../primitives/shape.ts";
import { checkDType } from "../tensor/create.ts";
import { broadcastShapes, checkShape, normalizeAxis } from "../tensor/shape.ts";
import { Tensor, type DType } from "../tensor/tensor.ts";
import { checkKeyShape } from "./key.ts";
import { checkSampleDType } from "./placement.ts";
import { categoricalP, checkCategoricalShape, foldInP, normalP, permutationP, splitP, uniformP } from "./primitives.ts";

/** What a random operation gives: a Tensor for a concrete key, a traced value inside a transformation. */
export type RandomOut<K> = ArrayOut<K>;

const count = (op: string, name: string, n: unknown): number => {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0)
    throw new ValueError(`${op}: ${name} must be a non-negative integer, got ${String(n)}`);
  return n;
};

const dtypeOption = (op: string, dtype: unknown): DType => (dtype === undefined ? "float64" : checkDType(op, dtype));

/** `n` new keys from `key` (default 2), as a tensor of shape [n, 2]: JAX's `split`. */
export const split = <K extends Value>(key: K, n = 2): Effect<RandomOut<K>> =>
  new PrimitiveOp<RandomOut<K> & Value, { n: number }>(splitP, [checkKeyShape("random.split", key)], { n: count("random.split", "n", n) });

/**
 * `n` new keys from `key` (default 2) as an array of keys, to unpack:
 * `const [next, sub] = yield* random.splitKeys(key)`. The same keys as `split`'s rows.
 */
export const splitKeys = <K extends Value>(key: K, n = 2): Effect<RandomOut<K>[]> => {
  const op = "random.splitKeys";
  checkKeyShape(op, key);
  const many = count(op, "n", n);
  return new CompositeOp<RandomOut<K>[]>(op, () => {
    const keys = bind(splitP, [key], { n: many });
    return Array.from({ length: many }, (_, i) => reshape(slice(keys, [i, 0], [i + 1, 2]), [2]) as RandomOut<K>);
  });
};

/**
 * A new key from `key` and an integer `data` (a number, or a traced scalar such as a step
 * counter under jit): JAX's `fold_in`. Distinct data give independent keys; `foldIn(key, i)`
 * equals `split(key, n)[i]`. Negative data count as their 32-bit two's complement.
 */
export const foldIn = <K extends Value>(key: K, data: Value): Effect<RandomOut<K>> => {
  const op = "random.foldIn";
  checkKeyShape(op, key);
  checkOperand(op, data, "data");
  if (typeof data === "number" && !Number.isSafeInteger(data)) throw new ValueError(`${op}: data must be an integer, got ${data}`);
  if (shapeOf(data).length !== 0)
    throw new ShapeError(`${op}: data must be a scalar, got shape ${fmt(shapeOf(data))}; to fold in many values, map over them with vmap`);
  return new PrimitiveOp<RandomOut<K> & Value>(foldInP, [key, data], undefined);
};

/** Options of `uniform`: the dtype (default "float64") and the range [minval, maxval) (default [0, 1)). */
export interface UniformOptions {
  dtype?: DType;
  minval?: number;
  maxval?: number;
}

/**
 * Uniform samples in [minval, maxval) of `shape`, the same bits as JAX's `uniform` for the
 * same key: float32 samples equal JAX's (its default dtype) exactly, float64 ones equal JAX's
 * with `jax_enable_x64`.
 */
export const uniform = <K extends Value>(key: K, shape: readonly number[], options: UniformOptions = {}): Effect<RandomOut<K>> => {
  const op = "random.uniform";
  checkKeyShape(op, key);
  checkOptions(op, options, { dtype: "any", minval: "number", maxval: "number" });
  const minval = options.minval ?? 0;
  const maxval = options.maxval ?? 1;
  if (!Number.isFinite(minval) || !Number.isFinite(maxval) || !(minval <= maxval))
    throw new ValueError(`${op}: the range must be finite with minval <= maxval, got [${minval}, ${maxval})`);
  const params = { shape: checkShape(op, shape), dtype: dtypeOption(op, options.dtype), minval, maxval };
  checkSampleDType(op, params.dtype);
  return new PrimitiveOp<RandomOut<K> & Value, typeof params>(uniformP, [key], params);
};

/** Options of `normal`: the dtype (default "float64"). */
export interface NormalOptions {
  dtype?: DType;
}

/**
 * Standard normal samples of `shape`, drawn as JAX's `normal` draws them (√2·erfinv of a
 * uniform in (−1, 1) from the same bits); float32 samples agree with JAX's to float32 rounding
 * of erfinv.
 */
export const normal = <K extends Value>(key: K, shape: readonly number[], options: NormalOptions = {}): Effect<RandomOut<K>> => {
  const op = "random.normal";
  checkKeyShape(op, key);
  checkOptions(op, options, { dtype: "any" });
  const params = { shape: checkShape(op, shape), dtype: dtypeOption(op, options.dtype) };
  checkSampleDType(op, params.dtype);
  return new PrimitiveOp<RandomOut<K> & Value, typeof params>(normalP, [key], params);
};

/**
 * 1 with probability `p`, else 0, of `shape` (default p's shape; p broadcasts to it), as JAX's
 * `bernoulli`: uniform(key, shape) < p, the uniforms in p's dtype (float64 for a number p).
 * Values are 0/1 in that dtype; their derivative is zero.
 */
export const bernoulli = <K extends Value>(key: K, p: Value, shape?: readonly number[]): Effect<RandomOut<K>> => {
  const op = "random.bernoulli";
  checkKeyShape(op, key);
  checkOperand(op, p, "p");
  const ps = shapeOf(p);
  const s = shape === undefined ? ps.slice() : checkShape(op, shape);
  const joint = broadcastShapes(op, s, ps);
  if (joint.length !== s.length || joint.some((d, i) => d !== s[i]))
    throw new ShapeError(`${op}: p of shape ${fmt(ps)} must broadcast to shape ${fmt(s)}; pass a shape that p broadcasts to`);
  const params = { shape: s, dtype: dtypeOf(p), minval: 0, maxval: 1 };
  checkSampleDType(op, params.dtype);
  return new CompositeOp<RandomOut<K>>(op, () => bind(lessP, [bind(uniformP, [key], params), p], undefined) as RandomOut<K>);
};

/** Options of `categorical`: the class axis of the logits (default −1) and the samples' shape. */
export interface CategoricalOptions {
  axis?: number;
  /** The samples' shape: must end with the logits' other axes (default: exactly those). */
  shape?: readonly number[];
}

/**
 * Class indices sampled with probabilities softmax(logits) along `axis`, by the Gumbel-max
 * trick as JAX's `categorical` (argmax of logits + Gumbel noise from the key). Indices are
 * float64 integers; their derivative is zero.
 */
export const categorical = <K extends Value>(key: K, logits: Value, options: CategoricalOptions = {}): Effect<RandomOut<K>> => {
  const op = "random.categorical";
  checkKeyShape(op, key);
  checkOperand(op, logits, "logits");
  checkOptions(op, options, { axis: "integer", shape: "array" });
  if (!(logits instanceof Tensor || logits instanceof Traced) || shapeOf(logits).length === 0)
    throw new ShapeError(`${op}: logits must be a tensor with a class axis, got ${typeof logits === "number" ? "a number" : "a 0-d tensor"}`);
  const ls = shapeOf(logits);
  const axis = normalizeAxis(op, options.axis ?? -1, ls.length);
  if (ls[axis] === 0) throw new ShapeError(`${op}: logits of shape ${fmt(ls)} have no classes along axis ${axis}`);
  const batch = ls.filter((_, a) => a !== axis);
  const shape = options.shape === undefined ? batch : checkShape(op, options.shape);
  checkCategoricalShape(op, ls, axis, shape);
  return new PrimitiveOp<RandomOut<K> & Value, { axis: number; shape: readonly number[] }>(categoricalP, [key, logits], { axis, shape });
};

/** A random permutation of 0, 1, …, n−1 (float64 integers), as JAX's `permutation(key, n)`. */
export const permutation = <K extends Value>(key: K, n: number): Effect<RandomOut<K>> => {
  const op = "random.permutation";
  checkKeyShape(op, key);
  return new PrimitiveOp<RandomOut<K> & Value, { n: number }>(permutationP, [key], { n: count(op, "n", n) });
};


