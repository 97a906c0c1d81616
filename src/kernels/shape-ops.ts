// Shape kernels (transpose, broadcastTo, concat, slice, pad, take, scatterAdd) and the
// validators the core runs on user-supplied permutations, slices and indices.
// Every copy goes through one strided-copy routine over collapsed dimensions, so the common
// cases (contiguous runs, stride-0 broadcasts) become long, simple inner loops.
import { IndexError, ShapeError, ValueError, fmt } from "../errors.ts";
import { sizeOf, sizeProblem, stridesOf } from "../tensor/shape.ts";
import { Tensor, allocate, promote, type Buffer, type DType } from "../tensor/tensor.ts";

/**
 * @internal Drops size-1 axes and merges neighbouring axes that every operand walks
 * contiguously (outer stride = inner stride * inner size; stride-0 pairs merge too).
 * Always returns at least one axis, so loops can assume an innermost axis exists.
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const strs: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => strs[k]![last] === s[i]! * d)) {
      dims[last]! *= d;
      for (let k = 0; k < strides.length; k++) strs[k]![last] = strides[k]![i]!;
    } else {
      dims.push(d);
      for (let k = 0; k < strides.length; k++) strs[k]!.push(strides[k]![i]!);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    for (const s of strs) s.push(0);
  }
  return { shape: dims, strides: strs };
}

/** @internal Strides of `shape` as seen from the right-aligned `out` shape: 0 on broadcast axes. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const st = stridesOf(shape);
  const lead = out.length - shape.length;
  const r = new Array<number>(out.length).fill(0);
  for (let j = 0; j < shape.length; j++) if (shape[j] !== 1) r[j + lead] = st[j]!;
  return r;
}

// Tile edge for 2-d copies whose inner axis is not contiguous (transposes): both the read
// and the write side then stay within a few cache lines per tile.
const TILE = 32;

/** @internal Copies the strided block `shape` (already collapsed) from S to D. */
export function stridedCopy(
  S: Buffer, sOff: number, ss: readonly number[],
  D: Buffer, dOff: number, ds: readonly number[],
  shape: readonly number[],
): void {
  const nd = shape.length;
  const total = sizeOf(shape);
  if (total === 0) return;
  const last = nd - 1;
  const inner = shape[last]!;
  const si = ss[last]!;
  const di = ds[last]!;
  if (nd === 1 && si === 1 && di === 1) {
    D.set(S.subarray(sOff, sOff + inner), dOff);
    return;
  }
  if (nd === 2 && si !== 1 && si !== 0 && total >= TILE * TILE) {
    const rows = shape[0]!, s0 = ss[0]!, d0 = ds[0]!;
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, rows);
      for (let j0 = 0; j0 < inner; j0 += TILE) {
        const j1 = Math.min(j0 + TILE, inner);
        for (let i = i0; i < i1; i++) {
          let a = sOff + i * s0 + j0 * si;
          let b = dOff + i * d0 + j0 * di;
          for (let j = j0; j < j1; j++, a += si, b += di) D[b] = S[a]!;
        }
      }
    }
    return;
  }
  const outer = total / inner;
  const idx = new Int32Array(nd);
  let p = sOff;
  let q = dOff;
  for (let r = 0; r < outer; r++) {
    if (si === 1 && di === 1) for (let k = 0; k < inner; k++) D[q + k] = S[p + k]!;
    else for (let k = 0, a = p, b = q; k < inner; k++, a += si, b += di) D[b] = S[a]!;
    // Odometer over the outer axes: bump the last one, carry into earlier ones.
    for (let d = last - 1; d >= 0; d--) {
      p += ss[d]!;
      q += ds[d]!;
      if (++idx[d]! < shape[d]!) break;
      p -= ss[d]! * shape[d]!;
      q -= ds[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Gathers x through `strides` (x's buffer, starting at `offset`) into a fresh row-major tensor of `shape`. */
function gather(x: Tensor, offset: number, strides: readonly number[], shape: readonly number[]): Tensor {
  const out = allocate(x.dtype, sizeOf(shape));
  const c = collapse(shape, [strides, stridesOf(shape)]);
  stridedCopy(x.buf, offset, c.strides[0]!, out, 0, c.strides[1]!, c.shape);
  return new Tensor(out, shape);
}

export function transposeKernel(x: Tensor, perm: readonly number[]): Tensor {
  const xs = stridesOf(x.shape);
  return gather(x, 0, perm.map((p) => xs[p]!), perm.map((p) => x.shape[p]!));
}

export function broadcastToKernel(x: Tensor, shape: readonly number[]): Tensor {
  checkBroadcastTo(x.shape, shape);
  return gather(x, 0, broadcastStrides(x.shape, shape), shape);
}

/** broadcastTo's check on shapes alone (the kernel's, and abstract evaluation's). */
export function checkBroadcastTo(xs: readonly number[], shape: readonly number[]): void {
  const lead = shape.length - xs.length;
  const bad = lead < 0 ? -1 : xs.findIndex((d, j) => d !== 1 && d !== shape[j + lead]);
  if (bad !== -1 || lead < 0)
    throw new ShapeError(
      `broadcastTo: cannot broadcast ${fmt(xs)} to ${fmt(shape)}` +
        (lead < 0
          ? ` (the input has rank ${xs.length}, more than the target's ${shape.length}); `
          : ` (axis ${bad - xs.length} has ${xs[bad]} vs ${shape[bad + lead]}); `) +
        `aligning shapes from the right, each input axis must equal the target's or be 1, and the target may add leading axes`,
    );
}

export function concatKernel(xs: readonly Tensor[], axis: number): Tensor {
  const { shape, dtype } = checkConcat(xs, axis);
  const ref = xs[0]!.shape;
  const along = shape[axis]!;
  const outer = sizeOf(ref.slice(0, axis));
  const inner = sizeOf(ref.slice(axis + 1));
  const out = allocate(dtype, sizeOf(shape));
  const row = along * inner; // output elements per outer index
  let offset = 0;
  for (const t of xs) {
    const chunk = t.shape[axis]! * inner;
    const src = t.buf;
    // Short chunks: a plain loop beats allocating a subarray per row.
    if (chunk < 64) {
      for (let o = 0; o < outer; o++) {
        const s = o * chunk, d = o * row + offset;
        for (let k = 0; k < chunk; k++) out[d + k] = src[s + k]!;
      }
    } else {
      for (let o = 0; o < outer; o++) out.set(src.subarray(o * chunk, (o + 1) * chunk), o * row + offset);
    }
    offset += chunk;
  }
  return new Tensor(out, shape);
}

/** concat's checks and its output's shape and dtype, on shapes alone (the kernel's, and abstract evaluation's). */
export function checkConcat(
  xs: readonly { readonly shape: readonly number[]; readonly dtype: DType }[], axis: number,
): { shape: number[]; dtype: DType } {
  if (xs.length === 0) throw new ValueError(`concat: needs at least one tensor, got an empty list`);
  const ref = xs[0]!.shape;
  const rank = ref.length;
  if (rank === 0) throw new ShapeError(`concat: cannot concatenate 0-d tensors; reshape them to [1] first`);
  const bad: string[] = [];
  xs.forEach((t, i) => {
    if (t.shape.length !== rank || t.shape.some((d, k) => k !== axis && d !== ref[k])) bad.push(`#${i} ${fmt(t.shape)}`);
  });
  if (bad.length > 0) {
    const pattern = `[${ref.map((d, k) => (k === axis ? "*" : String(d))).join(", ")}]`;
    throw new ShapeError(
      `concat: every input must have shape ${pattern} (matching input #0 ${fmt(ref)} on all axes but axis ${axis}); ` +
        `mismatching: ${bad.join(", ")}`,
    );
  }
  let dtype = xs[0]!.dtype;
  let along = 0;
  for (const t of xs) {
    dtype = promote(dtype, t.dtype);
    along += t.shape[axis]!;
  }
  const shape = ref.slice();
  shape[axis] = along;
  const tooLarge = sizeProblem(shape);
  if (tooLarge !== undefined)
    throw new ShapeError(`concat: joining ${xs.map((t) => fmt(t.shape)).join(", ")} along axis ${axis} gives shape ${fmt(shape)}, which has ${tooLarge}`);
  return { shape, dtype };
}

export function sliceKernel(x: Tensor, starts: readonly number[], ends: readonly number[]): Tensor {
  const xs = stridesOf(x.shape);
  let offset = 0;
  for (let i = 0; i < starts.length; i++) offset += starts[i]! * xs[i]!;
  return gather(x, offset, xs, starts.map((s, i) => ends[i]! - s));
}

/** pad's check on shapes alone (the kernel's, and abstract evaluation's). */
export function checkPad(xs: readonly number[], starts: readonly number[], shape: readonly number[]): void {
  if (xs.length !== shape.length || xs.some((d, i) => starts[i]! < 0 || starts[i]! + d > shape[i]!))
    throw new ShapeError(`pad: ${fmt(xs)} placed at ${fmt(starts)} does not fit inside ${fmt(shape)}`);
}

export function padKernel(x: Tensor, starts: readonly number[], shape: readonly number[]): Tensor {
  checkPad(x.shape, starts, shape);
  const out = allocate(x.dtype, sizeOf(shape));
  const os = stridesOf(shape);
  let offset = 0;
  for (let i = 0; i < starts.length; i++) offset += starts[i]! * os[i]!;
  const c = collapse(x.shape, [stridesOf(x.shape), os]);
  stridedCopy(x.buf, 0, c.strides[0]!, out, offset, c.strides[1]!, c.shape);
  return new Tensor(out, shape);
}

/** take's output shape, checked, on shapes alone (the kernel's, and abstract evaluation's). */
export function takeShape(xs: readonly number[], indexShape: readonly number[], axis: number): number[] {
  const shape = [...xs.slice(0, axis), ...indexShape, ...xs.slice(axis + 1)];
  const tooLarge = sizeProblem(shape);
  if (tooLarge !== undefined)
    throw new ShapeError(
      `take: indices of shape ${fmt(indexShape)} along axis ${axis} of ${fmt(xs)} give shape ${fmt(shape)}, which has ${tooLarge}`,
    );
  return shape;
}

export function takeKernel(x: Tensor, indices: Int32Array, indexShape: readonly number[], axis: number): Tensor {
  const shape = takeShape(x.shape, indexShape, axis);
  const outer = sizeOf(x.shape.slice(0, axis));
  const dim = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const m = indices.length;
  const src = x.buf;
  const out = allocate(x.dtype, sizeOf(shape));
  let d = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * dim;
    for (let j = 0; j < m; j++) {
      const s = (base + indices[j]!) * inner;
      if (inner === 1) out[d++] = src[s]!;
      else if (inner < 64) for (let k = 0; k < inner; k++) out[d++] = src[s + k]!;
      else {
        out.set(src.subarray(s, s + inner), d);
        d += inner;
      }
    }
  }
  return new Tensor(out, shape);
}

/** scatterAdd's output shape: the index axes of v replaced by one axis of dimSize. */
export const scatterAddShape = (vs: readonly number[], indexShape: readonly number[], axis: number, dimSize: number): number[] =>
  [...vs.slice(0, axis), dimSize, ...vs.slice(axis + indexShape.length)];

export function scatterAddKernel(
  v: Tensor, indices: Int32Array, indexShape: readonly number[], axis: number, dimSize: number,
): Tensor {
  const k = indexShape.length;
  const shape = scatterAddShape(v.shape, indexShape, axis, dimSize);
  const outer = sizeOf(v.shape.slice(0, axis));
  const inner = sizeOf(v.shape.slice(axis + k));
  const m = indices.length;
  const src = v.buf;
  // Repeated indices sum into one slot: accumulate in float64 so float32 keeps its precision.
  const acc = new Float64Array(sizeOf(shape));
  let s = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * dimSize;
    for (let j = 0; j < m; j++) {
      const d = (base + indices[j]!) * inner;
      for (let t = 0; t < inner; t++) acc[d + t]! += src[s++]!;
    }
  }
  if (v.dtype === "float64") return new Tensor(acc, shape);
  return new Tensor(Float32Array.from(acc), shape);
}

// ---- Validation of user input (run by the core before it calls a kernel) ----

const list = (xs: readonly unknown[]): string => `[${xs.map(String).join(", ")}]`;

/** Resolves a permutation (undefined = reversed axes, negatives count from the end). */
export function checkPerm(op: string, perm: readonly number[] | undefined, rank: number): number[] {
  if (perm === undefined) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (!Array.isArray(perm))
    throw new IndexError(`${op}: perm must be an array of axes, got ${String(perm)}`);
  if (perm.length !== rank)
    throw new ShapeError(
      `${op}: perm ${list(perm)} has ${perm.length} entries but the tensor has rank ${rank}; list each of its ${rank} axes exactly once`,
    );
  const seen = new Array<boolean>(rank).fill(false);
  return perm.map((p, i) => {
    if (!Number.isInteger(p) || p < -rank || p >= rank)
      throw new IndexError(
        `${op}: perm ${list(perm)} has ${String(p)} at position ${i}, not an axis of a rank-${rank} tensor; ` +
          `axes are integers in [${-rank}, ${rank - 1}]`,
      );
    const a = p < 0 ? p + rank : p;
    if (seen[a])
      throw new IndexError(
        `${op}: perm ${list(perm)} is not a permutation of the ${rank} axes: axis ${a} appears twice; list each axis exactly once`,
      );
    seen[a] = true;
    return a;
  });
}

/** Resolves per-axis half-open ranges (negatives count from the end) and checks 0 <= start <= end <= dim. */
export function checkSlice(
  op: string, shape: readonly number[], starts: readonly number[], ends: readonly number[],
): { starts: number[]; ends: number[] } {
  const rank = shape.length;
  if (!Array.isArray(starts) || !Array.isArray(ends) || starts.length !== rank || ends.length !== rank)
    throw new IndexError(
      `${op}: starts ${Array.isArray(starts) ? list(starts) : String(starts)} and ends ${Array.isArray(ends) ? list(ends) : String(ends)} ` +
        `must each have one entry per axis of shape ${fmt(shape)} (rank ${rank})`,
    );
  const s2: number[] = [];
  const e2: number[] = [];
  for (let i = 0; i < rank; i++) {
    const s = starts[i]!, e = ends[i]!, d = shape[i]!;
    if (!Number.isInteger(s) || !Number.isInteger(e))
      throw new IndexError(`${op}: range [${String(s)}, ${String(e)}) on axis ${i} must be integers (shape ${fmt(shape)})`);
    const a = s < 0 ? s + d : s;
    const b = e < 0 ? e + d : e;
    if (!(0 <= a && a <= b && b <= d))
      throw new IndexError(
        `${op}: range [${s}, ${e})${a !== s || b !== e ? ` (= [${a}, ${b}))` : ""} on axis ${i} is out of bounds for shape ${fmt(shape)}; ` +
          `need 0 <= start <= end <= ${d} (negative values count from the end)`,
      );
    s2.push(a);
    e2.push(b);
  }
  return { starts: s2, ends: e2 };
}

/** Validates take-style indices: integers in [-dimSize, dimSize), negatives wrapped once. */
export function checkIndices(
  op: string, indices: readonly number[] | Tensor | Int32Array, dimSize: number,
): { indices: Int32Array; shape: number[] } {
  let values: ArrayLike<unknown>;
  let shape: number[];
  if (indices instanceof Tensor) {
    values = indices.buf;
    shape = indices.shape.slice();
  } else if (indices instanceof Int32Array || Array.isArray(indices)) {
    values = indices;
    shape = [indices.length];
  } else {
    throw new IndexError(`${op}: indices must be a number[], an Int32Array or a Tensor, got ${typeof indices}`);
  }
  const strides = stridesOf(shape);
  // Position as a multi-index for n-d index tensors, a plain number otherwise.
  const where = (i: number): string =>
    shape.length <= 1 ? String(i) : fmt(strides.map((s, k) => Math.floor(i / s) % shape[k]!));
  const range = dimSize === 0 ? "none: the axis has size 0" : `[${-dimSize}, ${dimSize - 1}]`;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const k = values[i];
    if (typeof k !== "number" || !Number.isInteger(k))
      throw new IndexError(`${op}: index ${String(k)} at position ${where(i)} is not an integer; valid indices: ${range}`);
    if (k < -dimSize || k >= dimSize)
      throw new IndexError(
        `${op}: index ${k} at position ${where(i)} is out of range for an axis of size ${dimSize}; valid indices: ${range}`,
      );
    out[i] = k < 0 ? k + dimSize : k;
  }
  return { indices: out, shape };
}
