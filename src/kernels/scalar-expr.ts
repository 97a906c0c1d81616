// Scalar expressions: what an elementwise primitive computes for one element, as a small typed
// tree over its operands. An elementwise primitive's record carries one (`elementwise`; built
// by defineUnary / defineBinary in src/primitives/unary.ts, binary.ts); the kernels' loops and
// scalar fast path (./elementwise.ts) and jit's fused loops and inline arithmetic
// (src/staging/elementwise-code.ts) are all rendered from it, so each formula is written once.
//
// Rendering gives JS source made only of fixed text, generated names and numeric literals.

/** The Math functions of numbers to numbers (Math.exp, Math.atan2, ...). */
export type MathFn = { [K in keyof Math]: Math[K] extends (...args: number[]) => number ? K : never }[keyof Math];
/** A plain function of numbers that generated code calls (for formulas too long to inline). */
export type Helper = (...args: number[]) => number;

/** A number-valued expression. */
export type Num =
  | { readonly op: "operand"; readonly index: number }
  | { readonly op: "literal"; readonly value: number }
  | { readonly op: "negate"; readonly x: Num }
  | { readonly op: "arith"; readonly sym: "+" | "-" | "*" | "/" | "%"; readonly a: Num; readonly b: Num }
  | { readonly op: "math"; readonly fn: MathFn; readonly args: readonly Num[] }
  | { readonly op: "call"; readonly fn: Helper; readonly args: readonly Num[] }
  | { readonly op: "select"; readonly test: Bool; readonly then: Num; readonly otherwise: Num }
  /** computed once into a local (a statement before the value) and read wherever it appears */
  | { readonly op: "shared"; readonly value: Num };
/** A condition (a comparison, or comparisons joined). */
export type Bool =
  | { readonly op: "compare"; readonly sym: ">" | "<" | ">=" | "<=" | "===" | "!=="; readonly a: Num; readonly b: Num }
  | { readonly op: "and" | "or"; readonly a: Bool; readonly b: Bool };

type Arg = Num | number;
const lift = (x: Arg): Num => (typeof x === "number" ? { op: "literal", value: x } : x);
const arith = (sym: "+" | "-" | "*" | "/" | "%") => (a: Arg, b: Arg): Num => ({ op: "arith", sym, a: lift(a), b: lift(b) });
const compare = (sym: ">" | "<" | ">=" | "<=" | "===" | "!==") => (a: Arg, b: Arg): Bool => ({ op: "compare", sym, a: lift(a), b: lift(b) });

/** The builder: numbers are literals; names follow JS operators and Math. */
export const E = {
  /** Operand `index` of the primitive (0: x, or a; 1: b; ...). */
  operand: (index: number): Num => ({ op: "operand", index }),
  neg: (x: Arg): Num => ({ op: "negate", x: lift(x) }),
  add: arith("+"),
  sub: arith("-"),
  mul: arith("*"),
  div: arith("/"),
  /** JS `%`: the remainder with the dividend's sign (C's fmod), exact. */
  rem: arith("%"),
  gt: compare(">"),
  lt: compare("<"),
  ge: compare(">="),
  le: compare("<="),
  eq: compare("==="),
  ne: compare("!=="),
  and: (a: Bool, b: Bool): Bool => ({ op: "and", a, b }),
  or: (a: Bool, b: Bool): Bool => ({ op: "or", a, b }),
  /** Math.fn(...args). */
  math: (fn: MathFn, ...args: Arg[]): Num => ({ op: "math", fn, args: args.map(lift) }),
  /** A helper function called with the arguments. */
  call: (fn: Helper, ...args: Arg[]): Num => ({ op: "call", fn, args: args.map(lift) }),
  /** test ? then : otherwise. */
  select: (test: Bool, then: Arg, otherwise: Arg): Num => ({ op: "select", test, then: lift(then), otherwise: lift(otherwise) }),
  /** 1 where the condition holds, else 0. */
  indicator: (test: Bool): Num => ({ op: "select", test, then: lift(1), otherwise: lift(0) }),
  /** `value` computed once, then `body` of it (a local in the generated code). */
  let: (value: Arg, body: (v: Num) => Num): Num => body({ op: "shared", value: lift(value) }),
};

/** What an elementwise primitive computes per element, and its SIMD kernel if one gives exactly the same. */
export interface Elementwise<Simd extends string = string> {
  /** How many operands the expression reads. */
  readonly arity: number;
  readonly expr: Num;
  /** The WebAssembly SIMD kernel (src/kernels/wasm/elementwise-module.ts) that computes it bit for bit. */
  readonly simd?: Simd;
}

/** How rendering names what it introduces. */
export interface RenderNames {
  /** A fresh local name for a shared subexpression. */
  local(): string;
  /** How the generated code reaches a helper function. */
  helper(fn: Helper): string;
}

/** JS source: statements to run first (locals), then the value. */
export interface Rendered {
  readonly prelude: readonly string[];
  readonly value: string;
}

const literal = (c: number): string => {
  if (Number.isNaN(c)) return "NaN";
  if (Object.is(c, -0)) return "(-0)";
  if (!Number.isFinite(c)) return c > 0 ? "Infinity" : "(-Infinity)";
  return c < 0 ? `(${String(c)})` : String(c);
};

type NumOf<K extends Num["op"]> = Extract<Num, { op: K }>;
type BoolOf<K extends Bool["op"]> = Extract<Bool, { op: K }>;

/**
 * How one language writes each kind of node, its children already printed: JS below, WGSL in
 * src/backend/webgpu/wgsl-expr.ts. `print` walks the tree once for either.
 */
export interface Dialect {
  literal(value: number): string;
  arith(sym: NumOf<"arith">["sym"], a: string, b: string): string;
  math(fn: MathFn, args: readonly string[]): string;
  call(fn: Helper, args: readonly string[]): string;
  select(test: string, then: string, otherwise: string): string;
  compare(sym: BoolOf<"compare">["sym"], a: string, b: string): string;
  logic(op: BoolOf<"and" | "or">["op"], a: string, b: string): string;
  /** A fresh local bound to `value`: its name and the statement that binds it. */
  bind(value: string): { name: string; statement: string };
}

/** The expression in a dialect, its operands read as `operands[i]`; shared subexpressions become locals of the prelude. */
export function print(e: Num, operands: readonly string[], d: Dialect): Rendered {
  const prelude: string[] = [];
  const locals = new Map<Num, string>();
  const num = (x: Num): string => {
    switch (x.op) {
      case "operand": {
        const s = operands[x.index];
        if (s === undefined) throw new Error(`scalar expression: operand ${x.index} of ${operands.length}`);
        return s;
      }
      case "literal":
        return d.literal(x.value);
      case "negate":
        return `(-${num(x.x)})`;
      case "arith":
        return d.arith(x.sym, num(x.a), num(x.b));
      case "math":
        return d.math(x.fn, x.args.map(num));
      case "call":
        return d.call(x.fn, x.args.map(num));
      case "select":
        return d.select(bool(x.test), num(x.then), num(x.otherwise));
      case "shared": {
        let name = locals.get(x);
        if (name === undefined) {
          const bound = d.bind(num(x.value));
          name = bound.name;
          prelude.push(bound.statement);
          locals.set(x, name);
        }
        return name;
      }
    }
  };
  const bool = (b: Bool): string => (b.op === "compare" ? d.compare(b.sym, num(b.a), num(b.b)) : d.logic(b.op, bool(b.a), bool(b.b)));
  const value = num(e);
  return { prelude, value };
}

/** The expression as JS, its operands read as `operands[i]` (each a name, a literal or an element read). */
export const render = (e: Num, operands: readonly string[], names: RenderNames): Rendered =>
  print(e, operands, {
    literal,
    arith: (sym, a, b) => `(${a} ${sym} ${b})`,
    math: (fn, args) => `Math.${fn}(${args.join(", ")})`,
    call: (fn, args) => `${names.helper(fn)}(${args.join(", ")})`,
    select: (test, then, otherwise) => `(${test} ? ${then} : ${otherwise})`,
    compare: (sym, a, b) => `${a} ${sym} ${b}`,
    logic: (op, a, b) => `(${a}) ${op === "and" ? "&&" : "||"} (${b})`,
    bind: (value) => {
      const name = names.local();
      return { name, statement: `const ${name} = ${value};` };
    },
  });

/**
 * Compiles a function of numbers from an expression: `params` name the operands, `body` is the
 * function's statements around the rendered expression (`$prelude`, `$value`). Helpers are
 * passed in, not written into the source.
 */
export function compileWith<F>(e: Num, params: readonly string[], operands: readonly string[], body: (r: Rendered) => string): F {
  const names = generatedNames();
  const r = render(e, operands, names);
  return new Function("H", `"use strict";\nreturn function (${params.join(", ")}) {\n${body(r)}\n};`)(names.helpers) as F;
}

/**
 * Names for code generated with `new Function("H", source)`: locals `l0`, `l1`, ... and helpers
 * read from `H`, the array `helpers` (pass it as H).
 */
export const generatedNames = (): RenderNames & { readonly helpers: Helper[] } => {
  const helpers: Helper[] = [];
  let k = 0;
  return {
    helpers,
    local: () => `l${k++}`,
    helper: (fn) => {
      let i = helpers.indexOf(fn);
      if (i < 0) i = helpers.push(fn) - 1;
      return `H[${i}]`;
    },
  };
};

/** The element itself: the expression of primitives that leave values as they are (stopGradient, cast, toNumber). */
export const IDENTITY: Elementwise<never> = { arity: 1, expr: E.operand(0) };
