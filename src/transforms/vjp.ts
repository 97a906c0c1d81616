// vjp: run the program under a reverse handler and hand back its output with a pullback
// that replays the pending backward steps for any cotangent, as often as it is called.
import { ReverseTrace } from "../../effects/reverse.ts";
import { cotangentSum } from "./cotangent-sum.ts";
import { withTrace } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, TransformError, fmt } from "../errors.ts";
import { flatten, type Flat } from "../pytree.ts";
import { sameShape } from "../tensor/shape.ts";
import { checkProgram, differentiable, gradientFor, runToEnd, type Gen, type AnyProgram } from "./common.ts";
import { splitAux } from "./grad.ts";

/** A program from a cotangent shaped like a program's output to the cotangents of its primals (an array). */
export type Pullback = (cotangent: unknown) => Gen<unknown[]>;

/** [output, pullback] of `f` at `primals` (direct style); with `hasAux`, [output, pullback, aux] for a program returning [output, aux]. */
export function vjpDirect(name: string, f: AnyProgram, primals: readonly unknown[], hasAux = false): [unknown, Pullback, unknown?] {
  checkProgram(name, f);
  const trace = new ReverseTrace(name, cotangentSum);
  const { flats, inputs, outFlat, outLeaves, aux } = withTrace(trace, () => {
    const flats: Flat[] = primals.map((p, i) => differentiable(name, p, i));
    const inputs = flats.map((flat) => flat.leaves.map((leaf) => trace.input(leaf)));
    const [out, aux] = splitAux(name, runToEnd(name, f, flats.map((flat, i) => flat.rebuild(inputs[i]!))), hasAux, trace);
    const outFlat = flatten(out);
    return { flats, inputs, outFlat, outLeaves: outFlat.leaves, aux };
  });
  const value = outFlat.rebuild(outLeaves.map((v) => (trace.owns(v) ? v.value : v)));
  const pullbackDirect = (ct: unknown): unknown[] => {
    const ctLeaves = flatten(ct).leaves;
    if (ctLeaves.length !== outLeaves.length)
      throw new TransformError(`${name} pullback: the cotangent has ${ctLeaves.length} leaves but the output has ${outLeaves.length}; pass a cotangent shaped like the output`);
    ctLeaves.forEach((c, i) => {
      if (!sameShape(shapeOf(c), shapeOf(outLeaves[i]!)))
        throw new ShapeError(`${name} pullback: cotangent ${i} has shape ${fmt(shapeOf(c))} but the output has ${fmt(shapeOf(outLeaves[i]!))}`);
    });
    const adj = trace.backward(outLeaves, ctLeaves as Value[]);
    return flats.map((flat, k) => flat.rebuild(inputs[k]!.map((box) => gradientFor(box.value, adj.of(box)))));
  };
  const pullback: Pullback = function* pullback(ct: unknown) { return pullbackDirect(ct); };
  return hasAux ? [value, pullback, aux] : [value, pullback];
}

/** `yield* vjp(f, ...primals)` gives `[output, pullback]`; `yield* pullback(ct)` gives the primals' cotangents. */
export function* vjp<A extends unknown[], R>(f: (...args: A) => Gen<R>, ...primals: A): Gen<[R, Pullback]> {
  return vjpDirect("vjp", f as AnyProgram, primals) as [R, Pullback];
}

/**
 * `vjp` of a program returning `[output, aux]`: `yield* vjpWithAux(f, ...primals)` gives
 * `[output, pullback, aux]` (JAX's `vjp(..., has_aux=True)`); the pullback differentiates the
 * output only, `aux` (any pytree) is data, not differentiated.
 */
export function vjpWithAux<A extends unknown[], O, X>(f: (...args: A) => Gen<readonly [O, X]>, ...primals: A): Gen<[O, Pullback, X]>;
/** `vjpWithAux` of a program whose result's type is an array rather than a pair (a pair at run time). */
export function vjpWithAux<A extends unknown[]>(f: (...args: A) => Gen<readonly unknown[]>, ...primals: A): Gen<[unknown, Pullback, unknown]>;
export function* vjpWithAux(f: AnyProgram, ...primals: unknown[]): Gen<[unknown, Pullback, unknown]> {
  return vjpDirect("vjpWithAux", f, primals, true) as [unknown, Pullback, unknown];
}
