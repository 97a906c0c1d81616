// Where a sample goes: the random kernels compute on the CPU from the keys (Threefry in JS, the
// bits JAX makes), and the result goes to the current backend, as the constructors' tensors
// (`placed`). On webgpu that is a float32 upload; positions (categorical's classes,
// permutation's values) are float64 on the CPU and float32 there, exact up to 2^24 as argmax's.
import { backend, float64OnDevice } from "../backend/backend.ts";
import { placed } from "../backend/placement.ts";
import { Tensor, type DType } from "../tensor/tensor.ts";

/** `t` (a sample just made on the CPU) on the current backend; `positions`: integers that become float32 on a device. */
export const onBackend = (op: string, t: Tensor, positions = false): Tensor =>
  positions && backend() !== "cpu" ? placed(new Tensor(Float32Array.from(t.buf), t.shape), op) : placed(t, op);

/**
 * Refuses, when the op is called, a float64 sample on a device backend (the constructors'
 * DTypeError: WebGPU computes in float32), with the option that asks for float32.
 */
export const checkSampleDType = (op: string, dtype: DType): void => {
  if (dtype === "float64" && backend() !== "cpu") throw float64OnDevice(op);
};
