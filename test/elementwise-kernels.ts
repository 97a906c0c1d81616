// The elementwise primitives' compiled kernels, found by primitive name, for the kernel suites
// (the library itself reaches a kernel through its primitive's record, never by name).
import * as EW from "../src/kernels/elementwise.ts";
import * as B from "../src/primitives/binary.ts";
import * as U from "../src/primitives/unary.ts";
import type { Tensor } from "../src/tensor/tensor.ts";

export type Operand = EW.Operand;
export type UnaryName = string;
export type BinaryName = string;

const withKernel = <K>(mod: Record<string, unknown>, is: (k: unknown) => boolean): Record<string, K> => {
  const out: Record<string, K> = {};
  for (const v of Object.values(mod)) {
    const p = v as { name?: string; kernel?: unknown };
    if (p && typeof p === "object" && typeof p.name === "string" && p.kernel !== undefined && is(p.kernel)) out[p.name] = p.kernel as K;
  }
  return out;
};
/** Every unary primitive's compiled operation, by name. */
export const unaryOps = withKernel<EW.UnaryOp>(U, (k) => "loop" in (k as object));
/** Every binary primitive's compiled operation, by name. */
export const binaryOps = withKernel<EW.BinaryOp>(B, (k) => "bcast" in (k as object));

const op = <K>(table: Record<string, K>, name: string): K => {
  const k = table[name];
  if (k === undefined) throw new Error(`no elementwise primitive named ${name}`);
  return k;
};
export const whereKernel = (cond: Operand, a: Operand, b: Operand): Tensor => EW.whereKernel(B.whereOp, cond, a, b);
export const unaryKernel = (name: string, x: Tensor): Tensor => EW.unaryKernel(op(unaryOps, name), x);
export const binaryKernel = (name: string, a: Operand, b: Operand): Tensor => EW.binaryKernel(op(binaryOps, name), a, b);
export const unaryScalar: Record<string, (x: number) => number> = Object.fromEntries(Object.entries(unaryOps).map(([k, o]) => [k, o.scalar]));
export const binaryScalar: Record<string, (a: number, b: number) => number> = Object.fromEntries(Object.entries(binaryOps).map(([k, o]) => [k, o.scalar]));
