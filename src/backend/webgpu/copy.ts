// Writing a tensor's elements into another tensor's existing buffer: the optimizers' inPlace
// on the GPU. The copy is queued after every operation already submitted, so those read the
// old elements, and every later one (and every tensor viewing that buffer) sees the new ones.
import { BackendError, fmt } from "../../errors.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";

const COPY = `
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
${THREAD_PER_ELEMENT}
  out[i] = src[i];
}`;

/** Copies `source`'s elements into `target`'s buffer (the same number of elements). */
export function overwrite(ctx: GpuContext, target: DeviceTensor, source: DeviceTensor): void {
  if (target.size !== source.size)
    throw new BackendError(`overwrite: a tensor of shape ${fmt(source.shape)} cannot be written into one of shape ${fmt(target.shape)}`);
  const n = target.size;
  if (n === 0 || target.storage === source.storage) return;
  ctx.dispatch(COPY, Uint32Array.of(n), ctx.bufferOf(target), [ctx.bufferOf(source)], ctx.grid(n));
}
