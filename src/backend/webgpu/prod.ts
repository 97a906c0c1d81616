// The product reduction on the GPU: one thread per output element multiplies its reduced
// elements in order (float32; the CPU accumulates in float64 and rounds once, so long products
// differ in the last bits). A zero gives an exact zero; NaN and ±∞ propagate as IEEE says.
// Its derivative rules (the products of the other elements, from cumprod) run on the GPU too.
import type { DeviceTensor } from "../device-tensor.ts";
import type { GpuContext } from "./context.ts";
import { X, header, run, walk } from "./reduce.ts";

/** Π over `axes`; `outShape` with or without the kept size-1 axes. */
export const prod = (ctx: GpuContext, x: DeviceTensor, axes: readonly number[], outShape: readonly number[]): DeviceTensor => {
  const w = walk(x.shape, axes);
  return run(ctx, `${header(w, X)}
  var s = 1.0;
  for (var r = 0u; r < count; r++) { s *= x[base + offset_of(r)]; }
  out[i] = s;
}`, w, outShape, [x], w.outputs, 1);
};
