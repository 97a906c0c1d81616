// Gradient clipping on pytrees of concrete values: by value (elementwise) and by global norm
// (all leaves scaled together, as torch.nn.utils.clip_grad_norm_ and optax.clip_by_global_norm).
// Trees of GPU tensors are clipped on the GPU with operations (device-step.ts's).
import { BackendError, ValueError } from "../errors.ts";
import { mul } from "../ops.ts";
import { run } from "../run.ts";
import { bufferOf, buffersNorm, flattenConcrete, treeGlobalNorm, wrapLike } from "../tree-math.ts";
import { allocate, type Buffer } from "../tensor/tensor.ts";
import { clipOnDevice, globalNormScale, onDevice } from "./device-step.ts";

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

/** Each element clipped to [lo, hi] (GPU leaves on the GPU, with operations). */
export const clipByValue = <T>(grads: T, lo: number, hi: number): T => {
  if (typeof lo !== "number" || typeof hi !== "number" || Number.isNaN(lo) || Number.isNaN(hi) || lo > hi)
    throw new ValueError(`clipByValue: needs numbers lo <= hi, got lo = ${String(lo)}, hi = ${String(hi)}`);
  const flat = flattenConcrete("clipByValue", grads, true);
  if (flat.leaves.some(onDevice))
    return flat.rebuild(flat.leaves.map((leaf) => (onDevice(leaf) ? run(clipOnDevice, leaf, lo, hi) : wrapLike(leaf, clipBuffers([bufferOf(leaf)], lo, hi)[0]!)))) as T;
  const out = clipBuffers(flat.leaves.map(bufferOf), lo, hi);
  return flat.rebuild(flat.leaves.map((leaf, i) => wrapLike(leaf, out[i]!))) as T;
};

/** The global L2 norm of all leaves together (a number: CPU trees only). */
export const globalNorm = (grads: unknown): number => {
  const device = flattenConcrete("globalNorm", grads, true).leaves.find(onDevice);
  if (device !== undefined)
    throw new BackendError(
      `globalNorm: the tree has ${device.backend} tensors, whose norm the host reads only asynchronously; compute it with operations ` +
        "(sqrt of the summed sum(square(g))) and read it with `await t.toArrayAsync()`, or clip with clipByGlobalNorm or the optimizers' clipGlobalNorm",
    );
  return treeGlobalNorm(grads);
};

/**
 * All leaves scaled by min(1, maxNorm / globalNorm): the direction is kept and the global
 * norm is at most maxNorm. Returns the input tree itself when no scaling is needed. A tree of
 * GPU tensors is scaled on the GPU (the norm is never read back), so it is always a new tree.
 */
export const clipByGlobalNorm = <T>(grads: T, maxNorm: number): T => {
  if (typeof maxNorm !== "number" || !(maxNorm >= 0))
    throw new ValueError(`clipByGlobalNorm: maxNorm must be a number >= 0, got ${String(maxNorm)}`);
  const flat = flattenConcrete("clipByGlobalNorm", grads, true);
  const device = flat.leaves.find(onDevice);
  if (device !== undefined) {
    const other = flat.leaves.findIndex((l) => !onDevice(l));
    if (other >= 0)
      throw new BackendError(
        `clipByGlobalNorm: the tree has ${device.backend} tensors, but leaf ${flat.paths[other] ?? other} is ` +
          `${typeof flat.leaves[other] === "number" ? "a number" : "a cpu tensor"}: scaling it would read the device's norm synchronously. ` +
          `Make every leaf a ${device.backend} tensor, or move the tree with toCpu`,
      );
    const scale = run(globalNormScale, flat.leaves, maxNorm);
    return flat.rebuild(flat.leaves.map((leaf) => run(function* () { return yield* mul(leaf, scale); }))) as T;
  }
  const bufs = flat.leaves.map(bufferOf);
  const norm = buffersNorm(bufs);
  if (!(norm > maxNorm)) return grads;
  const out = scaleBuffers(bufs, maxNorm / norm);
  return flat.rebuild(flat.leaves.map((leaf, i) => wrapLike(leaf, out[i]!))) as T;
};
