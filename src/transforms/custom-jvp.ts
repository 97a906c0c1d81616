// customJvp: a program applied as one primitive whose forward-mode rule the user gives.
// `jvpRule(primals, tangents)` gives `[output, outputTangent]`; forward mode applies it. Reverse
// mode uses it through linearization (as JAX): the rule's tangent output is linear in the
// tangents, so an operand's cotangent is the VJP of t ↦ jvpRule(primals, t)[1] at the output's
// cotangent — the rule's tangent computation transposed by a reverse pass of its own. Its
// operations on the primals are seen by the levels below, which is what makes grad of grad,
// jvp of grad and grad of jvp of a customJvp program work. Evaluation, staging and batching
// run the program itself (batching: the same primitive over the vmapped program and rule).
import { BatchTrace } from "../../effects/batch.ts";
import { definePrimitive, type MaybeValue, type Primitive } from "../../effects/primitive.ts";
import { ClosureCapture, bind } from "../../effects/trace.ts";
import { stagedAbstract } from "../../effects/stage.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, TransformError, fmt } from "../errors.ts";
import { flatten, isLeaf, type Flat } from "../pytree.ts";
import { sameShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { markProgram } from "../misuse.ts";
import { checkProgram, runToEnd, type AnyProgram, type Gen } from "./common.ts";
import { zerosLike } from "../number-kind.ts";
import { differentiatedBelow } from "./custom.ts";
import { vjpDirect } from "./vjp.ts";
import { vmapDirect } from "./vmap.ts";

interface JvpParams {
  readonly name: string;
  readonly f: AnyProgram;
  /** (primals: unknown[], tangents: unknown[]) => Gen<[output, outputTangent]> */
  readonly rule: AnyProgram;
  /** The structure of the argument list; the primitive's operands are its leaves. */
  readonly structure: Flat;
}

const argsOf = (leaves: readonly unknown[], p: JvpParams): unknown[] => p.structure.rebuild(leaves) as unknown[];

const describe = (v: unknown): string =>
  v === undefined ? "undefined" : v === null ? "null" : Array.isArray(v) ? `an array of ${v.length}` : v instanceof Tensor ? `a tensor of shape ${fmt(v.shape)}` : typeof v;

const output = (name: string, out: unknown): Value => {
  if (!isLeaf(out)) throw new TransformError(`${name}: the program must return a number or a tensor, got ${describe(out)}`);
  return out;
};

/** The program itself on these operands (evaluation, or expanded into its operations). */
const runProgram = (leaves: readonly Value[], p: JvpParams): Value => output(p.name, runToEnd<unknown>(p.name, p.f, argsOf(leaves, p)));

/** The rule on primal and tangent operands: [output, output tangent], checked. */
const runRule = (primals: readonly Value[], tangents: readonly Value[], p: JvpParams): [Value, Value] => {
  const res = runToEnd<unknown>(p.name, p.rule, [argsOf(primals, p), argsOf(tangents, p)]);
  if (!Array.isArray(res) || res.length !== 2)
    throw new TransformError(`${p.name}: jvpRule must return a pair [output, outputTangent], got ${describe(res)}`);
  const out = output(`${p.name} (jvpRule's output)`, res[0]);
  const t = output(`${p.name} (jvpRule's output tangent)`, res[1]);
  if (!sameShape(shapeOf(out), shapeOf(t)))
    throw new ShapeError(`${p.name}: jvpRule's output tangent has shape ${fmt(shapeOf(t))} but its output has ${fmt(shapeOf(out))}; a tangent is shaped like its value`);
  return [out, t];
};

/**
 * Forward mode: the rule gives output and tangent. Where a level below tracks an operand, the
 * output comes from the primitive applied at that level, so that the rule holds there too.
 */
const forwardByRule = (primals: readonly Value[], tangents: readonly MaybeValue[], p: JvpParams): { out: Value; tangent: Value } => {
  const [out, t] = runRule(primals, primals.map((x, i) => tangents[i] ?? zerosLike(x)), p);
  return { out: differentiatedBelow(primals) ? bind(customJvpCallP, primals, p) : out, tangent: t };
};

/** Reverse mode: the transpose of the rule's (linear) tangent map at the output's cotangent. */
const transposeRule = (ct: Value, primals: readonly Value[], p: JvpParams, wanted: readonly boolean[]): MaybeValue[] => {
  if (!wanted.some(Boolean)) return primals.map(() => null);
  const tangentMap = function* (...tangents: Value[]) {
    return runRule(primals, tangents, p)[1];
  };
  let cts: unknown;
  try {
    const [, pullback] = vjpDirect(p.name, tangentMap, primals.map(zerosLike));
    cts = runToEnd<unknown>(p.name, pullback, [ct]);
  } catch (e) {
    if (e instanceof ClosureCapture)
      throw new TransformError(
        `${p.name}: jvpRule reads a value of the enclosing ${e.trace.name} through a closure; give it what it needs as an argument of the function`,
      );
    throw e;
  }
  return (cts as Value[]).map((c, i) => (wanted[i] ? c : null));
};

const customJvpCallP: Primitive<JvpParams> = definePrimitive<JvpParams>({
  name: "customJvpCall",
  sealed: true,
  impl: runProgram,
  // Staged, the program is its operations: its generator runs only while tracing.
  inline: runProgram,
  abstractEval: (args, p) => stagedAbstract(args, (leaves) => runProgram(leaves, p)),
  jvp: (primals, tangents, _out, p) => forwardByRule(primals, tangents, p).tangent,
  forward: (primals, tangents, p) => forwardByRule(primals, tangents, p),
  vjp: (ct, primals, _out, p, wanted) => transposeRule(ct, primals, p, wanted),
  batch: (values, batched, p): Value => batchedCall(values, batched, p),
});

/**
 * Batching: the same primitive applied to the vmapped program and rule, so that every level
 * below still applies the rule. A tangent is batched where its primal is.
 */
const batchedCall = (values: readonly Value[], batched: readonly boolean[], p: JvpParams): Value => {
  const axes = batched.map((b) => (b ? 0 : null));
  const structure = flatten([...values]);
  const f = function* (...leaves: Value[]) {
    return vmapDirect((...ls: Value[]) => p.f(...argsOf(ls, p)), leaves, axes);
  };
  const rule = function* (primals: Value[], tangents: Value[]) {
    return vmapDirect(
      function* (ps: Value[], ts: Value[]) {
        return runRule(ps, ts, p);
      },
      [primals, tangents],
      [axes, axes],
    );
  };
  return bind(customJvpCallP, values, { name: p.name, f, rule, structure });
};

/**
 * The program applied as one primitive; a function that reads a mapped value of an enclosing
 * vmap through a closure runs once per example (the rule kept at every level), one that reads a
 * value of a differentiating transformation has no rule for it: a clear error.
 */
function* call(p: JvpParams): Gen<Value> {
  try {
    return bind(customJvpCallP, p.structure.leaves, p);
  } catch (e) {
    if (!(e instanceof ClosureCapture)) throw e;
    if (e.trace instanceof BatchTrace && e.trace.active) return e.trace.perExample(customJvpCallP, p.structure.leaves, p);
    throw new TransformError(
      `${p.name}: the function reads a value of the enclosing ${e.trace.name} through a closure, but a custom ` +
        "rule only says how to differentiate with respect to the explicit arguments; pass that value as an argument",
    );
  }
}

/**
 * A program with a user-defined forward-mode rule (JAX's `custom_jvp`): `jvpRule(primals,
 * tangents)` is a program given the arguments and their tangents (two arrays, one entry per
 * argument, tangents shaped like the arguments, zeros for arguments nobody differentiates) that
 * returns `[output, outputTangent]`. `jvp` and `jacfwd` apply it; reverse mode (`grad`, `vjp`,
 * `jacrev`) transposes its tangent output, which must be linear in the tangents; evaluation, `jit`
 * and `vmap` run `f`. Derivatives of every order differentiate the rule. `f` returns a number
 * or a tensor.
 */
export function customJvp<A extends unknown[], R>(
  f: (...args: A) => Gen<R>,
  jvpRule: (primals: A, tangents: A) => Gen<readonly [R, R] | readonly unknown[]>,
): (...args: A) => Gen<R> {
  checkProgram("customJvp (f)", f);
  checkProgram("customJvp (jvpRule)", jvpRule);
  const name = `customJvp(${f.name || "f"})`;
  return markProgram("customJvp", function* customJvpProgram(...args: A) {
    const structure = flatten(args);
    return (yield* call({ name, f: f as AnyProgram, rule: jvpRule as AnyProgram, structure })) as R;
  });
}
