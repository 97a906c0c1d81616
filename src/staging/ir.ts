// The staged program: its data (effects/staged-program.ts, where the staging handler records
// it), the analyses every pass shares, and its printout.
import type { Atom, Block, Eqn, Var } from "../../effects/staged-program.ts";

export * from "../../effects/staged-program.ts";

/** Whether an operand is a JS number at run time (a scalar variable or a number constant), not a tensor. */
export const isNumberAtom = (a: Atom): boolean => (a.kind === "var" ? a.v.scalar : typeof a.value === "number");

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
