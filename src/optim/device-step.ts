// The optimizers' path for params on a device (webgpu): their buffers cannot be stepped by a
// JS loop, so each optimizer also gives its update as operations, run eagerly on the tensor's
// backend (one dispatch per operation). The CPU path (common.ts's stepLeaves loop) is untouched:
// stepLeaves comes here only when a param is a device tensor. Clipping by the global norm is
// operations too (the scale stays on the device: no number is read back), and inPlace writes
// each new value into the old tensor's own buffer.
import type { Effect } from "../../effects/effect.ts";
import type { Value } from "../../effects/value.ts";
import { toDevice } from "../backend/backend.ts";
import { installedDevice } from "../backend/device.ts";
import type { DeviceTensor } from "../backend/device-tensor.ts";
import { BackendError } from "../errors.ts";
import { abs, add, div, equal, greater, max, maximum, minimum, mul, sqrt, square, sum, where } from "../ops.ts";
import { run } from "../run.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { ConcreteFlat, Leaf } from "../tree-math.ts";

/** One leaf's update written with operations: the new param and the new state slots. */
export type DeviceLeafStep = (p: Value, g: Value, slots: readonly Value[]) => Generator<Effect, [Value, Value[]], unknown>;

/** Whether a leaf is a tensor on a device backend. */
export const onDevice = (x: unknown): x is Tensor => x instanceof Tensor && x.backend !== "cpu";

/** A device tensor shaped like `leaf` filled with `value` (an optimizer's state slot). */
export const deviceSlotLike = (leaf: Tensor, value: number): Tensor =>
  toDevice(new Tensor(new Float32Array(leaf.size).fill(value), leaf.shape));

/** Elementwise clip of a device gradient to [lo, hi], with operations. */
export function* clipOnDevice(g: Value, lo: number, hi: number): Generator<Effect, Value, unknown> {
  return yield* minimum(yield* maximum(g, lo), hi);
}

/**
 * The factor min(1, maxNorm / ‖g‖) of clipping by the global norm, as the CPU computes it
 * (scaled by 1 where the norm is at most maxNorm or NaN), as a device value. The norm is
 * m·sqrt(Σ (g / m)²) with m the largest magnitude, so float32 squares neither overflow nor
 * underflow (the CPU sums float64 squares).
 */
export function* globalNormScale(grads: readonly Value[], maxNorm: number): Generator<Effect, Value, unknown> {
  const nonEmpty = grads.filter((g) => !(g instanceof Tensor && g.size === 0));
  if (nonEmpty.length === 0) return 1;
  let m: Value = 0;
  for (const g of nonEmpty) m = yield* maximum(m, yield* max(yield* abs(g)));
  const d = yield* where(yield* greater(m, 0), m, 1);
  let s: Value = 0;
  for (const g of nonEmpty) s = yield* add(s, yield* sum(yield* square(yield* div(g, d))));
  const norm = yield* where(yield* equal(m, Infinity), Infinity, yield* mul(d, yield* sqrt(s)));
  return yield* where(yield* greater(norm, maxNorm), yield* div(maxNorm, norm), 1);
}

/** `next`'s elements written into `old`'s own memory (inPlace): `old` is returned, `next` released. */
const writeInto = (old: unknown, next: unknown): unknown => {
  if (!(old instanceof Tensor) || !(next instanceof Tensor) || old === next) return next; // a number gets a new number
  if (onDevice(old)) {
    installedDevice()!.overwrite(old as DeviceTensor, next as DeviceTensor);
    next.dispose();
  } else (old as Tensor).buf.set(next.buf);
  return old;
};

/**
 * Steps the aligned leaves whose param is on a device with `step` (run eagerly), and the number
 * and CPU leaves with `cpuLeaf`. Returns the new param leaves and the new slot leaves
 * (slot-major); with `inPlace`, the tensors passed in, rewritten.
 */
export const stepDeviceLeaves = (
  op: string,
  fp: ConcreteFlat,
  fg: ConcreteFlat,
  fs: readonly ConcreteFlat[],
  options: { inPlace?: boolean; clipValue?: number; clipGlobalNorm?: number },
  step: DeviceLeafStep | undefined,
  cpuLeaf: (i: number) => [Leaf, Leaf[]],
): [unknown[], unknown[][]] => {
  const backend = fp.leaves.find(onDevice)!.backend;
  if (step === undefined)
    throw new BackendError(`${op}: this optimizer is not yet available on ${backend} tensors; move the params, grads and state with toCpu, or write the update with operations`);
  const clip = options.clipValue;
  const maxNorm = options.clipGlobalNorm;
  const grads = fg.leaves.map((g, i) => (onDevice(fp.leaves[i]) && clip !== undefined ? run(clipOnDevice, g, -clip, clip) : g));
  let scale: Value = 1;
  if (maxNorm !== undefined) {
    const other = fp.leaves.findIndex((l) => !onDevice(l));
    if (other >= 0)
      throw new BackendError(
        `${op}: clipGlobalNorm on ${backend} params needs every leaf on ${backend}, but leaf ${fp.paths[other] ?? other} is ` +
          `${typeof fp.leaves[other] === "number" ? "a number" : "a cpu tensor"}: scaling it would read the device's norm synchronously. ` +
          `Make it a ${backend} tensor (toDevice(tensor([v], { dtype: "float32" }))), or clip inside the program`,
      );
    scale = run(globalNormScale, grads, maxNorm);
  }
  const inPlace = options.inPlace === true;
  const newP = new Array<unknown>(fp.leaves.length);
  const newS = fs.map(() => new Array<unknown>(fp.leaves.length));
  for (let i = 0; i < fp.leaves.length; i++) {
    const leaf = fp.leaves[i]!;
    const slots = fs.map((f) => f.leaves[i]!);
    const [p, s] = onDevice(leaf)
      ? run(function* () {
          const g = maxNorm === undefined ? grads[i]! : yield* mul(grads[i]!, scale);
          return yield* step(leaf, g, slots);
        })
      : cpuLeaf(i);
    newP[i] = inPlace ? writeInto(leaf, p) : p;
    s.forEach((x, k) => (newS[k]![i] = inPlace ? writeInto(slots[k], x) : x));
  }
  return [newP, newS];
};
