// vjp: run the program under a reverse handler and hand back its output with a pullback
// that replays the pending backward steps for any cotangent, as often as it is called.
import { ReverseTrace } from "../../effects/reverse.ts";
import { withTrace } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, TransformError, fmt } from "../errors.ts";
import { flatten, type Flat } from "../pytree.ts";
import { sameShape } from "../tensor/shape.ts";
import { checkProgram, differentiable, gradientFor, runToEnd, type Gen, type AnyProgram } from "./common.ts";

/** A program from a cotangent shaped like a program's output to the cotangents of its primals (an array). */
export type Pullback = (cotangent: unknown) => Gen<unknown[]>;

export function vjpDirect(name: string, f: AnyProgram, primals: readonly unknown[]): [unknown, Pullback] {
  checkProgram(name, f);
  const trace = new ReverseTrace(name);
  const { flats, inputs, outFlat, outLeaves } = withTrace(trace, () => {
    const flats: Flat[] = primals.map((p, i) => differentiable(name, p, i));
    const inputs = flats.map((flat) => flat.leaves.map((leaf) => trace.input(leaf)));
    const out = runToEnd(name, f, flats.map((flat, i) => flat.rebuild(inputs[i]!)));
    const outFlat = flatten(out);
    return { flats, inputs, outFlat, outLeaves: outFlat.leaves };
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
    return flats.map((flat, k) => flat.rebuild(inputs[k]!.map((box) => gradientFor(box.value, adj[box.id]!))));
  };
  return [value, function* pullback(ct: unknown) { return pullbackDirect(ct); }];
}

/** `yield* vjp(f, ...primals)` gives `[output, pullback]`; `yield* pullback(ct)` gives the primals' cotangents. */
export function* vjp<A extends unknown[], R>(f: (...args: A) => Gen<R>, ...primals: A): Gen<[R, Pullback]> {
  return vjpDirect("vjp", f as AnyProgram, primals) as [R, Pullback];
}
