// A parsed function of x as a yieldiff program: each node of the tree becomes the operation it
// names, so grad, grad∘grad and vmap apply to it as to any program.
import { abs, add, cos, div, exp, expm1, log, log1p, mul, neg, pow, relu, sigmoid, sin, sqrt, square, sub, tan, tanh, type Effect, type Value } from "yieldiff";
import type { Expr, FunctionName } from "./ast.ts";

type Op = (x: Value) => Effect<Value>;
const CALLS: Readonly<Record<FunctionName, Op>> = {
  sin, cos, tan, exp, log, ln: log, sqrt, tanh, sigmoid, abs, relu, square, expm1, log1p,
};
const BINARY = { "+": add, "-": sub, "*": mul, "/": div, "^": pow } as const;

/** The program computing `e` at x. */
export function toProgram(e: Expr): (x: Value) => Generator<Effect, Value, unknown> {
  function* evaluate(node: Expr, x: Value): Generator<Effect, Value, unknown> {
    switch (node.kind) {
      case "number":
        return node.value;
      case "x":
        return x;
      case "neg":
        return yield* neg(yield* evaluate(node.arg, x));
      case "call":
        return yield* CALLS[node.fn](yield* evaluate(node.arg, x));
      case "binary": {
        const left = yield* evaluate(node.left, x);
        const right = yield* evaluate(node.right, x);
        return yield* BINARY[node.op](left, right);
      }
    }
  }
  return (x) => evaluate(e, x);
}
