// vmap: run a program once on a whole batch. Inputs are split along `inAxes`; the program sees
// one example's shapes; outputs are stacked along axis 0. The handler is BatchTrace
// (effects/batch.ts); each primitive's batching rule is the `batch` field of its record (its
// family's file in src/primitives/), built from the helpers in src/primitives/batching.ts.
import { BatchTrace } from "../../effects/batch.ts";
import { withTrace } from "../../effects/trace.ts";
import { Traced, shapeOf, type Value } from "../../effects/value.ts";
import { Tensor } from "../tensor/tensor.ts";
import { ShapeError, TransformError, fmt } from "../errors.ts";
import { flatten } from "../pytree.ts";
import { arraysAsTensors } from "../tensor/typed-array.ts";
import * as S from "../primitives/shape.ts";
import { BatchBox } from "../../effects/batch.ts";
import { markProgram } from "../misuse.ts";
import { checkProgram, runToEnd, type AnyProgram, type Gen } from "./common.ts";

/** Per argument: the axis that holds the batch, or null for an argument shared by every example. */
export type InAxes = number | null | readonly (number | null)[];

/** The type of a stacked result: every number or tensor leaf becomes a tensor with a batch axis. */
export type Stacked<R> = R extends number | Tensor ? Tensor : R extends Value ? Tensor | Traced : { [K in keyof R]: Stacked<R[K]> };

/** An argument as vmap takes it: where the program takes a number, a tensor of them along the batch axis. */
export type Batched<T> = unknown extends T ? T : T extends number ? number | Tensor : T extends Value ? T : { [K in keyof T]: Batched<T[K]> };

/**
 * Maps a program over a batch axis of its arguments (`inAxes`: per argument the axis, or null
 * for an argument shared by every example; default 0) and stacks the results along axis 0.
 */
export function vmap<A extends unknown[], R>(f: (...args: A) => Gen<R>, inAxes: InAxes = 0): (...args: { [K in keyof A]: Batched<A[K]> }) => Gen<Stacked<R>> {
  checkProgram("vmap", f);
  return markProgram("vmap", function* vmapProgram(...args: { [K in keyof A]: Batched<A[K]> }) {
    return vmapDirect(f as AnyProgram, args, inAxes) as Stacked<R>;
  });
}

export function vmapDirect(f: AnyProgram, args: readonly unknown[], inAxes: InAxes): unknown {
  const axes = Array.isArray(inAxes) ? inAxes : args.map(() => inAxes as number | null);
  if (axes.length !== args.length)
    throw new TransformError(`vmap: inAxes has ${axes.length} entries but the program was called with ${args.length} arguments; give one per argument`);
  // The batch size, from the first batched leaf; every batched leaf must agree.
  let size = -1;
  const split: { leaf: Value; axis: number }[] = [];
  const flats = args.map((arg, i) => {
    const axis = axes[i];
    if (axis === null || axis === undefined) return null;
    const flat = flatten(arraysAsTensors("vmap", arg)); // a typed array is data, split like a tensor
    for (const leaf of flat.leaves) {
      const s = shapeOf(leaf);
      const a = axis < 0 ? axis + s.length : axis;
      if (!Number.isInteger(axis) || a < 0 || a >= s.length)
        throw new ShapeError(`vmap: argument ${i} has a value of shape ${fmt(s)}, which has no axis ${axis} to map over; pass inAxes null for shared arguments`);
      if (size === -1) size = s[a]!;
      else if (s[a] !== size)
        throw new ShapeError(`vmap: argument ${i} has ${s[a]} examples along axis ${axis} (shape ${fmt(s)}), another argument has ${size}; every mapped axis must have the same size`);
      split.push({ leaf, axis: a });
    }
    return flat;
  });
  if (size === -1) throw new TransformError("vmap: no argument is mapped (every inAxes entry is null or every mapped argument is empty of tensors)");
  return withTrace(new BatchTrace(size), (trace) => {
    let k = 0;
    const batchedArgs = args.map((arg, i) => {
      const flat = flats[i];
      if (!flat) return arg;
      return flat.rebuild(
        flat.leaves.map(() => {
          const { leaf, axis } = split[k++]!;
          const rank = shapeOf(leaf).length;
          const perm = [axis, ...Array.from({ length: rank }, (_, d) => d).filter((d) => d !== axis)];
          return new BatchBox(trace, S.transpose(leaf, perm));
        }),
      );
    });
    const out = runToEnd("vmap", f, batchedArgs);
    const flat = flatten(out);
    return flat.rebuild(
      flat.leaves.map((v) => {
        if (trace.owns(v)) return v.value;
        const s = shapeOf(v); // the same for every example: broadcast it
        return S.broadcastTo(S.reshape(v, [1, ...s]), [size, ...s]);
      }),
    );
  });
}
