// The parsed form of a function of x: a tree of numbers, x, unary and binary operations and
// calls of the functions the page knows.

/** The functions a typed expression may call, each of one argument. */
export const FUNCTIONS = ["sin", "cos", "tan", "exp", "log", "ln", "sqrt", "tanh", "sigmoid", "abs", "relu", "square", "expm1", "log1p"] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** Named constants. */
export const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E, tau: 2 * Math.PI };

export type Expr =
  | { kind: "number"; value: number }
  | { kind: "x" }
  | { kind: "neg"; arg: Expr }
  | { kind: "binary"; op: "+" | "-" | "*" | "/" | "^"; left: Expr; right: Expr }
  | { kind: "call"; fn: FunctionName; arg: Expr };

export const isFunctionName = (name: string): name is FunctionName => (FUNCTIONS as readonly string[]).includes(name);

/** The expression written back as text, fully parenthesized (tests compare parses with it). */
export function show(e: Expr): string {
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "x":
      return "x";
    case "neg":
      return `(-${show(e.arg)})`;
    case "binary":
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case "call":
      return `${e.fn}(${show(e.arg)})`;
  }
}
