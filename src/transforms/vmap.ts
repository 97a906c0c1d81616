// vmap: run a program once on a whole batch. Inputs are split along `inAxes`; the program sees
// one example's shapes; outputs are stacked along axis 0. The last module of vmap's chain: the
// handler is BatchTrace (effects/batch.ts), installed here with how examples split and stack
// (src/primitives/batching.ts); each primitive's batching rule is the `batch` field of its
// record (its family's file in src/primitives/), built from the helpers of batching.ts.
import { BatchTrace } from "../../effects/batch.ts";
import { withTrace } from "../../effects/trace.ts";
import { Traced, shapeOf, type Value } from "../../effects/value.ts";
import { Tensor } from "../tensor/tensor.ts";
import { ShapeError, TransformError, fmt, show } from "../errors.ts";
import { flatten } from "../pytree.ts";
import { arraysAsTensors } from "../tensor/typed-array.ts";
import * as S from "../primitives/shape.ts";
import { exampleOf, stackExamples } from "../primitives/batching.ts";
import { BatchBox } from "../../effects/batch.ts";
import { markProgram } from "../misuse.ts";
import { checkProgram, runToEnd, type AnyProgram, type Gen } from "./common.ts";

/**
 * Where a value's batch axis is: a number (negative counts from the end), null for a value
 * shared by every example, or a pytree of them matching the value's structure (a prefix: a
 * number or null applies to everything below it), as JAX's in_axes / out_axes.
 */
export type AxisTree = number | null | readonly AxisTree[] | { readonly [key: string]: AxisTree };

/** vmap's `inAxes`: one AxisTree for every argument, or an array of one per argument. */
export type InAxes = AxisTree;

/** The type of a stacked result: every number or tensor leaf becomes a tensor with a batch axis. */
export type Stacked<R> = R extends number | Tensor ? Tensor : R extends Value ? Tensor | Traced : { [K in keyof R]: Stacked<R[K]> };

/** An argument as vmap takes it: where the program takes a number, a tensor of them along the batch axis. */
export type Batched<T> = unknown extends T ? T : T extends number ? number | Tensor : T extends Value ? T : { [K in keyof T]: Batched<T[K]> };

/**
 * Maps a program over a batch axis of its arguments and stacks the results. `inAxes` (default
 * 0) says where each argument's batch axis is: a number, null for an argument shared by every
 * example, or a pytree of them matching the arguments (an array of one per argument; within an
 * argument, a number or null applies to its whole subtree). `outAxes` (default 0) says where
 * the batch axis goes in the result, likewise (null: a result leaf that does not depend on the
 * batch, returned once).
 */
export function vmap<A extends unknown[], R>(
  f: (...args: A) => Gen<R>,
  inAxes: InAxes = 0,
  outAxes: AxisTree = 0,
): (...args: { [K in keyof A]: Batched<A[K]> }) => Gen<Stacked<R>> {
  checkProgram("vmap", f);
  return markProgram("vmap", function* vmapProgram(...args: { [K in keyof A]: Batched<A[K]> }) {
    return vmapDirect(f as AnyProgram, args, inAxes, outAxes) as Stacked<R>;
  });
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x) && (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null);

/**
 * The axis of every leaf of `tree` (in flatten's order) from the prefix tree `axes`; `what`
 * names the value for errors ("argument 1", "the result").
 */
function leafAxes(option: string, axes: unknown, tree: unknown, what: string): (number | null)[] {
  const out: (number | null)[] = [];
  const walk = (a: unknown, t: unknown, path: string): void => {
    if (a === null || typeof a === "number") {
      if (a !== null && !Number.isInteger(a)) throw new ShapeError(`vmap: ${option} ${path} is ${show(a)}; an axis must be an integer or null`);
      out.push(...flatten(t).leaves.map(() => a));
      return;
    }
    if (Array.isArray(a)) {
      if (!Array.isArray(t) || t.length !== a.length)
        throw new TransformError(
          `vmap: ${option} ${path} is an array of ${a.length} but the value there is ${Array.isArray(t) ? `an array of ${t.length}` : describe(t)}; ` +
            "give a number or null for the whole value, or an array matching it",
        );
      a.forEach((ai, i) => walk(ai, t[i], `${path}[${i}]`));
      return;
    }
    if (isPlainObject(a)) {
      if (!isPlainObject(t))
        throw new TransformError(`vmap: ${option} ${path} is an object but the value there is ${describe(t)}; give a number or null, or an object with its keys`);
      const extra = Object.keys(a).filter((k) => !(k in t));
      if (extra.length > 0) throw new TransformError(`vmap: ${option} ${path} has key(s) ${extra.join(", ")} that the value there does not have`);
      for (const k of Object.keys(t)) {
        if (!(k in a)) throw new TransformError(`vmap: ${option} ${path} has no key ${k}, which the value there has; give every key (null for a shared one)`);
        walk(a[k], t[k], `${path}.${k}`);
      }
      return;
    }
    throw new TransformError(`vmap: ${option} ${path} is ${show(a)}; axes are numbers, null, or arrays and objects of them`);
  };
  walk(axes, tree, what);
  return out;
}

const describe = (t: unknown): string =>
  t instanceof Tensor ? `a tensor of shape ${fmt(t.shape)}` : t instanceof Traced ? "a traced value" : t === null ? "null" : Array.isArray(t) ? "an array" : typeof t === "object" ? "an object" : `a ${typeof t}`;

export function vmapDirect(f: AnyProgram, args: readonly unknown[], inAxes: InAxes, outAxes: AxisTree = 0): unknown {
  if (Array.isArray(inAxes) && inAxes.length !== args.length)
    throw new TransformError(`vmap: inAxes has ${inAxes.length} entries but the program was called with ${args.length} arguments; give one per argument`);
  // The batch size, from the first batched leaf; every batched leaf must agree.
  let size = -1;
  const split: { axis: number }[] = [];
  const flats = args.map((arg, i) => {
    const entry = Array.isArray(inAxes) ? (inAxes as readonly AxisTree[])[i] : inAxes;
    if (entry === null || entry === undefined) return null;
    const flat = flatten(arraysAsTensors("vmap", arg)); // a typed array is data, split like a tensor
    const axes = leafAxes("inAxes", entry, arraysAsTensors("vmap", arg), `argument ${i}`);
    flat.leaves.forEach((leaf, k) => {
      const axis = axes[k]!;
      if (axis === null) return;
      const s = shapeOf(leaf);
      const a = axis < 0 ? axis + s.length : axis;
      if (a < 0 || a >= s.length)
        throw new ShapeError(`vmap: argument ${i} has a value of shape ${fmt(s)}, which has no axis ${axis} to map over; pass inAxes null for shared arguments`);
      if (size === -1) size = s[a]!;
      else if (s[a] !== size)
        throw new ShapeError(`vmap: argument ${i} has ${s[a]} examples along axis ${axis} (shape ${fmt(s)}), another argument has ${size}; every mapped axis must have the same size`);
      split.push({ axis: a });
    });
    return { flat, axes };
  });
  if (size === -1) throw new TransformError("vmap: no argument is mapped (every inAxes entry is null or every mapped argument is empty of tensors)");
  return withTrace(new BatchTrace(size, { exampleOf, stack: stackExamples }), (trace) => {
    let k = 0;
    const batchedArgs = args.map((arg, i) => {
      const mapped = flats[i];
      if (!mapped) return arg;
      return mapped.flat.rebuild(
        mapped.flat.leaves.map((leaf, j) => {
          if (mapped.axes[j] === null) return leaf;
          const { axis } = split[k++]!;
          const rank = shapeOf(leaf).length;
          const perm = [axis, ...Array.from({ length: rank }, (_, d) => d).filter((d) => d !== axis)];
          return new BatchBox(trace, S.transpose(leaf, perm));
        }),
      );
    });
    const out = runToEnd("vmap", f, batchedArgs);
    const flat = flatten(out);
    const axes = leafAxes("outAxes", outAxes, out, "the result");
    return flat.rebuild(
      flat.leaves.map((v, j) => {
        const axis = axes[j]!;
        if (axis === null) {
          if (trace.owns(v))
            throw new TransformError(
              `vmap: outAxes is null for result leaf ${j}, but it depends on the mapped arguments (it differs per example); give it an axis`,
            );
          return v;
        }
        // the same for every example when not owned: broadcast it
        const stacked = trace.owns(v) ? v.value : S.broadcastTo(S.reshape(v, [1, ...shapeOf(v)]), [size, ...shapeOf(v)]);
        const rank = shapeOf(stacked).length;
        const a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
          throw new ShapeError(`vmap: outAxes ${axis} for result leaf ${j} of shape ${fmt(shapeOf(stacked).slice(1))} per example: the batched result has no axis ${axis}`);
        if (a === 0) return stacked;
        const perm = Array.from({ length: rank }, (_, d) => d).filter((d) => d !== 0);
        perm.splice(a, 0, 0);
        return S.transpose(stacked, perm);
      }),
    );
  });
}
