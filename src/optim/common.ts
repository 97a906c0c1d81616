// What the optimizers share: option checks, learning-rate schedules, and the step engine
// that lines up params, grads and state slots leaf by leaf and hands each optimizer's loop
// typed arrays (fresh outputs, the inputs never written; or, with `inPlace`, the params' and
// the state's own buffers).
import { ShapeError, ValueError } from "../errors.ts";
import { bufferOf, buffersNorm, checkAligned, flattenConcrete, fresh, wrapLike, type ConcreteFlat, type Leaf } from "../tree-math.ts";
import type { Buffer, Tensor } from "../tensor/tensor.ts";
import { clipBuffers, scaleBuffers } from "./clip.ts";
import type { OptionSpec } from "../options.ts";
import type { DeviceTensor } from "../backend/device-tensor.ts";
import { deviceSlotLike, onDevice, stepDeviceLeaves, type DeviceLeafStep } from "./device-step.ts";

/** A learning rate as a function of the number of updates done so far (0 on the first). */
export type Schedule = (step: number) => number;
/** A learning rate: a number, or a schedule of the step count. */
export type LearningRate = number | Schedule;

/** Gradient clipping applied by an optimizer before its step: by value first, then by global norm. */
export interface ClipOptions {
  /** Clip each gradient element to [-clipValue, clipValue]. */
  clipValue?: number;
  /** Scale all gradients together so that their global L2 norm is at most clipGlobalNorm. */
  clipGlobalNorm?: number;
}

/** What every optimizer takes besides its own settings. */
export interface StepOptions extends ClipOptions {
  /**
   * Write the new params and state into the buffers of the ones passed in (as PyTorch's
   * `optimizer.step()` does) instead of new tensors: no allocation per step, which matters for
   * large models trained with small steps. `update` then returns the same tensor objects, and
   * every reference to the old params or state sees the new values. Default false.
   */
  inPlace?: boolean;
}

/**
 * An optimizer: pure functions over pytrees, like optax. `init(params)` makes the state (a
 * plain pytree of numbers and tensors, so it can be checkpointed); `update(grads, state,
 * params)` returns the new params and state as new tensors, leaving its inputs untouched
 * (unless the optimizer was made with `inPlace: true`: see StepOptions).
 */
export interface Optimizer<S = OptimizerState> {
  /** The initial state for `params`. */
  init<P>(params: P): S;
  /** The new params and state after a step with `grads` (new tensors, unless `inPlace`). */
  update<P>(grads: P, state: S, params: P): [P, S];
}

/** Every optimizer's state has the number of updates done so far. */
export interface OptimizerState {
  count: number;
}

/** The options every optimizer accepts besides its own (see StepOptions), and its learning rate's kinds. */
export const STEP_OPTIONS: OptionSpec = { lr: ["number", "function"], clipValue: "number", clipGlobalNorm: "number", inPlace: "boolean" };

export const checkNumber = (op: string, name: string, v: unknown, min: number, max = Infinity, maxOpen = false): number => {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || (maxOpen ? v >= max : v > max))
    throw new ValueError(
      `${op}: ${name} must be a finite number in [${min}, ${max}${maxOpen ? ")" : "]"}, got ${String(v)}`,
    );
  return v;
};

export const checkLearningRate = (op: string, lr: unknown): LearningRate => {
  if (typeof lr === "function") return lr as Schedule;
  return checkNumber(op, "lr", lr, 0);
};

export const learningRateAt = (op: string, lr: LearningRate, count: number): number => {
  if (typeof lr === "number") return lr;
  const v = lr(count);
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new ValueError(`${op}: the learning-rate schedule returned ${String(v)} at step ${count}; it must return a finite number`);
  return v;
};

export const checkClip = (op: string, options: StepOptions): StepOptions => {
  if (options.clipValue !== undefined) checkNumber(op, "clipValue", options.clipValue, 0);
  if (options.clipGlobalNorm !== undefined) checkNumber(op, "clipGlobalNorm", options.clipGlobalNorm, 0);
  if (options.inPlace !== undefined && typeof options.inPlace !== "boolean")
    throw new ValueError(`${op}: inPlace must be true or false, got ${String(options.inPlace)}`);
  return options;
};

export const checkCount = (op: string, state: unknown): number => {
  const count = (state as { count?: unknown } | null | undefined)?.count;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0)
    throw new ValueError(`${op}: state.count is ${String(count)}; pass the state that ${op.split(".")[0]}.init (or the last update) returned`);
  return count;
};

/** One optimizer loop over a leaf: reads p, g and the state slots, writes the outputs. */
export type LeafStep = (p: Buffer, g: Buffer, slots: readonly Buffer[], outP: Buffer, outSlots: readonly Buffer[]) => void;

/** State slots shaped like the params (zeros, or filled with `value`). */
export const slotLike = <P>(op: string, params: P, value = 0): P => {
  const flat = flattenConcrete(op, params, true);
  return flat.rebuild(
    flat.leaves.map((leaf) => {
      if (onDevice(leaf)) return deviceSlotLike(leaf, value);
      const buf = fresh(leaf);
      if (value !== 0) buf.fill(value);
      return wrapLike(leaf, buf);
    }),
  ) as P;
};

/**
 * Writing in place is only sound if no two leaves of the params and the state share memory
 * (the same tensor twice, or views of one buffer): one would be stepped twice.
 */
const checkDisjoint = (op: string, flats: readonly { what: string; flat: ConcreteFlat }[]): void => {
  const seen = new Map<object, { from: number; to: number; where: string }[]>();
  for (const { what, flat } of flats)
    flat.leaves.forEach((leaf, i) => {
      if (typeof leaf === "number") return;
      // a device tensor's memory is its storage, which its views (reshapes) share whole
      const b = onDevice(leaf) ? null : (leaf as Tensor).buf;
      const memory: object = b === null ? (leaf as DeviceTensor).storage : b.buffer;
      const where = `${what} leaf ${flat.paths[i] ?? i}`;
      const spans = seen.get(memory) ?? [];
      const [from, to] = b === null ? [0, 1] : [b.byteOffset, b.byteOffset + b.byteLength];
      const clash = spans.find((s) => from < s.to && s.from < to);
      if (clash)
        throw new ValueError(
          `${op}: with inPlace, every param and state leaf needs memory of its own, but ${where} shares memory with ${clash.where}; pass distinct tensors or drop inPlace`,
        );
      spans.push({ from, to, where });
      seen.set(memory, spans);
    });
};

/**
 * Lines up params, grads and slots, clips the grads (a copy), runs `step` per leaf, and
 * returns the new params and the new slots (the same tensors, rewritten, with `inPlace`).
 * When a param is a device (webgpu) tensor, its leaf is stepped by `device` (the same update
 * written with operations, run on the tensor's backend) instead: see device-step.ts.
 */
export const stepLeaves = <P>(
  op: string,
  params: P,
  grads: P,
  slots: readonly { name: string; tree: unknown }[],
  clip: StepOptions,
  step: LeafStep,
  device?: DeviceLeafStep,
): [P, unknown[]] => {
  const fp = flattenConcrete(op, params, true);
  const fg = flattenConcrete(op, grads, true);
  checkAligned(op, fp, fg, ["params", "grads"]);
  const fs: ConcreteFlat[] = slots.map(({ name, tree }) => {
    if (tree === undefined || tree === null) throw new ShapeError(`${op}: state.${name} is missing; pass the state that init returned`);
    const f = flattenConcrete(op, tree, true);
    checkAligned(op, fp, f, ["params", `state.${name}`]);
    return f;
  });
  const inPlace = clip.inPlace === true;
  if (inPlace) checkDisjoint(op, [{ what: "params", flat: fp }, ...fs.map((flat, k) => ({ what: `state.${slots[k]!.name}`, flat }))]);
  if (fp.leaves.some(onDevice)) {
    // a number leaf among device params is stepped by the loop, on a one-element buffer
    const cpuLeaf = (i: number): [Leaf, Leaf[]] => {
      const leaf = fp.leaves[i]!;
      const outP = fresh(leaf);
      const outS = fs.map(() => fresh(leaf));
      const g = [bufferOf(fg.leaves[i]!)];
      const clipped = clip.clipValue === undefined ? g : clipBuffers(g, -clip.clipValue, clip.clipValue);
      step(bufferOf(leaf), clipped[0]!, fs.map((f) => bufferOf(f.leaves[i]!)), outP, outS);
      return [wrapLike(leaf, outP), outS.map((b) => wrapLike(leaf, b))];
    };
    const [newP, newS] = stepDeviceLeaves(op, fp, fg, fs, clip, device, cpuLeaf);
    return [fp.rebuild(newP) as P, fs.map((f, k) => f.rebuild(newS[k]!))];
  }
  let g = fg.leaves.map(bufferOf);
  if (clip.clipValue !== undefined) g = clipBuffers(g, -clip.clipValue, clip.clipValue);
  if (clip.clipGlobalNorm !== undefined) {
    const norm = buffersNorm(g);
    if (norm > clip.clipGlobalNorm) g = scaleBuffers(g, clip.clipGlobalNorm / norm);
  }
  const newP = new Array<unknown>(fp.leaves.length);
  const newS = fs.map(() => new Array<unknown>(fp.leaves.length));
  for (let i = 0; i < fp.leaves.length; i++) {
    const leaf = fp.leaves[i]!;
    const slotLeaves = fs.map((f) => f.leaves[i]!);
    // (a number leaf has no buffer to write: it gets a new number either way)
    const own = (x: Leaf): Buffer => (inPlace && typeof x !== "number" ? x.buf : fresh(leaf));
    const outP = own(leaf);
    const outS = slotLeaves.map(own);
    step(bufferOf(leaf), g[i]!, slotLeaves.map(bufferOf), outP, outS);
    const wrap = (x: Leaf, b: Buffer): Leaf => (typeof x !== "number" && x.buf === b ? x : wrapLike(leaf, b));
    newP[i] = wrap(leaf, outP);
    outS.forEach((b, k) => (newS[k]![i] = wrap(slotLeaves[k]!, b)));
  }
  return [fp.rebuild(newP) as P, fs.map((f, k) => f.rebuild(newS[k]!))];
};
