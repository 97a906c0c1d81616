// Elementwise kernels: unary math, broadcasting binary ops, where, cast.
// Each op's loops are compiled once at module load from the fixed strings below (never from
// user input): every op gets its own tight loop with the math inlined, no per-element calls.
// Large operands of the exact operations (+ − × ÷, max/min, comparisons, relu, sqrt, ...) go to
// the WebAssembly SIMD kernels of ./vector.ts instead, with the same results bit for bit.
import { broadcastShapes, sizeOf } from "../tensor/shape.ts";
import { Tensor, allocate, promote, type Buffer, type DType } from "../tensor/tensor.ts";
import { broadcastStrides, collapse } from "./shape-ops.ts";
import { binarySimd, simdElementwise, unarySimd, whereSimd } from "./vector.ts";

export type Operand = Tensor | number;
export type UnaryName =
  | "neg" | "exp" | "log" | "sin" | "cos" | "tan" | "tanh" | "sigmoid"
  | "relu" | "sqrt" | "square" | "abs" | "sign" | "log1p" | "expm1";
export type BinaryName =
  | "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum"
  | "greater" | "less" | "equal" | "greaterEqual" | "lessEqual";

// Statement bodies: read `v`, assign `r`.
const UNARY: Record<UnaryName, string> = {
  neg: "r = -v",
  exp: "r = Math.exp(v)",
  log: "r = Math.log(v)",
  sin: "r = Math.sin(v)",
  cos: "r = Math.cos(v)",
  tan: "r = Math.tan(v)",
  tanh: "r = Math.tanh(v)",
  // exp of a non-positive number only: never overflows, and e/(1+e) keeps tiny values exact.
  sigmoid: "const e = Math.exp(-Math.abs(v)); r = v >= 0 ? 1 / (1 + e) : e / (1 + e)",
  relu: "r = v > 0 ? v : 0",
  sqrt: "r = Math.sqrt(v)",
  square: "r = v * v",
  abs: "r = Math.abs(v)",
  sign: "r = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : v",
  log1p: "r = Math.log1p(v)",
  expm1: "r = Math.expm1(v)",
};

// Expressions in `a` and `b`. Math.max/min propagate NaN, like NumPy's maximum/minimum.
const BINARY: Record<BinaryName, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  pow: "Math.pow(a, b)",
  maximum: "Math.max(a, b)",
  minimum: "Math.min(a, b)",
  greater: "(a > b ? 1 : 0)",
  less: "(a < b ? 1 : 0)",
  equal: "(a === b ? 1 : 0)",
  greaterEqual: "(a >= b ? 1 : 0)",
  lessEqual: "(a <= b ? 1 : 0)",
};

const compile = <F>(params: string[], body: string): F => new Function(...params, `"use strict";\n${body}`) as F;

const mapRecord = <K extends string, A, B>(r: Record<K, A>, f: (a: A) => B): Record<K, B> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v as A)])) as Record<K, B>;

type UnaryLoop = (X: Buffer, O: Buffer, n: number) => void;
const unaryLoops = mapRecord(UNARY, (body) =>
  compile<UnaryLoop>(["X", "O", "n"], `for (let i = 0; i < n; i++) { const v = X[i]; let r; ${body}; O[i] = r; }`),
);

export const unaryScalar: Record<UnaryName, (x: number) => number> = mapRecord(UNARY, (body) =>
  compile<(x: number) => number>(["v"], `let r; ${body}; return r;`),
);

export const binaryScalar: Record<BinaryName, (a: number, b: number) => number> = mapRecord(BINARY, (expr) =>
  compile<(a: number, b: number) => number>(["a", "b"], `return ${expr};`),
);

// The broadcast loop walks the output row-major: an inner loop over the last (collapsed) axis
// with per-operand strides (0 where broadcast), then an odometer carry over the outer axes.
const ODOMETER = (ptrs: string[]) => `
    for (let d = last - 1; d >= 0; d--) {
      ${ptrs.map((p, k) => `${p} += st${k}[d];`).join(" ")}
      if (++idx[d] < shape[d]) break;
      ${ptrs.map((p, k) => `${p} -= st${k}[d] * shape[d];`).join(" ")}
      idx[d] = 0;
    }`;

type BinaryLoops = {
  same: (A: Buffer, B: Buffer, O: Buffer, n: number) => void;
  scalarA: (a: number, B: Buffer, O: Buffer, n: number) => void;
  scalarB: (A: Buffer, b: number, O: Buffer, n: number) => void;
  bcast: (A: Buffer, B: Buffer, O: Buffer, shape: number[], st0: number[], st1: number[]) => void;
};
const binaryLoops = mapRecord(BINARY, (e): BinaryLoops => ({
  same: compile(["A", "B", "O", "n"], `for (let i = 0; i < n; i++) { const a = A[i], b = B[i]; O[i] = ${e}; }`),
  scalarA: compile(["a", "B", "O", "n"], `for (let i = 0; i < n; i++) { const b = B[i]; O[i] = ${e}; }`),
  scalarB: compile(["A", "b", "O", "n"], `for (let i = 0; i < n; i++) { const a = A[i]; O[i] = ${e}; }`),
  bcast: compile(["A", "B", "O", "shape", "st0", "st1"], `
    const n = O.length, last = shape.length - 1, inner = shape[last], ia = st0[last], ib = st1[last];
    const idx = new Int32Array(last + 1);
    let pa = 0, pb = 0, o = 0;
    while (o < n) {
      for (let k = 0, ja = pa, jb = pb; k < inner; k++, ja += ia, jb += ib) { const a = A[ja], b = B[jb]; O[o++] = ${e}; }
      ${ODOMETER(["pa", "pb"])}
    }`),
}));

type Arg = { buf: Buffer; shape: readonly number[]; size: number };
const NO_SHAPE: readonly number[] = [];
// A number becomes a one-element float64 buffer; it never decides the output dtype.
const arg = (x: Operand): Arg => (typeof x === "number" ? { buf: Float64Array.of(x), shape: NO_SHAPE, size: 1 } : x);
const dtypeOf = (a: Operand, b: Operand): DType =>
  typeof a === "number" ? (typeof b === "number" ? "float64" : b.dtype) : typeof b === "number" ? a.dtype : promote(a.dtype, b.dtype);

export function unaryKernel(name: UnaryName, x: Tensor): Tensor {
  const out = allocate(x.dtype, x.size);
  if (!unarySimd(name, x.buf, out)) unaryLoops[name](x.buf, out, x.size);
  return new Tensor(out, x.shape);
}

export function binaryKernel(name: BinaryName, a: Operand, b: Operand): Tensor {
  const loops = binaryLoops[name];
  // Tensor-with-number (x * 2, 1 - x): the commonest case, without boxing the number.
  if (typeof b === "number" && typeof a !== "number") {
    const out = allocate(a.dtype, a.size);
    if (!binarySimd(name, a.buf, b, false, "runs", out, 1, a.size)) loops.scalarB(a.buf, b, out, a.size);
    return new Tensor(out, a.shape);
  }
  if (typeof a === "number" && typeof b !== "number") {
    const out = allocate(b.dtype, b.size);
    if (!binarySimd(name, b.buf, a, true, "runs", out, 1, b.size)) loops.scalarA(a, b.buf, out, b.size);
    return new Tensor(out, b.shape);
  }
  const x = arg(a);
  const y = arg(b);
  const shape = broadcastShapes(name, x.shape, y.shape);
  const n = sizeOf(shape);
  const out = allocate(dtypeOf(a, b), n);
  if (n === 0) return new Tensor(out, shape);
  // An operand whose size equals the output's is laid out exactly like the output.
  if (x.size === n && y.size === n) {
    if (!binarySimd(name, x.buf, y.buf, false, "same", out, 1, n)) loops.same(x.buf, y.buf, out, n);
  } else if (x.size === 1 && y.size === n) {
    if (!binarySimd(name, y.buf, x.buf, true, "runs", out, 1, n)) loops.scalarA(x.buf[0]!, y.buf, out, n);
  } else if (y.size === 1 && x.size === n) {
    if (!binarySimd(name, x.buf, y.buf, false, "runs", out, 1, n)) loops.scalarB(x.buf, y.buf[0]!, out, n);
  } else {
    const c = collapse(shape, [broadcastStrides(x.shape, shape), broadcastStrides(y.shape, shape)]);
    if (!broadcastSimd(name, x, y, out, c.shape, c.strides)) loops.bcast(x.buf, y.buf, out, c.shape, c.strides[0]!, c.strides[1]!);
  }
  return new Tensor(out, shape);
}

/**
 * The broadcasts SIMD takes: one operand laid out as the output, the other, after collapsing,
 * either constant along the inner runs and cycling through its values run by run (strides
 * [..0, 1, 0]: a bias [C, 1, 1] over [N, C, H, W], [m, 1] over [m, n]) or the same for every run
 * (strides [0.., 1]: [n] over [m, n]).
 */
function broadcastSimd(name: BinaryName, x: Arg, y: Arg, out: Buffer, shape: number[], strides: number[][]): boolean {
  const n = out.length;
  if (n < simdElementwise.min || (x.size === n) === (y.size === n)) return false;
  const partFirst = y.size === n;
  const [full, part] = partFirst ? [y, x] : [x, y];
  const s = strides[partFirst ? 0 : 1]!;
  const last = s.length - 1;
  const len = shape[last]!;
  const zeros = (to: number): boolean => s.slice(0, to).every((v) => v === 0);
  const kind = s[last] === 0 && last >= 1 && s[last - 1] === 1 && zeros(last - 1) ? "runs" : s[last] === 1 && zeros(last) ? "tile" : undefined;
  return kind !== undefined && binarySimd(name, full.buf, part.buf, partFirst, kind, out, n / len, len);
}

const whereBcast = compile<(C: Buffer, A: Buffer, B: Buffer, O: Buffer, shape: number[], st0: number[], st1: number[], st2: number[]) => void>(
  ["C", "A", "B", "O", "shape", "st0", "st1", "st2"],
  `
    const n = O.length, last = shape.length - 1, inner = shape[last], ic = st0[last], ia = st1[last], ib = st2[last];
    const idx = new Int32Array(last + 1);
    let pc = 0, pa = 0, pb = 0, o = 0;
    while (o < n) {
      for (let k = 0, jc = pc, ja = pa, jb = pb; k < inner; k++, jc += ic, ja += ia, jb += ib) O[o++] = C[jc] !== 0 ? A[ja] : B[jb];
      ${ODOMETER(["pc", "pa", "pb"])}
    }`,
);

/** cond ? a : b elementwise, with cond nonzero (NaN included) meaning true. */
export function whereKernel(cond: Operand, a: Operand, b: Operand): Tensor {
  const c = arg(cond);
  const x = arg(a);
  const y = arg(b);
  const shape = broadcastShapes("where", broadcastShapes("where", c.shape, x.shape), y.shape);
  const n = sizeOf(shape);
  const out = allocate(dtypeOf(a, b), n);
  if (n === 0) return new Tensor(out, shape);
  const operand = (o: Operand, t: Arg): Buffer | number | undefined => (typeof o === "number" ? o : t.size === n ? t.buf : undefined);
  const [sa, sb] = [operand(a, x), operand(b, y)];
  if (c.size === n && sa !== undefined && sb !== undefined && whereSimd(c.buf, sa, sb, out)) return new Tensor(out, shape);
  if (c.size === n && x.size === n && y.size === n) {
    const C = c.buf, A = x.buf, B = y.buf;
    for (let i = 0; i < n; i++) out[i] = C[i] !== 0 ? A[i]! : B[i]!;
  } else {
    const s = [c, x, y].map((t) => broadcastStrides(t.shape, shape));
    const k = collapse(shape, s);
    whereBcast(c.buf, x.buf, y.buf, out, k.shape, k.strides[0]!, k.strides[1]!, k.strides[2]!);
  }
  return new Tensor(out, shape);
}

/** Converts to `dtype`; returns `x` itself when it already has that dtype (tensors are immutable). */
export function castKernel(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = allocate(dtype, x.size);
  out.set(x.buf);
  return new Tensor(out, x.shape);
}
