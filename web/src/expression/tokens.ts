// The tokens of a function of x as a person types it: numbers (2, 0.5, .5, 1e-3), names (x, pi,
// e, sin, ...), the operators + - * / ^ (and ** for ^), parentheses. Each token keeps where it
// starts, so that an error can point at it.

export type Token =
  | { kind: "number"; value: number; at: number; text: string }
  | { kind: "name"; name: string; at: number; text: string }
  | { kind: "op"; op: "+" | "-" | "*" | "/" | "^" | "(" | ")"; at: number; text: string }
  | { kind: "end"; at: number; text: string };

/** A mistake in the typed expression, at a character position (0-based) of it. */
export class ExpressionError extends Error {
  readonly _tag = "ExpressionError";
  constructor(
    message: string,
    /** Where in the text the mistake is. */
    readonly at: number,
  ) {
    super(message);
    this.name = "ExpressionError";
  }
}

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z_0-9]*/;
const SPACE = /^\s+/;

/** The tokens of `text`, ending with an "end" token; throws an ExpressionError at a character that starts none. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const rest = text.slice(at);
    const space = SPACE.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number) {
      tokens.push({ kind: "number", value: Number(number[0]), at, text: number[0] });
      at += number[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ kind: "name", name: name[0], at, text: name[0] });
      at += name[0].length;
      continue;
    }
    if (rest.startsWith("**")) {
      tokens.push({ kind: "op", op: "^", at, text: "**" });
      at += 2;
      continue;
    }
    const c = rest[0]!;
    const op = c === "−" ? "-" : c === "×" || c === "·" ? "*" : c === "÷" ? "/" : c;
    if (op === "+" || op === "-" || op === "*" || op === "/" || op === "^" || op === "(" || op === ")") {
      tokens.push({ kind: "op", op, at, text: c });
      at += 1;
      continue;
    }
    throw new ExpressionError(`unexpected character "${c}" at ${at + 1}`, at);
  }
  tokens.push({ kind: "end", at, text: "" });
  return tokens;
}
