// Randomness as data: counter-based keys bit-identical to JAX's default generator
// (Threefry-2x32, "partitionable" bit layout, JAX's default since v0.5.0). `key` and `keyData`
// are plain functions; the rest are operations used with `yield*`.
export { key, keyData, type Key } from "./key.ts";
export {
  split,
  splitKeys,
  foldIn,
  uniform,
  normal,
  bernoulli,
  categorical,
  permutation,
  type RandomOut,
  type UniformOptions,
  type NormalOptions,
  type CategoricalOptions,
} from "./ops.ts";
