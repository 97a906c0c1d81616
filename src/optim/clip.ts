// Gradient clipping on pytrees of concrete values: by value (elementwise) and by global norm
// (all leaves scaled together, as torch.nn.utils.clip_grad_norm_ and optax.clip_by_global_norm).
import { ValueError } from "../errors.ts";
import { bufferOf, buffersNorm, flattenConcrete, treeGlobalNorm, wrapLike } from "../tree-math.ts";
import { allocate, type Buffer } from "../tensor/tensor.ts";

const like = (x: Buffer): Buffer => allocate(x instanceof Float32Array ? "float32" : "float64", x.length);

/** @internal Copies clipped to [lo, hi]. */
export const clipBuffers = (bufs: readonly Buffer[], lo: number, hi: number): Buffer[] =>
  bufs.map((x) => {
    const o = like(x);
    for (let k = 0; k < x.length; k++) {
      const v = x[k]!;
      o[k] = v < lo ? lo : v > hi ? hi : v;
    }
    return o;
  });

/** @internal Copies times s. */
export const scaleBuffers = (bufs: readonly Buffer[], s: number): Buffer[] =>
  bufs.map((x) => {
    const o = like(x);
    for (let k = 0; k < x.length; k++) o[k] = x[k]! * s;
    return o;
  });

/** Each element clipped to [lo, hi]. */
export const clipByValue = <T>(grads: T, lo: number, hi: number): T => {
  if (typeof lo !== "number" || typeof hi !== "number" || Number.isNaN(lo) || Number.isNaN(hi) || lo > hi)
    throw new ValueError(`clipByValue: needs numbers lo <= hi, got lo = ${String(lo)}, hi = ${String(hi)}`);
  const flat = flattenConcrete("clipByValue", grads);
  const out = clipBuffers(flat.leaves.map(bufferOf), lo, hi);
  return flat.rebuild(flat.leaves.map((leaf, i) => wrapLike(leaf, out[i]!))) as T;
};

/** The global L2 norm of all leaves together. */
export const globalNorm = (grads: unknown): number => treeGlobalNorm(grads);

/**
 * All leaves scaled by min(1, maxNorm / globalNorm): the direction is kept and the global
 * norm is at most maxNorm. Returns the input tree itself when no scaling is needed.
 */
export const clipByGlobalNorm = <T>(grads: T, maxNorm: number): T => {
  if (typeof maxNorm !== "number" || !(maxNorm >= 0))
    throw new ValueError(`clipByGlobalNorm: maxNorm must be a number >= 0, got ${String(maxNorm)}`);
  const flat = flattenConcrete("clipByGlobalNorm", grads);
  const bufs = flat.leaves.map(bufferOf);
  const norm = buffersNorm(bufs);
  if (!(norm > maxNorm)) return grads;
  const out = scaleBuffers(bufs, maxNorm / norm);
  return flat.rebuild(flat.leaves.map((leaf, i) => wrapLike(leaf, out[i]!))) as T;
};
