// The Tensor: an immutable n-d array over a contiguous row-major typed array.
import { IndexError, ValueError, fmt } from "../errors.ts";
import { sizeOf, type Shape } from "./shape.ts";
import { scratchActive, scratchBuffer } from "./scratch.ts";

/** The element type of a tensor. */
export type DType = "float32" | "float64";
export type Buffer = Float32Array | Float64Array;

/** Where a tensor's elements live: in JS memory ("cpu", the default) or on a GPU ("webgpu"; see `setBackend`). */
export type BackendName = "cpu" | "webgpu";

/** Nested arrays of numbers, as `toArray` returns them. */
export type NestedArray = number | NestedArray[];

/**
 * An immutable n-d array of float32 or float64 numbers, row-major. Garbage-collected: there is
 * nothing to dispose. Make one with `tensor`, `zeros`, `randn`, ...
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  /** @internal The backing store. Kernels read it; nothing writes it after construction. */
  readonly buf: Buffer;

  /** @internal Use `tensor(...)` and the other constructors; this trusts its arguments. */
  constructor(buf: Buffer, shape: Shape) {
    this.buf = buf;
    // Another tensor's shape is frozen already: share it.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze(shape.slice());
    this.size = buf.length;
    this.dtype = buf instanceof Float32Array ? "float32" : "float64";
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** A copy of the contents, row-major (a copy keeps the tensor immutable). */
  get data(): Buffer {
    return this.buf.slice();
  }

  /** Nested `number[]`s, or a number for a 0-d tensor. */
  toArray(): NestedArray {
    const { shape, buf } = this;
    if (shape.length === 0) return buf[0]!;
    let offset = 0;
    const build = (axis: number): NestedArray[] => {
      const n = shape[axis]!;
      const out = new Array<NestedArray>(n);
      if (axis === shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = buf[offset++]!;
      } else {
        for (let i = 0; i < n; i++) out[i] = build(axis + 1);
      }
      return out;
    };
    return build(0);
  }

  /** The number of a size-1 tensor. */
  item(): number {
    if (this.size !== 1)
      throw new ValueError(
        `item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, item() needs exactly 1; ` +
          `reduce it first (sum, mean) or index it (take, slice)`,
      );
    return this.buf[0]!;
  }

  /** `Tensor(dtype, [shape]) values`, for printing. */
  toString(): string {
    return `Tensor(${this.dtype}, ${fmt(this.shape)}) ${printNested(this.toArray())}`;
  }

  /** The number of a size-1 tensor, so that JS arithmetic on it works; a ValueError for any other size. */
  valueOf(): number {
    if (this.size === 1) return this.buf[0]!;
    throw new ValueError(
      `a Tensor of shape ${fmt(this.shape)} (${this.size} elements) was used as a number (JS arithmetic, a comparison ` +
        "or Number(t)), which only a size-1 tensor can be; compute with operations (`yield* add(a, b)`, " +
        "`yield* mul(a, b)`), reduce it first (sum, mean), or read its elements with toArray() or at(...)",
    );
  }

  /** As a string (`${t}`, String(t)): `toString()`; as a number (arithmetic): `valueOf()`. */
  [Symbol.toPrimitive](hint: "string" | "number" | "default"): string | number {
    return hint === "string" ? this.toString() : this.valueOf();
  }

  /** The backend that holds the elements: "cpu" here (a GPU tensor says "webgpu"). */
  get backend(): BackendName {
    return "cpu";
  }

  /** A copy of the contents, row-major, on any backend (a GPU tensor's are read back from the device). */
  dataAsync(): Promise<Buffer> {
    return Promise.resolve(this.buf.slice());
  }

  /** `toArray()` on any backend (a GPU tensor's elements are read back from the device). */
  toArrayAsync(): Promise<NestedArray> {
    return Promise.resolve(this.toArray());
  }

  /**
   * Frees a GPU tensor's device buffer now rather than at garbage collection (for tight loops);
   * the tensor must not be used afterwards. Nothing to do for a CPU tensor. `using t = ...` calls it too.
   */
  dispose(): void {}

  /** Element at a multi-index (negative indices count from the end). */
  at(...index: number[]): number {
    if (index.length !== this.shape.length)
      throw new IndexError(`at: tensor of shape ${fmt(this.shape)} needs ${this.shape.length} indices, got ${index.length}`);
    let flat = 0;
    for (let i = 0; i < index.length; i++) {
      const d = this.shape[i]!;
      let k = index[i]!;
      if (!Number.isInteger(k))
        throw new IndexError(`at: index ${k} for axis ${i} is not an integer; indices are integers in [${-d}, ${d - 1}] for shape ${fmt(this.shape)}`);
      if (k < -d || k >= d)
        throw new IndexError(`at: index ${k} is out of range for axis ${i} of size ${d} in shape ${fmt(this.shape)}`);
      if (k < 0) k += d;
      flat = flat * d + k;
    }
    return this.buf[flat]!;
  }
}

// `using t = ...` disposes (Symbol.dispose exists where the runtime has explicit resource management).
const disposeKey = (Symbol as { dispose?: symbol }).dispose;
if (disposeKey !== undefined)
  Object.defineProperty(Tensor.prototype, disposeKey, {
    value: function (this: Tensor) {
      this.dispose();
    },
  });

export const allocate = (dtype: DType, n: number): Buffer =>
  (scratchActive() ? scratchBuffer(dtype, n) : null) ?? (dtype === "float32" ? new Float32Array(n) : new Float64Array(n));

// A new typed array is zero-filled, and for a large one that costs as much as writing it again:
// ~0.15 ms for the 800 KB gradient of a [784, 256] weight here, the memory being out of cache.
// Node and Bun hand out memory left as it was (Buffer.allocUnsafe: a backing store of its own
// from 4 KB up); elsewhere the array is zero-filled as usual.
const unfilledFrom = 1 << 16;
const allocUnsafe = (globalThis as { Buffer?: { allocUnsafe?: (bytes: number) => Uint8Array } }).Buffer?.allocUnsafe;

/** @internal Tests set `poison`: unfilled buffers then start as NaN, so an element a kernel leaves unwritten shows. */
export const unfilled = { poison: false };

/**
 * @internal A buffer for a kernel that writes every element before anything reads it: its
 * contents are arbitrary (not zeros) where the runtime can skip the fill, so use it only then.
 */
export const allocateUnfilled = (dtype: DType, n: number): Buffer => {
  const es = dtype === "float32" ? 4 : 8;
  let buf: Buffer;
  if (allocUnsafe === undefined || n * es < unfilledFrom || scratchActive()) buf = allocate(dtype, n);
  else {
    const bytes = allocUnsafe(n * es);
    buf = es === 4 ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float64Array(bytes.buffer, bytes.byteOffset, n);
  }
  if (unfilled.poison) buf.fill(NaN);
  return buf;
};

/** @internal Wraps a buffer without copying; the caller hands over ownership. */
export const fromBuffer = (buf: Buffer, shape: Shape): Tensor => {
  if (buf.length !== sizeOf(shape)) throw new ValueError(`internal: buffer of ${buf.length} for shape ${fmt(shape)}`);
  return new Tensor(buf, shape);
};

/** float64 wins when dtypes mix (see docs/tensors.md). */
export const promote = (a: DType, b: DType): DType => (a === "float64" || b === "float64" ? "float64" : "float32");

export const isTensor = (x: unknown): x is Tensor => x instanceof Tensor;

// JSON's layout ([[1,2],[3,4]]) but NaN and ±Infinity printed as themselves, not as null.
const printNested = (v: NestedArray): string => (typeof v === "number" ? String(v) : `[${v.map(printNested).join(",")}]`);
