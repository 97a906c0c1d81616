// A scalar step's VJP rule, compiled. The backward pass of a scalar program runs one rule per
// operation on plain numbers; called as it is written (with primitives, in direct style), the
// rule makes an array of cotangents and dispatches each operation it uses. Here the rule is run
// once per primitive (and per set of wanted operands) on symbolic numbers: each elementwise
// primitive it applies contributes its own scalar expression, with the operands' expressions in
// place of its operands. The composed expression is compiled like the primitives' kernels
// (src/kernels/scalar-expr.ts) into a function of the cotangent, the operands and the output.
// It computes exactly what the rule computes on numbers — the same scalar expressions in the same
// order. A rule that uses anything else (a primitive with parameters or without a scalar
// expression, a concrete value behind an operand) is not compiled: its steps call the rule.
import { compileWith, type Bool, type Num } from "../src/kernels/scalar-expr.ts";
import { primitiveOfCode, type Primitive } from "./primitive.ts";
import { Trace, withTrace } from "./trace.ts";
import { Traced, type Value } from "./value.ts";
import type { DType } from "../src/tensor/tensor.ts";

/** An operand's cotangent from the output's cotangent `c`, the operands `a` (and `b`) and the output `o`. */
export type ScalarCotangent = (c: number, a: number, b: number, o: number) => number;

/** A compiled rule: the cotangent of each operand (null: zero, or not wanted). */
export interface ScalarRule {
  readonly first: ScalarCotangent | null;
  readonly second: ScalarCotangent | null;
  /** The expressions they compute, of the inputs RULE_INPUTS (for code that inlines them: effects/scalar-backward.ts). */
  readonly firstExpr: Num | null;
  readonly secondExpr: Num | null;
}

/** How a rule's expressions name their inputs: the output's cotangent, the operands, the output. */
export const RULE_INPUTS: readonly string[] = ["c", "a", "b", "o"];

/** Rules by primitive code and wanted mask (bit i: operand i's cotangent is wanted); null: not compilable. */
const rules: (ScalarRule | null | undefined)[] = [];

/**
 * The compiled VJP rule of the scalar step of primitive `code` (arity 1 or 2) whose operands of
 * `mask` are wanted, or null when the rule is not made of scalar expressions only.
 */
export const scalarRule = (code: number, arity: number, mask: number): ScalarRule | null => {
  const k = code * 4 + mask;
  let r = rules[k];
  if (r === undefined) rules[k] = r = compileRule(primitiveOfCode(code), arity, mask);
  return r;
};

/** Raised inside a rule being compiled when it uses something that is not a scalar expression. */
class NotScalar extends Error {}
const NOT_SCALAR = new NotScalar("not a scalar expression");

const EMPTY: readonly number[] = Object.freeze([]);

/** A symbolic number: the expression that computes it from the rule's inputs. */
class Symbolic extends Traced {
  declare readonly expr: Num;
  constructor(trace: Trace, expr: Num) {
    super(trace);
    this.expr = expr;
  }
  get shape(): readonly number[] {
    return EMPTY;
  }
  get dtype(): DType {
    return "float64";
  }
  /** No concrete value stands behind it: a rule that reads one is not compiled. */
  get inner(): Value {
    throw NOT_SCALAR;
  }
  override get hasInner(): boolean {
    return false;
  }
  override get numberLike(): boolean {
    return true;
  }
}

/** The handler that composes the rule's operations into one expression. */
class SymbolicTrace extends Trace {
  readonly name = "scalar rule compilation";
  process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
    const rule = prim.elementwise;
    if (rule === undefined || params !== undefined || rule.arity !== args.length || prim.sealed === true) throw NOT_SCALAR;
    const operands = args.map((a): Num => {
      if (typeof a === "number") return { op: "literal", value: a };
      if (a instanceof Symbolic && a.trace === this) return a.expr;
      throw NOT_SCALAR;
    });
    // Shared: the generated code computes each operation once, however often it is read.
    return new Symbolic(this, { op: "shared", value: substitute(rule.expr, operands) });
  }
}

/** `e` with operand i replaced by `operands[i]` (shared nodes stay shared). */
const substitute = (e: Num, operands: readonly Num[]): Num => {
  const done = new Map<Num, Num>();
  const num = (x: Num): Num => {
    let y = done.get(x);
    if (y !== undefined) return y;
    switch (x.op) {
      case "operand":
        y = operands[x.index]!;
        break;
      case "literal":
        y = x;
        break;
      case "negate":
        y = { op: "negate", x: num(x.x) };
        break;
      case "arith":
        y = { op: "arith", sym: x.sym, a: num(x.a), b: num(x.b) };
        break;
      case "math":
        y = { op: "math", fn: x.fn, args: x.args.map(num) };
        break;
      case "call":
        y = { op: "call", fn: x.fn, args: x.args.map(num) };
        break;
      case "select":
        y = { op: "select", test: bool(x.test), then: num(x.then), otherwise: num(x.otherwise) };
        break;
      case "shared":
        y = { op: "shared", value: num(x.value) };
        break;
    }
    done.set(x, y);
    return y;
  };
  const bool = (b: Bool): Bool => (b.op === "compare" ? { op: "compare", sym: b.sym, a: num(b.a), b: num(b.b) } : { op: b.op, a: bool(b.a), b: bool(b.b) });
  return num(e);
};

const input = (index: number): Num => ({ op: "operand", index });

function compileRule(prim: Primitive<unknown>, arity: number, mask: number): ScalarRule | null {
  try {
    return withTrace(new SymbolicTrace(), (trace) => {
      const ct = new Symbolic(trace, input(0));
      const primals = arity === 1 ? [new Symbolic(trace, input(1))] : [new Symbolic(trace, input(1)), new Symbolic(trace, input(2))];
      const out = new Symbolic(trace, input(3));
      const wanted = [(mask & 1) !== 0, (mask & 2) !== 0];
      const cts = prim.vjp(ct, primals, out, undefined, wanted, undefined);
      const expression = (i: number): Num | null => {
        const c = cts[i];
        if (!wanted[i] || c === null || c === undefined) return null;
        return typeof c === "number" ? { op: "literal", value: c } : c instanceof Symbolic && c.trace === trace ? c.expr : fail();
      };
      const compiled = (expr: Num | null): ScalarCotangent | null =>
        expr === null ? null : compileWith<ScalarCotangent>(expr, RULE_INPUTS, RULE_INPUTS, (r) => `${r.prelude.join(" ")} return ${r.value};`);
      const firstExpr = expression(0);
      const secondExpr = arity === 2 ? expression(1) : null;
      return { first: compiled(firstExpr), second: compiled(secondExpr), firstExpr, secondExpr };
    });
  } catch {
    // Not made of scalar expressions (or failed on symbolic operands): its steps call the rule.
    return null;
  }
}

const fail = (): never => {
  throw NOT_SCALAR;
};
