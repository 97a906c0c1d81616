// jit's cache key for a call's arguments, and the leaves the compiled program takes.
//
// Leaves are data: numbers, tensors and numeric typed arrays (staged as tensors of their
// length) enter the key by kind, dtype and shape only. Everything else is static and enters
// by value: strings (JSON-escaped), booleans, null, undefined, bigints; objects other than
// plain ones and arrays, and functions, by identity. Every piece is self-delimiting and
// starts with its own tag, so two different argument lists never give the same key. The key
// is only ever a Map key, never code.
import { Traced, type Value } from "../../effects/value.ts";
import { isLeaf } from "../pytree.ts";
import { Tensor } from "../tensor/tensor.ts";
import { arrayAsTensor, isNumericArray } from "../tensor/typed-array.ts";

const ids = new WeakMap<object, number>();
const symbolIds = new Map<symbol, number>();
let nextId = 0;
const identity = (o: object): number => {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
};
const symbolId = (s: symbol): number => {
  let id = symbolIds.get(s);
  if (id === undefined) symbolIds.set(s, (id = nextId++));
  return id;
};

const isPlainObject = (x: object): boolean => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/**
 * The key of `x`; pushes its leaves, in `flatten`'s order, onto `leaves` (a typed array as the
 * tensor the compiled program reads).
 */
export function signature(x: unknown, leaves: Value[]): string {
  if (isLeaf(x)) {
    leaves.push(x);
    // (a GPU tensor's program is compiled for the GPU: another key than a CPU tensor's)
    return typeof x === "number" ? "n" : x instanceof Tensor ? `${x.backend === "cpu" ? "t" : "g"}${x.dtype}[${x.shape.join(",")}]` : "?";
  }
  switch (typeof x) {
    case "string":
      return `s${JSON.stringify(x)}`;
    case "boolean":
      return x ? "T" : "F";
    case "undefined":
      return "U";
    case "bigint":
      return `i${x}`;
    case "symbol":
      return `y${symbolId(x)}`;
    case "function":
      return `#${identity(x)}`;
  }
  if (x === null) return "Z";
  const o = x as object;
  if (Array.isArray(o)) {
    let s = "[";
    for (let i = 0; i < o.length; i++) s += (i > 0 ? "," : "") + signature(o[i], leaves);
    return `${s}]`;
  }
  if (isNumericArray("jit", o)) {
    leaves.push(arrayAsTensor(o));
    return `a${o.constructor.name}[${o.length}]`;
  }
  if (isPlainObject(o)) {
    let s = "{";
    for (const k of Object.keys(o)) s += `${JSON.stringify(k)}:${signature((o as Record<string, unknown>)[k], leaves)},`;
    return `${s}}`;
  }
  return `#${identity(o)}`;
}

/** Whether any leaf is traced by an enclosing transformation (the jitted program then runs inline). */
export const anyTraced = (leaves: readonly Value[]): boolean => leaves.some((leaf) => leaf instanceof Traced);
