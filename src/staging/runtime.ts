// Helpers the generated code calls (passed in as `K`).
import { ValueError } from "../errors.ts";
import { allocate, Tensor, type Buffer } from "../tensor/tensor.ts";
import { enter, enterResults, escape, leave, leaveResults, outside, type Scratch } from "../tensor/scratch.ts";
import type { Value } from "../../effects/value.ts";
import { isKnownZero } from "./known-zeros.ts";
import { matmulKernel } from "../kernels/matmul.ts";
import { addInto } from "../kernels/vector.ts";
import { beginCall, endCall, pinnedMatvec } from "../kernels/resident.ts";
import { dynamicIndexP } from "../primitives/dynamic-index.ts";

interface Accumulator {
  /** The sum of what was added. */
  value: Tensor | null;
  /** Outer products noted, as pairs [x, y] of vectors: their sum is added at the read. */
  outers: Tensor[];
}

export const runtime = {
  /** A branch or loop condition: a number or a size-1 tensor, nonzero = true. */
  truthy(x: Value): boolean {
    if (typeof x === "number") return x !== 0;
    if (x instanceof Tensor && x.size === 1) return x.buf[0] !== 0;
    throw new ValueError(`cond/whileLoop: the condition must be a scalar, got shape [${(x as Tensor).shape.join(", ")}]`);
  },
  /** switchCase's branch: the index (a number or a size-1 tensor, an integer) clamped to [0, n - 1]. */
  branch(x: Value, n: number): number {
    const i = typeof x === "number" ? x : x instanceof Tensor && x.size === 1 ? x.buf[0]! : NaN;
    if (!Number.isInteger(i))
      throw new ValueError(`switchCase: the index must be an integer (it picks one of ${n} branches), got ${typeof x === "number" || (x instanceof Tensor && x.size === 1) ? i : "a tensor"}; round it first (round, floor)`);
    return i < 0 ? 0 : i >= n ? n - 1 : i;
  },
  /** Row t of a tensor along axis 0 (a 0-d tensor for a 1-d input). */
  row(x: Tensor, t: number): Tensor {
    const n = x.size / x.shape[0]!;
    return new Tensor(x.buf.subarray(t * n, (t + 1) * n) as Tensor["buf"], x.shape.slice(1));
  },
  /** Stacks equally shaped rows along a new axis 0. */
  stack(rows: readonly Value[], shape: readonly number[], float32: number): Tensor {
    const buf = allocate(float32 ? "float32" : "float64", rows.length === 0 ? 0 : shape.reduce((a, b) => a * b, 1));
    const n = rows.length === 0 ? 0 : buf.length / rows.length;
    rows.forEach((r, i) => {
      if (typeof r === "number") buf[i] = r;
      else buf.set((r as Tensor).buf, i * n);
    });
    return new Tensor(buf, shape);
  },
  /**
   * x[i] along axis 0 (dynamicIndex): a number for a float64 vector (`shape` null), else a copy of
   * the row. Anything unusual (a bad index) goes to the primitive for its error.
   */
  index(x: Tensor, i: Value, shape: readonly number[] | null): Value {
    const rows = x.shape[0]!;
    if (typeof i !== "number" || !(i >= 0 && i < rows) || i !== Math.floor(i)) return dynamicIndexP.impl([x, i], undefined);
    if (shape === null) return x.buf[i]!;
    const n = x.size / rows;
    const out = allocate(x.dtype, n);
    out.set(x.buf.subarray(i * n, (i + 1) * n));
    return new Tensor(out, shape);
  },
  /** Wraps a buffer a fused loop filled. */
  tensor(buf: Float32Array | Float64Array, shape: readonly number[]): Tensor {
    return new Tensor(buf, shape);
  },
  /** Scratch memory for a call's intermediates, and for its results with `reuseOutputs` (see tensor/scratch.ts). */
  enter,
  leave,
  enterResults,
  leaveResults,
  /** A buffer for a fused loop's result that the call returns (not in the intermediates' scratch). */
  allocResult(float32: number, n: number): Buffer {
    return outside(() => allocate(float32 ? "float32" : "float64", n));
  },
  /** Runs a kernel whose result the call returns, outside the intermediates' scratch. */
  outside,
  /** A zeroed buffer for a fused loop's results: scratch memory during a call. */
  alloc(float32: number, n: number): Buffer {
    return allocate(float32 ? "float32" : "float64", n);
  },
  /** A result of the call: copied out of the scratch memory if it lives there. */
  out(s: Scratch, v: Value): Value {
    if (!(v instanceof Tensor)) return v;
    const buf = escape(s, v.buf);
    return buf === v.buf ? v : new Tensor(buf, v.shape);
  },
  /** A compiled call starts / ends (weights pinned in WebAssembly memory live that long). */
  begin: beginCall,
  end: endCall,
  /** A few rows times a weight matrix, on the weight pinned for the call; null: use the kernel. */
  matvec: pinnedMatvec,
  /** A gradient accumulator: a buffer of its own once something is added. */
  accumulator(): Accumulator {
    return { value: null, outers: [] };
  },
  /**
   * acc += v in place. A known zero adds nothing; the first value is copied (never aliased)
   * unless `owned`: a fresh result nothing else reads, which the accumulator may keep.
   */
  accumulate(acc: Accumulator, v: Value, owned = 0): void {
    if (isKnownZero(v)) return;
    if (typeof v === "number") v = new Tensor(Float64Array.of(v), []);
    const t = v as Tensor;
    if (acc.value === null) acc.value = owned ? t : new Tensor(t.buf.slice() as Tensor["buf"], t.shape);
    else addInto(acc.value.buf, t.buf);
  },
  /**
   * acc += a·b (matmul flags as the primitive's). An outer product (k = 1: the weight gradient
   * hᵀ·g of one step or node) is only noted: at the read, all of them are summed as one matrix
   * product Xᵀ·Y over the stacked vectors, which reads and writes the weight-sized sum once
   * instead of once per step.
   */
  accumulateMatmul(acc: Accumulator, a: Tensor, b: Tensor, transA: number, transB: number): void {
    const k = transA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
    if (k === 1 && a.shape.length === 2 && b.shape.length === 2 && a.dtype === b.dtype) {
      // [m, 1]·[1, n] (either read transposed: still contiguous vectors)
      acc.outers.push(a, b);
      return;
    }
    const p = matmulKernel(a, b, transA === 1, transB === 1);
    if (acc.value === null) acc.value = p;
    else addInto(acc.value.buf, p.buf);
  },
  /** The accumulated sum (zeros if nothing was added); clears the accumulator. */
  readAccumulator(acc: Accumulator, shape: readonly number[], float32: number): Tensor {
    const { value, outers } = acc;
    acc.value = null;
    acc.outers = [];
    if (outers.length === 0) return value ?? new Tensor(allocate(float32 ? "float32" : "float64", shape.reduce((a, b) => a * b, 1)), shape);
    // A gradient is usually a result of the call: computed outside scratch, it needs no copy out.
    const sum = runtime.outerSum(outers, shape, 1);
    if (value === null) return sum;
    addInto(value.buf, sum.buf);
    return value;
  },
  /**
   * Σ xᵢ ⊗ yᵢ over the pairs [x₀, y₀, x₁, y₁, ...] (vectors, as tensors of any shape), of the
   * given [m, n] shape: one matrix product Xᵀ·Y of the stacked vectors (outside the scratch
   * memory if `fresh`: a result of the call).
   */
  outerSum(pairs: readonly Tensor[], shape: readonly number[], fresh = 0): Tensor {
    const first = pairs[0]!;
    const [m, n, steps] = [first.size, pairs[1]!.size, pairs.length / 2];
    const xs = allocate(first.dtype, steps * m);
    const ys = allocate(first.dtype, steps * n);
    for (let i = 0; i < steps; i++) {
      xs.set(pairs[2 * i]!.buf, i * m);
      ys.set(pairs[2 * i + 1]!.buf, i * n);
    }
    const product = () => matmulKernel(new Tensor(xs, [steps, m]), new Tensor(ys, [steps, n]), true, false);
    return new Tensor((fresh ? outside(product) : product()).buf, shape);
  },
};
