// jvp: push tangents forward through a program under a fresh forward handler.
import { DualBox, ForwardTrace } from "../../effects/forward.ts";
import { withTrace } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, TransformError, fmt } from "../errors.ts";
import { flatten } from "../pytree.ts";
import { sameShape } from "../tensor/shape.ts";
import { checkProgram, runToEnd, type Gen, type AnyProgram } from "./common.ts";
import { zerosLike } from "../number-kind.ts";

/** [output, output tangent] of `f` at `primals` along `tangents` (direct style). */
export function jvpDirect(name: string, f: AnyProgram, primals: readonly unknown[], tangents: readonly unknown[]): [unknown, unknown] {
  checkProgram(name, f);
  if (!Array.isArray(primals) || !Array.isArray(tangents) || primals.length !== tangents.length)
    throw new TransformError(
      `${name}: takes arrays of primals and tangents of the same length, got ${describeList(primals)} and ${describeList(tangents)}`,
    );
  return withTrace(new ForwardTrace(name), (trace) => {
    const args = primals.map((p, i) => {
      const pf = flatten(p);
      const tf = flatten(tangents[i]);
      if (pf.leaves.length !== tf.leaves.length)
        throw new TransformError(`${name}: tangent ${i} does not have the structure of primal ${i} (${tf.leaves.length} vs ${pf.leaves.length} leaves)`);
      return pf.rebuild(
        pf.leaves.map((leaf, k) => {
          const t = tf.leaves[k]!;
          if (!sameShape(shapeOf(leaf), shapeOf(t)))
            throw new ShapeError(`${name}: tangent ${i} has shape ${fmt(shapeOf(t))} where its primal has ${fmt(shapeOf(leaf))}; tangents are shaped like primals`);
          return new DualBox(trace, leaf, t);
        }),
      );
    });
    const out = runToEnd(name, f, args);
    const flat = flatten(out);
    const values = flat.leaves.map((v) => (trace.owns(v) ? v.value : v));
    const outTangents = flat.leaves.map((v) => (trace.owns(v) ? v.tangent : zerosLike(v as Value)));
    return [flat.rebuild(values), flat.rebuild(outTangents)];
  });
}

const describeList = (x: unknown): string => (Array.isArray(x) ? `${x.length} item(s)` : typeof x);

/** `yield* jvp(f, primals, tangents)` gives `[output, outputTangent]`. */
export function* jvp<A extends unknown[], R>(f: (...args: A) => Gen<R>, primals: A, tangents: A): Gen<[R, R]> {
  return jvpDirect("jvp", f as AnyProgram, primals, tangents) as [R, R];
}
