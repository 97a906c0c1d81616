// Class labels of the classification losses, told apart by shape: labels shaped like the logits
// are one-hot (or probability) targets; labels shaped like the logits without their class axis
// (the last) are class indices. Indices known now are checked and picked with one gather;
// indices that exist only at run time (staged by jit, one per example under vmap) pick by a
// one-hot comparison mask, so the same loss works eagerly, under jit, vmap and jit(grad).
import { Traced, dtypeOf, primal, shapeOf, type Value } from "../effects/value.ts";
import { IndexError, ShapeError, ValueError, fmt } from "./errors.ts";
import * as lax from "./lax.ts";
import { concreteOf, knownIndices, oneHotMask, stackIndices } from "./staged-indices.ts";
import { sameShape, sizeOf } from "./tensor/shape.ts";
import { Tensor } from "./tensor/tensor.ts";

/**
 * Class labels: integer class indices (a number for one example, number[] / Int32Array /
 * integer-valued Tensor shaped like the logits without their last axis), or one-hot (or any
 * probability) targets shaped like the logits. Either may be traced (staged by jit, batched
 * by vmap).
 */
export type Labels = number | readonly Value[] | Int32Array | Value;

export type ClassTargets =
  /** Checked indices, as flat positions i·C + k into the logits. */
  | { kind: "indices"; flat: Int32Array }
  /** Indices that exist only at run time, shaped like the logits without their class axis. */
  | { kind: "runtime"; indices: Value }
  /** One-hot or probability targets, shaped like the logits. */
  | { kind: "dense"; targets: Value };

/** Sorts `labels` for logits of shape `logitShape` into one of the three kinds (see ClassTargets). */
export const readLabels = (op: string, logitShape: readonly number[], labels: Labels): ClassTargets => {
  if (logitShape.length === 0) throw new ShapeError(`${op}: logits must have a class axis (last axis), got a scalar`);
  const classes = logitShape[logitShape.length - 1]!;
  const batch = logitShape.slice(0, -1);
  const n = sizeOf(batch);
  const forms = `class indices of shape ${fmt(batch)} or one-hot labels of shape ${fmt(logitShape)}`;
  let values: ArrayLike<unknown>;
  if (labels instanceof Tensor || labels instanceof Traced || typeof labels === "number") {
    const s = shapeOf(labels);
    if (sameShape(s, logitShape)) return { kind: "dense", targets: labels };
    if (!sameShape(s, batch)) {
      if (typeof labels === "number")
        throw new ShapeError(`${op}: a single label ${labels} was given for logits of shape ${fmt(logitShape)}; pass ${forms}`);
      throw new ShapeError(`${op}: labels have shape ${fmt(s)}; for logits of shape ${fmt(logitShape)} pass ${forms}`);
    }
    const c = concreteOf(labels);
    if (c === undefined) return { kind: "runtime", indices: labels };
    values = typeof c === "number" ? [c] : c.buf;
  } else if (Array.isArray(labels) || labels instanceof Int32Array) {
    if (labels.length !== n)
      throw new ShapeError(
        `${op}: ${labels.length} labels for logits of shape ${fmt(logitShape)}, which hold ${batch.length === 0 ? "one example" : `${n} examples`}`,
      );
    const known = knownIndices(labels);
    if (known === undefined) return { kind: "runtime", indices: lax.reshape(stackIndices(op, labels as readonly Value[]), batch) };
    values = known as ArrayLike<unknown>;
  } else {
    throw new ValueError(`${op}: labels must be class indices (number, number[], Int32Array, Tensor) or one-hot tensors, got ${typeof labels}`);
  }
  const flat = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = values[i];
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= classes)
      throw new IndexError(`${op}: label ${String(k)} at position ${i} is not a class index in [0, ${classes - 1}]`);
    flat[i] = i * classes + k;
  }
  return { kind: "indices", flat };
};

/**
 * The log-probability at the label, per example (the logits' shape without the class axis):
 * logProbs[..., label], or Σ t·logProbs for dense targets. A run-time index outside [0, C), or
 * not an integer, gives NaN (it cannot be checked before the program runs).
 */
export const logProbAtLabel = (logProbs: Value, targets: ClassTargets): Value => {
  const s = shapeOf(logProbs);
  const batch = s.slice(0, -1);
  switch (targets.kind) {
    case "indices":
      return lax.reshape(lax.take(lax.reshape(logProbs, [sizeOf(s)]), targets.flat), batch);
    case "dense":
      return lax.sum(lax.mul(targets.targets, logProbs), -1);
    case "runtime": {
      const mask = oneHotMask(targets.indices, s[s.length - 1]!, dtypeOf(logProbs));
      // where, not a product: a class with log-probability −∞ outside the label stays out (0·−∞ is NaN)
      const picked = lax.sum(lax.where(mask, logProbs, 0), -1);
      return lax.where(lax.sum(mask, -1), picked, NaN);
    }
  }
};

/** Labels as concrete values (for plain functions such as `accuracy`): traced ones through `primal`. */
export const concreteLabels = (labels: Labels): Labels =>
  labels instanceof Traced ? primal(labels) : Array.isArray(labels) ? (labels as readonly Value[]).map((v) => primal(v)) : labels;
