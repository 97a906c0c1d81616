// Typed arrays passed to a transformation (an Int32Array of labels or token ids, a Float32Array
// of data) are data, like a tensor of their length: jit stages them as inputs (so a fresh array
// of the same type and length per call reuses the compiled program) and vmap splits them.
// Float32Array keeps float32; every other numeric array is read as float64, which holds each
// of its values exactly.
import { ValueError } from "../errors.ts";
import { isLeaf } from "../pytree.ts";
import { Tensor } from "./tensor.ts";

export type NumericArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** A typed array of numbers (not a DataView, not a BigInt array). Throws for those, naming `op`. */
export const isNumericArray = (op: string, x: unknown): x is NumericArray => {
  if (!ArrayBuffer.isView(x)) return false;
  if (x instanceof DataView || x instanceof BigInt64Array || x instanceof BigUint64Array)
    throw new ValueError(
      `${op}: a ${x.constructor.name} argument cannot be data (tensors hold float32 or float64 numbers); ` +
        "convert it with tensor(Array.from(x, Number)), or close over it",
    );
  return true;
};

/** A 1-d tensor with the array's values (a copy: the caller may change the array afterwards). */
export const arrayAsTensor = (a: NumericArray): Tensor =>
  new Tensor(a instanceof Float32Array ? a.slice() : Float64Array.from(a), [a.length]);

/** `tree` with every typed array replaced by its tensor, so that `flatten` sees it as a leaf. */
export function arraysAsTensors(op: string, tree: unknown): unknown {
  if (isLeaf(tree) || typeof tree !== "object" || tree === null) return tree;
  if (Array.isArray(tree)) return tree.map((x) => arraysAsTensors(op, x));
  if (isNumericArray(op, tree)) return arrayAsTensor(tree);
  const proto = Object.getPrototypeOf(tree);
  if (proto !== Object.prototype && proto !== null) return tree;
  // defineProperty, not assignment: a key such as "__proto__" stays a plain own key (as flatten)
  const out: Record<string, unknown> = Object.create(proto);
  for (const k of Object.keys(tree))
    Object.defineProperty(out, k, { value: arraysAsTensors(op, (tree as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
  return out;
}
