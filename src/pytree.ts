// Pytrees: numbers, tensors and traced values (the leaves) inside plain arrays and plain
// objects. Anything else (strings, booleans, null, class instances, functions) is carried
// through unchanged as a constant.
import { Traced, type Value } from "../effects/value.ts";
import { Tensor } from "./tensor/tensor.ts";

/** A number, a Tensor, or plain arrays/objects of pytrees. */
export type PyTree = Value | readonly PyTree[] | { readonly [key: string]: PyTree };

export const isLeaf = (x: unknown): x is Value => typeof x === "number" || x instanceof Tensor || x instanceof Traced;

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

export interface Flat {
  readonly leaves: Value[];
  /** Builds the same structure with new leaves, in order. */
  rebuild(leaves: readonly unknown[]): unknown;
}

/** Leaves in a fixed order (arrays by index, objects by own enumerable keys). */
export function flatten(tree: unknown): Flat {
  const leaves: Value[] = [];
  const collect = (x: unknown): void => {
    if (isLeaf(x)) leaves.push(x);
    else if (Array.isArray(x)) x.forEach(collect);
    else if (isPlainObject(x)) for (const k of Object.keys(x)) collect(x[k]);
  };
  collect(tree);
  const rebuild = (next: readonly unknown[]): unknown => {
    let i = 0;
    const build = (x: unknown): unknown => {
      if (isLeaf(x)) return next[i++];
      if (Array.isArray(x)) return x.map(build);
      if (isPlainObject(x)) {
        // defineProperty, not assignment: a key such as "__proto__" stays a plain own key
        const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(x));
        for (const k of Object.keys(x)) Object.defineProperty(out, k, { value: build(x[k]), enumerable: true, writable: true, configurable: true });
        return out;
      }
      return x;
    };
    return build(tree);
  };
  return { leaves, rebuild };
}

/** Applies `f` to every leaf. */
export const mapLeaves = <T>(tree: T, f: (leaf: Value) => unknown): T => {
  const flat = flatten(tree);
  return flat.rebuild(flat.leaves.map(f)) as T;
};
