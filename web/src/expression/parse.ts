// A recursive-descent parser for a function of x, with the usual precedence:
//   sum     = product (("+" | "-") product)*
//   product = unary (("*" | "/") unary | implicit)*     2x, 3 sin(x), (x+1)(x-1), x(x+1)
//   unary   = "-" unary | "+" unary | power               -x^2 is -(x^2)
//   power   = atom ("^" unary)?                           right-associative: 2^3^2 = 2^9, 2^-x
//   atom    = number | x | constant | function "(" sum ")" | "(" sum ")"
// No eval: the text becomes a tree (./ast.ts), which ./program.ts turns into operations.
import { CONSTANTS, FUNCTIONS, isFunctionName, type Expr } from "./ast.ts";
import { ExpressionError, tokenize, type Token } from "./tokens.ts";

const describe = (t: Token): string => (t.kind === "end" ? "the end" : `"${t.text}" at ${t.at + 1}`);

/** The tree of `text`; throws an ExpressionError that says what is wrong and where. */
export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token => tokens[i]!;
  const next = (): Token => tokens[i++]!;
  const isOp = (t: Token, op: string): boolean => t.kind === "op" && t.op === op;

  if (peek().kind === "end") throw new ExpressionError("type a function of x, such as sin(x) * x^2", 0);

  function sum(): Expr {
    let left = product();
    for (let t = peek(); isOp(t, "+") || isOp(t, "-"); t = peek()) {
      next();
      left = { kind: "binary", op: (t as { op: "+" | "-" }).op, left, right: product() };
    }
    return left;
  }

  function product(): Expr {
    let left = unary();
    for (;;) {
      const t = peek();
      if (isOp(t, "*") || isOp(t, "/")) {
        next();
        left = { kind: "binary", op: (t as { op: "*" | "/" }).op, left, right: unary() };
      } else if (t.kind === "name" || isOp(t, "(")) {
        left = { kind: "binary", op: "*", left, right: power() }; // implicit multiplication
      } else if (t.kind === "number") {
        throw new ExpressionError(`a number cannot follow without an operator: ${describe(t)} (write * between them)`, t.at);
      } else return left;
    }
  }

  function unary(): Expr {
    const t = peek();
    if (isOp(t, "-")) {
      next();
      return { kind: "neg", arg: unary() };
    }
    if (isOp(t, "+")) {
      next();
      return unary();
    }
    return power();
  }

  function power(): Expr {
    const base = atom();
    if (!isOp(peek(), "^")) return base;
    next();
    return { kind: "binary", op: "^", left: base, right: unary() };
  }

  function parenthesized(open: Token): Expr {
    const inner = sum();
    const close = peek();
    if (!isOp(close, ")"))
      throw new ExpressionError(`missing ")" for the "(" at ${open.at + 1}${close.kind === "end" ? "" : `, found ${describe(close)}`}`, close.at);
    next();
    return inner;
  }

  function atom(): Expr {
    const t = next();
    if (t.kind === "number") return { kind: "number", value: t.value };
    if (isOp(t, "(")) return parenthesized(t);
    if (t.kind === "name") {
      if (t.name === "x") return { kind: "x" };
      const constant = CONSTANTS[t.name];
      if (constant !== undefined) return { kind: "number", value: constant };
      if (isFunctionName(t.name)) {
        const open = next();
        if (!isOp(open, "(")) throw new ExpressionError(`${t.name} needs its argument in parentheses: ${t.name}(x)`, open.at);
        return { kind: "call", fn: t.name, arg: parenthesized(open) };
      }
      throw new ExpressionError(
        `unknown name "${t.name}" at ${t.at + 1}: use x, ${Object.keys(CONSTANTS).join(", ")} and the functions ${FUNCTIONS.join(", ")}`,
        t.at,
      );
    }
    if (t.kind === "end") throw new ExpressionError("the expression ends too early: an operand is missing", t.at);
    throw new ExpressionError(`unexpected ${describe(t)}: an operand is missing`, t.at);
  }

  const tree = sum();
  const rest = peek();
  if (rest.kind !== "end") throw new ExpressionError(isOp(rest, ")") ? `unmatched ")" at ${rest.at + 1}` : `unexpected ${describe(rest)}`, rest.at);
  return tree;
}
