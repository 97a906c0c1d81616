// Arithmetic on pytrees of concrete values (numbers and Tensors): what optimizers, gradient
// averaging and clipping need outside programs. Leaves are visited in the order of
// src/pytree.ts (arrays by index, plain objects by own keys); results are new trees of new
// tensors (inputs are never written). Traced values are refused: use operations in programs.
import { Traced } from "../effects/value.ts";
import { BackendError, DTypeError, ShapeError, ValueError, fmt } from "./errors.ts";
import { flatten } from "./pytree.ts";
import { Tensor, allocate, type Buffer } from "./tensor/tensor.ts";

/** A concrete leaf. */
export type Leaf = number | Tensor;

export interface ConcreteFlat {
  readonly leaves: Leaf[];
  /** Where each leaf sits, for messages: `layers[0].W`. */
  readonly paths: string[];
  rebuild(leaves: readonly unknown[]): unknown;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/**
 * Leaves (numbers and Tensors) with their paths; throws on traced values, and on device
 * (GPU) tensors unless `allowDevice` (the optimizers, which have a device path).
 */
export const flattenConcrete = (op: string, tree: unknown, allowDevice = false): ConcreteFlat => {
  const paths: string[] = [];
  const visit = (x: unknown, path: string): void => {
    if (x instanceof Traced)
      throw new DTypeError(
        `${op}: ${path || "the tree"} is a traced value; ${op} works on concrete numbers and tensors — ` +
          "call it outside programs (on the result of run(...)), or use operations inside programs",
      );
    if (!allowDevice && x instanceof Tensor && x.backend !== "cpu")
      throw new BackendError(
        `${op}: ${path || "the tree"} is a ${x.backend} tensor; ${op} steps on CPU buffers and is not yet available on ${x.backend}: ` +
          "write the update with operations inside a program (e.g. sub(p, mul(lr, g))), or move the tree with toCpu",
      );
    if (typeof x === "number" || x instanceof Tensor) paths.push(path || "(root)");
    else if (Array.isArray(x)) x.forEach((v, i) => visit(v, `${path}[${i}]`));
    else if (isPlainObject(x)) for (const k of Object.keys(x)) visit(x[k], path ? `${path}.${k}` : k);
  };
  visit(tree, "");
  const flat = flatten(tree);
  return { leaves: flat.leaves as Leaf[], paths, rebuild: flat.rebuild };
};

const shapeOfLeaf = (x: Leaf): readonly number[] => (typeof x === "number" ? [] : x.shape);

/** Checks that `other` has the structure and leaf shapes of `ref` (paths must agree). */
export const checkAligned = (op: string, ref: ConcreteFlat, other: ConcreteFlat, names: [string, string]): void => {
  if (ref.leaves.length !== other.leaves.length || ref.paths.some((p, i) => p !== other.paths[i])) {
    const i = ref.paths.findIndex((p, k) => p !== other.paths[k]);
    throw new ShapeError(
      `${op}: ${names[1]} do not have the structure of ${names[0]}: ${ref.leaves.length} vs ${other.leaves.length} leaves` +
        (i >= 0 ? `, first difference at ${ref.paths[i]} vs ${other.paths[i] ?? "(nothing)"}` : ""),
    );
  }
  for (let i = 0; i < ref.leaves.length; i++) {
    const a = shapeOfLeaf(ref.leaves[i]!);
    const b = shapeOfLeaf(other.leaves[i]!);
    if (a.length !== b.length || a.some((d, k) => d !== b[k]))
      throw new ShapeError(`${op}: ${names[1]} at ${ref.paths[i]} has shape ${fmt(b)}, but ${names[0]} there has shape ${fmt(a)}`);
  }
};

/** The values of a leaf as a typed array (a Tensor's own buffer: read it, never write it). */
export const bufferOf = (x: Leaf): Buffer => (typeof x === "number" ? Float64Array.of(x) : x.buf);

/** A fresh buffer for a leaf like `x` (same dtype and size) and a way to wrap it back. */
export const fresh = (x: Leaf): Buffer => (typeof x === "number" ? new Float64Array(1) : allocate(x.dtype, x.size));
export const wrapLike = (x: Leaf, buf: Buffer): Leaf => (typeof x === "number" ? buf[0]! : new Tensor(buf, x.shape));

/**
 * Maps `f` over the leaves of `tree` and the aligned leaves of `others` (same structure and
 * shapes), elementwise: `f(x, ...ys)` per element. The results take each leaf of `tree`'s dtype.
 */
export const treeMap = <T>(f: (x: number, ...ys: number[]) => number, tree: T, ...others: unknown[]): T => {
  const ref = flattenConcrete("treeMap", tree);
  const flats = others.map((o) => {
    const fl = flattenConcrete("treeMap", o);
    checkAligned("treeMap", ref, fl, ["the first tree", "another tree"]);
    return fl;
  });
  const out = ref.leaves.map((leaf, i) => {
    const a = bufferOf(leaf);
    const bs = flats.map((fl) => bufferOf(fl.leaves[i]!));
    const o = fresh(leaf);
    const ys = new Array<number>(bs.length);
    for (let k = 0; k < o.length; k++) {
      for (let j = 0; j < bs.length; j++) ys[j] = bs[j]![k]!;
      o[k] = f(a[k]!, ...ys);
    }
    return wrapLike(leaf, o);
  });
  return ref.rebuild(out) as T;
};

/** Zeros shaped like each leaf (numbers become 0). */
export const treeZerosLike = <T>(tree: T): T => {
  const flat = flattenConcrete("treeZerosLike", tree);
  return flat.rebuild(flat.leaves.map((x) => wrapLike(x, fresh(x)))) as T;
};

/** Applies a whole-buffer loop `f(out, a, b)` to aligned leaves. */
const binary = <T>(op: string, a: T, b: T, f: (o: Buffer, x: Buffer, y: Buffer) => void): T => {
  const fa = flattenConcrete(op, a);
  const fb = flattenConcrete(op, b);
  checkAligned(op, fa, fb, ["the first tree", "the second tree"]);
  return fa.rebuild(
    fa.leaves.map((leaf, i) => {
      const o = fresh(leaf);
      f(o, bufferOf(leaf), bufferOf(fb.leaves[i]!));
      return wrapLike(leaf, o);
    }),
  ) as T;
};

/** The leafwise sum of two pytrees of the same structure. */
export const treeAdd = <T>(a: T, b: T): T =>
  binary("treeAdd", a, b, (o, x, y) => {
    for (let k = 0; k < o.length; k++) o[k] = x[k]! + y[k]!;
  });

/** The leafwise difference of two pytrees of the same structure. */
export const treeSub = <T>(a: T, b: T): T =>
  binary("treeSub", a, b, (o, x, y) => {
    for (let k = 0; k < o.length; k++) o[k] = x[k]! - y[k]!;
  });

/** Every leaf times the number `s`. */
export const treeScale = <T>(tree: T, s: number): T => {
  if (typeof s !== "number") throw new ValueError(`treeScale: the factor must be a number, got ${typeof s}`);
  const flat = flattenConcrete("treeScale", tree);
  return flat.rebuild(
    flat.leaves.map((leaf) => {
      const x = bufferOf(leaf);
      const o = fresh(leaf);
      for (let k = 0; k < o.length; k++) o[k] = x[k]! * s;
      return wrapLike(leaf, o);
    }),
  ) as T;
};

/** Σ over all leaves of Σ a·b. */
export const treeDot = (a: unknown, b: unknown): number => {
  const fa = flattenConcrete("treeDot", a);
  const fb = flattenConcrete("treeDot", b);
  checkAligned("treeDot", fa, fb, ["the first tree", "the second tree"]);
  let s = 0;
  for (let i = 0; i < fa.leaves.length; i++) {
    const x = bufferOf(fa.leaves[i]!);
    const y = bufferOf(fb.leaves[i]!);
    for (let k = 0; k < x.length; k++) s += x[k]! * y[k]!;
  }
  return s;
};

/**
 * sqrt(Σ x²) over buffers: a plain sum of squares when it is finite and not tiny, else a
 * second pass scaled by the largest |x| (no overflow or underflow); NaN if any value is NaN.
 */
export const buffersNorm = (bufs: readonly Buffer[]): number => {
  let s = 0;
  for (const x of bufs) for (let k = 0; k < x.length; k++) s += x[k]! * x[k]!;
  if (s > 1e-290 && s < Infinity) return Math.sqrt(s); // else: zero, tiny (maybe underflowed), overflowed or NaN
  let scale = 0;
  for (const x of bufs)
    for (let k = 0; k < x.length; k++) {
      const v = Math.abs(x[k]!);
      if (!(v <= scale)) {
        if (v !== v) return NaN;
        scale = v;
      }
    }
  if (scale === 0 || scale === Infinity) return scale;
  s = 0;
  for (const x of bufs)
    for (let k = 0; k < x.length; k++) {
      const v = x[k]! / scale;
      s += v * v;
    }
  return scale * Math.sqrt(s);
};

/** The L2 norm of all leaves together, sqrt(Σ x²), without overflow or underflow. */
export const treeGlobalNorm = (tree: unknown): number => buffersNorm(flattenConcrete("treeGlobalNorm", tree).leaves.map(bufferOf));

/** The number of elements over all leaves. */
export const treeSize = (tree: unknown): number =>
  flattenConcrete("treeSize", tree).leaves.reduce<number>((n, x) => n + (typeof x === "number" ? 1 : x.size), 0);
