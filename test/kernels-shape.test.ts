import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { IndexError, ShapeError, ValueError } from "../src/errors.ts";
import { Tensor, type DType } from "../src/tensor/tensor.ts";
import { sizeOf, stridesOf } from "../src/tensor/shape.ts";
import {
  broadcastToKernel, checkIndices, checkPerm, checkSlice, concatKernel, padKernel,
  scatterAddKernel, sliceKernel, takeKernel, transposeKernel,
} from "../src/kernels/shape-ops.ts";

const DTYPES: DType[] = ["float32", "float64"];
const T = (values: number[], shape: number[] = [values.length], dtype: DType = "float64"): Tensor =>
  new Tensor(dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values), shape);
const iota = (shape: number[], dtype: DType = "float64"): Tensor =>
  T(Array.from({ length: sizeOf(shape) }, (_, i) => i), shape, dtype);
const vals = (t: Tensor | Int32Array): number[] => Array.from(t instanceof Tensor ? t.buf : t);
const dot = (a: Tensor, b: Tensor): number => vals(a).reduce((s, v, i) => s + v * b.buf[i]!, 0);
const unravel = (i: number, shape: readonly number[]): number[] => stridesOf(shape).map((s, k) => Math.floor(i / s) % shape[k]!);

const shapeArb = (maxRank = 4, min = 0) => fc.array(fc.integer({ min, max: 4 }), { maxLength: maxRank });
const tensorArb = (shape: number[], dtype: DType = "float64") =>
  fc.array(fc.integer({ min: -9, max: 9 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((v) => T(v, shape, dtype));

describe("transposeKernel", () => {
  it.each(DTYPES)("hand values at %s", (dtype) => {
    const x = iota([2, 3], dtype);
    const t = transposeKernel(x, [1, 0]);
    expect([t.dtype, t.shape]).toEqual([dtype, [3, 2]]);
    expect(t.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    const y = transposeKernel(iota([2, 3, 2], dtype), [1, 0, 2]);
    expect(y.toArray()).toEqual([[[0, 1], [6, 7]], [[2, 3], [8, 9]], [[4, 5], [10, 11]]]);
    expect(transposeKernel(iota([2, 2]), [0, 1]).toArray()).toEqual([[0, 1], [2, 3]]);
    expect(transposeKernel(T([7], []), []).toArray()).toBe(7);
    expect(transposeKernel(T([], [0, 3]), [1, 0]).shape).toEqual([3, 0]);
  });
  it("large 2-d transpose (tiled path)", () => {
    const x = iota([70, 53]);
    const t = transposeKernel(x, [1, 0]);
    for (const [i, j] of [[0, 0], [52, 69], [17, 33], [40, 5]] as const) expect(t.at(i, j)).toBe(x.at(j, i));
  });
  it("matches at() and round-trips through the inverse perm (property)", () => {
    const arb = shapeArb(4, 1).chain((shape) =>
      fc.tuple(tensorArb(shape), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length })),
    );
    fc.assert(
      fc.property(arb, ([x, perm]) => {
        const t = transposeKernel(x, perm);
        expect(t.shape).toEqual(perm.map((p) => x.shape[p]));
        for (let i = 0; i < t.size; i++) {
          const idx = unravel(i, t.shape);
          const src = new Array<number>(x.ndim);
          perm.forEach((p, k) => (src[p] = idx[k]!));
          expect(t.buf[i]).toBe(x.at(...src));
        }
        const inv = new Array<number>(perm.length);
        perm.forEach((p, k) => (inv[p] = k));
        const back = transposeKernel(t, inv);
        expect(back.shape).toEqual(x.shape);
        expect(vals(back)).toEqual(vals(x));
      }),
      { numRuns: 200 },
    );
  });
});

describe("broadcastToKernel", () => {
  it.each(DTYPES)("hand values at %s", (dtype) => {
    const b = broadcastToKernel(T([1, 2, 3], [3], dtype), [2, 3]);
    expect([b.dtype, b.toArray()]).toEqual([dtype, [[1, 2, 3], [1, 2, 3]]]);
    expect(broadcastToKernel(T([1, 2], [2, 1], dtype), [2, 3]).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(broadcastToKernel(T([5], [], dtype), [2, 2]).toArray()).toEqual([[5, 5], [5, 5]]);
    expect(broadcastToKernel(T([1, 2], [2, 1], dtype), [3, 2, 2]).at(2, 1, 0)).toBe(2);
    expect(broadcastToKernel(T([1], [1], dtype), [0, 4]).shape).toEqual([0, 4]);
    expect(broadcastToKernel(T([1, 2]), [2]).toArray()).toEqual([1, 2]);
  });
  it("throws ShapeError with the rule", () => {
    expect(() => broadcastToKernel(T([1, 2]), [3])).toThrow(ShapeError);
    expect(() => broadcastToKernel(T([1, 2]), [3])).toThrow(/broadcastTo: cannot broadcast \[2\] to \[3\].*must equal .* or be 1/);
    expect(() => broadcastToKernel(T([1, 2], [1, 2]), [2])).toThrow(/cannot broadcast \[1, 2\] to \[2\].*rank/);
    expect(() => broadcastToKernel(T([1, 2, 3, 4, 5, 6], [2, 3]), [4, 2, 4])).toThrow(/axis -1 has 3 vs 4/);
  });
});

describe("concatKernel", () => {
  it.each(DTYPES)("along each axis at %s", (dtype) => {
    const a = iota([2, 2], dtype);
    const b = T([9, 8], [1, 2], dtype);
    const r0 = concatKernel([a, b], 0);
    expect([r0.dtype, r0.toArray()]).toEqual([dtype, [[0, 1], [2, 3], [9, 8]]]);
    const c = T([7, 6], [2, 1], dtype);
    expect(concatKernel([a, c, a], 1).toArray()).toEqual([[0, 1, 7, 0, 1], [2, 3, 6, 2, 3]]);
    expect(concatKernel([T([], [0, 2], dtype), a], 0).toArray()).toEqual(a.toArray());
    expect(concatKernel([a], 1).toArray()).toEqual(a.toArray());
  });
  it("promotes mixed dtypes and handles long chunks", () => {
    const r = concatKernel([T([1], [1], "float32"), T([2], [1])], 0);
    expect([r.dtype, vals(r)]).toEqual(["float64", [1, 2]]);
    const big = iota([2, 100]);
    const cat = concatKernel([big, T(Array(200).fill(-1), [2, 100], "float32")], 1);
    expect(cat.shape).toEqual([2, 200]);
    expect([cat.at(1, 99), cat.at(1, 100), cat.at(0, 0)]).toEqual([199, -1, 0]);
  });
  it("names every mismatching shape", () => {
    const f = () => concatKernel([iota([2, 3]), iota([3, 3]), iota([2, 5]), iota([4, 1])], 1);
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/concat: .*\[2, \*\].*axis 1.*#1 \[3, 3\].*#3 \[4, 1\]/);
    expect(f).not.toThrow(/#2/);
    expect(() => concatKernel([iota([2, 3]), iota([2, 3, 1])], 0)).toThrow(/#1 \[2, 3, 1\]/);
    expect(() => concatKernel([], 0)).toThrow(ValueError);
  });
});

describe("sliceKernel / checkSlice", () => {
  it.each(DTYPES)("hand values at %s", (dtype) => {
    const x = iota([3, 4], dtype);
    const s = sliceKernel(x, [1, 1], [3, 3]);
    expect([s.dtype, s.toArray()]).toEqual([dtype, [[5, 6], [9, 10]]]);
    expect(sliceKernel(x, [0, 3], [3, 4]).toArray()).toEqual([[3], [7], [11]]);
    expect(sliceKernel(x, [2, 0], [2, 4]).shape).toEqual([0, 4]);
    expect(sliceKernel(x, [0, 0], [3, 4]).toArray()).toEqual(x.toArray());
    expect(sliceKernel(T([4], []), [], []).toArray()).toBe(4);
  });
  it("resolves negative bounds and edge ranges", () => {
    expect(checkSlice("slice", [3, 4], [-2, 0], [3, -1])).toEqual({ starts: [1, 0], ends: [3, 3] });
    expect(checkSlice("slice", [3, 4], [3, 4], [3, 4])).toEqual({ starts: [3, 4], ends: [3, 4] });
    expect(checkSlice("slice", [3], [-3], [-3])).toEqual({ starts: [0], ends: [0] });
    const { starts, ends } = checkSlice("slice", [3, 4], [-1, -3], [3, -1]);
    expect(sliceKernel(iota([3, 4]), starts, ends).toArray()).toEqual([[9, 10]]);
  });
  it("rejects bad ranges with IndexError naming axis, range and shape", () => {
    const bad = (s: number[], e: number[]) => () => checkSlice("slice", [3, 4], s, e);
    expect(bad([0, 2], [3, 1])).toThrow(IndexError);
    expect(bad([0, 2], [3, 1])).toThrow(/slice: range \[2, 1\) on axis 1 .*\[3, 4\]/);
    expect(bad([0, 0], [3, 5])).toThrow(/axis 1.*<= 4/);
    expect(bad([-4, 0], [3, 4])).toThrow(/range \[-4, 3\) \(= \[-1, 3\)\) on axis 0/);
    expect(bad([0.5, 0], [3, 4])).toThrow(/slice: range \[0.5, 3\) on axis 0 must be integers/);
    expect(bad([0], [3])).toThrow(IndexError);
    expect(bad([0], [3])).toThrow(/one entry per axis of shape \[3, 4\] \(rank 2\)/);
  });
});

describe("padKernel", () => {
  it.each(DTYPES)("writes x into zeros at an offset (%s)", (dtype) => {
    const p = padKernel(T([1, 2, 3, 4], [2, 2], dtype), [1, 0], [3, 3]);
    expect([p.dtype, p.toArray()]).toEqual([dtype, [[0, 0, 0], [1, 2, 0], [3, 4, 0]]]);
    expect(padKernel(T([], [0, 2]), [1, 1], [2, 3]).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(padKernel(T([5], []), [], []).toArray()).toBe(5);
    expect(() => padKernel(T([1, 2]), [1], [2])).toThrow(ShapeError);
  });
  it("is the adjoint of slice: <slice(x), y> = <x, pad(y)> (property)", () => {
    const arb = shapeArb(3)
      .chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.tuple(...shape.map((d) => fc.tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d })))),
        ),
      )
      .chain(([shape, ranges]) => {
        const starts = ranges.map(([a, b]) => Math.min(a, b));
        const ends = ranges.map(([a, b]) => Math.max(a, b));
        const inner = ends.map((e, i) => e - starts[i]!);
        return fc.tuple(tensorArb(shape), tensorArb(inner), fc.constant(starts), fc.constant(ends));
      });
    fc.assert(
      fc.property(arb, ([x, y, starts, ends]) => {
        const s = sliceKernel(x, starts, ends);
        expect(s.shape).toEqual(y.shape);
        const p = padKernel(y, starts, x.shape);
        expect(p.shape).toEqual(x.shape);
        expect(dot(s, y)).toBe(dot(x, p));
        for (let i = 0; i < s.size; i++) {
          const idx = unravel(i, s.shape).map((v, k) => v + starts[k]!);
          expect(s.buf[i]).toBe(x.at(...idx));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("takeKernel / scatterAddKernel", () => {
  it.each(DTYPES)("take with repeated indices at %s", (dtype) => {
    const x = iota([3, 4], dtype);
    const r0 = takeKernel(x, Int32Array.of(2, 0, 2), [3], 0);
    expect([r0.dtype, r0.toArray()]).toEqual([dtype, [[8, 9, 10, 11], [0, 1, 2, 3], [8, 9, 10, 11]]]);
    expect(takeKernel(x, Int32Array.of(3, 3), [2], 1).toArray()).toEqual([[3, 3], [7, 7], [11, 11]]);
    const r2 = takeKernel(x, Int32Array.of(0, 1, 1, 0), [2, 2], 1);
    expect(r2.shape).toEqual([3, 2, 2]);
    expect(r2.toArray()).toEqual([[[0, 1], [1, 0]], [[4, 5], [5, 4]], [[8, 9], [9, 8]]]);
    expect(takeKernel(x, Int32Array.of(1), [], 0).toArray()).toEqual([4, 5, 6, 7]);
    expect(takeKernel(x, new Int32Array(0), [0], 0).shape).toEqual([0, 4]);
    const wide = takeKernel(iota([3, 100]), Int32Array.of(2, 2), [2], 0);
    expect([wide.at(1, 99), wide.at(0, 0)]).toEqual([299, 200]);
  });
  it.each(DTYPES)("scatterAdd accumulates repeated indices at %s", (dtype) => {
    const v = T([1, 2, 3, 4, 5, 6], [3, 2], dtype);
    const r = scatterAddKernel(v, Int32Array.of(2, 0, 2), [3], 0, 4);
    expect([r.dtype, r.toArray()]).toEqual([dtype, [[3, 4], [0, 0], [6, 8], [0, 0]]]);
    const c = scatterAddKernel(T([1, 2, 3, 4], [2, 2], dtype), Int32Array.of(1, 1), [2], 1, 3);
    expect(c.toArray()).toEqual([[0, 3, 0], [0, 7, 0]]);
    const m = scatterAddKernel(T([1, 2, 3, 4], [1, 2, 2], dtype), Int32Array.of(0, 1, 1, 1), [2, 2], 1, 2);
    expect(m.toArray()).toEqual([[1, 9]]);
  });
  it("scatterAdd is the adjoint of take: <take(x), v> = <x, scatterAdd(v)> (property)", () => {
    const arb = fc
      .tuple(shapeArb(3, 1), shapeArb(2), fc.nat())
      .chain(([shape, indexShape, a]) => {
        const axis = shape.length === 0 ? 0 : a % shape.length;
        const xs = shape.length === 0 ? [2] : shape;
        const dim = xs[axis]!;
        const outShape = [...xs.slice(0, axis), ...indexShape, ...xs.slice(axis + 1)];
        return fc.tuple(
          tensorArb(xs),
          tensorArb(outShape),
          fc.array(fc.integer({ min: 0, max: dim - 1 }), { minLength: sizeOf(indexShape), maxLength: sizeOf(indexShape) }),
          fc.constant(indexShape),
          fc.constant(axis),
        );
      });
    fc.assert(
      fc.property(arb, ([x, v, ix, indexShape, axis]) => {
        const indices = Int32Array.from(ix);
        const t = takeKernel(x, indices, indexShape, axis);
        expect(t.shape).toEqual(v.shape);
        const s = scatterAddKernel(v, indices, indexShape, axis, x.shape[axis]!);
        expect(s.shape).toEqual(x.shape);
        expect(dot(t, v)).toBe(dot(x, s));
      }),
      { numRuns: 200 },
    );
  });
});

describe("checkPerm", () => {
  it("resolves undefined and negative entries", () => {
    expect(checkPerm("transpose", undefined, 3)).toEqual([2, 1, 0]);
    expect(checkPerm("transpose", undefined, 0)).toEqual([]);
    expect(checkPerm("transpose", [-1, 0, -2], 3)).toEqual([2, 0, 1]);
  });
  it("rejects non-permutations, naming op, perm and rank", () => {
    expect(() => checkPerm("transpose", [0, 1], 3)).toThrow(ShapeError);
    expect(() => checkPerm("transpose", [0, 1], 3)).toThrow(/transpose: perm \[0, 1\] .*rank 3/);
    expect(() => checkPerm("transpose", [0, 3, 1], 3)).toThrow(IndexError);
    expect(() => checkPerm("transpose", [0, 3, 1], 3)).toThrow(/transpose: perm \[0, 3, 1\] has 3 at position 1.*rank-3.*\[-3, 2\]/);
    expect(() => checkPerm("transpose", [0, 1.5, 1], 3)).toThrow(IndexError);
    expect(() => checkPerm("permute", [0, -3, 1], 3)).toThrow(/permute: perm \[0, -3, 1\] is not a permutation.*axis 0 appears twice/);
  });
});

describe("checkIndices", () => {
  it("accepts number[], Int32Array and integer tensors, wrapping negatives once", () => {
    const a = checkIndices("take", [0, -1, 2, -3], 3);
    expect([vals(a.indices), a.shape]).toEqual([[0, 2, 2, 0], [4]]);
    const b = checkIndices("take", Int32Array.of(1, -2), 2);
    expect([vals(b.indices), b.shape]).toEqual([[1, 0], [2]]);
    const c = checkIndices("take", T([1, 0, -1, 2], [2, 2], "float32"), 3);
    expect([vals(c.indices), c.shape]).toEqual([[1, 0, 2, 2], [2, 2]]);
    const d = checkIndices("take", T([2], []), 3);
    expect([vals(d.indices), d.shape]).toEqual([[2], []]);
    const input = Int32Array.of(-1);
    checkIndices("take", input, 2);
    expect(input[0]).toBe(-1); // never mutates its input
  });
  it("rejects non-integers and out-of-range values with value, position and range", () => {
    expect(() => checkIndices("take", [0, 1.5], 3)).toThrow(IndexError);
    expect(() => checkIndices("take", [0, 1.5], 3)).toThrow(/take: index 1.5 at position 1 is not an integer.*\[-3, 2\]/);
    expect(() => checkIndices("take", [0, 1, 3], 3)).toThrow(/take: index 3 at position 2 is out of range .* size 3.*\[-3, 2\]/);
    expect(() => checkIndices("gather", [-4], 3)).toThrow(/gather: index -4 at position 0/);
    expect(() => checkIndices("take", T([0, 1, 2, 9], [2, 2]), 3)).toThrow(/index 9 at position \[1, 1\]/);
    expect(() => checkIndices("take", T([0, NaN]), 3)).toThrow(/index NaN at position 1 is not an integer/);
    expect(() => checkIndices("take", [0], 0)).toThrow(/size 0/);
  });
});
