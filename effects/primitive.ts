// A primitive is defined once: its kernel, its JVP rule, its VJP rule and its batching rule.
// Rules are written in direct style with the same primitives (through `bind`), so every
// handler below the one applying a rule differentiates the rule too: higher derivatives of
// every operation come from the first-order rules.
import type { DType } from "../src/tensor/tensor.ts";
import type { Value } from "./value.ts";
import type { Elementwise } from "../src/kernels/scalar-expr.ts";

/**
 * What staging knows of a value before it exists (its abstract value): its shape, its dtype,
 * and whether it is a plain JS number (`scalar`; a float64 scalar is a number, not a 0-d
 * tensor, and a number never decides an output's dtype). A staged variable is one.
 */
export interface Abstract {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly scalar: boolean;
}

/** A symbolic zero tangent or cotangent: skipped instead of computed. */
export type Zero = null;
export type MaybeValue = Value | Zero;

export interface Primitive<P = undefined> {
  readonly name: string;
  /** The kernel: runs on concrete operands (numbers and Tensors) only. */
  impl(args: readonly Value[], params: P): Value;
  /**
   * Abstract evaluation: the output's abstract value from the operands' and the params, with
   * the errors the kernel gives for operands it rejects (staging uses this; it never runs a
   * kernel to learn a shape). Must agree with `impl` on every valid input.
   */
  abstractEval(args: readonly Abstract[], params: P): Abstract;
  /** Tangent of the output from the operands' tangents (null = zero). */
  jvp(primals: readonly Value[], tangents: readonly MaybeValue[], out: Value, params: P): MaybeValue;
  /**
   * Cotangents of the operands from the output's cotangent (null = zero). `wanted[i]` is false
   * for operands nobody differentiates (constants): their cotangent need not be computed.
   */
  vjp(
    ct: Value,
    primals: readonly Value[],
    out: Value,
    params: P,
    wanted: readonly boolean[],
    residuals?: unknown,
  ): readonly MaybeValue[];
  /**
   * Optional: how reverse mode computes the output. A primitive with a user-defined backward
   * rule (customVjp, checkpoint) runs its forward program here and keeps what its VJP needs.
   */
  reverse?(primals: readonly Value[], params: P): { out: Value; residuals: unknown };
  /**
   * Optional: how forward mode computes output and tangent together, for a primitive whose
   * JVP would otherwise recompute its output (a program applied as one primitive).
   */
  forward?(primals: readonly Value[], tangents: readonly MaybeValue[], params: P): { out: Value; tangent: MaybeValue };
  /**
   * A program applied as one primitive (customVjp, checkpoint): it must read only its operands,
   * so the levels that run its rules seal themselves meanwhile (see `sealed` in trace.ts).
   */
  readonly sealed?: boolean;
  /**
   * Optional: the primitive expanded into the operations it is made of (a program applied as
   * one primitive). Handlers without a rule of their own for it (staging, batching) use this.
   */
  inline?(args: readonly Value[], params: P): Value;
  /**
   * Batching (vmap): the output for stacked operands — `values[i]` holds the batch on axis 0
   * when `batched[i]`, else it is shared by every example — with the batch (of `size`) on
   * axis 0. Written with primitives, like the derivative rules. Shared shapes of rule are
   * helpers in src/primitives/batching.ts; a primitive that can only run once per example says
   * so there with `perExample`.
   */
  batch(values: readonly Value[], batched: readonly boolean[], params: P, size: number): Value;
  /**
   * An elementwise primitive's scalar expression: each output element from the operands'
   * elements (the same index, after broadcasting). Its kernel's loops are generated from it
   * (src/primitives/unary.ts, binary.ts build such records), jit fuses it into loops, and its
   * `simd` names the WebAssembly kernel that computes it bit for bit. Absent: not elementwise.
   */
  readonly elementwise?: Elementwise;
  /**
   * What code generation may do with the primitive besides calling its kernel (each optional;
   * jit reads these, never a primitive's name).
   */
  readonly capabilities?: Capabilities<P>;
}

/**
 * Facts about a primitive that let generated code skip work. Each must hold for every operand
 * the primitive accepts; a primitive claims none unless its kernel is exactly what it says.
 */
export interface Capabilities<P> {
  /** The result may be operand 0's buffer or a view of it, never a fresh buffer (reshape, stopGradient). */
  readonly aliasesOperand?: boolean;
  /** Layout only: the result is operand 0's elements in their order under the output's shape (a tensor over the same buffer). */
  readonly relayout?: boolean;
  /** Operand 0 broadcast to the output's shape: a one-element operand is a splat (every element is its element 0). */
  readonly broadcast?: boolean;
  /** Row `operand 1` of operand 0 along axis 0 (a number for a float64 vector): jit reads it in place. */
  readonly rowIndex?: boolean;
  /** The axes operand 0 is summed over, in order from zero (over axes of extent 1 only: a copy). */
  sumAxes?(params: P): readonly number[];
  /** A matrix product of operands 0 and 1, read transposed as the flags say: it can accumulate into a buffer, or run on a weight pinned for the call. */
  contraction?(params: P): { readonly transA: boolean; readonly transB: boolean };
  /** Operand 0 written at `starts` into zeros of `shape`. */
  zeroPad?(params: P): { readonly starts: readonly number[]; readonly shape: readonly number[] };
  /** Operand 0 from `starts` (included) to `ends` (excluded) on each axis. */
  slice?(params: P): { readonly starts: readonly number[]; readonly ends: readonly number[] };
}

const registry: Primitive<never>[] = [];
/** A defined primitive's index in `registry`: a small integer that stands for it in typed arrays. */
const CODE = Symbol("primitive code");

export const definePrimitive = <P = undefined>(p: Primitive<P>): Primitive<P> => {
  Object.defineProperty(p, CODE, { value: registry.length });
  registry.push(p as Primitive<never>);
  return p;
};

/**
 * The code of a primitive made by definePrimitive (its index among the defined ones), or -1 for
 * a record made otherwise.
 */
export const primitiveCode = (p: object): number => {
  const code = (p as { readonly [CODE]?: number })[CODE];
  return code === undefined ? -1 : code;
};

/** The primitive of a code that `primitiveCode` gave. */
export const primitiveOfCode = (code: number): Primitive<unknown> => registry[code] as Primitive<unknown>;

/** Every primitive defined so far (the modules that define them loaded): for tests that check each has its rules. */
export const definedPrimitives = (): readonly Primitive<never>[] => registry;
