// What the control primitives' staging rules share: a program staged into a block (plainly, or
// returning its pullback closure too), variables for its slots (their kinds — a JS number or a
// tensor in the generated code — come from src/number-kind.ts), and the checks that give the
// same errors staged as eager.
import type { StagedValue, StagingTrace } from "../../../effects/stage.ts";
import { dtypeOf, primal, shapeOf, type Value } from "../../../effects/value.ts";
import { ShapeError, fmt } from "../../errors.ts";
import { flatten } from "../../pytree.ts";
import type { Block, Var } from "../../staging/ir.ts";
import { checkSize, sameShape } from "../../tensor/shape.ts";
import { runToEnd, type AnyProgram } from "../../transforms/common.ts";
import { asTensor } from "../../number-kind.ts";
import { stageWithPullback } from "./staged-reverse.ts";

export const run = (name: string, f: AnyProgram, args: readonly unknown[]): unknown => runToEnd(name, f, args);

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
