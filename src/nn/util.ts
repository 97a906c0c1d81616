// Small pieces the layers share: argument checks, seeds per weight, splitting gates.
import type { Effect } from "../../effects/effect.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt } from "../errors.ts";
import { slice } from "../ops.ts";
import { concat } from "../primitives/shape.ts";
import { Tensor, allocate, type DType } from "../tensor/tensor.ts";
import { foldIn, type Initializer } from "./init.ts";
import type { OptionSpec } from "../options.ts";

export type Gen<R> = Generator<Effect, R, unknown>;

/** What a layer's `init` draws its parameters from: an integer seed or a key (`random.key`, `split`, `foldIn`). */
export type Seed = number | Tensor;

/** Options every layer's `init` takes. */
export interface InitOptions {
  /** dtype of the parameters (default "float64"). */
  dtype?: DType;
}

/** The keys of InitOptions, for each layer's options spec (dtype: checked by the constructors). */
export const INIT_OPTIONS: OptionSpec = { dtype: "any" };

export const checkSize = (op: string, name: string, n: unknown): number => {
  if (typeof n !== "number" || !Number.isInteger(n) || n <= 0)
    throw new ValueError(`${op}: ${name} must be a positive integer, got ${String(n)}`);
  return n;
};

/** Runs initializer `init` with the `k`-th seed derived from a layer's seed. */
export const draw = (init: Initializer, seed: Seed, k: number, shape: readonly number[], dtype: DType | undefined): Tensor =>
  init(foldIn(seed, k), shape, dtype);

/** Checks that a parameter exists and has the expected shape. */
export const checkParam = (op: string, params: unknown, name: string, shape: readonly number[] | null): Value => {
  const v = (params as Record<string, unknown> | null | undefined)?.[name] as Value | undefined;
  if (v === undefined || v === null)
    throw new ValueError(`${op}: params has no "${name}"; build params with ${op.replace(/\.(apply|leaf|node)$/, "")}.init(...)`);
  if (shape !== null) {
    const s = shapeOf(v);
    if (s.length !== shape.length || s.some((d, i) => shape[i]! >= 0 && d !== shape[i]))
      throw new ShapeError(`${op}: params.${name} has shape ${fmt(s)}, expected [${shape.map((d) => (d < 0 ? "?" : d)).join(", ")}]`);
  }
  return v;
};

/** The last axis of `x`, checked against the layer's input size. */
export const checkLastAxis = (op: string, x: Value, size: number, what = "input"): readonly number[] => {
  const s = shapeOf(x);
  if (s.length === 0 || s[s.length - 1] !== size)
    throw new ShapeError(`${op}: ${what} has shape ${fmt(s)}; its last axis must be ${size}`);
  return s;
};

/** Splits `v` along its last axis into `n` equal parts (gates of a fused matmul). */
export function* splitLast(v: Value, n: number): Gen<Value[]> {
  const s = shapeOf(v);
  const width = s[s.length - 1]! / n;
  const starts = s.map(() => 0);
  const ends = s.slice();
  const parts: Value[] = [];
  for (let k = 0; k < n; k++) {
    starts[starts.length - 1] = k * width;
    ends[ends.length - 1] = (k + 1) * width;
    parts.push(yield* slice(v, starts, ends));
  }
  return parts;
}

/** Concrete tensors of shape [r, c_k] side by side: [r, sum c_k] (fused gate weights). */
export const concatColumns = (parts: readonly Tensor[]): Tensor => {
  // initializers on webgpu make GPU tensors: join those on the device
  if (parts.some((t) => t.backend !== "cpu")) return concat(parts, 1) as Tensor;
  const rows = parts[0]!.shape[0]!;
  const cols = parts.reduce((n, t) => n + t.shape[1]!, 0);
  const buf = allocate(parts[0]!.dtype, rows * cols);
  let offset = 0;
  for (const t of parts) {
    const c = t.shape[1]!;
    for (let r = 0; r < rows; r++) buf.set(t.buf.subarray(r * c, (r + 1) * c), r * cols + offset);
    offset += c;
  }
  return new Tensor(buf, [rows, cols]);
};

/** `gates` blocks of shape `shape` from one initializer, seeds k0, k0+1, ..., side by side. */
export const drawGates = (
  init: Initializer, seed: Seed, k0: number, gates: number, shape: readonly [number, number], dtype: DType | undefined,
): Tensor => concatColumns(Array.from({ length: gates }, (_, g) => draw(init, seed, k0 + g, shape, dtype)));
