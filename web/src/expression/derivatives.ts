// f, f′ and f″ of a typed function on a grid of x: the program from ./program.ts, its grad and
// its grad∘grad, each vmapped over the grid (one batched run each, not one run per point).
import { grad, run, tensor, vmap, type Effect, type Tensor, type Value } from "yieldiff";
import type { Expr } from "./ast.ts";
import { toProgram } from "./program.ts";

export interface Curves {
  xs: Float64Array;
  f: Float64Array;
  df: Float64Array;
  d2f: Float64Array;
}

type Program = (x: Value) => Generator<Effect, Value, unknown>;

/** `n` evenly spaced points from `from` to `to`, both included. */
export function grid(from: number, to: number, n: number): Float64Array {
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = from + ((to - from) * i) / (n - 1);
  return xs;
}

/** The values of `program` at each x, as float64 (a program that ignores x gives a number: every point has it). */
function sample(program: Program, xs: Float64Array): Float64Array {
  const out = run(vmap(program), tensor(xs, { dtype: "float64" })) as Value;
  if (typeof out === "number") return new Float64Array(xs.length).fill(out);
  return Float64Array.from((out as Tensor).data);
}

/** f, f′ = grad(f) and f″ = grad(grad(f)) at each point of `xs`. */
export function curves(e: Expr, xs: Float64Array): Curves {
  const f = toProgram(e);
  const df = grad(f) as Program;
  const d2f = grad(df) as Program;
  return { xs, f: sample(f, xs), df: sample(df, xs), d2f: sample(d2f, xs) };
}
