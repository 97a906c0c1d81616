// The optimizers' path for params on a device (webgpu): their buffers cannot be stepped by a
// JS loop, so each optimizer also gives its update as operations, run eagerly on the tensor's
// backend (one dispatch per operation). The CPU path (common.ts's stepLeaves loop) is untouched:
// stepLeaves comes here only when a param is a device tensor.
import type { Effect } from "../../effects/effect.ts";
import type { Value } from "../../effects/value.ts";
import { toDevice } from "../backend/backend.ts";
import { BackendError } from "../errors.ts";
import { maximum, minimum } from "../ops.ts";
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
 * Steps the aligned leaves whose param is on a device with `step` (run eagerly), and the number
 * leaves with `cpuLeaf`. Returns the new param leaves and the new slot leaves (slot-major).
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
  const notYet = (what: string, fix: string): BackendError =>
    new BackendError(`${op}: ${what} is not yet available on ${backend} tensors; ${fix}`);
  if (step === undefined) throw notYet("this optimizer", "move the params, grads and state with toCpu, or write the update with operations");
  if (options.inPlace === true)
    throw notYet("inPlace", "drop inPlace (the update returns new tensors; the old ones go back to the buffer pool when collected)");
  if (options.clipGlobalNorm !== undefined)
    throw notYet("clipGlobalNorm", "clip the gradients with operations inside the program (global norm: sqrt of the summed sum(square(g)))");
  const clip = options.clipValue;
  const newP = new Array<unknown>(fp.leaves.length);
  const newS = fs.map(() => new Array<unknown>(fp.leaves.length));
  for (let i = 0; i < fp.leaves.length; i++) {
    const leaf = fp.leaves[i]!;
    if (!onDevice(leaf)) {
      const [p, s] = cpuLeaf(i);
      newP[i] = p;
      s.forEach((x, k) => (newS[k]![i] = x));
      continue;
    }
    const slots = fs.map((f) => f.leaves[i]!);
    const [p, s] = run(function* () {
      const g = clip === undefined ? fg.leaves[i]! : yield* clipOnDevice(fg.leaves[i]!, -clip, clip);
      return yield* step(leaf, g, slots);
    });
    newP[i] = p;
    s.forEach((x, k) => (newS[k]![i] = x));
  }
  return [newP, newS];
};
