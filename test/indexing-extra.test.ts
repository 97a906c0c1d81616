// oneHot, segmentSum, dynamicSlice and dynamicUpdateSlice: values against known results and
// JAX's semantics (clamped window starts, dropped out-of-range segment ids at run time),
// index arguments of every accepted form, derivatives of first and second order in both modes
// against finite differences, indices that exist only at run time under jit and vmap (against
// eager and a loop), and bad input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as Y from "../src/index.ts";
import { grad, jit, run, tensor, vmap, Tensor, type Value } from "../src/index.ts";
import { checkGrads, randomTensor } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";
import { exampleOf, stackOf } from "./stack-examples.ts";
import { expectTagged } from "./expect-tagged.ts";

const vals = (t: unknown): number[] => Array.from((t as Tensor).buf);
const fails = expectTagged;

describe("oneHot", () => {
  it("known values for every form of index argument; the dtype of an index tensor", () => {
    run(function* () {
      const a = yield* Y.oneHot([0, 2, 1], 3);
      expect(a.shape).toEqual([3, 3]);
      expect(vals(a)).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 0]);
      expect(vals(yield* Y.oneHot(Int32Array.from([1]), 2))).toEqual([0, 1]);
      const t = yield* Y.oneHot(tensor([[1, 0], [3, 3]], { dtype: "float32" }), 4);
      expect(t.shape).toEqual([2, 2, 4]);
      expect(t.dtype).toBe("float32");
      expect(vals(t)).toEqual([0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
      expect((yield* Y.oneHot(2, 3)).shape).toEqual([3]);
      expect((yield* Y.oneHot([], 3)).shape).toEqual([0, 3]);
    });
  });
  it("indices known only at run time (jit, vmap) give the same one-hot rows; one out of range a row of zeros", () => {
    const f = function* (i: Value) {
      return yield* Y.oneHot(i, 4);
    };
    const idx = tensor([3, 0, 2]);
    expectSame(run(jit(f), idx), run(f, idx));
    expectSame(run(vmap(f), idx), run(f, idx));
    expect(vals(run(jit(f), tensor([5, -1])))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const staged = jit(f);
    run(staged, tensor([1, 2]));
    run(staged, tensor([0, 3]));
    expect(staged.info.compiles).toBe(1);
  });
  it("bad indices and class counts", () => {
    fails(() => run(function* () { return yield* Y.oneHot([0, 3], 3); }), "IndexError", /oneHot: index 3 at position 1 is not an integer in \[0, 2\]/);
    fails(() => run(function* () { return yield* Y.oneHot(tensor([0.5]), 3); }), "IndexError", /oneHot: index 0.5/);
    fails(() => run(function* () { return yield* Y.oneHot([-1], 3); }), "IndexError", /oneHot: index -1/);
    fails(() => run(function* () { return yield* Y.oneHot([0], -2); }), "ValueError", /oneHot: n \(the number of classes\) must be a non-negative integer/);
    fails(() => run(function* () { return yield* Y.oneHot("a" as never, 2); }), "ValueError", /oneHot: indices must be/);
    fails(() => run(function* () { return yield* Y.oneHot([0, 1, 2], 2 ** 30); }), "ShapeError", /oneHot: shape \[3, 1073741824\] has 3221225472 elements, more than/);
  });
});

describe("segmentSum", () => {
  const data = tensor([[1, 2], [3, 4], [5, 6], [7, 8]]);
  it("known values; empty segments are zero; ids of every form", () => {
    run(function* () {
      const s = yield* Y.segmentSum(data, [2, 0, 2, 2], 4);
      expect(s.shape).toEqual([4, 2]);
      expect(vals(s)).toEqual([3, 4, 0, 0, 13, 16, 0, 0]);
      expect(vals(yield* Y.segmentSum(tensor([1, 2, 3]), Int32Array.from([1, 1, 0]), 2))).toEqual([3, 3]);
      expect(vals(yield* Y.segmentSum(tensor([1, 2, 3]), tensor([0, 0, 0], { dtype: "float32" }), 1))).toEqual([6]);
      expect((yield* Y.segmentSum(Y.zeros([0, 3]), [], 2)).shape).toEqual([2, 3]);
    });
  });
  it("matches a loop reference over random shapes and ids", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 999 }), (m, segs, width, seed) => {
        const x = randomTensor([m, width], seed);
        const ids = Array.from({ length: m }, (_, i) => (i * 7 + seed) % segs);
        const got = run(function* () { return yield* Y.segmentSum(x, ids, segs); }) as Tensor;
        const want = new Float64Array(segs * width);
        ids.forEach((s, i) => { for (let j = 0; j < width; j++) want[s * width + j]! += x.buf[i * width + j]!; });
        vals(got).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
        // the same ids known only at run time: the one-hot product
        const staged = run(jit(function* (d: Value, i: Value) { return yield* Y.segmentSum(d, i, segs); }), x, tensor(ids.length ? ids : [], { shape: [m] }));
        vals(staged).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
      }),
      { numRuns: 25 },
    );
  });
  it("derivatives, first and second order; vmap over data and over ids; an id out of range at run time is dropped", () => {
    checkGrads(function* (d: Value) {
      return yield* Y.mul(yield* Y.segmentSum(d, [1, 0, 1, 1], 3), yield* Y.segmentSum(d, [0, 0, 2, 1], 3));
    }, [randomTensor([4, 2], 3)], { order: 2, name: "segmentSum" });
    const f = function* (d: Value, i: Value) {
      return yield* Y.segmentSum(d, i, 3);
    };
    const ds = randomTensor([2, 4, 2], 9);
    const ids = tensor([[0, 2, 2, 1], [1, 1, 0, 0]]);
    const each = [0, 1].map((b) => run(f, exampleOf(ds, b), exampleOf(ids, b)) as Tensor);
    expectSame(run(vmap(f), ds, ids), stackOf(each), 1e-12);
    expectSame(run(vmap(f, [0, null]), ds, tensor([0, 2, 2, 1])), stackOf([0, 1].map((b) => run(f, exampleOf(ds, b), tensor([0, 2, 2, 1])) as Tensor)));
    expect(vals(run(jit(f), tensor([[1], [2]]), tensor([0, 7])))).toEqual([1, 0, 0]);
  });
  it("bad input", () => {
    fails(() => run(function* () { return yield* Y.segmentSum(data, [0, 1, 2, 3], 3); }), "IndexError", /segmentSum: segment id 3 at position 3 is not an integer in \[0, 2\]/);
    fails(() => run(function* () { return yield* Y.segmentSum(data, [0, 1], 3); }), "ShapeError", /segmentSum: segmentIds have shape \[2\]; for data of shape \[4, 2\] give one id per row, shape \[4\]/);
    fails(() => run(function* () { return yield* Y.segmentSum(3, [0], 1); }), "ShapeError", /segmentSum: data is 0-d/);
    fails(() => run(function* () { return yield* Y.segmentSum(data, [0, 0, 0, 0], 1.5); }), "ValueError", /segmentSum: numSegments must be a non-negative integer/);
    fails(() => run(function* () { return yield* Y.segmentSum(data, [0, 0, 0, 0], 2 ** 31); }), "ShapeError", /segmentSum: shape \[2147483648, 2\] has/);
  });
});

describe("dynamicSlice and dynamicUpdateSlice", () => {
  const x = tensor([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
  it("known values; starts clamped into range as JAX's; starts as number[], Int32Array, a tensor", () => {
    run(function* () {
      expect(vals(yield* Y.dynamicSlice(x, [1, 1], [2, 2]))).toEqual([5, 6, 9, 10]);
      expect(vals(yield* Y.dynamicSlice(x, [2, 3], [2, 2]))).toEqual([6, 7, 10, 11]); // clamped to [1, 2]
      expect(vals(yield* Y.dynamicSlice(x, Int32Array.from([-4, 0]), [1, 4]))).toEqual([0, 1, 2, 3]); // clamped to 0
      expect(vals(yield* Y.dynamicSlice(x, tensor([0, 3]), [3, 1]))).toEqual([3, 7, 11]);
      expect((yield* Y.dynamicSlice(x, [0, 0], [0, 2])).shape).toEqual([0, 2]);
      const u = yield* Y.dynamicUpdateSlice(x, tensor([[-1, -2]]), [1, 3]); // clamped to [1, 2]
      expect(vals(u)).toEqual([0, 1, 2, 3, 4, 5, -1, -2, 8, 9, 10, 11]);
      const p = yield* Y.dynamicUpdateSlice(tensor([1, 2, 3], { dtype: "float32" }), tensor([9]), [0]);
      expect(p.dtype).toBe("float64"); // dtypes promote
      expect(vals(p)).toEqual([9, 2, 3]);
    });
  });
  it("starts known only at run time: jit takes them as data (one program, every start), matching eager", () => {
    const f = jit(function* (v: Value, i: Value, j: Value) {
      return yield* Y.dynamicSlice(v, [i, j], [2, 3]);
    });
    const g = jit(function* (v: Value, s: Value) {
      return yield* Y.dynamicUpdateSlice(v, Y.ones([2, 1]), s);
    });
    for (const [i, j] of [[0, 0], [1, 1], [5, -3], [2, 1]]) {
      expectSame(run(f, x, i, j), run(function* () { return yield* Y.dynamicSlice(x, [i!, j!], [2, 3]); }));
      expectSame(run(g, x, tensor([i!, j!])), run(function* () { return yield* Y.dynamicUpdateSlice(x, Y.ones([2, 1]), [i!, j!]); }));
    }
    expect(() => run(f, x, 0.5, 0)).toThrow(/dynamicSlice: start 0.5 of axis 0/);
    // the starts were data: every call after the first reused the one compiled program
    expect(f.info.compiles).toBe(1);
    expect(g.info.compiles).toBe(1);
    expect(f.info.hits).toBeGreaterThanOrEqual(3);
  });
  it("derivatives of first and second order, forward and reverse, in x and the update", () => {
    checkGrads(function* (v: Value) {
      const w = yield* Y.dynamicSlice(v, [1, 2], [2, 2]);
      return yield* Y.mul(w, w);
    }, [randomTensor([3, 4], 1)], { order: 2, name: "dynamicSlice" });
    checkGrads(function* (v: Value, u: Value) {
      const w = yield* Y.dynamicUpdateSlice(v, yield* Y.sin(u), [2, -1]);
      return yield* Y.mul(w, v);
    }, [randomTensor([3, 4], 2), randomTensor([1, 3], 3)], { order: 2, name: "dynamicUpdateSlice" });
    // with starts that are jit's run-time data
    const gj = run(jit(grad(function* (v: Value, i: Value) {
      return yield* Y.sum(yield* Y.square(yield* Y.dynamicSlice(v, [i, 0], [1, 2])));
    })), x, 2);
    expect(vals(gj)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 16, 18, 0, 0]);
  });
  it("vmap: shared starts and starts per example, against a loop", () => {
    const xs = randomTensor([3, 3, 4], 4);
    const starts = tensor([[0, 1], [2, 2], [1, 0]]);
    const slice = function* (v: Value, s: Value) {
      return yield* Y.dynamicSlice(v, s, [2, 2]);
    };
    const update = function* (v: Value, s: Value) {
      return yield* Y.dynamicUpdateSlice(v, tensor([[1, 2]]), s);
    };
    for (const f of [slice, update]) {
      expectSame(run(vmap(f), xs, starts), stackOf([0, 1, 2].map((b) => run(f, exampleOf(xs, b), exampleOf(starts, b)) as Tensor)));
      expectSame(run(vmap(f, [0, null]), xs, tensor([1, 1])), stackOf([0, 1, 2].map((b) => run(f, exampleOf(xs, b), tensor([1, 1])) as Tensor)));
    }
  });
  it("vmap of vmap with starts per example at both levels: one window per row, against a double loop; and its gradient", () => {
    const xs = randomTensor([2, 3, 4], 6);
    const starts = tensor([[[0], [2], [3]], [[1], [0], [2]]]); // [2, 3, 1]: one start per inner example
    const f = function* (v: Value, s: Value) {
      const w = yield* Y.dynamicSlice(v, s, [2]);
      return yield* Y.dynamicUpdateSlice(v, yield* Y.mul(w, w), s);
    };
    const want = stackOf([0, 1].map((a) => stackOf([0, 1, 2].map((b) => run(f, exampleOf(exampleOf(xs, a), b), exampleOf(exampleOf(starts, a), b)) as Tensor))));
    expectSame(run(vmap(vmap(f)), xs, starts), want);
    expectSame(run(jit(vmap(vmap(f))), xs, starts), want);
    const g = run(grad(function* (v: Value) {
      return yield* Y.sum(yield* vmap(vmap(f))(v, starts));
    }), xs) as Tensor;
    const gWant = stackOf([0, 1].map((a) => stackOf([0, 1, 2].map((b) =>
      run(grad(function* (v: Value) { return yield* Y.sum(yield* f(v, exampleOf(exampleOf(starts, a), b))); }), exampleOf(exampleOf(xs, a), b)) as Tensor))));
    expectSame(g, gWant);
  });
  it("bad input", () => {
    fails(() => run(function* () { return yield* Y.dynamicSlice(x, [0, 0], [4, 1]); }), "ShapeError", /dynamicSlice: sizes \[4, 1\] do not fit in shape \[3, 4\]/);
    fails(() => run(function* () { return yield* Y.dynamicSlice(x, [0], [1, 1]); }), "ShapeError", /dynamicSlice: 1 starts for an operand of rank 2/);
    fails(() => run(function* () { return yield* Y.dynamicSlice(x, [0, 1.5], [1, 1]); }), "IndexError", /dynamicSlice: start 1.5 of axis 1 is not an integer/);
    fails(() => run(function* () { return yield* Y.dynamicSlice(x, tensor([[0, 1]]), [1, 1]); }), "ShapeError", /dynamicSlice: starts have shape \[1, 2\]/);
    fails(() => run(function* () { return yield* Y.dynamicUpdateSlice(x, Y.ones([4, 1]), [0, 0]); }), "ShapeError", /dynamicUpdateSlice: the update's shape \[4, 1\] does not fit/);
    fails(() => run(function* () { return yield* Y.dynamicUpdateSlice(x, Y.ones([4]), [0, 0]); }), "ShapeError", /dynamicUpdateSlice: the update's shape \[4\] has rank 1/);
    fails(() => run(function* () { return yield* Y.dynamicSlice(x, "01" as never, [1, 1]); }), "ValueError", /dynamicSlice: starts must be/);
  });
});
