// Reductions: sum, max, min, argmax/argmin, logsumexp over a sorted list of distinct axes.
// The input is always read row-major (one pass, sequential memory) and each element is
// folded into its output slot; the output index moves by an odometer with stride 0 on
// reduced axes. Reducing the last axis thus folds a contiguous run into a register, and
// reducing leading axes adds whole contiguous rows into the output — both cache-friendly.
import { ValueError, fmt } from "../errors.ts";
import { reducedShape } from "../tensor/shape.ts";
import { Tensor, allocate, type Buffer, type DType } from "../tensor/tensor.ts";
import { binaryKernel, binaryOp } from "./elementwise.ts";
import { E } from "./scalar-expr.ts";
import { sumRowsSimd } from "./vector.ts";

type Plan = { shape: number[]; ostr: number[]; outSize: number; count: number };

/** Collapses the input into alternating runs of kept / reduced axes, with output strides. */
function plan(shape: readonly number[], axes: readonly number[]): Plan {
  const dims: number[] = [];
  const red: boolean[] = [];
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    const r = axes.includes(i);
    if (r) count *= d;
    if (d === 1) continue; // size-1 axes do not move any index
    const last = dims.length - 1;
    if (last >= 0 && red[last] === r) dims[last]! *= d;
    else {
      dims.push(d);
      red.push(r);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    red.push(true);
  }
  const ostr = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    ostr[i] = red[i] ? 0 : acc;
    if (!red[i]) acc *= dims[i]!;
  }
  return { shape: dims, ostr, outSize: acc, count };
}

// `step` folds `v` into the accumulator `r`; lse also reads its per-output shift `s`.
// max/min: a NaN, once in `r`, stays (no comparison with NaN is true), and a NaN `v` wins.
const STEPS = {
  sum: "r += v;",
  max: "if (v > r || v !== v) r = v;",
  min: "if (v < r || v !== v) r = v;",
  lse: "r += Math.exp(v - s);",
} as const;

type ReduceLoop = (X: Buffer, ACC: Float64Array, shape: number[], ostr: number[], S: Float64Array) => void;

const ODOMETER = `
      for (let d = last - 1; d >= 0; d--) {
        o += ostr[d];
        if (++idx[d] < shape[d]) break;
        o -= ostr[d] * shape[d];
        idx[d] = 0;
      }`;

// Compiled once per op from the fixed strings above (never from user input).
const compileReduce = (step: string, shifted: boolean): ReduceLoop =>
  new Function("X", "ACC", "shape", "ostr", "S", `"use strict";
    const n = X.length, last = shape.length - 1, inner = shape[last];
    const idx = new Int32Array(last + 1);
    let i = 0, o = 0;
    if (ostr[last] === 0) {
      while (i < n) {
        let r = ACC[o]; ${shifted ? "const s = S[o];" : ""}
        for (let k = 0; k < inner; k++) { const v = X[i++]; ${step} }
        ACC[o] = r;
        ${ODOMETER}
      }
    } else {
      while (i < n) {
        for (let k = 0; k < inner; k++) {
          const j = o + k, v = X[i++]; let r = ACC[j]; ${shifted ? "const s = S[j];" : ""}
          ${step}
          ACC[j] = r;
        }
        ${ODOMETER}
      }
    }`) as ReduceLoop;

const loops = {
  sum: compileReduce(STEPS.sum, false),
  max: compileReduce(STEPS.max, false),
  min: compileReduce(STEPS.min, false),
  lse: compileReduce(STEPS.lse, true),
};

// arg-reductions remember the flat input index `i` of the best value; strict comparisons keep
// the first occurrence, and a NaN replaces the best only if the best is not NaN already.
type ArgLoop = (X: Buffer, BEST: Float64Array, IDX: Int32Array, shape: number[], ostr: number[]) => void;
const compileArg = (better: string): ArgLoop =>
  new Function("X", "BEST", "IDX", "shape", "ostr", `"use strict";
    const n = X.length, last = shape.length - 1, inner = shape[last];
    const idx = new Int32Array(last + 1);
    let i = 0, o = 0;
    while (i < n) {
      if (ostr[last] === 0) {
        let r = BEST[o], b = IDX[o];
        for (let k = 0; k < inner; k++, i++) { const v = X[i]; if (b < 0 || ${better}) { r = v; b = i; } }
        BEST[o] = r; IDX[o] = b;
      } else {
        for (let k = 0; k < inner; k++, i++) {
          const j = o + k, v = X[i], r = BEST[j];
          if (IDX[j] < 0 || ${better}) { BEST[j] = v; IDX[j] = i; }
        }
      }
      ${ODOMETER}
    }`) as ArgLoop;
const argLoops = {
  max: compileArg("v > r || (v !== v && r === r)"),
  min: compileArg("v < r || (v !== v && r === r)"),
};

/**
 * Sums over leading axes ([R, L] → [L]) or a middle one ([K, R, L] → [K, L]) add whole rows into
 * the output: in SIMD across the row, each output's sum in the same order as the loop.
 */
function sumRows(X: Buffer, acc: Float64Array, p: Plan): boolean {
  const [s, o] = [p.shape, p.ostr];
  if (s.length === 2 && o[0] === 0 && o[1] === 1) return sumRowsSimd(X, acc, s[0]!, s[1]!, s[0]!);
  if (s.length === 3 && o[0] === s[2] && o[1] === 0 && o[2] === 1) return sumRowsSimd(X, acc, s[0]! * s[1]!, s[2]!, s[1]!);
  return false;
}

const copy = (x: Tensor): Tensor => new Tensor(x.buf.slice(), x.shape);

const finish = (acc: Float64Array, dtype: DType, shape: number[]): Tensor =>
  new Tensor(dtype === "float64" ? acc : Float32Array.from(acc), shape);

/** max, min, argmax, argmin and logsumexp have no identity: reducing over zero elements is an error. */
function checkNonEmpty(op: string, x: Tensor, axes: readonly number[], p: Plan): void {
  if (p.count === 0) checkReducible(op, x.shape, axes);
}

/** The same check on a shape alone (abstract evaluation): the reduced axes must hold elements. */
export function checkReducible(op: string, shape: readonly number[], axes: readonly number[]): void {
  let count = 1;
  for (const a of axes) count *= shape[a]!;
  if (count === 0)
    throw new ValueError(
      `${op}: cannot reduce shape ${fmt(shape)} over axes [${axes.join(", ")}] because they hold no elements; ` +
        `${op} of nothing is undefined — check for empty inputs before reducing`,
    );
}

function reduce(op: "sum" | "max" | "min", init: number, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  if (axes.length === 0) return copy(x);
  const p = plan(x.shape, axes);
  if (op !== "sum") checkNonEmpty(op, x, axes, p);
  const acc = new Float64Array(p.outSize); // float64 accumulation at both dtypes
  if (init !== 0) acc.fill(init);
  if (!(op === "sum" && sumRows(x.buf, acc, p))) loops[op](x.buf, acc, p.shape, p.ostr, acc);
  return finish(acc, x.dtype, reducedShape(x.shape, axes, keepdims));
}

export function sumKernel(x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  return reduce("sum", 0, x, axes, keepdims);
}

export function maxKernel(x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  return reduce("max", -Infinity, x, axes, keepdims);
}

export function minKernel(x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  return reduce("min", Infinity, x, axes, keepdims);
}

/** Flat index into x of the first max/min for each output element (row-major output order). */
export function argReduceKernel(x: Tensor, axes: readonly number[], kind: "max" | "min"): Int32Array {
  const p = plan(x.shape, axes);
  checkNonEmpty(`arg${kind}`, x, axes, p);
  const best = new Float64Array(p.outSize);
  const idx = new Int32Array(p.outSize).fill(-1);
  argLoops[kind](x.buf, best, idx, p.shape, p.ostr);
  return idx;
}

/** m + log(sum(exp(x - m))) with m the max; the shift is 0 where m is infinite or NaN. */
export function logsumexpKernel(x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const p = plan(x.shape, axes);
  checkNonEmpty("logsumexp", x, axes, p);
  const m = new Float64Array(p.outSize).fill(-Infinity);
  loops.max(x.buf, m, p.shape, p.ostr, m);
  // All -Infinity: shift 0 gives log(0) = -Infinity; +Infinity: log(Infinity); NaN stays NaN.
  for (let i = 0; i < m.length; i++) if (!Number.isFinite(m[i]!)) m[i] = 0;
  const acc = new Float64Array(p.outSize);
  loops.lse(x.buf, acc, p.shape, p.ostr, m);
  for (let i = 0; i < acc.length; i++) acc[i] = m[i]! + Math.log(acc[i]!);
  return finish(acc, x.dtype, reducedShape(x.shape, axes, keepdims));
}

/**
 * x − logsumexp(x) over axes, as (x − m) − log Σ exp(x − m) in double with m the max (0 where it
 * is not finite), rounded once to x's dtype: one pass over rows for the last axis.
 */
/** x − (a broadcast row statistic), with the SIMD subtraction where it applies. */
const subtract = binaryOp("logSoftmax", { arity: 2, expr: E.sub(E.operand(0), E.operand(1)), simd: "sub" });

export function logSoftmaxKernel(x: Tensor, axes: readonly number[]): Tensor {
  // Over an empty axis there is nothing to normalize: an empty result (as NumPy and JAX).
  if (x.size === 0) return new Tensor(allocate(x.dtype, 0), x.shape);
  const p = plan(x.shape, axes);
  const last = x.shape.length - 1;
  if (!(axes.length === 1 && axes[0] === last)) {
    const kept = reducedShape(x.shape, axes, true);
    const m = new Float64Array(p.outSize).fill(-Infinity);
    loops.max(x.buf, m, p.shape, p.ostr, m);
    for (let i = 0; i < m.length; i++) if (!Number.isFinite(m[i]!)) m[i] = 0;
    const acc = new Float64Array(p.outSize);
    loops.lse(x.buf, acc, p.shape, p.ostr, m);
    for (let i = 0; i < acc.length; i++) acc[i] = Math.log(acc[i]!);
    const shifted = binaryKernel(subtract, x, new Tensor(m, kept));
    const d = binaryKernel(subtract, shifted, new Tensor(acc, kept));
    return x.dtype === "float64" ? d : new Tensor(Float32Array.from(d.buf), x.shape);
  }
  const n = x.shape[last]!;
  const X = x.buf;
  const out = allocate(x.dtype, x.size);
  for (let r = 0; r < x.size; r += n) {
    let m = -Infinity;
    for (let j = r; j < r + n; j++) m = X[j]! > m || X[j] !== X[j] ? X[j]! : m;
    if (!Number.isFinite(m)) m = 0;
    let s = 0;
    for (let j = r; j < r + n; j++) s += Math.exp(X[j]! - m);
    const l = Math.log(s);
    for (let j = r; j < r + n; j++) out[j] = X[j]! - m - l;
  }
  return new Tensor(out, x.shape);
}
