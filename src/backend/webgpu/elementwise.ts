// Every elementwise primitive on the GPU, from its scalar expression: one shader per (formula,
// operand layout, rank), one thread per output element. An operand is read at the output's
// index (same shape), at 0 (one element), through broadcast strides, or is a JS number carried
// in the parameters (so a new constant does not compile a new shader).
import type { Abstract, Primitive } from "../../../effects/primitive.ts";
import type { Value } from "../../../effects/value.ts";
import { BackendError } from "../../errors.ts";
import { sameShape } from "../../tensor/shape.ts";
import { DeviceTensor } from "../device-tensor.ts";
import { THREAD_PER_ELEMENT, type GpuContext } from "./context.ts";
import { HELPERS, toWgsl } from "./wgsl-expr.ts";
import { specialFunctions } from "./wgsl-special.ts";

type Mode = "same" | "one" | "strided" | "number";

/** Row-major strides of `shape` seen from an output of shape `out` (0 on broadcast axes). */
export const broadcastStrides = (shape: readonly number[], out: readonly number[]): number[] => {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1, j = out.length - 1; i >= 0; i--, j--) {
    strides[j] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
};

const shaders = new Map<string, string | null>();

const shaderFor = (prim: Primitive<unknown>, modes: readonly Mode[], rank: number): string | null => {
  const key = `${prim.name}|${modes.join(",")}|${rank}`;
  if (shaders.has(key)) return shaders.get(key)!;
  const ew = prim.elementwise!;
  // info: [n, rank, outShape(rank), strides of each strided operand (rank), numbers' bits]
  let next = 2 + rank;
  const stridedBase: number[] = [];
  const numberAt: number[] = [];
  modes.forEach((m, k) => {
    if (m === "strided") {
      stridedBase[k] = next;
      next += rank;
    }
  });
  modes.forEach((m, k) => {
    if (m === "number") numberAt[k] = next++;
  });
  const names = modes.map((_, k) => `x${k}`);
  const expr = toWgsl(ew.expr, names);
  if (expr === null) {
    shaders.set(key, null);
    return null;
  }
  // the tensor operands' buffers are bound in order after info and out
  let binding = 2;
  const bindings = modes
    .map((m, k) => (m === "number" ? "" : `@group(0) @binding(${binding++}) var<storage, read> in${k}: array<f32>;`))
    .join("\n");
  const strided = modes.some((m) => m === "strided");
  const offsets = strided
    ? `${modes.map((m, k) => (m === "strided" ? `var o${k} = 0u;` : "")).join(" ")}
  var rem = i;
  for (var d = 0u; d < ${rank}u; d++) {
    let ax = ${rank - 1}u - d;
    let c = rem % info[2u + ax];
    rem = rem / info[2u + ax];
    ${modes.map((m, k) => (m === "strided" ? `o${k} += c * info[${stridedBase[k]}u + ax];` : "")).join(" ")}
  }`
    : "";
  const reads = modes
    .map((m, k) => {
      switch (m) {
        case "same": return `let x${k} = in${k}[i];`;
        case "one": return `let x${k} = in${k}[0];`;
        case "strided": return `let x${k} = in${k}[o${k}];`;
        case "number": return `let x${k} = bitcast<f32>(info[${numberAt[k]}u]);`;
      }
    })
    .join("\n  ");
  const code = `${HELPERS}${expr.special ? specialFunctions() : ""}
@group(0) @binding(0) var<storage, read> info: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${bindings}
${THREAD_PER_ELEMENT}
  ${offsets}
  ${reads}
  ${expr.prelude.join("\n  ")}
  out[i] = ${expr.value};
}
`;
  shaders.set(key, code);
  return code;
};

const bits = new Float32Array(1);
const bitsU = new Uint32Array(bits.buffer);

/** Runs an elementwise primitive on device (and number) operands; `out` is its abstract result. */
export function elementwise(ctx: GpuContext, prim: Primitive<unknown>, args: readonly Value[], out: Abstract): DeviceTensor {
  const shape = out.shape;
  const rank = shape.length;
  const modes: Mode[] = args.map((a) => {
    if (typeof a === "number") return "number";
    const t = a as DeviceTensor;
    return sameShape(t.shape, shape) ? "same" : t.size === 1 ? "one" : "strided";
  });
  const code = shaderFor(prim, modes, rank);
  if (code === null)
    throw new BackendError(
      `${prim.name} is not yet available on webgpu (its formula calls a JS function with no WGSL form yet); ` +
        "move its operand to the CPU with `await toCpu(t)` for this operation",
    );
  const { tensor, buffer } = ctx.allocate(shape);
  const n = tensor.size;
  if (n === 0) return tensor;
  const info: number[] = [n, rank, ...shape];
  args.forEach((a, k) => {
    if (modes[k] === "strided") info.push(...broadcastStrides((a as DeviceTensor).shape, shape));
  });
  args.forEach((a) => {
    if (typeof a === "number") {
      bits[0] = a;
      info.push(bitsU[0]!);
    }
  });
  const inputs = args.filter((a): a is DeviceTensor => typeof a !== "number").map((t) => ctx.bufferOf(t));
  ctx.dispatch(code, Uint32Array.from(info), buffer, inputs, ctx.grid(n));
  return tensor;
}
