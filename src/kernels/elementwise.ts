// Elementwise kernels: unary math, broadcasting binary ops, where, cast.
// Each operation's loops are compiled once, when its primitive is defined, from its scalar
// expression (./scalar-expr.ts; never from user input): every operation gets its own tight loop
// with the math inlined, no per-element calls. Large operands of an operation that names a SIMD
// kernel (+ − × ÷, max/min, comparisons, relu, sqrt, ...) go to the WebAssembly kernels of
// ./vector.ts instead, with the same results bit for bit.
import { broadcastShapes, sizeOf } from "../tensor/shape.ts";
import { Tensor, allocate, promote, type Buffer, type DType } from "../tensor/tensor.ts";
import { broadcastStrides, collapse } from "./shape-ops.ts";
import { binarySimd, simdElementwise, unarySimd, whereSimd } from "./vector.ts";
import { compileWith, type Elementwise, type Rendered } from "./scalar-expr.ts";
import type { WasmBinary, WasmUnary } from "./wasm/elementwise-module.ts";

export type Operand = Tensor | number;

type UnaryLoop = (X: Buffer, O: Buffer, n: number) => void;

/** A unary elementwise operation compiled from its scalar expression: loop, scalar function, SIMD kernel. */
export interface UnaryOp {
  readonly loop: UnaryLoop;
  readonly scalar: (x: number) => number;
  readonly simd: WasmUnary | undefined;
}

/** Compiles `rule` (one operand) once: its loop and its scalar function. */
export function unaryOp(rule: Elementwise<WasmUnary>): UnaryOp {
  const e = rule.expr;
  return {
    loop: compileWith<UnaryLoop>(e, ["X", "O", "n"], ["v"], (r) => `for (let i = 0; i < n; i++) { const v = X[i]; ${r.prelude.join(" ")} O[i] = ${r.value}; }`),
    scalar: compileWith(e, ["v"], ["v"], (r) => `${r.prelude.join(" ")} return ${r.value};`),
    simd: rule.simd,
  };
}

// The broadcast loop walks the output row-major: an inner loop over the last (collapsed) axis
// with per-operand strides (0 where broadcast), then an odometer carry over the outer axes.
const ODOMETER = (ptrs: string[]) => `
    for (let d = last - 1; d >= 0; d--) {
      ${ptrs.map((p, k) => `${p} += st${k}[d];`).join(" ")}
      if (++idx[d] < shape[d]) break;
      ${ptrs.map((p, k) => `${p} -= st${k}[d] * shape[d];`).join(" ")}
      idx[d] = 0;
    }`;

/** A binary elementwise operation compiled from its scalar expression: its loops, scalar function and SIMD kernel. */
export interface BinaryOp {
  readonly same: (A: Buffer, B: Buffer, O: Buffer, n: number) => void;
  readonly scalarA: (a: number, B: Buffer, O: Buffer, n: number) => void;
  readonly scalarB: (A: Buffer, b: number, O: Buffer, n: number) => void;
  readonly bcast: (A: Buffer, B: Buffer, O: Buffer, shape: number[], st0: number[], st1: number[]) => void;
  readonly scalar: (a: number, b: number) => number;
  readonly simd: WasmBinary | undefined;
  /** The operation's name, for its errors. */
  readonly name: string;
}

/** Compiles `rule` (two operands) once: a loop per operand layout, and its scalar function. */
export function binaryOp(name: string, rule: Elementwise<WasmBinary>): BinaryOp {
  const e = rule.expr;
  const at = (r: Rendered): string => `${r.prelude.join(" ")} O[o++] = ${r.value};`;
  const each = (r: Rendered): string => `${r.prelude.join(" ")} O[i] = ${r.value};`;
  const ab = ["a", "b"];
  return {
    same: compileWith(e, ["A", "B", "O", "n"], ab, (r) => `for (let i = 0; i < n; i++) { const a = A[i], b = B[i]; ${each(r)} }`),
    scalarA: compileWith(e, ["a", "B", "O", "n"], ab, (r) => `for (let i = 0; i < n; i++) { const b = B[i]; ${each(r)} }`),
    scalarB: compileWith(e, ["A", "b", "O", "n"], ab, (r) => `for (let i = 0; i < n; i++) { const a = A[i]; ${each(r)} }`),
    bcast: compileWith(e, ["A", "B", "O", "shape", "st0", "st1"], ab, (r) => `
    const n = O.length, last = shape.length - 1, inner = shape[last], ia = st0[last], ib = st1[last];
    const idx = new Int32Array(last + 1);
    let pa = 0, pb = 0, o = 0;
    while (o < n) {
      for (let k = 0, ja = pa, jb = pb; k < inner; k++, ja += ia, jb += ib) { const a = A[ja], b = B[jb]; ${at(r)} }
      ${ODOMETER(["pa", "pb"])}
    }`),
    scalar: compileWith(e, ["a", "b"], ab, (r) => `${r.prelude.join(" ")} return ${r.value};`),
    simd: rule.simd,
    name,
  };
}

type Arg = { buf: Buffer; shape: readonly number[]; size: number };
const NO_SHAPE: readonly number[] = [];
// A number becomes a one-element float64 buffer; it never decides the output dtype.
const arg = (x: Operand): Arg => (typeof x === "number" ? { buf: Float64Array.of(x), shape: NO_SHAPE, size: 1 } : x);
const dtypeOf = (a: Operand, b: Operand): DType =>
  typeof a === "number" ? (typeof b === "number" ? "float64" : b.dtype) : typeof b === "number" ? a.dtype : promote(a.dtype, b.dtype);

export function unaryKernel(op: UnaryOp, x: Tensor): Tensor {
  const out = allocate(x.dtype, x.size);
  if (op.simd === undefined || !unarySimd(op.simd, x.buf, out)) op.loop(x.buf, out, x.size);
  return new Tensor(out, x.shape);
}

export function binaryKernel(op: BinaryOp, a: Operand, b: Operand): Tensor {
  const { simd, name } = op;
  const loops = op;
  // Tensor-with-number (x * 2, 1 - x): the commonest case, without boxing the number.
  if (typeof b === "number" && typeof a !== "number") {
    const out = allocate(a.dtype, a.size);
    if (simd === undefined || !binarySimd(simd, a.buf, b, false, "runs", out, 1, a.size)) loops.scalarB(a.buf, b, out, a.size);
    return new Tensor(out, a.shape);
  }
  if (typeof a === "number" && typeof b !== "number") {
    const out = allocate(b.dtype, b.size);
    if (simd === undefined || !binarySimd(simd, b.buf, a, true, "runs", out, 1, b.size)) loops.scalarA(a, b.buf, out, b.size);
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
    if (simd === undefined || !binarySimd(simd, x.buf, y.buf, false, "same", out, 1, n)) loops.same(x.buf, y.buf, out, n);
  } else if (x.size === 1 && y.size === n) {
    if (simd === undefined || !binarySimd(simd, y.buf, x.buf, true, "runs", out, 1, n)) loops.scalarA(x.buf[0]!, y.buf, out, n);
  } else if (y.size === 1 && x.size === n) {
    if (simd === undefined || !binarySimd(simd, x.buf, y.buf, false, "runs", out, 1, n)) loops.scalarB(x.buf, y.buf[0]!, out, n);
  } else {
    const c = collapse(shape, [broadcastStrides(x.shape, shape), broadcastStrides(y.shape, shape)]);
    if (simd === undefined || !broadcastSimd(simd, x, y, out, c.shape, c.strides)) loops.bcast(x.buf, y.buf, out, c.shape, c.strides[0]!, c.strides[1]!);
  }
  return new Tensor(out, shape);
}

/**
 * The broadcasts SIMD takes: one operand laid out as the output, the other, after collapsing,
 * either constant along the inner runs and cycling through its values run by run (strides
 * [..0, 1, 0]: a bias [C, 1, 1] over [N, C, H, W], [m, 1] over [m, n]) or the same for every run
 * (strides [0.., 1]: [n] over [m, n]).
 */
function broadcastSimd(name: WasmBinary, x: Arg, y: Arg, out: Buffer, shape: number[], strides: number[][]): boolean {
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

/** A three-operand elementwise operation (where) compiled from its scalar expression. */
export interface TernaryOp {
  readonly same: (C: Buffer, A: Buffer, B: Buffer, O: Buffer, n: number) => void;
  readonly bcast: (C: Buffer, A: Buffer, B: Buffer, O: Buffer, shape: number[], st0: number[], st1: number[], st2: number[]) => void;
  readonly scalar: (c: number, a: number, b: number) => number;
  /** "where": the SIMD selection computes it (cond ≠ 0 ? a : b). */
  readonly simd: "where" | undefined;
}

/**
 * Compiles `rule` (three operands) once. Its operands are read in place (an element read per
 * use in the expression: a selection reads only the operand it picks).
 */
export function ternaryOp(rule: Elementwise<"where">): TernaryOp {
  const e = rule.expr;
  const value = (r: Rendered): string => `${r.prelude.join(" ")} O[i] = ${r.value};`;
  return {
    same: compileWith(e, ["C", "A", "B", "O", "n"], ["C[i]", "A[i]", "B[i]"], (r) => `for (let i = 0; i < n; i++) { ${value(r)} }`),
    bcast: compileWith(e, ["C", "A", "B", "O", "shape", "st0", "st1", "st2"], ["C[jc]", "A[ja]", "B[jb]"], (r) => `
    const n = O.length, last = shape.length - 1, inner = shape[last], ic = st0[last], ia = st1[last], ib = st2[last];
    const idx = new Int32Array(last + 1);
    let pc = 0, pa = 0, pb = 0, o = 0;
    while (o < n) {
      for (let k = 0, jc = pc, ja = pa, jb = pb; k < inner; k++, jc += ic, ja += ia, jb += ib) { ${r.prelude.join(" ")} O[o++] = ${r.value}; }
      ${ODOMETER(["pc", "pa", "pb"])}
    }`),
    scalar: compileWith(e, ["c", "a", "b"], ["c", "a", "b"], (r) => `${r.prelude.join(" ")} return ${r.value};`),
    simd: rule.simd,
  };
}

/** where's kernel: `op` (cond ≠ 0 ? a : b, NaN meaning true) over the three operands broadcast together. */
export function whereKernel(op: TernaryOp, cond: Operand, a: Operand, b: Operand): Tensor {
  const c = arg(cond);
  const x = arg(a);
  const y = arg(b);
  const shape = broadcastShapes("where", broadcastShapes("where", c.shape, x.shape), y.shape);
  const n = sizeOf(shape);
  const out = allocate(dtypeOf(a, b), n);
  if (n === 0) return new Tensor(out, shape);
  const operand = (o: Operand, t: Arg): Buffer | number | undefined => (typeof o === "number" ? o : t.size === n ? t.buf : undefined);
  const [sa, sb] = [operand(a, x), operand(b, y)];
  if (op.simd === "where" && c.size === n && sa !== undefined && sb !== undefined && whereSimd(c.buf, sa, sb, out)) return new Tensor(out, shape);
  if (c.size === n && x.size === n && y.size === n) op.same(c.buf, x.buf, y.buf, out, n);
  else {
    const s = [c, x, y].map((t) => broadcastStrides(t.shape, shape));
    const k = collapse(shape, s);
    op.bcast(c.buf, x.buf, y.buf, out, k.shape, k.strides[0]!, k.strides[1]!, k.strides[2]!);
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
