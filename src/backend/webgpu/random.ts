// random.categorical with logits on the GPU. Keys are CPU data (Threefry words in float64), so
// the Gumbel noise is made on the CPU from them — the CPU kernel's noise, bit for bit — and
// uploaded; the sum with the logits and the argmax over the class axis run on the GPU. The
// samples are the CPU's (float32 sums rounded the same way, the same first-largest rule), as
// float32 positions.
import { addP } from "../../primitives/binary.ts";
import { tensorOf } from "../../primitives/abstract.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { CategoricalParams } from "../../random/primitives.ts";
import { categoricalNoiseShape, gumbelNoise } from "../../random/kernels.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import type { GpuContext } from "./context.ts";
import { elementwise } from "./elementwise.ts";
import { argReduce } from "./reduce.ts";

/** Samples [...K, ...shape] for keys [...K, 2] (a CPU tensor) and GPU logits. */
export const categorical = (ctx: GpuContext, keys: Tensor, logits: DeviceTensor, p: CategoricalParams, outShape: readonly number[]): DeviceTensor => {
  const noise = gumbelNoise("random.categorical", keys, categoricalNoiseShape(logits.shape, p.axis, p.shape), "float32");
  const onGpu = ctx.upload(noise.buf as Float32Array, noise.shape);
  const perturbed = elementwise(ctx, addP, [onGpu, logits], tensorOf(noise.shape, "float32"));
  // the class axis: the logits' axis counted from the end (the noise ends with the logits' rank)
  return argReduce(ctx, perturbed, noise.shape.length - (logits.shape.length - p.axis), outShape, ">");
};
