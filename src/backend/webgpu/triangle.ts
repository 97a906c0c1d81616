// tril and triu on the GPU: one thread per element keeps it when its column minus its row is
// on the triangle's side of diagonal k, else writes 0 (a 0, not x·0: a NaN outside is dropped,
// as on the CPU).
import type { TriangleParams } from "../../kernels/triangular.ts";
import type { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";

const code = (lower: boolean): string => `
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
// info: [n, rows, cols, k (as i32 bits)]
${THREAD_PER_ELEMENT}
  let cols = info[2];
  let j = i32(i % cols);
  let r = i32((i / cols) % info[1]);
  let keep = j - r ${lower ? "<=" : ">="} bitcast<i32>(info[3]);
  if (keep) { out[i] = x[i]; } else { out[i] = 0.0; }
}`;

/** The lower (tril) or upper (triu) triangle of the matrices in x's last two axes, bounded by diagonal k. */
export function triangle(ctx: GpuContext, x: DeviceTensor, p: TriangleParams): DeviceTensor {
  const { tensor, buffer } = ctx.allocate(x.shape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const r = x.shape.length;
  const info = new Uint32Array(Int32Array.of(n, x.shape[r - 2]!, x.shape[r - 1]!, p.k).buffer);
  ctx.dispatch(code(p.lower), info, buffer, [ctx.bufferOf(x)], ctx.grid(n));
  return tensor;
}
