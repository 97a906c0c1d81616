// Where evaluation sends an operation whose operand lives on a device (a GPU tensor). The
// device backend (src/backend/) installs its runner; until then `devicesInUse` is false and
// evaluation pays one boolean per operation.
import { BackendError } from "../src/errors.ts";
import { Tensor } from "../src/tensor/tensor.ts";
import type { Primitive } from "./primitive.ts";
import type { Value } from "./value.ts";

/** Runs a primitive on operands of which at least one is a device tensor. */
export type DeviceRunner = <P>(prim: Primitive<P>, args: readonly Value[], params: P) => Value;

let runner: DeviceRunner | null = null;

/** True once a device backend is installed: evaluation then looks for device operands. */
export let devicesInUse = false;

/** Installs the device backend's runner (src/backend/ does, once). */
export const installDeviceRunner = (r: DeviceRunner): void => {
  runner = r;
  devicesInUse = true;
};

/** Whether any operand is a tensor of a backend other than the CPU. */
export const anyOnDevice = (args: readonly Value[]): boolean => {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a instanceof Tensor && a.backend !== "cpu") return true;
  }
  return false;
};

/** Runs an operation with a device operand on its device. */
export const runOnDevice = <P>(prim: Primitive<P>, args: readonly Value[], params: P): Value => {
  if (runner === null) throw new BackendError(`${prim.name}: a device tensor exists but no device backend is installed`);
  return runner(prim, args, params);
};
