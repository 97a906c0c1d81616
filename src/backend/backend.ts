// The backend switch: `await setBackend("webgpu")` makes new tensors (tensor, zeros, ones, full,
// randn, rand) on the GPU and `backend()` reads the choice; "cpu" is the default. A tensor stays
// on the backend that made it: operations run where their operands are, and moving is explicit
// (toDevice, toCpu). The WebGPU code is imported only when it is first asked for.
import { BackendError, DTypeError, show } from "../errors.ts";
import { Tensor, type BackendName } from "../tensor/tensor.ts";
import { installDevice, installedDevice, type DeviceBackend, type DeviceMemory } from "./device.ts";
import { DeviceTensor } from "./device-tensor.ts";
import { setPlacement } from "./placement.ts";
import type { GpuLike } from "./webgpu/gpu-types.ts";

let current: BackendName = "cpu";

/** The backend new tensors are made on: "cpu" (the default) or "webgpu" after `setBackend("webgpu")`. */
export const backend = (): BackendName => current;

/** What `backendInfo` reports. */
export interface BackendInfo {
  /** The current backend (as `backend()`). */
  readonly backend: BackendName;
  /** The WebGPU adapter (vendor, architecture), once "webgpu" has been chosen; SwiftShader is a CPU. */
  readonly adapter?: string;
  /** The GPU buffer pool's bytes, once "webgpu" has been chosen. */
  readonly memory?: DeviceMemory;
}

/** The current backend, and the GPU's adapter and buffer pool once WebGPU is open (for reports and memory checks). */
export const backendInfo = (): BackendInfo => {
  const d = installedDevice();
  return d === null ? { backend: current } : { backend: current, adapter: d.description, memory: d.memory() };
};

/** Options of `setBackend`. */
export interface BackendOptions {
  /**
   * The WebGPU entry point to use instead of `navigator.gpu` (e.g. a Node binding's `gpu`
   * object). Only read the first time "webgpu" is chosen.
   */
  readonly gpu?: unknown;
}

/**
 * Chooses the backend that new tensors are made on. "webgpu" asks for a WebGPU adapter and
 * device the first time (a BackendError says what is missing if there is none); "cpu" goes back.
 * Tensors made before keep their backend.
 */
export async function setBackend(name: BackendName, options: BackendOptions = {}): Promise<void> {
  if (name !== "cpu" && name !== "webgpu")
    throw new BackendError(`setBackend: unknown backend ${show(name)}; the backends are "cpu" (the default) and "webgpu"`);
  if (name === "webgpu") {
    const d = installedDevice() ?? (await openWebGPU(options.gpu as GpuLike | undefined));
    setPlacement((t, op) => d.upload(t, op));
  } else setPlacement(null);
  current = name;
}

let opening: Promise<DeviceBackend> | null = null;
const openWebGPU = (gpu: GpuLike | undefined): Promise<DeviceBackend> => {
  opening ??= import("./webgpu/backend.ts")
    .then((m) => m.createWebGPUBackend(gpu))
    .then((d) => (installDevice(d), d))
    .finally(() => (opening = null));
  return opening;
};

/** A GPU copy of a CPU tensor (float32; a float64 tensor stays CPU-only). Needs `setBackend("webgpu")` to have run once. */
export function toDevice(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new BackendError(`toDevice: expected a Tensor, got ${show(t)}`);
  if (t instanceof DeviceTensor) return t;
  const d = installedDevice();
  if (d === null)
    throw new BackendError('toDevice: no GPU backend is open; call `await setBackend("webgpu")` first (it finds the WebGPU adapter)');
  return d.upload(t, "toDevice");
}

/** A CPU copy of a tensor (the elements read back from the GPU); a CPU tensor is returned as it is. */
export async function toCpu(t: Tensor): Promise<Tensor> {
  if (!(t instanceof Tensor)) throw new BackendError(`toCpu: expected a Tensor, got ${show(t)}`);
  if (!(t instanceof DeviceTensor)) return t;
  return new Tensor(await t.dataAsync(), t.shape);
}

/** The error of a float64 tensor bound for the GPU. */
export const float64OnDevice = (op: string): DTypeError =>
  new DTypeError(
    `${op}: float64 tensors stay CPU-only (WebGPU computes in float32); pass { dtype: "float32" }, ` +
      `make the tensor with dtype "float32", or keep float64 work on setBackend("cpu")`,
  );
