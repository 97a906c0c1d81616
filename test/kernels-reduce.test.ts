import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { ValueError } from "../src/errors.ts";
import { Tensor, type DType } from "../src/tensor/tensor.ts";
import { reducedShape, sizeOf, stridesOf } from "../src/tensor/shape.ts";
import { argReduceKernel, logSoftmaxKernel, logsumexpKernel, maxKernel, minKernel, sumKernel } from "../src/kernels/reduce.ts";

const DTYPES: DType[] = ["float32", "float64"];
const T = (values: number[], shape: number[] = [values.length], dtype: DType = "float64"): Tensor =>
  new Tensor(dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values), shape);
const vals = (t: Tensor | Int32Array): number[] => Array.from(t instanceof Tensor ? t.buf : t);

// Reference: group input elements by output index, then fold each group.
function groups(shape: number[], axes: number[]): number[][] {
  const kept = shape.filter((_, i) => !axes.includes(i));
  const ks = stridesOf(kept);
  const st = stridesOf(shape);
  const out: number[][] = Array.from({ length: sizeOf(kept) }, () => []);
  for (let i = 0; i < sizeOf(shape); i++) {
    const index = st.map((s, k) => Math.floor(i / s) % shape[k]!);
    let o = 0;
    let j = 0;
    index.forEach((v, k) => {
      if (!axes.includes(k)) o += v * ks[j++]!;
    });
    out[o]!.push(i);
  }
  return out;
}

// A tensor plus a sorted subset of its axes.
const caseArb = fc
  .tuple(fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }), fc.constantFrom<DType>("float32", "float64"))
  .chain(([shape, dtype]) =>
    fc.tuple(
      fc.array(fc.integer({ min: -20, max: 20 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((v) => T(v, shape, dtype)),
      fc.subarray(shape.map((_, i) => i)),
    ),
  );

describe("sumKernel", () => {
  it.each(DTYPES)("hand values at %s", (dtype) => {
    const x = T([1, 2, 3, 4, 5, 6], [2, 3], dtype);
    const s0 = sumKernel(x, [0], false);
    expect([s0.dtype, s0.shape, vals(s0)]).toEqual([dtype, [3], [5, 7, 9]]);
    expect(sumKernel(x, [1], false).toArray()).toEqual([6, 15]);
    expect(sumKernel(x, [0, 1], false).shape).toEqual([]);
    expect(sumKernel(x, [0, 1], false).item()).toBe(21);
    expect(sumKernel(x, [0], true).toArray()).toEqual([[5, 7, 9]]);
    expect(sumKernel(x, [1], true).toArray()).toEqual([[6], [15]]);
    expect(sumKernel(x, [0, 1], true).shape).toEqual([1, 1]);
  });
  it("reduces middle, outer+inner and size-1 axes of a 3-d tensor", () => {
    const x = T(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    expect(sumKernel(x, [1], false).toArray()).toEqual([[12, 15, 18, 21], [48, 51, 54, 57]]);
    expect(sumKernel(x, [0, 2], false).toArray()).toEqual([60, 92, 124]);
    const y = T([1, 2, 3], [1, 3, 1]);
    expect(sumKernel(y, [0, 2], false).toArray()).toEqual([1, 2, 3]);
    expect(sumKernel(y, [1], true).toArray()).toEqual([[[6]]]);
  });
  it("axes [] copies", () => {
    const x = T([1, 2], [2]);
    const y = sumKernel(x, [], false);
    expect(y.toArray()).toEqual([1, 2]);
    expect(y.buf).not.toBe(x.buf);
  });
  it("accumulates float32 in float64", () => {
    const x = T([16777216, 1, 1, 1, 1], [5], "float32");
    expect(sumKernel(x, [0], false).item()).toBe(16777220);
  });
  it("sums over empty axes to 0 and keeps empty outputs empty", () => {
    expect(vals(sumKernel(T([], [2, 0]), [1], false))).toEqual([0, 0]);
    expect(sumKernel(T([], [0, 3]), [1], false).shape).toEqual([0]);
    expect(sumKernel(T([], [0]), [0], false).item()).toBe(0);
  });
  it("matches the grouping reference (property)", () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), ([x, axes], keep) => {
        const got = sumKernel(x, axes, keep);
        expect(got.shape).toEqual(reducedShape(x.shape, axes, keep));
        expect(got.dtype).toBe(x.dtype);
        const want = groups([...x.shape], axes).map((g) => g.reduce((s, i) => s + x.buf[i]!, 0));
        expect(vals(got)).toEqual(axes.length === 0 ? vals(x) : want);
      }),
      { numRuns: 200 },
    );
  });
  it("sum over all axes = sums over the axes one at a time (property)", () => {
    fc.assert(
      fc.property(caseArb, ([x]) => {
        let y = x; // last axis first, then the first axis, alternating
        for (let k = 0; y.ndim > 0; k++) y = sumKernel(y, [k % 2 === 0 ? y.ndim - 1 : 0], false);
        const all = sumKernel(x, x.shape.map((_, i) => i), false);
        expect(all.item()).toBe(y.item());
      }),
      { numRuns: 200 },
    );
  });
});

describe("maxKernel / minKernel", () => {
  it.each(DTYPES)("hand values at %s", (dtype) => {
    const x = T([3, -1, 7, 0, 9, -5], [2, 3], dtype);
    expect(vals(maxKernel(x, [0], false))).toEqual([3, 9, 7]);
    expect(vals(maxKernel(x, [1], false))).toEqual([7, 9]);
    expect(maxKernel(x, [0, 1], true).toArray()).toEqual([[9]]);
    expect(vals(minKernel(x, [0], false))).toEqual([0, -1, -5]);
    expect(minKernel(x, [1], true).toArray()).toEqual([[-1], [-5]]);
    expect(minKernel(x, [0, 1], false).item()).toBe(-5);
    expect(maxKernel(x, [], false).toArray()).toEqual(x.toArray());
  });
  it("propagates NaN and handles infinities", () => {
    const x = T([1, NaN, 3, 4, 5, 6], [2, 3]);
    expect(vals(maxKernel(x, [1], false))).toEqual([NaN, 6]);
    expect(vals(minKernel(x, [0], false))).toEqual([1, NaN, 3]);
    expect(maxKernel(T([-Infinity, -Infinity]), [0], false).item()).toBe(-Infinity);
    expect(minKernel(T([Infinity]), [0], false).item()).toBe(Infinity);
  });
  it("throws ValueError over an empty axis, naming the op and shape", () => {
    expect(() => maxKernel(T([], [2, 0]), [1], false)).toThrow(ValueError);
    expect(() => maxKernel(T([], [2, 0]), [1], false)).toThrow(/max: .*\[2, 0\]/);
    expect(() => minKernel(T([], [0]), [0], false)).toThrow(/min: .*\[0\]/);
    expect(maxKernel(T([], [0, 3]), [1], false).shape).toEqual([0]); // reduced axis is not empty
  });
  it("match the grouping reference (property)", () => {
    fc.assert(
      fc.property(caseArb, ([x, axes]) => {
        if (axes.length === 0) return;
        const g = groups([...x.shape], axes);
        expect(vals(maxKernel(x, axes, false))).toEqual(g.map((ix) => Math.max(...ix.map((i) => x.buf[i]!))));
        expect(vals(minKernel(x, axes, true))).toEqual(g.map((ix) => Math.min(...ix.map((i) => x.buf[i]!))));
      }),
      { numRuns: 200 },
    );
  });
});

describe("argReduceKernel", () => {
  it.each(DTYPES)("flat indices of the first max/min at %s", (dtype) => {
    const x = T([1, 5, 5, 7, 0, 7], [2, 3], dtype);
    expect(vals(argReduceKernel(x, [1], "max"))).toEqual([1, 3]);
    expect(vals(argReduceKernel(x, [0], "max"))).toEqual([3, 1, 5]);
    expect(vals(argReduceKernel(x, [0, 1], "max"))).toEqual([3]);
    expect(vals(argReduceKernel(x, [1], "min"))).toEqual([0, 4]);
    expect(vals(argReduceKernel(x, [0], "min"))).toEqual([0, 4, 2]);
    expect(vals(argReduceKernel(x, [], "min"))).toEqual([0, 1, 2, 3, 4, 5]);
  });
  it("3-d over outer and inner axes, all -Infinity, and NaN wins", () => {
    const x = T(Array.from({ length: 24 }, (_, i) => (i * 7) % 24), [2, 3, 4]); // a permutation of 0..23
    const got = vals(argReduceKernel(x, [0, 2], "max"));
    const want = groups([2, 3, 4], [0, 2]).map((ix) => ix.reduce((b, i) => (x.buf[i]! > x.buf[b]! ? i : b)));
    expect(got).toEqual(want);
    expect(vals(argReduceKernel(T([-Infinity, -Infinity]), [0], "max"))).toEqual([0]);
    expect(vals(argReduceKernel(T([1, NaN, 9, NaN]), [0], "max"))).toEqual([1]);
    expect(vals(argReduceKernel(T([1, NaN, -9, NaN]), [0], "min"))).toEqual([1]);
    expect(vals(argReduceKernel(T([NaN, 2, NaN, 1], [2, 2]), [0], "min"))).toEqual([0, 3]);
  });
  it("throws ValueError over an empty axis", () => {
    expect(() => argReduceKernel(T([], [3, 0]), [1], "max")).toThrow(ValueError);
    expect(() => argReduceKernel(T([], [3, 0]), [1], "min")).toThrow(/argmin: .*\[3, 0\]/);
  });
  it("picks an element equal to the max, the first one (property)", () => {
    fc.assert(
      fc.property(caseArb, ([x, axes]) => {
        const g = groups([...x.shape], axes);
        const got = vals(argReduceKernel(x, axes, "max"));
        expect(got).toEqual(g.map((ix) => ix.reduce((b, i) => (x.buf[i]! > x.buf[b]! ? i : b))));
      }),
      { numRuns: 200 },
    );
  });
});

describe("logsumexpKernel", () => {
  it.each(DTYPES)("hand values at %s", (dtype) => {
    const x = T([1, 2, 3, 0, 0, 0], [2, 3], dtype);
    const r = logsumexpKernel(x, [1], false);
    expect(r.dtype).toBe(dtype);
    const digits = dtype === "float32" ? 6 : 14;
    expect(r.buf[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), digits);
    expect(r.buf[1]).toBeCloseTo(Math.log(3), digits);
    expect(logsumexpKernel(x, [0, 1], true).shape).toEqual([1, 1]);
    expect(logsumexpKernel(x, [0], false).shape).toEqual([3]);
  });
  it("is finite at ±1000 and handles infinities", () => {
    expect(logsumexpKernel(T([1000, 1000]), [0], false).item()).toBeCloseTo(1000 + Math.log(2), 10);
    expect(logsumexpKernel(T([-1000, -1000]), [0], false).item()).toBeCloseTo(-1000 + Math.log(2), 10);
    expect(logsumexpKernel(T([1000, -1000], [2], "float32"), [0], false).item()).toBe(1000);
    expect(logsumexpKernel(T([-Infinity, -Infinity]), [0], false).item()).toBe(-Infinity);
    expect(logsumexpKernel(T([Infinity, 3]), [0], false).item()).toBe(Infinity);
    expect(logsumexpKernel(T([-Infinity, 0]), [0], false).item()).toBe(0);
    expect(Number.isNaN(logsumexpKernel(T([NaN, 0]), [0], false).item())).toBe(true);
  });
  it("throws ValueError over an empty axis", () => {
    expect(() => logsumexpKernel(T([], [2, 0]), [1], false)).toThrow(ValueError);
    expect(() => logsumexpKernel(T([], [2, 0]), [1], false)).toThrow(/logsumexp: .*\[2, 0\]/);
  });
  it("equals log(sum(exp)) where that is safe, and stays finite at ±1000 (property)", () => {
    fc.assert(
      fc.property(caseArb, fc.constantFrom(0, 1000, -1000), ([x, axes], shift) => {
        const want = sumKernel(new Tensor(x.buf.map(Math.exp), x.shape), axes, false);
        const got = logsumexpKernel(x, axes, false);
        expect(got.shape).toEqual(want.shape);
        const tol = x.dtype === "float32" ? 1e-5 : 1e-12;
        vals(got).forEach((v, i) => expect(Math.abs(v - Math.log(want.buf[i]!))).toBeLessThan(tol * (1 + Math.abs(v))));
        const shifted = logsumexpKernel(new Tensor(x.buf.map((v) => v + shift), x.shape), axes, false);
        vals(shifted).forEach((v, i) => {
          expect(Number.isFinite(v)).toBe(true);
          expect(Math.abs(v - shift - vals(got)[i]!)).toBeLessThan(1e-9 + tol * (1 + Math.abs(v)));
        });
      }),
      { numRuns: 150 },
    );
  });
});

describe("logSoftmaxKernel", () => {
  it("is (x − m) − log Σ exp(x − m) per group, in double, rounded once (fast path = general path)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.constantFrom(...DTYPES),
        fc.double({ min: 0.1, max: 300, noNaN: true }),
        (shape, seed, dtype, scale) => {
          const n = sizeOf(shape);
          let s = seed;
          const values = Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * scale);
          const x = T(values, shape, dtype);
          const axis = seed % shape.length;
          const got = vals(logSoftmaxKernel(x, [axis]));
          const want = new Array<number>(n);
          for (const g of groups(shape, [axis])) {
            const xs = g.map((i) => x.buf[i]!);
            const m = Math.max(...xs);
            const l = Math.log(xs.reduce((a, v) => a + Math.exp(v - m), 0));
            g.forEach((i) => (want[i] = x.buf[i]! - m - l));
          }
          const round = dtype === "float32" ? Math.fround : (v: number) => v;
          for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(round(want[i]!), dtype === "float32" ? 4 : 12);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("gives NaN for a row holding NaN and an empty result for an empty axis (as JAX)", () => {
    expect(vals(logSoftmaxKernel(T([1, NaN, 2, 0, 0, 0], [2, 3]), [1])).map(Number.isNaN)).toEqual([true, true, true, false, false, false]);
    for (const [shape, axis] of [[[2, 0], 1], [[0, 3], 1], [[0, 3], 0], [[0], 0]] as const) {
      const r = logSoftmaxKernel(T([], [...shape]), [axis]);
      expect(r.shape).toEqual(shape);
      expect(r.size).toBe(0);
    }
  });
});
