// Helpers the generated code calls (passed in as `K`).
import { ValueError } from "../errors.ts";
import { allocate, Tensor, type Buffer } from "../tensor/tensor.ts";
import { enter, escape, leave, type Scratch } from "../tensor/scratch.ts";
import type { Value } from "../../effects/value.ts";
import { isKnownZero } from "./known-zeros.ts";
import { matmulKernel } from "../kernels/matmul.ts";
import { addInto, outerInto } from "../kernels/vector.ts";
import { beginCall, endCall, pinnedMatvec, residentAdd, residentOuter, residentRead, residentSum, type ResidentSum } from "../kernels/resident.ts";

interface Accumulator {
  /** The sum in a JS buffer, or */
  value: Tensor | null;
  /** the sum in WebAssembly memory (during a compiled call). */
  sum: ResidentSum | null;
}

export const runtime = {
  /** A branch or loop condition: a number or a size-1 tensor, nonzero = true. */
  truthy(x: Value): boolean {
    if (typeof x === "number") return x !== 0;
    if (x instanceof Tensor && x.size === 1) return x.buf[0] !== 0;
    throw new ValueError(`cond/whileLoop: the condition must be a scalar, got shape [${(x as Tensor).shape.join(", ")}]`);
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
  /** Wraps a buffer a fused loop filled. */
  tensor(buf: Float32Array | Float64Array, shape: readonly number[]): Tensor {
    return new Tensor(buf, shape);
  },
  /** Scratch memory for a call's intermediates (see tensor/scratch.ts). */
  enter,
  leave,
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
    return { value: null, sum: null };
  },
  /**
   * acc += v in place. A known zero adds nothing; the first value is copied (never aliased)
   * unless `owned`: a fresh result nothing else reads, which the accumulator may keep.
   */
  accumulate(acc: Accumulator, v: Value, owned = 0): void {
    if (isKnownZero(v)) return;
    if (typeof v === "number") v = new Tensor(Float64Array.of(v), []);
    const t = v as Tensor;
    if (acc.sum) residentAdd(acc.sum, t.buf);
    else if (acc.value === null) acc.value = owned ? t : new Tensor(t.buf.slice() as Tensor["buf"], t.shape);
    else addInto(acc.value.buf, t.buf);
  },
  /** acc += a·b (matmul flags as the primitive's): an outer product is added in place, in one pass. */
  accumulateMatmul(acc: Accumulator, a: Tensor, b: Tensor, transA: number, transB: number): void {
    const k = transA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
    if (k === 1 && a.shape.length === 2 && b.shape.length === 2 && a.dtype === b.dtype) {
      // [m, 1]·[1, n] (either read transposed: still contiguous vectors)
      const size = a.size * b.size;
      acc.sum ??= residentSum(size, a.dtype === "float32", acc.value?.buf ?? null);
      if (acc.sum) {
        acc.value = null;
        residentOuter(acc.sum, a.buf, b.buf);
        return;
      }
      if (acc.value !== null) return outerInto(acc.value.buf, a.buf, b.buf);
    }
    const p = matmulKernel(a, b, transA === 1, transB === 1);
    if (acc.sum) residentAdd(acc.sum, p.buf);
    else if (acc.value === null) acc.value = p;
    else addInto(acc.value.buf, p.buf);
  },
  /** The accumulated sum (zeros if nothing was added); clears the accumulator. */
  readAccumulator(acc: Accumulator, shape: readonly number[], float32: number): Tensor {
    const { value, sum } = acc;
    acc.value = acc.sum = null;
    if (sum) return new Tensor(residentRead(sum), shape);
    return value ?? new Tensor(allocate(float32 ? "float32" : "float64", shape.reduce((a, b) => a * b, 1)), shape);
  },
  /** sigmoid without overflow, as the kernel computes it. */
  sigmoid(v: number): number {
    const e = Math.exp(-Math.abs(v));
    return v >= 0 ? 1 / (1 + e) : e / (1 + e);
  },
};
