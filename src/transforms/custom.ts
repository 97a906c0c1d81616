// customVjp and checkpoint: a program applied as one primitive whose reverse rule the user
// gives (customVjp) or that recomputes its forward pass during the backward pass (checkpoint).
// Forward mode differentiates the program itself.
import { BatchBox, BatchTrace } from "../../effects/batch.ts";
import { DualBox } from "../../effects/forward.ts";
import { ReverseBox } from "../../effects/reverse.ts";
import { definePrimitive, type MaybeValue, type Primitive } from "../../effects/primitive.ts";
import { ClosureCapture, bind } from "../../effects/trace.ts";
import { stagedAbstract } from "../../effects/stage.ts";
import { Traced, type Value } from "../../effects/value.ts";
import { TransformError } from "../errors.ts";
import { flatten, isLeaf, mapLeaves, type Flat } from "../pytree.ts";
import { markProgram } from "../misuse.ts";
import { checkProgram, runToEnd, type Gen, type AnyProgram } from "./common.ts";
import { zerosLike } from "../number-kind.ts";
import { jvpDirect } from "./forward.ts";
import { vmapDirect } from "./vmap.ts";
import { sum } from "../primitives/reduce.ts";
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
const runProgram = (leaves: readonly Value[], p: CustomParams): Value => output(p.name, runToEnd<unknown>(p.name, p.f, argsOf(leaves, p)));

/**
 * Whether a level below the one applying the rule differentiates an operand: it must then be
 * handed the primitive itself, to apply the rule too. (Staging and batching below need not:
 * they compute what fwd's operations compute.)
 */
export const differentiatedBelow = (primals: readonly Value[]): boolean => primals.some(differentiated);
const differentiated = (v: Value): boolean => {
  for (let x: unknown = v; x instanceof Traced; x = x instanceof BatchBox ? x.value : x.hasInner ? x.inner : undefined)
    if (x instanceof ReverseBox || x instanceof DualBox) return true;
  return false;
};

/**
 * Forward mode differentiates the program itself: one run gives value and tangent. When a level
 * below tracks an operand, the output comes from the primitive applied at that level, so that
 * its own rule (a custom VJP at an outer grad) holds there.
 */
const forwardThrough = (primals: readonly Value[], tangents: readonly MaybeValue[], p: CustomParams): { out: Value; tangent: Value } => {
  const zeroed = primals.map((x, i) => tangents[i] ?? zerosLike(x));
  const [out, t] = jvpDirect(p.name, p.f, argsOf(primals, p), argsOf(zeroed, p));
  return { out: differentiatedBelow(primals) ? bind(customCallP, primals, p) : output(p.name, out), tangent: t as Value };
};

const customCallP: Primitive<CustomParams> = definePrimitive<CustomParams>({
  name: "customCall",
  sealed: true,
  impl: runProgram,
  // Staged, the program is its operations: its generator runs only while tracing.
  inline: runProgram,
  // Its result's shape: the program staged on variables (nothing computed).
  abstractEval: (args, p) => stagedAbstract(args, (leaves) => runProgram(leaves, p)),
  jvp: (primals, tangents, _out, p) => forwardThrough(primals, tangents, p).tangent,
  forward: (primals, tangents, p) => forwardThrough(primals, tangents, p),
  reverse: (primals, p) => {
    const res = runToEnd<unknown>(p.name, p.fwd, argsOf(primals, p));
    if (!Array.isArray(res) || res.length !== 2)
      throw new TransformError(`${p.name}: fwd must return [output, residuals], got ${typeof res}`);
    // fwd's output is differentiated by the levels below through fwd's operations; where a
    // level below tracks an operand, apply the primitive there instead, so the rule holds at
    // every level (JAX's custom_vjp invariance: grad of valueAndGrad(f)'s value is grad f).
    const out = differentiatedBelow(primals) ? bind(customCallP, primals, p) : output(p.name, res[0]);
    // Residuals are kept for the backward pass, after a vmap running this once per example has
    // moved on: keep the example's part of any mapped value they hold.
    return { out, residuals: mapLeaves(res[1], (leaf) => (leaf instanceof Traced && leaf.trace.substituting ? leaf.trace.substitute(leaf) : leaf)) };
  },
  vjp: (ct, primals, _out, p, _wanted, residuals) => {
    let cts: unknown;
    try {
      cts = runToEnd<unknown>(p.name, p.bwd as Fn, [residuals, ct]);
    } catch (e) {
      if (e instanceof ClosureCapture)
        throw new TransformError(
          `${p.name}: bwd reads a value of the enclosing ${e.trace.name} through a closure; ` +
            "give bwd what it needs through the residuals that fwd returns",
        );
      throw e;
    }
    return perLeafCotangents(p, primals.length, cts);
  },
  batch: (values, batched, p): Value => batchedCall(values, batched, p),
});

/** bwd's result (one cotangent per argument, shaped like it; null means zero) as one per operand leaf. */
function perLeafCotangents(p: CustomParams, leafCount: number, cts: unknown): MaybeValue[] {
  const args = argsOf(Array<Value>(leafCount).fill(0), p);
  if (!Array.isArray(cts) || cts.length !== args.length)
    throw new TransformError(`${p.name}: bwd must return an array with one cotangent per argument (${args.length}), got ${Array.isArray(cts) ? cts.length : typeof cts}`);
  return args.flatMap((arg, i): MaybeValue[] => {
    const argLeaves = flatten(arg).leaves.length;
    if (cts[i] === null || cts[i] === undefined) return Array<MaybeValue>(argLeaves).fill(null);
    const leaves = flatten(cts[i]).leaves;
    if (leaves.length !== argLeaves)
      throw new TransformError(`${p.name}: bwd's cotangent for argument ${i} has ${leaves.length} values, the argument has ${argLeaves}; give one shaped like the argument (or null for zero)`);
    return leaves;
  });
}

/**
 * Batching: the same primitive applied to the vmapped programs (JAX's batching of custom_vjp):
 * f and fwd mapped over the batched operands, bwd over residuals and cotangent, so that every
 * level below still applies the rule. A shared operand's cotangent sums over the batch.
 */
const batchedCall = (values: readonly Value[], batched: readonly boolean[], p: CustomParams): Value => {
  const axes = batched.map((b) => (b ? 0 : null));
  const structure = flatten([...values]);
  const mapped = (g: Fn) =>
    function* (...leaves: Value[]) {
      return vmapDirect((...ls: Value[]) => g(...argsOf(ls, p)), leaves, axes);
    };
  const bwd = function* (residuals: unknown, ct: Value) {
    const cts = vmapDirect(
      function* (r: unknown, c: Value) {
        return perLeafCotangents(p, values.length, runToEnd<unknown>(p.name, p.bwd as Fn, [r, c]));
      },
      [residuals, ct],
      [0, 0],
    ) as MaybeValue[];
    return cts.map((c, i) => (c === null || batched[i] ? c : sum(c, { axes: [0], keepdims: false })));
  };
  const params: CustomParams = { name: p.name, f: mapped(p.f), fwd: mapped(p.fwd), bwd: bwd as never, structure };
  return bind(customCallP, values, params);
};

/**
 * Applies the program as one primitive. `onCapture` decides what happens when the program
 * reads a value of a transformation through a closure (see `sealed` in effects/trace.ts).
 */
function* call(p: Omit<CustomParams, "structure">, args: unknown[], onCapture: (e: ClosureCapture, params: CustomParams, leaves: readonly Value[]) => Gen<Value>): Gen<Value> {
  const structure = flatten(args);
  const params: CustomParams = { ...p, structure };
  try {
    return bind(customCallP, structure.leaves, params);
  } catch (e) {
    if (!(e instanceof ClosureCapture)) throw e;
    return yield* onCapture(e, params, structure.leaves);
  }
}

/**
 * A customVjp whose function reads a mapped value of an enclosing vmap through a closure runs
 * once per example (the rule is kept at every level); one that reads a value of a
 * differentiating transformation has no rule for it, as in JAX: a clear error.
 */
function* closedOverByCustomVjp(e: ClosureCapture, params: CustomParams, leaves: readonly Value[]): Gen<Value> {
  if (e.trace instanceof BatchTrace && e.trace.active) return e.trace.perExample(customCallP, leaves, params);
  throw new TransformError(
    `${params.name}: the function reads a value of the enclosing ${e.trace.name} through a closure, but a custom ` +
      "rule only says how to differentiate with respect to the explicit arguments; pass that value as an " +
      "argument (and give its cotangent in bwd)",
  );
}

/**
 * A checkpointed function that reads a differentiated value through a closure runs as itself
 * (nothing is recomputed for it): the same derivatives, without the memory saving.
 */
function* asItself(_e: ClosureCapture, params: CustomParams, leaves: readonly Value[]): Gen<Value> {
  return output(params.name, yield* params.f(...argsOf(leaves, params)));
}

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
  return markProgram("customVjp", function* customVjpProgram(...args: A) {
    return (yield* call(p, args, closedOverByCustomVjp)) as R;
  });
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
  return markProgram("checkpoint", function* checkpointProgram(...args: A) {
    return (yield* call(p, args, asItself)) as R;
  });
}
