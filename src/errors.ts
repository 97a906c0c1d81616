// Every error yieldiff throws is a class with a `_tag`, so Effect users can `catchTag` it.
// Messages name the operation, the shapes/dtypes involved, and what to do.

/** The base of every error yieldiff throws; `_tag` names the class, as Effect's `catchTag` expects. */
export abstract class YieldiffError extends Error {
  abstract readonly _tag: string;
}

/** Operand shapes that do not fit the operation (broadcasting, matmul, reshape, axes). */
export class ShapeError extends YieldiffError {
  readonly _tag = "ShapeError" as const;
  override name = "ShapeError";
}

/** A dtype the operation cannot take, or a non-float value where a float is needed. */
export class DTypeError extends YieldiffError {
  readonly _tag = "DTypeError" as const;
  override name = "DTypeError";
}

/** An index that is out of range, not an integer, or of the wrong kind. */
export class IndexError extends YieldiffError {
  readonly _tag = "IndexError" as const;
  override name = "IndexError";
}

/** A program yielded something that is not an effect, or misused the effect protocol. */
export class EffectError extends YieldiffError {
  readonly _tag = "EffectError" as const;
  override name = "EffectError";
}

/** Bad values for an argument that is not a shape, dtype or index (e.g. `tensor` of ragged arrays). */
export class ValueError extends YieldiffError {
  readonly _tag = "ValueError" as const;
  override name = "ValueError";
}

/** A traced value used outside the transformation that made it. */
export class EscapeError extends YieldiffError {
  readonly _tag = "EscapeError" as const;
  override name = "EscapeError";
}

/** A transformation applied to a program it cannot transform (e.g. `grad` of a non-scalar). */
export class TransformError extends YieldiffError {
  readonly _tag = "TransformError" as const;
  override name = "TransformError";
}

/**
 * A backend that cannot do what was asked: no WebGPU adapter, a tensor of another backend, an
 * operation not yet available on the backend, or a GPU tensor read synchronously.
 */
export class BackendError extends YieldiffError {
  readonly _tag = "BackendError" as const;
  override name = "BackendError";
}

/** Any of the operation errors: what `runEffect` of yieldiff/effect can fail with. */
export type AnyYieldiffError =
  | ShapeError
  | DTypeError
  | IndexError
  | EffectError
  | ValueError
  | EscapeError
  | TransformError
  | BackendError;

/** Formats a shape the way messages print it: `[2, 3]`. */
export const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/**
 * Formats any value a user passed, for a message: numbers as JavaScript prints them (NaN and
 * Infinity stay NaN and Infinity, where JSON.stringify would say null), strings quoted, arrays
 * as `[a, b]`, plain objects as `{ k: v }`, other objects by their class.
 */
export const show = (v: unknown, depth = 0): string => {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined || v === null || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "function") return v.name ? `a function (${v.name})` : "a function";
  if (typeof v === "symbol") return v.toString();
  if (depth > 2) return Array.isArray(v) ? "[...]" : "{...}";
  if (Array.isArray(v)) {
    const items = v.slice(0, 16).map((x) => show(x, depth + 1));
    return `[${items.join(", ")}${v.length > 16 ? `, ... (${v.length} items)` : ""}]`;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(v as object);
    const items = keys.slice(0, 8).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${show((v as Record<string, unknown>)[k], depth + 1)}`);
    return keys.length === 0 ? "{}" : `{ ${items.join(", ")}${keys.length > 8 ? ", ..." : ""} }`;
  }
  const name = (v as object).constructor?.name;
  return name ? `${/^[AEIOU]/i.test(name) ? "an" : "a"} ${name}` : "an object";
};
