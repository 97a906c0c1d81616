// sort, argsort and topK: values against NumPy's semantics (stable, NaN last; topK largest
// first), a plain-JS reference over random shapes, axes and tied values, derivatives of first and
// second order in both modes against finite differences, gradients that reach the chosen
// elements only, vmap against a loop, jit against eager, and bad input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as Y from "../src/index.ts";
import { grad, jit, run, tensor, vmap, Tensor, type Value } from "../src/index.ts";
import { checkGrads, distinctLeaves, prng } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";
import { exampleOf, stackOf } from "./stack-examples.ts";
import { expectTagged } from "./expect-tagged.ts";

const vals = (t: unknown): number[] => Array.from((t as Tensor).buf);
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Lines along `axis`: for each, the flat positions of its elements in order. */
function lines(shape: readonly number[], axis: number): number[][] {
  const inner = sizeOf(shape.slice(axis + 1));
  const n = shape[axis]!;
  const outer = sizeOf(shape.slice(0, axis));
  const out: number[][] = [];
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) out.push(Array.from({ length: n }, (_, r) => o * n * inner + r * inner + j));
  return out;
}

/** NumPy's order: ascending, NaN last, ties by position (stable). */
const numpyOrder = (xs: ArrayLike<number>) => (i: number, j: number) => {
  const [a, b] = [xs[i]!, xs[j]!];
  const [an, bn] = [Number.isNaN(a), Number.isNaN(b)];
  if (an || bn) return an === bn ? i - j : an ? 1 : -1;
  return a - b || i - j;
};

/** x's values drawn from a small set (ties are common), NaN sometimes. */
const tiedArb = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
  .chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 }), fc.array(fc.integer({ min: -2, max: 3 }), { minLength: sizeOf(s), maxLength: sizeOf(s) })))
  .map(([s, axis, ints]) => ({ s, axis, x: tensor(Float64Array.from(ints, (k) => (k === 3 ? NaN : k / 2)), { shape: s }) }));

describe("values (NumPy semantics)", () => {
  it("known values: ascending, NaN last, stable ties, along any axis", () => {
    run(function* () {
      expect(vals(yield* Y.sort(tensor([3, NaN, 1, -Infinity, 1])))).toEqual([-Infinity, 1, 1, 3, NaN]);
      expect(vals(yield* Y.argsort(tensor([2, 1, 2, 1])))).toEqual([1, 3, 0, 2]);
      const m = tensor([[3, 1], [2, 5], [0, 4]]);
      expect(vals(yield* Y.sort(m, 0))).toEqual([0, 1, 2, 4, 3, 5]);
      expect(vals(yield* Y.argsort(m, 0))).toEqual([2, 0, 1, 2, 0, 1]);
      expect(vals(yield* Y.sort(m))).toEqual([1, 3, 2, 5, 0, 4]);
      expect((yield* Y.argsort(m)).dtype).toBe("float64");
      const f = yield* Y.sort(tensor([2, -1], { dtype: "float32" }));
      expect(f.dtype).toBe("float32");
    });
  });

  it("topK: largest first, ties by lower position, NaN counts as the largest, k = 0 and k = n", () => {
    run(function* () {
      const [v, i] = yield* Y.topK(tensor([1, 3, 3, 2]), 2);
      expect(vals(v)).toEqual([3, 3]);
      expect(vals(i)).toEqual([1, 2]);
      const [v2, i2] = yield* Y.topK(tensor([[1, NaN, 5], [4, 6, 5]]), 2);
      expect(vals(v2)).toEqual([NaN, 5, 6, 5]);
      expect(vals(i2)).toEqual([1, 2, 1, 2]);
      expect(v2.shape).toEqual([2, 2]);
      const [v0] = yield* Y.topK(tensor([[1, 2]]), 0);
      expect(v0.shape).toEqual([1, 0]);
      const [vn, in_] = yield* Y.topK(tensor([0.5, -1, 2]), 3);
      expect(vals(vn)).toEqual([2, 0.5, -1]);
      expect(vals(in_)).toEqual([2, 0, 1]);
    });
  });

  it("sort, argsort and topK match a plain reference on random shapes, axes and tied values", () => {
    fc.assert(
      fc.property(tiedArb, fc.integer({ min: 0, max: 4 }), ({ s, axis, x }, kRaw) => {
        const a = axis < 0 ? axis + s.length : axis;
        const [sorted, order] = run(function* () {
          return [yield* Y.sort(x, axis), yield* Y.argsort(x, axis)];
        }) as Tensor[];
        const wantSorted = new Float64Array(x.size);
        const wantOrder = new Float64Array(x.size);
        for (const line of lines(s, a)) {
          const perm = line.map((_, r) => r).sort((p, q) => numpyOrder(x.buf)(line[p]!, line[q]!));
          perm.forEach((p, r) => {
            wantSorted[line[r]!] = x.buf[line[p]!]!;
            wantOrder[line[r]!] = p;
          });
        }
        expect(vals(sorted)).toEqual(Array.from(wantSorted));
        expect(vals(order)).toEqual(Array.from(wantOrder));
        const n = s[s.length - 1]!;
        const k = Math.min(kRaw, n);
        const [tv, ti] = run(function* () {
          return yield* Y.topK(x, k);
        }) as Tensor[];
        const rows = sizeOf(s) / n;
        for (let r = 0; r < rows; r++) {
          const row = Array.from(x.buf.slice(r * n, (r + 1) * n));
          // descending, NaN first, ties by position
          const idx = row.map((_, j) => j).sort((p, q) => numpyOrder(row.map((v) => (Number.isNaN(v) ? NaN : -v)))(p, q));
          const nanFirst = [...idx.filter((j) => Number.isNaN(row[j]!)), ...idx.filter((j) => !Number.isNaN(row[j]!))];
          expect(vals(ti).slice(r * k, (r + 1) * k)).toEqual(nanFirst.slice(0, k));
          expect(vals(tv).slice(r * k, (r + 1) * k)).toEqual(nanFirst.slice(0, k).map((j) => row[j]!));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("derivatives", () => {
  it("sort and topK against finite differences, first and second order, forward and reverse", () => {
    for (const axis of [0, -1])
      checkGrads(function* (x: Value) {
        return yield* Y.mul(yield* Y.sort(x, axis), yield* Y.sort(x, axis));
      }, distinctLeaves([[3, 4]], 11), { order: 2, name: `sort axis ${axis}` });
    checkGrads(function* (x: Value) {
      const [v] = yield* Y.topK(x, 2);
      return yield* Y.sin(v);
    }, distinctLeaves([[2, 5]], 12), { order: 2, name: "topK values" });
  });

  it("over random shapes, axes and tied values: sort's gradient is the cotangent sent back through argsort, topK's through its indices", () => {
    fc.assert(
      fc.property(tiedArb, fc.integer({ min: 0, max: 4 }), ({ s, axis, x }, kRaw) => {
        const a = axis < 0 ? axis + s.length : axis;
        const w = tensor(Float64Array.from({ length: x.size }, (_, i) => i + 1), { shape: s });
        const g = run(grad(function* (v: Value) {
          return yield* Y.sum(yield* Y.mul(yield* Y.sort(v, axis), w));
        }), x) as Tensor;
        const order = run(function* () { return yield* Y.argsort(x, axis); }) as Tensor;
        const want = new Float64Array(x.size);
        for (const line of lines(s, a)) line.forEach((pos, r) => (want[line[order.buf[pos]!]!] = w.buf[line[r]!]!));
        expect(vals(g)).toEqual(Array.from(want));
        const n = s[s.length - 1]!;
        const k = Math.min(kRaw, n);
        const wk = tensor(Float64Array.from({ length: (x.size / n) * k }, (_, i) => i + 1), { shape: [...s.slice(0, -1), k] });
        const gk = run(grad(function* (v: Value) {
          const [top] = yield* Y.topK(v, k);
          return yield* Y.sum(yield* Y.mul(top, wk));
        }), x) as Tensor;
        const [, idx] = run(function* () { return yield* Y.topK(x, k); }) as Tensor[];
        const wantK = new Float64Array(x.size);
        idx!.buf.forEach((j, i) => (wantK[Math.floor(i / k) * n + j] += wk.buf[i]!));
        expect(vals(gk)).toEqual(Array.from(wantK));
      }),
      { numRuns: 40 },
    );
  });
  it("the gradient reaches the chosen elements only; indices have none", () => {
    const w = tensor([10, 20]);
    const g = run(grad(function* (x: Value) {
      const [v, i] = yield* Y.topK(x, 2);
      return yield* Y.add(yield* Y.sum(yield* Y.mul(v, w)), yield* Y.sum(i));
    }), tensor([0.5, 4, -1, 3, 3]));
    expect(vals(g)).toEqual([0, 10, 0, 20, 0]); // 4 first, then the first 3
    const gs = run(grad(function* (x: Value) {
      return yield* Y.sum(yield* Y.mul(yield* Y.sort(x), tensor([1, 2, 3])));
    }), tensor([5, -2, 1]));
    expect(vals(gs)).toEqual([3, 1, 2]);
    const ga = run(grad(function* (x: Value) {
      return yield* Y.sum(yield* Y.mul(yield* Y.argsort(x), x));
    }), tensor([5, -2, 1]));
    expect(vals(ga)).toEqual([1, 2, 0]); // the argsort is a constant: d(Σ a·x) = a
  });
});

describe("vmap against a loop, jit against eager", () => {
  const ops: [string, (x: Value) => Generator<Y.Effect, unknown, unknown>][] = [
    ["sort", function* (x) { return yield* Y.sort(x, 0); }],
    ["argsort", function* (x) { return yield* Y.argsort(x); }],
    ["topK", function* (x) { return yield* Y.topK(x, 2); }],
    ["grad of topK", function* (x) {
      return yield* grad(function* (y: Value) {
        const [v] = yield* Y.topK(y, 2);
        return yield* Y.sum(yield* Y.mul(v, v));
      })(x);
    }],
  ];
  const rnd = prng(5);
  const xs = tensor(Float64Array.from({ length: 3 * 2 * 4 }, () => Math.round(rnd() * 8) / 4), { shape: [3, 2, 4] }); // with ties
  for (const [name, f] of ops)
    it(`${name}`, () => {
      const each = [0, 1, 2].map((b) => run(f, exampleOf(xs, b)));
      const got = run(vmap(f), xs);
      const want = Array.isArray(each[0]) ? (each[0] as Tensor[]).map((_, k) => stackOf(each.map((e) => (e as Tensor[])[k]!))) : stackOf(each as Tensor[]);
      expectSame(got, want);
      for (const b of [0, 1, 2]) expectSame(run(jit(f), exampleOf(xs, b)), each[b]);
    });
});

describe("bad input", () => {
  const fails = expectTagged;
  it("k larger than the last axis, a negative or fractional k, 0-d operands, axes out of range", () => {
    const x = tensor([[1, 2, 3]]);
    fails(() => run(function* () { return yield* Y.topK(x, 4); }), "ValueError", /topK: k = 4 does not fit the last axis of shape \[1, 3\], which holds 3 elements; pass an integer k in \[0, 3\]/);
    fails(() => run(function* () { return yield* Y.topK(x, -1); }), "ValueError", /topK: k = -1/);
    fails(() => run(function* () { return yield* Y.topK(x, 1.5); }), "ValueError", /topK: k = 1.5/);
    fails(() => run(function* () { return yield* Y.topK(2, 1); }), "ShapeError", /topK: the operand is 0-d/);
    fails(() => run(function* () { return yield* Y.sort(2); }), "ShapeError", /sort: the operand is 0-d/);
    fails(() => run(function* () { return yield* Y.argsort(x, 2); }), "IndexError", /argsort: axis 2 is out of range/);
    fails(() => run(jit(function* (v: Value) { return yield* Y.topK(v, 5); }), x), "ValueError", /topK: k = 5/);
  });
});
