// conv2d and its two adjoints on the GPU, direct: one thread per output element sums its
// products (x [N, C, H, W], w [O, C / groups, KH, KW], stride, per-side padding, dilation,
// groups, as src/kernels/conv.ts). The input gradient reads the cotangent at the positions
// whose window covers the pixel; the filter gradient sums over images and output positions
// (over each example's images apart, for vmap's per-example filter gradients).
import type { ConvSpec } from "../../kernels/conv-spec.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import { GROUP, type GpuContext } from "./context.ts";

const HEAD = `
@group(0) @binding(0) var<storage, read> info: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
// info: [N, C, H, W, O, KH, KW, OH, OW, strideH, strideW, padTop, padLeft, dilationH, dilationW, groups, total]
fn main_index(g: vec3u, nw: vec3u) -> i32 { return i32(g.x + g.y * nw.x * ${GROUP}u); }`;

const PROLOGUE = `
  let i = main_index(g, nw);
  if (i >= info[16]) { return; }
  let N = info[0]; let C = info[1]; let H = info[2]; let W = info[3]; let O = info[4];
  let KH = info[5]; let KW = info[6]; let OH = info[7]; let OW = info[8];
  let sh = info[9]; let sw = info[10]; let pt = info[11]; let pl = info[12]; let dh = info[13]; let dw = info[14];
  let Cg = C / info[15]; let Og = O / info[15];`;

// out [N, O, OH, OW] = Σ x[n, g·Cg + c, oy·sh − pt + u·dh, ox·sw − pl + v·dw] · w[o, c, u, v]
const FORWARD = `${HEAD}
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {${PROLOGUE}
  let ox = i % OW; let oy = (i / OW) % OH; let o = (i / (OW * OH)) % O; let n = i / (OW * OH * O);
  let c0 = (o / Og) * Cg;
  var s = 0.0;
  for (var c = 0; c < Cg; c++) {
    for (var u = 0; u < KH; u++) {
      let y = oy * sh - pt + u * dh;
      if (y < 0 || y >= H) { continue; }
      for (var v = 0; v < KW; v++) {
        let x = ox * sw - pl + v * dw;
        if (x < 0 || x >= W) { continue; }
        s += a[((n * C + c0 + c) * H + y) * W + x] * b[((o * Cg + c) * KH + u) * KW + v];
      }
    }
  }
  out[i] = s;
}`;

// x̄ [N, C, H, W] = Σ over o in the channel's group, u, v with (y + pt − u·dh) / sh an output row (and so for x)
const INPUT_GRAD = `${HEAD}
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {${PROLOGUE}
  let x = i % W; let y = (i / W) % H; let ch = (i / (W * H)) % C; let n = i / (W * H * C);
  let grp = ch / Cg; let c = ch - grp * Cg;
  var s = 0.0;
  for (var o = grp * Og; o < (grp + 1) * Og; o++) {
    for (var u = 0; u < KH; u++) {
      let ty = y + pt - u * dh;
      if (ty < 0 || ty % sh != 0) { continue; }
      let oy = ty / sh;
      if (oy >= OH) { continue; }
      for (var v = 0; v < KW; v++) {
        let tx = x + pl - v * dw;
        if (tx < 0 || tx % sw != 0) { continue; }
        let ox = tx / sw;
        if (ox >= OW) { continue; }
        s += a[((n * O + o) * OH + oy) * OW + ox] * b[((o * Cg + c) * KH + u) * KW + v];
      }
    }
  }
  out[i] = s;
}`;

// w̄ [O, Cg, KH, KW] = Σ over n, oy, ox of x[n, g·Cg + c, oy·sh − pt + u·dh, ox·sw − pl + v·dw] · c̄[n, o, oy, ox];
// with E examples of N images each (x [E·N, ...]), one filter gradient per example, [E, O, Cg, KH, KW]
const WEIGHT_GRAD = `${HEAD}
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {${PROLOGUE}
  let v = i % KW; let u = (i / KW) % KH; let c = (i / (KW * KH)) % Cg; let o = (i / (KW * KH * Cg)) % O;
  let e = i / (KW * KH * Cg * O);
  let ch = (o / Og) * Cg + c;
  var s = 0.0;
  for (var n = e * N; n < (e + 1) * N; n++) {
    for (var oy = 0; oy < OH; oy++) {
      let y = oy * sh - pt + u * dh;
      if (y < 0 || y >= H) { continue; }
      for (var ox = 0; ox < OW; ox++) {
        let x = ox * sw - pl + v * dw;
        if (x < 0 || x >= W) { continue; }
        s += a[((n * C + ch) * H + y) * W + x] * b[((n * O + o) * OH + oy) * OW + ox];
      }
    }
  }
  out[i] = s;
}`;

const infoOf = (x: readonly number[], w: readonly number[], y: readonly number[], p: ConvSpec, total: number): Uint32Array =>
  new Uint32Array(
    Int32Array.from([
      x[0]!, x[1]!, x[2]!, x[3]!, w[0]!, w[2]!, w[3]!, y[2]!, y[3]!,
      p.stride[0], p.stride[1], p.padding[0][0], p.padding[1][0], p.dilation[0], p.dilation[1], p.groups, total,
    ]).buffer,
  );

const launch = (ctx: GpuContext, code: string, info: Uint32Array, shape: readonly number[], a: DeviceTensor, b: DeviceTensor): DeviceTensor => {
  const { tensor, buffer } = ctx.allocate(shape);
  if (tensor.size === 0) return tensor;
  ctx.dispatch(code, info, buffer, [ctx.bufferOf(a), ctx.bufferOf(b)], ctx.grid(tensor.size));
  return tensor;
};

// (each thread's loops: over its group's input channels and the window, its group's output
// channels and the window, or the batch and the output's rows and columns)
const loops = (ctx: GpuContext, op: string, iterations: number): void => ctx.checkLoops(op, "each output element's sum", iterations);

/** conv2d(x, w) of output shape `y` (from abstract evaluation). */
export const conv2d = (ctx: GpuContext, x: DeviceTensor, w: DeviceTensor, p: ConvSpec, y: readonly number[]): DeviceTensor => {
  loops(ctx, "conv2d", w.shape[1]! * w.shape[2]! * w.shape[3]!);
  return launch(ctx, FORWARD, infoOf(x.shape, w.shape, y, p, y.reduce((s, d) => s * d, 1)), y, x, w);
};

/** The input gradient from the cotangent c (shape of the output) and w, for an input of shape `xs`. */
export const conv2dInputGrad = (ctx: GpuContext, c: DeviceTensor, w: DeviceTensor, p: ConvSpec, xs: readonly number[]): DeviceTensor => {
  loops(ctx, "conv2d's input gradient", (w.shape[0]! / p.groups) * w.shape[2]! * w.shape[3]!);
  return launch(ctx, INPUT_GRAD, infoOf(xs, w.shape, c.shape, p, xs.reduce((s, d) => s * d, 1)), xs, c, w);
};

/** The filter gradient from x and the cotangent c, for a filter of shape `ws`. */
export const conv2dWeightGrad = (ctx: GpuContext, x: DeviceTensor, c: DeviceTensor, p: ConvSpec, ws: readonly number[]): DeviceTensor => {
  loops(ctx, "conv2d's filter gradient", c.shape[0]! * c.shape[2]! * c.shape[3]!);
  return launch(ctx, WEIGHT_GRAD, infoOf(x.shape, ws, c.shape, p, ws.reduce((s, d) => s * d, 1)), ws, x, c);
};

/** One filter gradient per example (vmap of the filter gradient): x [E, N, C, H, W] and c [E, N, O, OH, OW] give [E, ...ws]. */
export const conv2dWeightGrads = (ctx: GpuContext, x: DeviceTensor, c: DeviceTensor, p: ConvSpec, ws: readonly number[]): DeviceTensor => {
  loops(ctx, "conv2d's filter gradients", c.shape[1]! * c.shape[3]! * c.shape[4]!);
  return launch(ctx, WEIGHT_GRAD, infoOf(x.shape.slice(1), ws, c.shape.slice(1), p, x.shape[0]! * ws.reduce((s, d) => s * d, 1)), [x.shape[0]!, ...ws], x, c);
};
