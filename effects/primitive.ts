// A primitive is defined once: its kernel, its JVP rule and its VJP rule.
// Rules are written in direct style with the same primitives (through `bind`), so every
// handler below the one applying a rule differentiates the rule too: higher derivatives of
// every operation come from the first-order rules.
import type { Value } from "./value.ts";

/** A symbolic zero tangent or cotangent: skipped instead of computed. */
export type Zero = null;
export type MaybeValue = Value | Zero;

export interface Primitive<P = undefined> {
  readonly name: string;
  /** The kernel: runs on concrete operands (numbers and Tensors) only. */
  impl(args: readonly Value[], params: P): Value;
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
}

export const definePrimitive = <P = undefined>(p: Primitive<P>): Primitive<P> => p;
