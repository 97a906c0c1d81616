// dynamicSlice and dynamicUpdateSlice on the GPU, for starts given as numbers (clamped into range
// as on the CPU): the slice is a strided copy; the update copies x and, inside the window, the
// update's element. Starts held in GPU tensors (and vmap's one window per row) would need
// the starts read on the GPU: not yet, a BackendError.
import type { Value } from "../../../effects/value.ts";
import { BackendError } from "../../errors.ts";
import { clampStarts } from "../../kernels/dynamic-slice.ts";
import { DeviceTensor } from "../device-tensor.ts";
import { GROUP, type GpuContext } from "./context.ts";
import { slice } from "./layout.ts";

const numbers = (op: string, starts: readonly Value[], rows: boolean): number[] => {
  if (rows || starts.some((s) => typeof s !== "number"))
    throw new BackendError(
      `${op} on webgpu takes its starts as numbers; starts in tensors (or one window per row, as vmap over starts makes) ` +
        "are not yet available on webgpu: pass numbers, or run it on the CPU (move the operands with `await toCpu(t)`)",
    );
  return starts as number[];
};

/** The window of `sizes` of x at the clamped starts. */
export const dynamicSlice = (ctx: GpuContext, x: DeviceTensor, starts: readonly Value[], sizes: readonly number[], rows: boolean): DeviceTensor => {
  const s = clampStarts("dynamicSlice", numbers("dynamicSlice", starts, rows), x.shape, sizes);
  return slice(ctx, x, s, s.map((st, i) => st + sizes[i]!));
};

const updateCode = (rank: number): string => `
@group(0) @binding(0) var<storage, read> info: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> u: array<f32>;
// info: [n, shape(rank), start(rank), update shape(rank)]
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = i32(g.x + g.y * nw.x * ${GROUP}u);
  if (i >= info[0]) { return; }
  var rem = i;
  var ui = 0;
  var ustride = 1;
  var inside = true;
  for (var d = 0; d < ${rank}; d++) {
    let ax = ${rank - 1} - d;
    let c = rem % info[1 + ax] - info[1 + ${rank} + ax];
    rem = rem / info[1 + ax];
    let len = info[1 + ${2 * rank} + ax];
    inside = inside && c >= 0 && c < len;
    ui += c * ustride;
    ustride *= len;
  }
  if (inside) { out[i] = u[ui]; } else { out[i] = x[i]; }
}
`;

/** x with the update written at the clamped starts. */
export const dynamicUpdateSlice = (ctx: GpuContext, x: DeviceTensor, u: DeviceTensor, starts: readonly Value[], rows: boolean): DeviceTensor => {
  const s = clampStarts("dynamicUpdateSlice", numbers("dynamicUpdateSlice", starts, rows), x.shape, u.shape);
  const { tensor, buffer } = ctx.allocate(x.shape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const info = Int32Array.from([n, ...x.shape, ...s, ...u.shape]);
  const inputs = [ctx.bufferOf(x), ctx.bufferOf(u.size === 0 ? x : u)];
  ctx.dispatch(updateCode(x.shape.length), new Uint32Array(info.buffer), buffer, inputs, ctx.grid(n));
  return tensor;
}
