// What the linear-algebra kernels on the GPU share. Each runs the CPU kernel's algorithm
// (src/kernels/linalg/) on one thread per matrix of the batch (one per matrix and right-hand
// side for triangularSolve): factorizations are sequential within a matrix, and the matrices of
// models (covariances, small systems) are small, so a thread per matrix keeps the CPU's order
// of operations — its pivots, signs and orderings — and needs no synchronization. They compute
// in float32; a working matrix lives in the output buffer or in a scratch storage buffer sized
// per matrix (WGSL's private arrays need a size known when the shader is written).
import { BackendError } from "../../../errors.ts";
import type { DeviceTensor } from "../../device-tensor.ts";
import { GROUP, type GpuContext } from "../context.ts";
import { HELPERS } from "../wgsl-expr.ts";

/**
 * A shader's head: `info` (u32 parameters, info[0] the thread count), `out`, the inputs
 * (read-only) and, when `scratch`, a read-write `scratch` buffer; then `main` with `t`, the
 * thread's index, and NaN and power-of-two helpers.
 */
export const head = (inputs: readonly string[], scratch: boolean): string => `${HELPERS}
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${inputs.map((name, k) => `@group(0) @binding(${k + 2}) var<storage, read> ${name}: array<f32>;`).join("\n")}
${scratch ? `@group(0) @binding(${inputs.length + 2}) var<storage, read_write> scratch: array<f32>;
// Columns p and q of the rows × stride matrix at \`base\` in scratch turned by (c, s): x ← c·x − s·y, y ← s·x + c·y.
fn rotate_columns(base: u32, rows: u32, stride: u32, p: u32, q: u32, c: f32, s: f32) {
  for (var i = 0u; i < rows; i++) {
    let x = scratch[base + i * stride + p];
    let y = scratch[base + i * stride + q];
    scratch[base + i * stride + p] = c * x - s * y;
    scratch[base + i * stride + q] = s * x + c * y;
  }
}` : ""}
// (NaN told by its bits: a shader may assume that float comparisons never see it)
fn is_nan_bits(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_finite_bits(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }
// a / b refined by one Newton step: a GPU's division may be off by 2.5 ulp (WGSL allows it), and
// elimination must find what the CPU finds (2 / 4 exactly 0.5, so a singular matrix's pivot is 0).
fn div_refined(a: f32, b: f32) -> f32 {
  let q = a / b;
  if (!is_finite_bits(q) || q == 0.0) { return q; }
  return q + (a - q * b) / b;
}
// The CPU kernels' powerOfTwoScale: 2^round(log2 big) (JS's rounding, halves up), 1 for 0 or a non-finite big.
fn power_of_two_scale(big: f32) -> f32 {
  if (big == 0.0 || !is_finite_bits(big)) { return 1.0; }
  return exp2(floor(log2(big) + 0.5));
}
// cos and sin of the Jacobi rotation from tau (src/kernels/linalg/jacobi-rotation.ts).
fn jacobi_rotation(tau: f32) -> vec2f {
  var sg = 1.0;
  if (tau < 0.0) { sg = -1.0; }
  let t = sg / (abs(tau) + sqrt(1.0 + tau * tau));
  let c = 1.0 / sqrt(1.0 + t * t);
  return vec2f(c, t * c);
}
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let t = g.x + g.y * nw.x * ${GROUP}u;
  if (t >= info[0]) { return; }`;

/**
 * Throws where the adapter would cut a thread of `iterations` loop iterations short (Mesa's
 * llvmpipe: GpuContext.checkLoops); one thread runs each matrix.
 */
export const checkLoopBudget = (ctx: GpuContext, op: string, what: string, iterations: number): void =>
  ctx.checkLoops(op, `one GPU thread runs each matrix: ${what}`, iterations);

/**
 * Runs `code` (from `head`) with `threads` threads over a fresh output of `outShape`; `params`
 * follow the thread count in `info`; `scratchPerThread` floats of scratch each, released after.
 */
export const runLinalg = (
  ctx: GpuContext,
  code: string,
  outShape: readonly number[],
  inputs: readonly DeviceTensor[],
  threads: number,
  params: readonly number[],
  scratchPerThread = 0,
): DeviceTensor => {
  const { tensor, buffer } = ctx.allocate(outShape);
  if (threads === 0 || tensor.size === 0) return tensor;
  const scratch = scratchPerThread > 0 ? ctx.allocate([threads * scratchPerThread]).tensor : null;
  const buffers = [buffer, ...inputs.map((x) => ctx.bufferOf(x)), ...(scratch === null ? [] : [ctx.bufferOf(scratch)])];
  ctx.dispatchBuffers(code, Uint32Array.from([threads, ...params]), buffers, ctx.grid(threads));
  scratch?.dispose(); // back to the pool: a later write to it is queued after this dispatch
  return tensor;
};

/** The number of matrices in a stack `[..., m, n]`. */
export const matrices = (shape: readonly number[]): number => shape.slice(0, -2).reduce((a, b) => a * b, 1);
