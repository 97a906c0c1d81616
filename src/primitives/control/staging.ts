// What the control primitives' staging rules share: a program staged into a block (plainly, or
// returning its pullback closure too), the kinds of its slots (a JS number or a tensor in the
// generated code), and the checks that give the same errors staged as eager.
import type { StagedValue, StagingTrace } from "../../../effects/stage.ts";
import { dtypeOf, isNumberLike, primal, shapeOf, type Value } from "../../../effects/value.ts";
import { ShapeError, fmt } from "../../errors.ts";
import * as lax from "../../lax.ts";
import { flatten } from "../../pytree.ts";
import type { Block, Var } from "../../staging/ir.ts";
import { ones } from "../../tensor/create.ts";
import { checkSize, sameShape } from "../../tensor/shape.ts";
import { runToEnd, type AnyProgram } from "../../transforms/common.ts";
import * as S from "../shape.ts";
import { stageWithPullback } from "./staged-reverse.ts";

export const run = (name: string, f: AnyProgram, args: readonly unknown[]): unknown => runToEnd(name, f, args);

/** A number-like value as a 0-d float64 tensor (x·1 is exact for every float, -0 and NaN included). */
export const asTensor = (v: Value): Value => (isNumberLike(v) ? lax.mul(v, ones([], "float64")) : v);

/** A staged value in a slot's kind: a JS number where `scalar`, else a tensor. */
export const inKind = (v: Value, scalar: boolean): Value => (scalar ? (isNumberLike(v) ? v : S.toNumber(v)) : asTensor(v));

/** A staged variable shaped like `v`; a JS number in the generated code where `scalar`. */
export const varLike = (trace: StagingTrace, v: Value, scalar = isNumberLike(v)): Var => trace.newVar(shapeOf(v), dtypeOf(v), scalar);

/**
 * Where a carry is a number in `init` but a 0-d tensor after the body (or the other way), the
 * staged loop keeps a 0-d tensor in that slot: a JS number and a tensor are different things
 * in the generated code. Stages until the slots' kinds are stable; returns them.
 */
export const carryKinds = (init: readonly Value[], stage: (tensorCarry: readonly boolean[]) => readonly Value[]): boolean[] => {
  const tensorCarry = init.map((l) => !isNumberLike(l));
  for (;;) {
    const out = stage(tensorCarry);
    const promote = out.map((l, i) => i < tensorCarry.length && !tensorCarry[i] && !isNumberLike(l));
    if (!promote.some(Boolean)) return tensorCarry;
    promote.forEach((p, i) => p && (tensorCarry[i] = true));
  }
};

export const checkSameLeaves = (op: string, what: string, a: readonly Value[], b: readonly Value[]): void => {
  if (a.length !== b.length) throw new ShapeError(`${op}: ${what} have ${a.length} vs ${b.length} values; they must have the same structure`);
  a.forEach((x, i) => {
    if (!sameShape(shapeOf(x), shapeOf(b[i]!)) || dtypeOf(x) !== dtypeOf(b[i]!))
      throw new ShapeError(`${op}: ${what} differ at value ${i}: ${fmt(shapeOf(x))} ${dtypeOf(x)} vs ${fmt(shapeOf(b[i]!))} ${dtypeOf(b[i]!)}; they must match`);
  });
};

/** The shape of scan's stacked outputs y (checked: scan may run many steps of a large y). */
export const stackedShape = (length: number, y: Value): number[] => {
  const shape = [length, ...shapeOf(y)];
  checkSize("scan", shape);
  return shape;
};

/** A condition or index is one number; its shape is known while staging: the eager error, before any code runs. */
export const checkScalar = (op: string, what: string, v: Value): void => {
  const s = shapeOf(v);
  if (s.reduce((a, b) => a * b, 1) !== 1) throw new ShapeError(`${op}: the ${what} must be a scalar, got shape ${fmt(s)}`);
};

/** The number behind a concrete condition or index. */
export const scalarValue = (op: string, what: string, v: Value): number => {
  const p = primal(v);
  if (typeof p === "number") return p;
  if (p.size !== 1) throw new ShapeError(`${op}: the ${what} must be a scalar, got shape ${fmt(p.shape)}`);
  return p.buf[0]!;
};

/** A program staged as a block: the block, its result and the result's leaves. */
export interface StagedProgram {
  readonly block: Block;
  readonly result: unknown;
  readonly outs: readonly Value[];
}

/** Under reverse mode (grad inside jit): the operand leaves differentiated, and accumulators taking some of their cotangents. */
export interface PullbackMode {
  readonly wanted: readonly boolean[];
  readonly sinks?: readonly (Value | null)[];
}

/**
 * Stages `f(...args(inputs as staged values))` into a block. Its outputs are the result's leaves
 * (leaf i as a 0-d tensor where `tensorOut[i]`) and, with `pullback`, one more: the closure
 * giving the cotangents of the wanted argument leaves (staged-reverse.ts). `check` sees the
 * result before its leaves are read.
 */
export function stageProgram(
  trace: StagingTrace,
  name: string,
  f: AnyProgram,
  inputs: readonly Var[],
  args: (values: StagedValue[]) => unknown[],
  tensorOut: readonly boolean[],
  pullback: PullbackMode | null,
  check?: (result: unknown) => void,
): StagedProgram {
  let result: unknown;
  let outs: Value[] = [];
  const block = trace.block(inputs, () => {
    const a = args(inputs.map((v) => trace.value(v)));
    let closure: Value[] = [];
    if (pullback) {
      const r = stageWithPullback(trace, name, f, a, pullback.wanted, (out) => {
        check?.(out);
        result = out;
      }, pullback.sinks);
      outs = r.outs;
      closure = [r.closure];
    } else {
      result = run(name, f, a);
      check?.(result);
      outs = flatten(result).leaves;
    }
    return [...outs.map((l, i) => (tensorOut[i] ? asTensor(l) : l)), ...closure];
  });
  return { block, result, outs };
}
