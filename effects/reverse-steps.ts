// The pending steps of reverse mode, as columns (struct of arrays), and the adjoints of a
// backward pass. A scalar step — one or two number operands, no parameters — is its kind and
// its primitive's code in one 16-bit slot, its operands' step indices and its output value:
// typed-array slots only, nothing the garbage collector traces. Any other step keeps an object.
import { primitiveCode, type MaybeValue, type Primitive } from "./primitive.ts";
import { evaluatesNumbers } from "./trace.ts";
import type { CotangentSum } from "./reverse.ts";
import type { Value } from "./value.ts";

/** Step kinds. */
export const INPUT = 0;
export const UNARY = 1;
export const BINARY = 2;
export const GENERAL = 3;
/** An `op` slot is a step's kind in its low bits and, for a scalar step, its primitive's code above them. */
export const KIND_BITS = 2;
const KIND_MASK = (1 << KIND_BITS) - 1;
/** Codes of primitives that fit an op slot (a primitive above it keeps its scalar steps as objects). */
const MAX_CODE = (1 << (16 - KIND_BITS)) - 1;
/** By code: 0 not seen yet, 1 a primitive whose scalar steps go in the columns, 2 one with a reverse rule of its own (or sealed). */
const columnar = new Uint8Array(MAX_CODE + 1);
/**
 * The code a scalar step of `prim` stores, or -1 when its steps are kept as objects: a primitive
 * not made by definePrimitive, or one with a reverse rule of its own (customVjp, checkpoint).
 */
export const scalarCode = (prim: Primitive<unknown>): number => columnarCode(primitiveCode(prim), prim);

/** scalarCode for a primitive whose code is known. */
export const columnarCode = (code: number, prim: Primitive<unknown>): number => {
  if (code < 0 || code > MAX_CODE) return -1;
  let c = columnar[code]!;
  if (c === 0) columnar[code] = c = prim.reverse === undefined && prim.sealed !== true ? 1 : 2;
  return c === 1 ? code : -1;
};
/** The kind of the step whose op slot is `op`. */
export const kindOf = (op: number): number => op & KIND_MASK;
/** The primitive code of the scalar step whose op slot is `op`. */
export const codeOf = (op: number): number => op >>> KIND_BITS;

/** A step kept as an object: a tensor operation, or one with parameters or residuals. */
export interface GeneralStep {
  readonly prim: Primitive<unknown>;
  /** The operands as the program gave them (this level's boxes among them). */
  readonly args: readonly Value[];
  /** The operands one level down (this level's boxes unwrapped). */
  readonly primals: readonly Value[];
  readonly out: Value;
  readonly params: unknown;
  /** Bit i set: operand i is a box of this level (its cotangent is wanted); -1: too many operands, ask. */
  readonly mask: number;
  readonly residuals: unknown;
}

export const MAX_MASKED = 8;
/** `wanted` arrays by mask, shared by every step. */
export const WANTED: readonly (readonly boolean[])[] = Array.from({ length: 1 << MAX_MASKED }, (_, m) =>
  Object.freeze(Array.from({ length: MAX_MASKED }, (_, i) => (m & (1 << i)) !== 0)),
);

export class Steps {
  count = 0;
  private capacity: number;
  /** The step's kind (INPUT, UNARY, BINARY or GENERAL) and a scalar step's primitive code (see kindOf, codeOf). */
  op: Uint16Array;
  /**
   * Operands of a scalar step: the step index of a box of this level (≥ 0), or -1 - i for the
   * constant `constant(i)`. For a GENERAL step, in0 is its index among the general steps.
   */
  in0: Int32Array;
  in1: Int32Array;
  /** The step's output when it is a number (so later scalar steps read their operands here). */
  vals: Float64Array;
  /** The constant operands of scalar steps (operand -1 - i is consts[i]). */
  consts = new Float64Array(16);
  private constCount = 0;
  private readonly generals: GeneralStep[] = [];

  private constructor(capacity: number) {
    this.capacity = capacity;
    this.op = new Uint16Array(capacity);
    this.in0 = new Int32Array(capacity);
    this.in1 = new Int32Array(capacity);
    this.vals = new Float64Array(capacity);
  }

  /** Empty columns: the ones a finished pass released, or new ones. */
  static acquire(): Steps {
    const s = spare;
    if (s === null) return new Steps(64);
    spare = null;
    return s;
  }

  /**
   * Hands the columns to the next pass (call when nothing will read these steps again): a
   * program differentiated in a loop then reuses them instead of growing new ones each time.
   */
  release(): void {
    if (this.capacity > MAX_SPARE) return;
    this.count = 0;
    this.constCount = 0;
    this.generals.length = 0;
    spare = this;
  }

  input(v: Value): number {
    const k = this.next(INPUT);
    if (typeof v === "number") this.vals[k] = v;
    return k;
  }

  /** A scalar step of the primitive of `code` (scalarCode) on x (a step, or -1 for the constant xv). */
  unary(code: number, x: number, xv: number, out: number): number {
    const k = this.next(UNARY | (code << KIND_BITS));
    this.in0[k] = x >= 0 ? x : this.constantIndex(xv);
    this.vals[k] = out;
    return k;
  }

  binary(code: number, x: number, xv: number, y: number, yv: number, out: number): number {
    const k = this.next(BINARY | (code << KIND_BITS));
    this.in0[k] = x >= 0 ? x : this.constantIndex(xv);
    this.in1[k] = y >= 0 ? y : this.constantIndex(yv);
    this.vals[k] = out;
    return k;
  }

  general(step: GeneralStep): number {
    const k = this.next(GENERAL);
    this.in0[k] = this.generals.length;
    this.generals.push(step);
    if (typeof step.out === "number") this.vals[k] = step.out;
    return k;
  }

  generalAt(k: number): GeneralStep {
    return this.generals[this.in0[k]!]!;
  }

  private constantIndex(v: number): number {
    if (this.constCount === this.consts.length) this.consts = grown(this.consts, this.consts.length * 2);
    this.consts[this.constCount] = v;
    return -1 - this.constCount++;
  }

  private next(op: number): number {
    const k = this.count;
    if (k === this.capacity) this.grow();
    this.op[k] = op;
    this.count = k + 1;
    return k;
  }

  private grow(): void {
    // Long programs grow fourfold: fewer copies of the columns (typed arrays are zeroed lazily by
    // the system, so capacity not yet written costs address space, not resident memory).
    const c = this.capacity * (this.capacity < GROW_FOURFOLD ? 2 : 4);
    this.op = grown(this.op, c);
    this.in0 = grown(this.in0, c);
    this.in1 = grown(this.in1, c);
    this.vals = grown(this.vals, c);
    this.capacity = c;
  }
}

/** Columns kept for reuse up to this many steps (18 bytes each: 4.7 MB). */
const MAX_SPARE = 1 << 18;
const GROW_FOURFOLD = 1 << 16;
let spare: Steps | null = null;

const grown = <T extends Uint16Array | Int32Array | Float64Array>(a: T, length: number): T => {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
};

/** Adjoint arrays kept for reuse (up to MAX_SPARE steps: 2.3 MB). */
let spareAdjoints: { readonly state: Uint8Array; readonly num: Float64Array } | null = null;

/** Adjoint states. */
export const ADJ_ZERO = 0;
/** A number, in `num`. */
export const ADJ_NUMBER = 1;
/** A value in `obj`. */
export const ADJ_OBJECT = 2;
/** A buffer in `obj` that this pass made and nobody else holds: added into in place. */
export const ADJ_OWNED = 3;

/** The adjoints of a backward pass, by step index: numbers in a typed array, other values in an array made when first needed. */
export class Adjoints {
  /** Zero, number, value or owned buffer, by step (only the first `size` entries are this pass's). */
  readonly state: Uint8Array;
  /** Number adjoints (state ADJ_NUMBER), by step. */
  readonly num: Float64Array;
  private obj: MaybeValue[] | null = null;
  /** Two number cotangents are summed in place of an add operation that would evaluate at once anyway. */
  private readonly fold = evaluatesNumbers();

  constructor(
    private readonly size: number,
    private readonly sum: CotangentSum,
  ) {
    // A pass that follows one of at least this size reuses its arrays: only the states need clearing.
    const s = spareAdjoints;
    if (s !== null && s.state.length >= size) {
      spareAdjoints = null;
      this.state = s.state;
      this.num = s.num;
      this.state.fill(ADJ_ZERO, 0, size);
    } else {
      this.state = new Uint8Array(size);
      this.num = new Float64Array(size);
    }
  }

  /** Hands the typed arrays to the next backward pass (call when nothing will read these adjoints again). */
  release(): void {
    if (this.state.length <= MAX_SPARE && (spareAdjoints === null || spareAdjoints.state.length < this.state.length))
      spareAdjoints = { state: this.state, num: this.num };
  }

  /** The adjoint of an input's box (null = zero). */
  of(box: { readonly id: number }): MaybeValue {
    const s = this.state[box.id]!;
    return s === ADJ_ZERO ? null : s === ADJ_NUMBER ? this.num[box.id]! : this.obj![box.id]!;
  }

  /** Reads adjoint k (state s, not zero) and releases it: its steps are being done. */
  take(k: number, s: number): Value {
    if (s === ADJ_NUMBER) return this.num[k]!;
    const obj = this.obj!;
    const v = obj[k]!;
    obj[k] = null;
    return v;
  }

  /**
   * adj[id] += ct. The sum is computed with operations (so handlers below differentiate it),
   * except that a buffer this pass made itself, and nobody else holds, is added into in place.
   */
  add(id: number, ct: Value): void {
    const s = this.state[id]!;
    if (s === ADJ_ZERO) this.set(id, ct, false);
    else if (s === ADJ_NUMBER && typeof ct === "number" && this.fold) this.num[id] += ct;
    else {
      const prev = s === ADJ_NUMBER ? this.num[id]! : this.obj![id]!;
      if (s === ADJ_OWNED && this.sum.addInPlace(prev, ct)) return;
      const total = this.sum.add(prev, ct);
      this.set(id, total, this.sum.fresh(total, prev, ct));
    }
  }

  private set(id: number, v: Value, owned: boolean): void {
    if (typeof v === "number") {
      this.num[id] = v;
      this.state[id] = ADJ_NUMBER;
    } else {
      (this.obj ??= new Array<MaybeValue>(this.size).fill(null))[id] = v;
      this.state[id] = owned ? ADJ_OWNED : ADJ_OBJECT;
    }
  }
}
