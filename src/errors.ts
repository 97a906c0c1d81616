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

/** Any of the operation errors: what `runEffect` of yieldiff/effect can fail with. */
export type AnyYieldiffError =
  | ShapeError
  | DTypeError
  | IndexError
  | EffectError
  | ValueError
  | EscapeError
  | TransformError;

/** Formats a shape the way messages print it: `[2, 3]`. */
export const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;
