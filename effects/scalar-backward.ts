// The backward pass over scalar steps, as one generated loop. Run one by one, a scalar step
// costs a lookup of its compiled rule and a call through it that the engine cannot inline (each
// primitive's rule is a function of its own, so the call site sees dozens). Here the rules of
// every kind of scalar step seen so far are written into one loop: a `case` per op slot (step
// kind and primitive), the rule's expressions inline, the adjoints summed in place — the work a
// closure tape does per step, without a call.
//
// The loop stops at a step it has no case for (a step kept as an object, a cotangent that is not
// a number, a primitive not seen yet, a rule that does not compile for that set of operands) and
// gives its index back to ReverseTrace.backward, which runs that step as before and notes its op
// slot: the next pass gets a loop with a case for it. The cases compute exactly what the compiled
// rules compute (the same expressions, rendered by the same code, in the same order).
import { generatedNames, render, type Num } from "../src/kernels/scalar-expr.ts";
import { ADJ_NUMBER, ADJ_ZERO, INPUT, UNARY, codeOf, kindOf, type Adjoints } from "./reverse-steps.ts";
import { RULE_INPUTS, scalarRule } from "./scalar-rules.ts";

/**
 * Runs the steps from `k` down while it has a case for them; returns the index of the step it
 * stopped at (for the caller to run), or -1 when it has run them all. The arrays are the
 * columns of Steps and the typed arrays of Adjoints.
 */
export type ScalarBackward = (
  k: number,
  op: Uint16Array,
  in0: Int32Array,
  in1: Int32Array,
  vals: Float64Array,
  consts: Float64Array,
  state: Uint8Array,
  num: Float64Array,
  adj: Adjoints,
) => number;

/** Op slots with a case (1), by slot; and the same as a list, in the order they were noted. */
const noted = new Uint8Array(1 << 16);
const slots: number[] = [];
let current: ScalarBackward | null = null;

/** Notes the op slot of a scalar step whose rule compiles: the next loop has a case for it. */
export const noteScalarStep = (op: number): void => {
  if (noted[op] !== 0) return;
  noted[op] = 1;
  slots.push(op);
  current = null;
};

/** Whether the loop has (or the next one will have) a case for op slot `op`. */
export const hasCase = (op: number): boolean => noted[op] !== 0;

/** The loop with a case for every op slot noted so far. */
export const scalarBackward = (): ScalarBackward => (current ??= generate(slots));

function generate(ops: readonly number[]): ScalarBackward {
  const names = generatedNames();
  /** Statements that add the expression's value to adjoint `i` (a local holding a step index). */
  const addTo = (i: string, e: Num): string => {
    const r = render(e, RULE_INPUTS, names);
    const g = names.local();
    return (
      `${r.prelude.join(" ")} const ${g} = ${r.value}; const s${g} = state[${i}];` +
      ` if (s${g} === ${ADJ_NUMBER}) num[${i}] += ${g}; else if (s${g} === ${ADJ_ZERO}) { num[${i}] = ${g}; state[${i}] = ${ADJ_NUMBER}; } else adj.add(${i}, ${g});`
    );
  };
  /** The body for operands of `mask` (bit 0: the first is a step, bit 1: the second). */
  const body = (code: number, arity: number, mask: number): string => {
    const rule = scalarRule(code, arity, mask);
    if (rule === null) return "return k;"; // the caller calls the rule
    let s = "";
    if (rule.firstExpr !== null && (mask & 1) !== 0) s += addTo("i0", rule.firstExpr);
    if (rule.secondExpr !== null && (mask & 2) !== 0) s += addTo("i1", rule.secondExpr);
    return s;
  };
  const cases = ops.map((o) => {
    const code = codeOf(o);
    if (kindOf(o) === UNARY)
      return `case ${o}: { const i0 = in0[k]; if (i0 < 0) continue; const c = num[k], a = vals[i0], b = 0, o = vals[k]; ${body(code, 1, 1)} continue; }`;
    return (
      `case ${o}: { const i0 = in0[k], i1 = in1[k]; const c = num[k], a = i0 >= 0 ? vals[i0] : consts[-1 - i0], b = i1 >= 0 ? vals[i1] : consts[-1 - i1], o = vals[k];` +
      ` if (i0 >= 0) { if (i1 >= 0) { ${body(code, 2, 3)} } else { ${body(code, 2, 1)} } } else if (i1 >= 0) { ${body(code, 2, 2)} } continue; }`
    );
  });
  const source = `"use strict";
return function scalarBackward(k, op, in0, in1, vals, consts, state, num, adj) {
  for (; k >= 0; k--) {
    const s = state[k];
    if (s === ${ADJ_ZERO}) continue;
    if (s !== ${ADJ_NUMBER}) return k;
    switch (op[k]) {
      case ${INPUT}: continue;
      ${cases.join("\n      ")}
      default: return k;
    }
  }
  return -1;
};`;
  return new Function("H", source)(names.helpers) as ScalarBackward;
}
