// Layout operations on the GPU as one strided copy: each output element reads the input at
// base + Σ coordinate·stride, or writes 0 where a coordinate falls outside [lo, hi) on an axis
// (padding). transpose permutes the strides, broadcastTo zeroes them, slice moves the base,
// pad sets the bounds, flip negates strides; reshape needs no copy (a view of the same buffer).
import { DeviceTensor } from "../device-tensor.ts";
import { GROUP, type GpuContext } from "./context.ts";

const rowMajor = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length);
  let n = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = n;
    n *= shape[i]!;
  }
  return s;
};

const code = (rank: number): string => `
@group(0) @binding(0) var<storage, read> info: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
// info: [n, base, outShape(rank), stride(rank), lo(rank), hi(rank)]
@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = i32(g.x + g.y * nw.x * ${GROUP}u);
  if (i >= info[0]) { return; }
  var rem = i;
  var o = info[1];
  var inside = true;
  for (var d = 0; d < ${rank}; d++) {
    let ax = ${rank - 1} - d;
    let c = rem % info[2 + ax];
    rem = rem / info[2 + ax];
    inside = inside && c >= info[2 + ${2 * rank} + ax] && c < info[2 + ${3 * rank} + ax];
    o += c * info[2 + ${rank} + ax];
  }
  if (inside) { out[i] = src[o]; } else { out[i] = 0.0; }
}
`;

interface Copy {
  readonly base: number;
  readonly strides: readonly number[];
  readonly lo?: readonly number[];
  readonly hi?: readonly number[];
}

/** The output of `shape` from `x` read as `copy` says. */
export function stridedCopy(ctx: GpuContext, x: DeviceTensor, shape: readonly number[], copy: Copy): DeviceTensor {
  const { tensor, buffer } = ctx.allocate(shape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const rank = shape.length;
  const info = Int32Array.from([n, copy.base, ...shape, ...copy.strides, ...(copy.lo ?? shape.map(() => 0)), ...(copy.hi ?? shape)]);
  ctx.dispatch(code(rank), new Uint32Array(info.buffer), buffer, [ctx.bufferOf(x)], ctx.grid(n));
  return tensor;
}

/** x with its axes permuted. */
export const transpose = (ctx: GpuContext, x: DeviceTensor, perm: readonly number[]): DeviceTensor => {
  const s = rowMajor(x.shape);
  return stridedCopy(ctx, x, perm.map((a) => x.shape[a]!), { base: 0, strides: perm.map((a) => s[a]!) });
};

/** x broadcast to `shape` (NumPy's rules; the checks are abstract evaluation's). */
export const broadcastTo = (ctx: GpuContext, x: DeviceTensor, shape: readonly number[]): DeviceTensor => {
  const s = rowMajor(x.shape);
  const lead = shape.length - x.shape.length;
  return stridedCopy(ctx, x, shape, { base: 0, strides: shape.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : s[i - lead]!)) });
};

/** x from `starts` to `ends` on each axis. */
export const slice = (ctx: GpuContext, x: DeviceTensor, starts: readonly number[], ends: readonly number[]): DeviceTensor => {
  const s = rowMajor(x.shape);
  return stridedCopy(ctx, x, ends.map((e, i) => e - starts[i]!), { base: starts.reduce((b, st, i) => b + st * s[i]!, 0), strides: s });
};

/** x written at `starts` into zeros of `shape`. */
export const pad = (ctx: GpuContext, x: DeviceTensor, starts: readonly number[], shape: readonly number[]): DeviceTensor => {
  const s = rowMajor(x.shape);
  return stridedCopy(ctx, x, shape, {
    base: -starts.reduce((b, st, i) => b + st * s[i]!, 0),
    strides: s,
    lo: starts,
    hi: starts.map((st, i) => st + x.shape[i]!),
  });
};

/** x reversed along `axes`: negative strides on them, from the last element along each. */
export const flip = (ctx: GpuContext, x: DeviceTensor, axes: readonly number[]): DeviceTensor => {
  const s = rowMajor(x.shape);
  const flipped = x.shape.map((_, i) => axes.includes(i));
  return stridedCopy(ctx, x, x.shape, {
    base: x.shape.reduce((b, d, i) => b + (flipped[i] && d > 0 ? (d - 1) * s[i]! : 0), 0),
    strides: s.map((st, i) => (flipped[i] ? -st : st)),
  });
};
