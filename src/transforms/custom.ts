// customVjp and checkpoint: a program applied as one primitive whose reverse rule the user
// gives (customVjp) or that recomputes its forward pass during the backward pass (checkpoint).
// Forward mode differentiates the program itself.
import { drive } from "../../effects/driver.ts";
import { definePrimitive, type MaybeValue } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { TransformError } from "../errors.ts";
import { flatten, isLeaf, type Flat } from "../pytree.ts";
import { checkProgram, start, zerosLike, type Gen, type AnyProgram } from "./common.ts";
import { jvpDirect } from "./forward.ts";
import { vjpDirect } from "./vjp.ts";

type Fn = AnyProgram;

interface CustomParams {
  readonly name: string;
  readonly f: Fn;
  readonly fwd: Fn;
  readonly bwd: (residuals: never, ct: never) => Gen<unknown>;
  readonly structure: Flat;
}

const argsOf = (leaves: readonly Value[], p: CustomParams): unknown[] => p.structure.rebuild(leaves) as unknown[];

const output = (name: string, out: unknown): Value => {
  if (!isLeaf(out)) throw new TransformError(`${name}: the program must return a number or a tensor, got ${typeof out}`);
  return out;
};

/** The program itself on these operands (evaluation, or expanded into its operations). */
const runProgram = (leaves: readonly Value[], p: CustomParams): Value => output(p.name, drive(start<unknown>(p.name, p.f, argsOf(leaves, p))));

/** Forward mode differentiates the program itself: one run gives value and tangent. */
const forwardThrough = (primals: readonly Value[], tangents: readonly MaybeValue[], p: CustomParams): { out: Value; tangent: Value } => {
  const zeroed = primals.map((x, i) => tangents[i] ?? zerosLike(x));
  const [out, t] = jvpDirect(p.name, p.f, argsOf(primals, p), argsOf(zeroed, p));
  return { out: output(p.name, out), tangent: t as Value };
};

const customCallP = definePrimitive<CustomParams>({
  name: "customCall",
  impl: runProgram,
  jvp: (primals, tangents, _out, p) => forwardThrough(primals, tangents, p).tangent,
  forward: (primals, tangents, p) => forwardThrough(primals, tangents, p),
  reverse: (primals, p) => {
    const res = drive(start<unknown>(p.name, p.fwd, argsOf(primals, p)));
    if (!Array.isArray(res) || res.length !== 2)
      throw new TransformError(`${p.name}: fwd must return [output, residuals], got ${typeof res}`);
    return { out: output(p.name, res[0]), residuals: res[1] };
  },
  vjp: (ct, primals, _out, p, _wanted, residuals) => {
    const cts = drive(start<unknown>(p.name, p.bwd as Fn, [residuals, ct]));
    const args = argsOf(primals, p);
    if (!Array.isArray(cts) || cts.length !== args.length)
      throw new TransformError(`${p.name}: bwd must return an array with one cotangent per argument (${args.length}), got ${Array.isArray(cts) ? cts.length : typeof cts}`);
    // One cotangent per argument, shaped like it; null (or undefined) means zero.
    return args.flatMap((arg, i): MaybeValue[] => {
      const argLeaves = flatten(arg).leaves.length;
      if (cts[i] === null || cts[i] === undefined) return Array<MaybeValue>(argLeaves).fill(null);
      const leaves = flatten(cts[i]).leaves;
      if (leaves.length !== argLeaves)
        throw new TransformError(`${p.name}: bwd's cotangent for argument ${i} has ${leaves.length} values, the argument has ${argLeaves}; give one shaped like the argument (or null for zero)`);
      return leaves;
    });
  },
});

const call = (p: Omit<CustomParams, "structure">, args: unknown[]): Value => {
  const structure = flatten(args);
  return bind(customCallP, structure.leaves, { ...p, structure });
};

/**
 * A program with a user-defined reverse rule: `fwd(...args)` gives `[output, residuals]`,
 * `bwd(residuals, ct)` gives one cotangent per argument. Forward mode differentiates `f`.
 */
export function customVjp<A extends unknown[], R>(
  f: (...args: A) => Gen<R>,
  fwd: (...args: A) => Gen<[R, unknown]>,
  bwd: (residuals: never, ct: never) => Gen<unknown[]>,
): (...args: A) => Gen<R> {
  for (const [n, g] of [["f", f], ["fwd", fwd], ["bwd", bwd]] as const) checkProgram(`customVjp (${n})`, g);
  const p = { name: `customVjp(${f.name || "f"})`, f: f as Fn, fwd: fwd as Fn, bwd };
  return function* customVjpProgram(...args: A) {
    return call(p, args) as R;
  };
}

/**
 * The same program, but reverse mode keeps none of its intermediate values: the backward pass
 * re-runs the generator function to recompute them. Trades compute for memory.
 */
export function checkpoint<A extends unknown[], R>(f: (...args: A) => Gen<R>): (...args: A) => Gen<R> {
  checkProgram("checkpoint", f);
  const name = `checkpoint(${f.name || "f"})`;
  const fwd = function* (...args: A) {
    return [yield* f(...args), args] as [R, unknown];
  };
  const bwd = function* (args: unknown[], ct: Value) {
    const [, pullback] = vjpDirect(name, f as Fn, args);
    return yield* pullback(ct);
  };
  const p = { name, f: f as Fn, fwd: fwd as Fn, bwd: bwd as never };
  return function* checkpointProgram(...args: A) {
    return call(p, args) as R;
  };
}
