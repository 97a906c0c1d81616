// jit's fusion on the GPU: a run of elementwise equations over one output shape becomes one
// compute shader. Each thread computes every equation of the run for its element in registers
// and writes only the values something after the run reads: a chain of k operations costs one
// dispatch and one pass over memory instead of k of each. Shapes are static in a staged program,
// so the output's extents and each operand's broadcast strides are written into the shader.
import type { Atom, PrimEqn, Var } from "../../../effects/staged-program.ts";
import { isNumberAtom } from "../../staging/ir.ts";
import { DeviceTensor } from "../device-tensor.ts";
import { sameShape, sizeOf } from "../../tensor/shape.ts";
import { THREAD_PER_ELEMENT } from "./context.ts";
import { broadcastStrides } from "./elementwise.ts";
import { f32Literal, HELPERS, toWgsl } from "./wgsl-expr.ts";
import { specialFunctions } from "./wgsl-special.ts";

/** A fused run, compiled: its shader and what to bind. */
export interface FusedRun {
  readonly eqns: readonly PrimEqn[];
  /** The WGSL source. */
  readonly code: string;
  /** The output's element count (one thread each). */
  readonly size: number;
  readonly shape: readonly number[];
  /** The run's variables written to buffers (read after the run), bound first after `info`. */
  readonly outputs: readonly Var[];
  /** Tensor operands from outside the run, bound after the outputs. */
  readonly tensors: readonly Atom[];
  /** Number operands (JS numbers at run time), passed as f32 bits in `info` after the count. */
  readonly numbers: readonly Atom[];
}

const shapeOf = (a: Atom): readonly number[] => (a.kind === "var" ? a.v.shape : (a.value as DeviceTensor).shape);

/**
 * Whether the equation can join a fused run: an elementwise primitive with a WGSL form, a
 * float32 tensor result, and operands that are numbers, float32 variables or GPU constants.
 */
export function fusible(e: PrimEqn): boolean {
  const ew = e.prim.elementwise;
  if (ew === undefined || e.out.scalar || e.out.fn || e.out.dtype !== "float32") return false;
  for (const a of e.inputs) {
    if (isNumberAtom(a)) continue;
    if (a.kind === "var" ? a.v.dtype !== "float32" || a.v.fn : !(a.value instanceof DeviceTensor)) return false;
  }
  return toWgsl(ew.expr, e.inputs.map((_, k) => `x${k}`)) !== null;
}

/** The run's operands from outside it, and the variables it must write (read after it). */
export function runInterface(eqns: readonly PrimEqn[], readAfter: (v: Var) => boolean): { tensors: Atom[]; numbers: Atom[]; outputs: Var[] } {
  const defined = new Set(eqns.map((e) => e.out.id));
  const tensors: Atom[] = [];
  const numbers: Atom[] = [];
  const seen = new Set<unknown>();
  for (const e of eqns)
    for (const a of e.inputs) {
      if (a.kind === "var" && defined.has(a.v.id)) continue;
      if (a.kind === "const" && typeof a.value === "number") continue; // a literal in the shader
      const key = a.kind === "var" ? a.v.id : a.value;
      if (seen.has(key)) continue;
      seen.add(key);
      (isNumberAtom(a) ? numbers : tensors).push(a);
    }
  return { tensors, numbers, outputs: eqns.map((e) => e.out).filter(readAfter) };
}

/** Compiles a run (every equation `fusible`, all of one output shape). */
export function fuse(eqns: readonly PrimEqn[], readAfter: (v: Var) => boolean): FusedRun {
  const shape = eqns[0]!.out.shape;
  const rank = shape.length;
  const { tensors, numbers, outputs } = runInterface(eqns, readAfter);
  const names = new Map<unknown, string>();
  const keyOf = (a: Atom): unknown => (a.kind === "var" ? a.v.id : a.value);
  const bindings: string[] = [];
  const reads: string[] = [];
  const offsets: string[] = [];
  let binding = 1;
  outputs.forEach((v, k) => bindings.push(`@group(0) @binding(${binding++}) var<storage, read_write> out${k}: array<f32>;`));
  tensors.forEach((a, k) => {
    bindings.push(`@group(0) @binding(${binding++}) var<storage, read> in${k}: array<f32>;`);
    const s = shapeOf(a);
    let index: string;
    if (sameShape(s, shape)) index = "i";
    else if (sizeOf(s) === 1) index = "0u";
    else {
      const strides = broadcastStrides(s, shape);
      const terms = strides.flatMap((st, d) => (st === 0 ? [] : [st === 1 ? `c${d}` : `c${d} * ${st}u`]));
      offsets.push(`let o${k} = ${terms.length === 0 ? "0u" : terms.join(" + ")};`);
      index = `o${k}`;
    }
    reads.push(`let a${k} = in${k}[${index}];`);
    names.set(keyOf(a), `a${k}`);
  });
  numbers.forEach((a, k) => {
    reads.push(`let n${k} = bitcast<f32>(info[${k + 1}u]);`);
    names.set(keyOf(a), `n${k}`);
  });
  // the output coordinates, when a broadcast operand needs them
  const coords: string[] = [];
  if (offsets.length > 0) {
    coords.push("var rem = i;");
    for (let d = rank - 1; d >= 0; d--) coords.push(`let c${d} = rem % ${shape[d]}u;`, d > 0 ? `rem = rem / ${shape[d]}u;` : "");
  }
  const body: string[] = [];
  let special = false;
  for (const e of eqns) {
    const operands = e.inputs.map((a) => (a.kind === "const" && typeof a.value === "number" ? f32Literal(a.value) : names.get(keyOf(a))!));
    const w = toWgsl(e.prim.elementwise!.expr, operands)!;
    special ||= w.special;
    const t = `t${e.out.id}`;
    // (each equation's locals in a scope of their own: their names repeat from one to the next)
    if (w.prelude.length === 0) body.push(`let ${t}: f32 = ${w.value};`);
    else body.push(`var ${t}: f32;`, "{", ...w.prelude.map((l) => `  ${l}`), `  ${t} = ${w.value};`, "}");
    names.set(e.out.id, t);
  }
  const writes = outputs.map((v, k) => `out${k}[i] = t${v.id};`);
  const code = `${HELPERS}${special ? specialFunctions() : ""}
@group(0) @binding(0) var<storage, read> info: array<u32>;
${bindings.join("\n")}
${THREAD_PER_ELEMENT}
${[...coords, ...offsets, ...reads, ...body, ...writes].filter((l) => l !== "").map((l) => `  ${l}`).join("\n")}
}
`;
  return { eqns, code, size: sizeOf(shape), shape, outputs, tensors, numbers };
}
