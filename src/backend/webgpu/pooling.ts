// Pooling on the GPU (x [N, C, H, W], window size, stride, per-side padding, as src/kernels/pool.ts).
// avgPool2d sums each window (padding counts as 0) over the whole window's area; its adjoint
// gives each pixel the cotangents of the windows that cover it. maxPool2d picks the first
// maximum of each window in row-major order (padding counts as −∞): gather reads v there,
// scatter gives each pixel the cotangents of the windows that picked it, recomputing the picks.
import type { Pads } from "../../kernels/conv-spec.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import { GROUP, type GpuContext } from "./context.ts";
import { HELPERS } from "./wgsl-expr.ts";

interface Window {
  readonly size: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: Pads;
}

const HEAD = (inputs: number): string => `${HELPERS}
@group(0) @binding(0) var<storage, read> info: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
${inputs > 1 ? "@group(0) @binding(3) var<storage, read> b: array<f32>;" : ""}
// info: [NC, H, W, OH, OW, KH, KW, strideH, strideW, padTop, padLeft, total]
fn ix(g: vec3u, nw: vec3u) -> i32 { return i32(g.x + g.y * nw.x * ${GROUP}u); }
// the flat offset in plane p of window (oy, ox)'s first maximum, or -1 where it is in the padding
fn pick(p: i32, oy: i32, ox: i32) -> i32 {
  let H = info[1]; let W = info[2];
  var best = -1; var bv = -js_inf(); var first = true;
  for (var u = 0; u < info[5]; u++) {
    for (var v = 0; v < info[6]; v++) {
      let y = oy * info[7] - info[9] + u; let x = ox * info[8] - info[10] + v;
      let inside = y >= 0 && y < H && x >= 0 && x < W;
      var val = -js_inf();
      if (inside) { val = a[(p * H + y) * W + x]; }
      if (first || val > bv) { bv = val; best = select(-1, y * W + x, inside); first = false; }
    }
  }
  return best;
}
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = ix(g, nw);
  if (i >= info[11]) { return; }
  let H = info[1]; let W = info[2]; let OH = info[3]; let OW = info[4]; let KH = info[5]; let KW = info[6];
  let sh = info[7]; let sw = info[8]; let pt = info[9]; let pl = info[10];`;

// an output window's sum / area
const AVG = `${HEAD(1)}
  let ox = i % OW; let oy = (i / OW) % OH; let p = i / (OW * OH);
  var s = 0.0;
  for (var u = 0; u < KH; u++) {
    for (var v = 0; v < KW; v++) {
      let y = oy * sh - pt + u; let x = ox * sw - pl + v;
      if (y >= 0 && y < H && x >= 0 && x < W) { s += a[(p * H + y) * W + x]; }
    }
  }
  out[i] = s / f32(KH * KW);
}`;

// each pixel: Σ over the windows (oy, ox) that cover it — (y + pt − u) / sh an output row
const COVERING = (body: string): string => `
  let x = i % W; let y = (i / W) % H; let p = i / (W * H);
  var s = 0.0;
  for (var u = 0; u < KH; u++) {
    let ty = y + pt - u;
    if (ty < 0 || ty % sh != 0 || ty / sh >= OH) { continue; }
    for (var v = 0; v < KW; v++) {
      let tx = x + pl - v;
      if (tx < 0 || tx % sw != 0 || tx / sw >= OW) { continue; }
      let oy = ty / sh; let ox = tx / sw;
      ${body}
    }
  }
  out[i] = s;
}`;

const AVG_GRAD = `${HEAD(1)}${COVERING("s += a[(p * OH + oy) * OW + ox] / f32(KH * KW);")}`;
// a: x, b: c (pooled shape)
const MAX_SCATTER = `${HEAD(2)}${COVERING("if (pick(p, oy, ox) == y * W + x) { s += b[(p * OH + oy) * OW + ox]; }")}`;
// a: x, b: v (x's shape)
const MAX_GATHER = `${HEAD(2)}
  let ox = i % OW; let oy = (i / OW) % OH; let p = i / (OW * OH);
  let at = pick(p, oy, ox);
  out[i] = select(0.0, b[p * H * W + max(at, 0)], at >= 0);
}`;

const run = (ctx: GpuContext, code: string, xShape: readonly number[], pooled: readonly number[], w: Window, outShape: readonly number[], inputs: DeviceTensor[]): DeviceTensor => {
  const { tensor, buffer } = ctx.allocate(outShape);
  if (tensor.size === 0) return tensor;
  const info = Int32Array.from([
    xShape[0]! * xShape[1]!, xShape[2]!, xShape[3]!, pooled[2]!, pooled[3]!, w.size[0], w.size[1], w.stride[0], w.stride[1],
    w.padding[0][0], w.padding[1][0], tensor.size,
  ]);
  ctx.dispatch(code, new Uint32Array(info.buffer), buffer, inputs.map((t) => ctx.bufferOf(t)), ctx.grid(tensor.size));
  return tensor;
};

/** avgPool2d of x to `pooled` (from abstract evaluation). */
export const avgPool2d = (ctx: GpuContext, x: DeviceTensor, w: Window, pooled: readonly number[]): DeviceTensor =>
  run(ctx, AVG, x.shape, pooled, w, pooled, [x]);

/** avgPool2d's adjoint: the cotangent c spread back to an input of shape `xShape`. */
export const avgPool2dGrad = (ctx: GpuContext, c: DeviceTensor, w: Window, xShape: readonly number[]): DeviceTensor =>
  run(ctx, AVG_GRAD, xShape, c.shape, w, xShape, [c]);

/** v at x's max-pool picks (pooled shape). */
export const maxPool2dGather = (ctx: GpuContext, x: DeviceTensor, v: DeviceTensor, w: Window, pooled: readonly number[]): DeviceTensor =>
  run(ctx, MAX_GATHER, x.shape, pooled, w, pooled, [x, v]);

/** Zeros shaped like x with c added at x's max-pool picks. */
export const maxPool2dScatter = (ctx: GpuContext, x: DeviceTensor, c: DeviceTensor, w: Window): DeviceTensor =>
  run(ctx, MAX_SCATTER, x.shape, c.shape, w, x.shape, [x, c]);
