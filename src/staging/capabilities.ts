// What code generation knows of a primitive, read from its record (`capabilities`, and the
// scalar expression of an elementwise one): never from its name.
import type { Capabilities, Primitive } from "../../effects/primitive.ts";

const caps = (p: Primitive<unknown>): Capabilities<unknown> => p.capabilities ?? NONE;
const NONE: Capabilities<unknown> = Object.freeze({});

/** The result may share operand 0's buffer (a view or the operand itself). */
export const aliasesOperand = (p: Primitive<unknown>): boolean => caps(p).aliasesOperand === true;

/** Layout only: operand 0's elements in order under a new shape. */
export const isRelayout = (p: Primitive<unknown>): boolean => caps(p).relayout === true;

/** A broadcast of operand 0 to the output's shape. */
export const isBroadcast = (p: Primitive<unknown>): boolean => caps(p).broadcast === true;

/** A row of operand 0 picked by the index operand 1. */
export const isRowIndex = (p: Primitive<unknown>): boolean => caps(p).rowIndex === true;

/** The axes a sum reduces, or undefined for a primitive that is not a sum. */
export const sumAxes = (p: Primitive<unknown>, params: unknown): readonly number[] | undefined => caps(p).sumAxes?.(params);

/** A matrix product's transpose flags, or undefined for a primitive that is not one. */
export const contraction = (p: Primitive<unknown>, params: unknown): { readonly transA: boolean; readonly transB: boolean } | undefined =>
  caps(p).contraction?.(params);

/** Where a zero pad puts its operand, or undefined. */
export const zeroPad = (p: Primitive<unknown>, params: unknown): { readonly starts: readonly number[]; readonly shape: readonly number[] } | undefined =>
  caps(p).zeroPad?.(params);

/** A slice's bounds, or undefined. */
export const sliceBounds = (p: Primitive<unknown>, params: unknown): { readonly starts: readonly number[]; readonly ends: readonly number[] } | undefined =>
  caps(p).slice?.(params);

/**
 * Whether the primitive adds its two operands (its scalar expression is operand 0 + operand 1):
 * sums of many terms are planned as one (outer products stacked, zero-padded pieces copied).
 */
export const isAddition = (p: Primitive<unknown>): boolean => {
  const e = p.elementwise?.expr;
  return e !== undefined && e.op === "arith" && e.sym === "+" && e.a.op === "operand" && e.a.index === 0 && e.b.op === "operand" && e.b.index === 1;
};
