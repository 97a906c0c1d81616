// The random primitives. Each takes keys [..., 2] (one key, or — under vmap — a stack of them,
// each making its own block of the output) and gives values that do not depend smoothly on
// anything: every derivative is zero (JVP and VJP give symbolic zeros), so keys and samples are
// constants to grad, while jit stages them as data and vmap batches them. Keys stay CPU data;
// samples are computed on the CPU and go to the current backend, as the constructors' tensors
// (categorical with GPU logits runs its argmax on the GPU: src/backend/webgpu/random.ts).
import { definePrimitive, type Abstract, type MaybeValue } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, fmt } from "../errors.ts";
import { tensorOf } from "../primitives/abstract.ts";
import { perExample } from "../primitives/batching.ts";
import { reshape } from "../primitives/shape.ts";
import { broadcastShapes, type Shape } from "../tensor/shape.ts";
import { Tensor, type DType } from "../tensor/tensor.ts";
import { checkKeyAbstract } from "./key.ts";
import { onBackend } from "./placement.ts";
import { categoricalKernel, foldInKernel, normalKernel, permutationKernel, splitKernel, uniformKernel } from "./kernels.ts";

const noTangent = (): MaybeValue => null;
const noCotangents = (_ct: Value, primals: readonly Value[]): MaybeValue[] => primals.map(() => null);
/** The leading (batch) axes of keys [..., 2]. */
const keyBatch = (k: Abstract): Shape => k.shape.slice(0, -1);
const keyBatchOf = (v: Value): Shape => shapeOf(v).slice(0, -1);

export const splitP = definePrimitive<{ n: number }>({
  name: "random.split",
  abstractEval: ([k], p) => (checkKeyAbstract("random.split", k!), tensorOf([...keyBatch(k!), p.n, 2], "float64")),
  impl: ([k], p) => splitKernel("random.split", k as Tensor, p.n),
  jvp: noTangent,
  vjp: noCotangents,
  batch: ([k], _b, p): Value => bind(splitP, [k!], p),
});

/** foldIn's output shape: the keys' batch axes and the data's, broadcast, then the two words. */
const foldInShape = (k: Abstract, d: Abstract): Shape => [...broadcastShapes("random.foldIn", keyBatch(k), d.shape), 2];

export const foldInP = definePrimitive({
  name: "random.foldIn",
  abstractEval: ([k, d]) => (checkKeyAbstract("random.foldIn", k!), tensorOf(foldInShape(k!, d!), "float64")),
  impl: ([k, d]) => foldInKernel("random.foldIn", k as Tensor, d as Tensor | number),
  jvp: noTangent,
  vjp: noCotangents,
  // Keys' batch axes and the data's broadcast like elementwise operands: the batched ones get
  // size-1 axes after the batch axis up to the larger per-example rank.
  batch: ([k, d], [kb, db]): Value => {
    const kRank = keyBatchOf(k!).length - (kb ? 1 : 0);
    const dRank = shapeOf(d!).length - (db ? 1 : 0);
    const rank = Math.max(kRank, dRank);
    const lift = (v: Value, own: number, tail: Shape): Value => {
      const s = shapeOf(v);
      return reshape(v, [s[0]!, ...Array<number>(rank - own).fill(1), ...s.slice(1, s.length - tail.length), ...tail]);
    };
    return bind(foldInP, [kb ? lift(k!, kRank, [2]) : k!, db ? lift(d!, dRank, []) : d!], undefined);
  },
});

/** Parameters of the uniform primitive: the samples' shape and dtype, and their range. */
export interface UniformParams {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly minval: number;
  readonly maxval: number;
}

export const uniformP = definePrimitive<UniformParams>({
  name: "random.uniform",
  abstractEval: ([k], p) => (checkKeyAbstract("random.uniform", k!), tensorOf([...keyBatch(k!), ...p.shape], p.dtype)),
  impl: ([k], p) => onBackend("random.uniform", uniformKernel("random.uniform", k as Tensor, p.shape, p.dtype, p.minval, p.maxval)),
  jvp: noTangent,
  vjp: noCotangents,
  batch: ([k], _b, p): Value => bind(uniformP, [k!], p),
});

export const normalP = definePrimitive<{ readonly shape: Shape; readonly dtype: DType }>({
  name: "random.normal",
  abstractEval: ([k], p) => (checkKeyAbstract("random.normal", k!), tensorOf([...keyBatch(k!), ...p.shape], p.dtype)),
  impl: ([k], p) => onBackend("random.normal", normalKernel("random.normal", k as Tensor, p.shape, p.dtype)),
  jvp: noTangent,
  vjp: noCotangents,
  batch: ([k], _b, p): Value => bind(normalP, [k!], p),
});

/** Parameters of the categorical primitive: the class axis of the logits (non-negative) and the samples' shape. */
export interface CategoricalParams {
  readonly axis: number;
  readonly shape: Shape;
}

/** Checks that `shape` ends with the logits' axes other than `axis` (each equal, or 1 in the logits). */
export const checkCategoricalShape = (op: string, logits: Shape, axis: number, shape: Shape): void => {
  const batch = logits.filter((_, a) => a !== axis);
  const tail = shape.slice(shape.length - batch.length);
  const ok = batch.length <= shape.length && batch.every((d, i) => d === tail[i] || d === 1);
  if (!ok)
    throw new ShapeError(
      `${op}: shape ${fmt(shape)} must end with the logits' axes other than the class axis (${fmt(batch)}, each equal or 1 in the logits); ` +
        `logits have shape ${fmt(logits)} and class axis ${axis}`,
    );
};

export const categoricalP = definePrimitive<CategoricalParams>({
  name: "random.categorical",
  abstractEval: ([k, l], p) => {
    checkKeyAbstract("random.categorical", k!);
    checkCategoricalShape("random.categorical", l!.shape, p.axis, p.shape);
    return tensorOf([...keyBatch(k!), ...p.shape], "float64");
  },
  impl: ([k, l], p) => onBackend("random.categorical", categoricalKernel("random.categorical", k as Tensor, l as Tensor, p.axis, p.shape), true),
  jvp: noTangent,
  vjp: noCotangents,
  // A batch of keys with shared logits is one call; batched logits run once per example.
  batch: (values, batched, p, size): Value => (batched[1] ? perExample(categoricalP, values, batched, p, size) : bind(categoricalP, values, p)),
});

export const permutationP = definePrimitive<{ n: number }>({
  name: "random.permutation",
  abstractEval: ([k], p) => (checkKeyAbstract("random.permutation", k!), tensorOf([...keyBatch(k!), p.n], "float64")),
  impl: ([k], p) => onBackend("random.permutation", permutationKernel("random.permutation", k as Tensor, p.n), true),
  jvp: noTangent,
  vjp: noCotangents,
  batch: ([k], _b, p): Value => bind(permutationP, [k!], p),
});
