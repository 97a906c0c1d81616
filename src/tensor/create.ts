// Tensor constructors. These are plain functions, not effects: they make constants.
import { BackendError, DTypeError, ShapeError, ValueError, fmt, show } from "../errors.ts";
import { Random } from "./random.ts";
import { checkOptions } from "../options.ts";
import { checkShape, checkSize, sizeOf } from "./shape.ts";
import { Tensor, allocate, type DType, type NestedArray } from "./tensor.ts";
import { placed } from "../backend/placement.ts";

/** What `tensor` accepts: a number, nested arrays of numbers, a typed array, or a tensor. */
export type TensorInput = number | NestedArray | readonly NestedArray[] | Float32Array | Float64Array | Tensor;

export const checkDType = (op: string, dtype: unknown): DType => {
  if (dtype === undefined) return "float64";
  if (dtype !== "float32" && dtype !== "float64")
    throw new DTypeError(`${op}: dtype must be "float32" or "float64", got ${show(dtype)}`);
  return dtype;
};

/** Shape of nested arrays, checking that they are rectangular and hold finite-or-not numbers. */
const nestedShape = (values: unknown): number[] => {
  const shape: number[] = [];
  let v = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  const check = (x: unknown, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (typeof x !== "number")
        throw new ValueError(`tensor: element at ${path || "[]"} is ${typeof x === "object" ? (x === null ? "null" : "an array") : typeof x}, expected a number`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[axis])
      throw new ValueError(
        `tensor: ragged nested array — ${path || "the top level"} has ${Array.isArray(x) ? `length ${x.length}` : "a number"} ` +
          `where shape ${fmt(shape)} expects length ${shape[axis]} at axis ${axis}; every row must have the same length`,
      );
    for (let i = 0; i < x.length; i++) check(x[i], axis + 1, `${path}[${i}]`);
  };
  check(values, 0, "");
  return shape;
};

/**
 * A tensor from a number, nested arrays, or a typed array (`shape` defaults to 1-d), on the
 * current backend (see setBackend).
 */
export function tensor(values: TensorInput, options: { dtype?: DType; shape?: readonly number[] } = {}): Tensor {
  return placed(cpuTensor(values, options), "tensor");
}

function cpuTensor(values: TensorInput, options: { dtype?: DType; shape?: readonly number[] }): Tensor {
  checkOptions("tensor", options, { dtype: "any", shape: "any" }); // values: checkDType, checkShape
  const wanted = options.dtype;
  if (values instanceof Tensor && values.backend !== "cpu")
    throw new BackendError(
      `tensor: the values are a ${values.backend} tensor, whose elements are read only asynchronously; ` +
        "use it as it is (tensors are immutable), or copy it with `await toCpu(t)` first",
    );
  if (values instanceof Tensor) {
    const dtype = wanted ?? values.dtype;
    const out = allocate(checkDType("tensor", dtype), values.size);
    out.set(values.buf);
    return new Tensor(out, options.shape ? reshaped(values.size, options.shape) : values.shape);
  }
  if (values instanceof Float32Array || values instanceof Float64Array) {
    const dtype = checkDType("tensor", wanted ?? (values instanceof Float32Array ? "float32" : "float64"));
    const out = allocate(dtype, values.length);
    out.set(values);
    return new Tensor(out, options.shape ? reshaped(values.length, options.shape) : [values.length]);
  }
  const dtype = checkDType("tensor", wanted);
  if (typeof values === "number") {
    const out = allocate(dtype, 1);
    out[0] = values;
    return new Tensor(out, options.shape ? reshaped(1, options.shape) : []);
  }
  if (!Array.isArray(values))
    throw new ValueError(`tensor: expected a number, nested arrays of numbers or a typed array, got ${typeof values}`);
  const shape = nestedShape(values);
  const flat = (values as unknown[]).flat(Infinity) as number[];
  const out = allocate(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) out[i] = flat[i]!;
  return new Tensor(out, options.shape ? reshaped(flat.length, options.shape) : shape);
}

const reshaped = (n: number, shape: readonly number[]): number[] => {
  const s = checkShape("tensor", shape);
  if (sizeOf(s) !== n)
    throw new ShapeError(`tensor: ${n} values do not fill shape ${fmt(s)} (${sizeOf(s)} elements); pass a shape with ${n} elements`);
  return s;
};

const filled = (op: string, shape: readonly number[], value: number, dtype: DType | undefined): Tensor => {
  const s = checkShape(op, shape);
  if (typeof value !== "number") throw new ValueError(`${op}: value must be a number, got ${typeof value}`);
  const buf = allocate(checkDType(op, dtype), sizeOf(s));
  if (value !== 0) buf.fill(value);
  return placed(new Tensor(buf, s), op);
};

/** A tensor of `shape` filled with `value` (dtype default float64). */
export const full = (shape: readonly number[], value: number, dtype?: DType): Tensor => filled("full", shape, value, dtype);
/** A tensor of `shape` filled with zeros (dtype default float64). */
export const zeros = (shape: readonly number[], dtype?: DType): Tensor => filled("zeros", shape, 0, dtype);
/** A tensor of `shape` filled with ones (dtype default float64). */
export const ones = (shape: readonly number[], dtype?: DType): Tensor => filled("ones", shape, 1, dtype);

/** `arange(n)` = 0..n-1; `arange(start, stop, step = 1)` as NumPy. float64. */
export function arange(startOrN: number, stop?: number, step = 1): Tensor {
  const [start, end] = stop === undefined ? [0, startOrN] : [startOrN, stop];
  if (![start, end, step].every(Number.isFinite)) throw new ValueError(`arange: start, stop and step must be finite numbers`);
  if (step === 0) throw new ValueError(`arange: step must not be 0`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  checkSize("arange", [n]);
  const buf = new Float64Array(n);
  for (let i = 0; i < n; i++) buf[i] = start + i * step;
  return new Tensor(buf, [n]);
}

/** The n × n identity matrix (dtype default float64), on the current backend as the other constructors. */
export const eye = (n: number, dtype?: DType): Tensor => {
  if (!Number.isInteger(n) || n < 0) throw new ShapeError(`eye: n must be a non-negative integer, got ${n}`);
  checkSize("eye", [n, n]);
  const buf = allocate(checkDType("eye", dtype), n * n);
  for (let i = 0; i < n; i++) buf[i * n + i] = 1;
  return placed(new Tensor(buf, [n, n]), "eye");
};

/** Options of `randn` and `rand`: an integer `seed` (the same seed gives the same tensor) and the dtype. */
export interface RandomOptions {
  seed?: number;
  dtype?: DType;
}

let unseeded = 0x2545f491;

const sample = (op: string, shape: readonly number[], options: RandomOptions, draw: (r: Random) => number): Tensor => {
  checkOptions(op, options, { seed: "number", dtype: "any" });
  const s = checkShape(op, shape);
  const seed = options.seed ?? (unseeded = (Math.imul(unseeded, 1664525) + 1013904223) | 0);
  if (!Number.isInteger(seed)) throw new ValueError(`${op}: seed must be an integer, got ${seed}`);
  const r = new Random(seed);
  const buf = allocate(checkDType(op, options.dtype), sizeOf(s));
  for (let i = 0; i < buf.length; i++) buf[i] = draw(r);
  return placed(new Tensor(buf, s), op);
};

/** Standard normal samples; the same seed gives the same tensor everywhere. */
export const randn = (shape: readonly number[], options: RandomOptions = {}): Tensor =>
  sample("randn", shape, options, (r) => r.normal());

/** Uniform samples in [0, 1); the same seed gives the same tensor everywhere. */
export const rand = (shape: readonly number[], options: RandomOptions = {}): Tensor =>
  sample("rand", shape, options, (r) => r.uniform());
