// What a device backend provides to the rest of the library. Installing one hands its `execute`
// to evaluation (effects/device.ts), the one place an operation on a GPU tensor is dispatched.
import { installDeviceRunner } from "../../effects/device.ts";
import type { Primitive } from "../../effects/primitive.ts";
import type { Value } from "../../effects/value.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Block } from "../../effects/staged-program.ts";
import type { DeviceTensor } from "./device-tensor.ts";

/** A device backend (WebGPU): uploads tensors and runs primitives on device tensors. */
export interface DeviceBackend {
  readonly name: "webgpu";
  /** What the device is (the adapter's vendor and architecture), for reports. */
  readonly description: string;
  /** A device copy of a CPU tensor (float32 only); `op` names the caller in errors. */
  upload(t: Tensor, op: string): DeviceTensor;
  /** Runs `prim` on operands of which at least one is a device tensor. */
  execute<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value;
  /** The buffer pool's bytes: in use by tensors, held in all (in use or waiting), and the most ever held. */
  memory(): DeviceMemory;
  /** Writes `source`'s elements into `target`'s own buffer (the same size), after every operation already queued: inPlace updates. */
  overwrite(target: DeviceTensor, source: DeviceTensor): void;
  /** Compiles a staged program (jit's IR) to run on the device: `source` shows its shaders. */
  compile(block: Block): { (inputs: readonly Value[]): Value[]; readonly source: string };
}

/** A device's buffer pool, in bytes. */
export interface DeviceMemory {
  /** Bytes of buffers that live tensors (and pending operations) use. */
  readonly inUseBytes: number;
  /** Bytes of every buffer the pool holds: in use, or waiting for reuse. */
  readonly heldBytes: number;
  /** The most bytes the pool has held at once. */
  readonly peakBytes: number;
}

let device: DeviceBackend | null = null;

/** Installs the device backend (setBackend does, once). */
export const installDevice = (d: DeviceBackend): void => {
  device = d;
  installDeviceRunner((prim, args, params) => d.execute(prim, args, params));
};

/** The installed device backend, or null before `setBackend("webgpu")`. */
export const installedDevice = (): DeviceBackend | null => device;
