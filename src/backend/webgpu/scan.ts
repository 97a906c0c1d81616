// cumsum and cumprod on the GPU: one thread per line along the axis, walking it in order (or
// from its end, for `reverse`) with a running sum or product. Lines are independent, so a batch
// of rows runs in parallel; a single very long line runs on one thread.
import { DeviceTensor } from "../device-tensor.ts";
import { GROUP, type GpuContext } from "./context.ts";

const code = (kind: "sum" | "prod"): string => `
@group(0) @binding(0) var<storage, read> info: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
// info: [lines, length along the axis, inner size (the axis's stride), reverse]
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let t = i32(g.x + g.y * nw.x * ${GROUP}u);
  if (t >= info[0]) { return; }
  let len = info[1];
  let inner = info[2];
  let base = (t / inner) * len * inner + t % inner;
  var acc = ${kind === "sum" ? "0.0" : "1.0"};
  for (var k = 0; k < len; k++) {
    var j = k;
    if (info[3] != 0) { j = len - 1 - k; }
    let at = base + j * inner;
    acc = acc ${kind === "sum" ? "+" : "*"} src[at];
    out[at] = acc;
  }
}
`;

/** The cumulative sum or product of x along `axis` (from its end with `reverse`). */
export function cumulative(ctx: GpuContext, x: DeviceTensor, axis: number, kind: "sum" | "prod", reverse: boolean): DeviceTensor {
  const len = x.shape[axis]!;
  ctx.checkLoops(kind === "sum" ? "cumsum" : "cumprod", `a line of ${len} elements`, len);
  const { tensor, buffer } = ctx.allocate(x.shape);
  if (tensor.size === 0) return tensor;
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const lines = tensor.size / len;
  const info = Int32Array.from([lines, len, inner, reverse ? 1 : 0]);
  ctx.dispatch(code(kind), new Uint32Array(info.buffer), buffer, [ctx.bufferOf(x)], ctx.grid(lines));
  return tensor;
}
