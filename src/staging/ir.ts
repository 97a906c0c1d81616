// The staged program: an SSA list of equations over typed variables, with static shapes.
import type { Primitive } from "../../effects/primitive.ts";
import type { Value } from "../../effects/value.ts";
import type { DType } from "../tensor/tensor.ts";

/** A variable of the staged program. `scalar`: at run time a JS number (not a 0-d tensor). */
export interface Var {
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly scalar: boolean;
  /** A JS object of the generated code (a closure or an accumulator), not a number or tensor. */
  readonly fn?: boolean;
}

/** An operand: a variable, or a constant captured at trace time. */
export type Atom = { readonly kind: "var"; readonly v: Var } | { readonly kind: "const"; readonly value: Value };

export interface PrimEqn {
  readonly kind: "prim";
  readonly prim: Primitive<unknown>;
  readonly inputs: readonly Atom[];
  readonly params: unknown;
  readonly out: Var;
}

/** A sub-program: its inputs, its equations, its outputs. */
export interface Block {
  readonly inputs: readonly Var[];
  readonly eqns: Eqn[];
  readonly outputs: readonly Atom[];
}

/** if (pred) then-block else else-block, both over the same operands, giving `outs`. */
export interface CondEqn {
  readonly kind: "cond";
  readonly pred: Atom;
  readonly operands: readonly Atom[];
  readonly then: Block;
  readonly else: Block;
  readonly outs: readonly Var[];
}

/**
 * A multi-way branch (switchCase): runs `branches[k]` over the operands, k the index (an
 * integer) clamped to the branches, giving `outs`.
 */
export interface SwitchEqn {
  readonly kind: "switch";
  readonly index: Atom;
  readonly operands: readonly Atom[];
  readonly branches: readonly Block[];
  readonly outs: readonly Var[];
}

/**
 * while (cond(carry)) carry = body(carry). With `collect`, the body has one more output (a
 * pullback closure) that is not carried but appended to a list, the last of `outs`.
 */
export interface WhileEqn {
  readonly kind: "while";
  readonly init: readonly Atom[];
  readonly cond: Block;
  readonly body: Block;
  readonly outs: readonly Var[];
  readonly collect?: boolean;
}

/**
 * for t < length: [carry, y_t] = body(carry, x_t); outs = [...carry, ...stacked ys]. `reverse`:
 * t runs from length − 1 down to 0 (the ys still stacked in t order). length −1: the length of
 * the first xs at run time (a list of closures). An x or y that is a closure (`fn`) is an
 * element of a JS list rather than a row of a tensor.
 */
export interface ScanEqn {
  readonly kind: "scan";
  readonly length: number;
  readonly reverse?: boolean;
  readonly init: readonly Atom[];
  readonly xs: readonly Atom[];
  readonly body: Block;
  readonly outs: readonly Var[];
}

/**
 * A recursive function (Lantern's FUN): `body` is defined once as function `fn` — its inputs
 * are the parameters, and inside it CallEqns with the same `fn` are the recursive calls — then
 * applied to `args`, giving `outs`.
 */
export interface FixEqn {
  readonly kind: "fix";
  readonly fn: number;
  readonly body: Block;
  readonly args: readonly Atom[];
  readonly outs: readonly Var[];
}

/** A call of the recursive function `fn` from inside its own body. */
export interface CallEqn {
  readonly kind: "call";
  readonly fn: number;
  readonly args: readonly Atom[];
  readonly outs: readonly Var[];
}

/**
 * A closure: `body` as a function value that reads the enclosing block's variables when it is
 * applied later (reverse mode keeps a pullback this way, its residuals captured by scope).
 */
export interface LambdaEqn {
  readonly kind: "lambda";
  readonly body: Block;
  readonly out: Var;
}

/** Applies a closure made by a LambdaEqn. */
export interface ApplyEqn {
  readonly kind: "apply";
  readonly fn: Atom;
  readonly args: readonly Atom[];
  readonly outs: readonly Var[];
}

/**
 * Gradient accumulators (Lantern's `x.d += ...`): a staged recursion's pullback closures add a
 * shared parameter's cotangent into one buffer instead of returning it up the call tree.
 * `accumulator` makes one; `accumulate` adds into it in place (an effect: never eliminated);
 * `readAccumulator` gives the sum (zeros if nothing was added) and clears it for the next pass.
 */
export interface AccumulatorEqn {
  readonly kind: "accumulator";
  readonly out: Var;
}
export interface AccumulateEqn {
  readonly kind: "accumulate";
  readonly acc: Atom;
  readonly value: Atom;
}
export interface ReadAccumulatorEqn {
  readonly kind: "readAccumulator";
  readonly acc: Atom;
  readonly out: Var;
}

export type Eqn =
  | PrimEqn
  | CondEqn
  | SwitchEqn
  | WhileEqn
  | ScanEqn
  | FixEqn
  | CallEqn
  | LambdaEqn
  | ApplyEqn
  | AccumulatorEqn
  | AccumulateEqn
  | ReadAccumulatorEqn;

/** The variables an equation defines. */
export const definedBy = (e: Eqn): readonly Var[] =>
  e.kind === "accumulate" ? [] : e.kind === "prim" || e.kind === "lambda" || e.kind === "accumulator" || e.kind === "readAccumulator" ? [e.out] : e.outs;

/** Every block nested directly in an equation (its branches, loop bodies, function body). */
export const blocksOf = (e: Eqn): readonly Block[] =>
  e.kind === "cond" ? [e.then, e.else] : e.kind === "switch" ? e.branches : e.kind === "while" ? [e.cond, e.body] : e.kind === "scan" || e.kind === "fix" || e.kind === "lambda" ? [e.body] : [];

/** The operands an equation reads from its enclosing block. */
export const operandsOf = (e: Eqn): readonly Atom[] =>
  e.kind === "prim"
    ? e.inputs
    : e.kind === "cond"
      ? [e.pred, ...e.operands]
      : e.kind === "switch"
        ? [e.index, ...e.operands]
      : e.kind === "while"
        ? e.init
        : e.kind === "scan"
          ? [...e.init, ...e.xs]
          : e.kind === "lambda" || e.kind === "accumulator"
            ? []
            : e.kind === "accumulate"
              ? [e.acc, e.value]
              : e.kind === "readAccumulator"
                ? [e.acc]
            : e.kind === "apply"
              ? [e.fn, ...e.args]
              : e.args;

export const varAtom = (v: Var): Atom => ({ kind: "var", v });
export const constAtom = (value: Value): Atom => ({ kind: "const", value });

/**
 * A primitive's parameters as text, without running user code or following cycles: plain data
 * as JSON would print it; functions, typed arrays and class instances by kind; depth-limited.
 */
function printParam(v: unknown, depth: number): string {
  if (v === null || typeof v === "boolean" || typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "function") return "fn";
  if (typeof v !== "object") return typeof v;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  if (depth >= 3) return "…";
  if (Array.isArray(v)) return `[${v.map((x) => printParam(x, depth + 1)).join(",")}]`;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return `<${typeof proto?.constructor === "function" ? proto.constructor.name : "object"}>`;
  const entries = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  return `{${entries.map((k) => `${JSON.stringify(k)}:${printParam((v as Record<string, unknown>)[k], depth + 1)}`).join(",")}}`;
}

/** A readable listing of a block, one equation per line. */
export function printBlock(block: Block, indent = ""): string {
  const name = (v: Var): string => `v${v.id}`;
  const type = (v: Var): string => v.fn ? "fn" : `${v.dtype === "float32" ? "f32" : "f64"}[${v.shape.join(",")}]${v.scalar ? "#" : ""}`;
  const atom = (a: Atom): string => {
    if (a.kind === "var") return name(a.v);
    const c = a.value;
    return typeof c === "number" ? String(c) : `const(${"shape" in c ? `[${c.shape.join(",")}]` : "?"})`;
  };
  const params = (p: unknown): string => {
    if (p === undefined) return "";
    const text = printParam(p, 0);
    return ` ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
  };
  const lines: string[] = [`${indent}in (${block.inputs.map((v) => `${name(v)}: ${type(v)}`).join(", ")})`];
  for (const e of block.eqns) {
    if (e.kind === "lambda") {
      lines.push(`${indent}  ${name(e.out)}: fn = lambda`, printBlock(e.body, `${indent}      `));
      continue;
    }
    if (e.kind === "accumulator" || e.kind === "accumulate" || e.kind === "readAccumulator") {
      const what = e.kind === "accumulate" ? `accumulate ${atom(e.acc)} += ${atom(e.value)}` : e.kind === "accumulator" ? `${name(e.out)}: acc = accumulator` : `${name(e.out)}: ${type(e.out)} = read ${atom(e.acc)}`;
      lines.push(`${indent}  ${what}`);
      continue;
    }
    if (e.kind === "apply") {
      lines.push(`${indent}  ${e.outs.map(name).join(", ")} = apply ${atom(e.fn)} (${e.args.map(atom).join(", ")})`);
      continue;
    }
    if (e.kind === "prim") lines.push(`${indent}  ${name(e.out)}: ${type(e.out)} = ${e.prim.name}(${e.inputs.map(atom).join(", ")})${params(e.params)}`);
    else {
      const outs = e.outs.map(name).join(", ");
      if (e.kind === "cond") {
        lines.push(`${indent}  ${outs} = cond ${atom(e.pred)} (${e.operands.map(atom).join(", ")})`);
        lines.push(`${indent}    then:`, printBlock(e.then, `${indent}      `), `${indent}    else:`, printBlock(e.else, `${indent}      `));
      } else if (e.kind === "switch") {
        lines.push(`${indent}  ${outs} = switch ${atom(e.index)} (${e.operands.map(atom).join(", ")})`);
        e.branches.forEach((b, k) => lines.push(`${indent}    case ${k}:`, printBlock(b, `${indent}      `)));
      } else if (e.kind === "while") {
        lines.push(`${indent}  ${outs} = while${e.collect ? " collecting" : ""} (${e.init.map(atom).join(", ")})`);
        lines.push(`${indent}    cond:`, printBlock(e.cond, `${indent}      `), `${indent}    body:`, printBlock(e.body, `${indent}      `));
      } else if (e.kind === "scan") {
        lines.push(`${indent}  ${outs} = scan${e.reverse ? " reverse" : ""} ${e.length < 0 ? "n" : e.length} (${e.init.map(atom).join(", ")}; ${e.xs.map(atom).join(", ")})`);
        lines.push(`${indent}    body:`, printBlock(e.body, `${indent}      `));
      } else if (e.kind === "fix") {
        lines.push(`${indent}  ${outs} = fix f${e.fn} (${e.args.map(atom).join(", ")})`);
        lines.push(`${indent}    f${e.fn}:`, printBlock(e.body, `${indent}      `));
      } else lines.push(`${indent}  ${outs} = call f${e.fn} (${e.args.map(atom).join(", ")})`);
    }
  }
  lines.push(`${indent}out (${block.outputs.map(atom).join(", ")})`);
  return lines.join("\n");
}
