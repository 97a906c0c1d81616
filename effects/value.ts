// What flows through a program: plain numbers, Tensors, and traced values (boxes) that a
// handler hands the program in place of them.
import { EscapeError } from "../src/errors.ts";
import { Tensor, type DType } from "../src/tensor/tensor.ts";
import type { Trace } from "./trace.ts";

/**
 * A value owned by one handler level (a box: primal + what the handler tracks).
 * Pass it to operations like a tensor; read the concrete value behind it with `primal(v)`.
 */
export abstract class Traced {
  // Fields are declared, not defined: V8 builds an instance of a derived class several times
  // faster when its fields are plain assignments in the constructors (boxes are made per operation).
  /** @internal */
  declare readonly trace: Trace;
  constructor(trace: Trace) {
    this.trace = trace;
  }
  abstract get shape(): readonly number[];
  abstract get dtype(): DType;
  /** @internal The value one level down (a number, Tensor or a box of a lower level). */
  abstract get inner(): Value;
  /** @internal False where no single concrete value stands behind the box (batched, staged). */
  get hasInner(): boolean {
    return true;
  }
  /** @internal Whether the box stands for a plain number (so derivatives stay numbers). */
  get numberLike(): boolean {
    return this.hasInner && isNumberLike(this.inner);
  }
  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** JS arithmetic on a box would silently give NaN; say what to do instead. */
  valueOf(): never {
    throw new EscapeError(
      `a traced value (inside ${this.trace.name}) was used with JS arithmetic or comparison; ` +
        `use operations (yield* mul(a, b)) or read the concrete value with primal(v)`,
    );
  }
  /** `Traced(level, dtype, [shape])`, for printing. */
  toString(): string {
    return `Traced(${this.trace.name}, ${this.dtype}, [${this.shape.join(", ")}])`;
  }
}

/** A box whose primal value (one level down) it holds as `value`: forward and reverse boxes. */
export abstract class PrimalBox extends Traced {
  declare readonly value: Value;
  constructor(trace: Trace, value: Value) {
    super(trace);
    this.value = value;
  }
  get inner(): Value {
    return this.value;
  }
  get shape(): readonly number[] {
    return shapeOf(this.value);
  }
  get dtype(): DType {
    return dtypeOf(this.value);
  }
}

/** A number, a Tensor, or a traced value. */
export type Value = number | Tensor | Traced;

export const shapeOf = (v: Value): readonly number[] => (typeof v === "number" ? EMPTY : v.shape);
export const dtypeOf = (v: Value): DType => (typeof v === "number" ? "float64" : v.dtype);
const EMPTY: readonly number[] = Object.freeze([]);

/** The concrete number or Tensor behind any value. */
export const primal = (v: Value): number | Tensor => {
  let x = v;
  while (x instanceof Traced) x = x.inner;
  return x;
};

/** A number, or a box that stands for one (not a batched value: that is a tensor). */
export const isNumberLike = (v: Value): boolean => (v instanceof Traced ? v.numberLike : typeof v === "number");

export const isValue = (v: unknown): v is Value =>
  typeof v === "number" || v instanceof Tensor || v instanceof Traced;
