// Algebraic properties of the operations, checked with fast-check on random shapes and values
// through the public API (every operation run as an effect).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  run, tensor, Tensor, type DType, type Effect,
  add, mul, sum, exp, log, logsumexp, softmax, max, min, reshape, transpose, matmul, sub, abs,
} from "../src/index.ts";

const RUNS = { numRuns: 40 };

const ev = <R>(op: () => Effect<R>): R =>
  run(function* () {
    return yield* op();
  });

const size = (s: readonly number[]): number => s.reduce((n, d) => n * d, 1);
const vals = (t: unknown): number[] => (t instanceof Tensor ? Array.from(t.data) : [t as number]);

const dtypeArb = fc.constantFrom<DType>("float32", "float64");
const shapeArb = (minRank = 0, maxRank = 3) => fc.array(fc.integer({ min: 1, max: 4 }), { minLength: minRank, maxLength: maxRank });
/** Values that are exact in float32 (multiples of 1/8 in [-8, 8]). */
const tensorArb = (shape: number[], dtype: DType, lo = -64, hi = 64, scale = 8) =>
  fc
    .array(fc.integer({ min: lo, max: hi }), { minLength: size(shape), maxLength: size(shape) })
    .map((v) => tensor(v.map((k) => k / scale), { dtype, shape }));
const floatTensorArb = (shape: number[], dtype: DType, lo: number, hi: number) =>
  fc
    .array(fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }), { minLength: size(shape), maxLength: size(shape) })
    .map((v) => tensor(v, { dtype, shape }));

/** Two shapes that broadcast: a common base with some axes set to 1 and leading axes dropped. */
const broadcastPairArb = shapeArb(0, 3).chain((base) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      fc.integer({ min: 0, max: base.length }),
      fc.integer({ min: 0, max: base.length }),
    )
    .map(([ones1, ones2, drop1, drop2]) => [
      base.map((d, i) => (ones1[i] ? 1 : d)).slice(drop1),
      base.map((d, i) => (ones2[i] ? 1 : d)).slice(drop2),
    ]),
);

const close = (got: number[], want: number[], rtol: number, atol = rtol): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) throw new Error(`element ${i}: ${g} vs ${w}`);
  });
};
const tolOf = (dtype: DType): number => (dtype === "float32" ? 1e-5 : 1e-12);

describe("broadcasting binary operations", () => {
  it("add and mul are commutative under broadcasting (bitwise), and the shape is the broadcast shape", () => {
    fc.assert(
      fc.property(
        broadcastPairArb.chain(([sa, sb]) => fc.tuple(dtypeArb, dtypeArb).chain(([da, db]) => fc.tuple(tensorArb(sa!, da), tensorArb(sb!, db)))),
        fc.constantFrom(add, mul),
        ([a, b], op) => {
          const ab = ev(() => op(a, b)) as Tensor;
          const ba = ev(() => op(b, a)) as Tensor;
          expect(ab.shape).toEqual(ba.shape);
          expect(ab.dtype).toBe(ba.dtype);
          expect(vals(ab)).toEqual(vals(ba));
          const n = Math.max(a.shape.length, b.shape.length);
          const want = Array.from({ length: n }, (_, i) => Math.max(a.shape[a.shape.length - n + i] ?? 1, b.shape[b.shape.length - n + i] ?? 1));
          expect(ab.shape).toEqual(want);
          expect(ab.dtype).toBe(a.dtype === "float64" || b.dtype === "float64" ? "float64" : "float32");
        },
      ),
      RUNS,
    );
  });

  it("a number broadcasts like a 0-d tensor", () => {
    fc.assert(
      fc.property(shapeArb().chain((s) => tensorArb(s, "float64")), fc.integer({ min: -8, max: 8 }), (x, c) => {
        expect(vals(ev(() => add(x, c)))).toEqual(vals(ev(() => add(x, tensor(c)))));
        expect(vals(ev(() => mul(c, x)))).toEqual(vals(ev(() => mul(tensor(c), x))));
      }),
      RUNS,
    );
  });
});

describe("reductions", () => {
  it("sum over all axes equals the sum of the sums over one axis, and of axis lists", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) => fc.tuple(dtypeArb.chain((d) => tensorArb(s, d)), fc.integer({ min: 0, max: s.length - 1 }))),
        ([x, k]) => {
          const total = vals(ev(() => sum(x)))[0]!;
          const partial = ev(() => sum(x, k)) as Tensor;
          expect(partial.shape).toEqual(x.shape.filter((_, i) => i !== k));
          const viaPartial = vals(ev(() => sum(partial)))[0]!;
          const listed = vals(ev(() => sum(x, x.shape.map((_, i) => i - x.shape.length))))[0]!;
          const direct = vals(x).reduce((s, v) => s + v, 0);
          // values are multiples of 1/8 with few elements: every partial sum is exact
          expect(total).toBe(direct);
          expect(viaPartial).toBe(direct);
          expect(listed).toBe(direct);
        },
      ),
      RUNS,
    );
  });

  it("max >= every element (and equals one of them); min <= every element", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) => fc.tuple(floatTensorArb(s, "float64", -1e3, 1e3), fc.integer({ min: 0, max: s.length - 1 }))),
        ([x, k]) => {
          const xs = vals(x);
          const m = vals(ev(() => max(x)))[0]!;
          const n = vals(ev(() => min(x)))[0]!;
          expect(xs.every((v) => v <= m)).toBe(true);
          expect(xs.every((v) => v >= n)).toBe(true);
          expect(xs).toContain(m);
          expect(xs).toContain(n);
          // along an axis, with keepdims: broadcast comparison against the input
          const mk = ev(() => max(x, k, true)) as Tensor;
          const diff = vals(ev(() => sub(mk, x)));
          expect(diff.every((d) => d >= 0)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("logsumexp equals log(sum(exp(x))) where exp does not overflow", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) => fc.tuple(floatTensorArb(s, "float64", -30, 30), fc.integer({ min: -s.length, max: s.length - 1 }))),
        ([x, k]) => {
          const lse = ev(() => logsumexp(x, k));
          const naive = run(function* () {
            return yield* log(yield* sum(yield* exp(x), k));
          });
          close(vals(lse), vals(naive), 1e-12);
          const all = ev(() => logsumexp(x));
          const naiveAll = Math.log(vals(x).reduce((s, v) => s + Math.exp(v), 0));
          close(vals(all), [naiveAll], 1e-12);
        },
      ),
      RUNS,
    );
  });
});

describe("softmax", () => {
  it("rows sum to 1, lie in [0, 1] and stay finite for inputs up to ±1000", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) => dtypeArb.chain((d) => floatTensorArb(s, d, -1000, 1000))),
        (x) => {
          const p = ev(() => softmax(x)) as Tensor;
          expect(p.shape).toEqual(x.shape);
          const ps = vals(p);
          expect(ps.every((v) => Number.isFinite(v) && v >= 0 && v <= 1 + 1e-6)).toBe(true);
          const rows = vals(ev(() => sum(p, -1)));
          // float32 rounds logsumexp to the input's magnitude before exp (see ops-values)
          close(rows, rows.map(() => 1), x.dtype === "float32" ? 5e-4 : 1e-9);
        },
      ),
      RUNS,
    );
  });

  it("is unchanged by adding a constant to a row", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 2).chain((s) => floatTensorArb(s, "float64", -20, 20)),
        fc.integer({ min: -900, max: 900 }),
        (x, c) => {
          close(vals(ev(() => softmax(x))), vals(run(function* () { return yield* softmax(yield* add(x, c)); })), 1e-9, 1e-12);
        },
      ),
      RUNS,
    );
  });
});

describe("shape round trips", () => {
  it("reshape to another shape of the same size and back is the identity", () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => fc.tuple(tensorArb(s, "float64"), fc.shuffledSubarray(s, { minLength: s.length, maxLength: s.length }))),
        ([x, perm]) => {
          const other = [...perm, 1].reverse();
          const y = ev(() => reshape(x, other)) as Tensor;
          expect(y.shape).toEqual(other);
          expect(vals(y)).toEqual(vals(x));
          const back = ev(() => reshape(y, x.shape)) as Tensor;
          expect(back.shape).toEqual(x.shape);
          expect(vals(back)).toEqual(vals(x));
          const flat = ev(() => reshape(x, [-1])) as Tensor;
          expect(flat.shape).toEqual([x.size]);
        },
      ),
      RUNS,
    );
  });

  it("transpose by a permutation then by its inverse is the identity; default twice too", () => {
    fc.assert(
      fc.property(
        shapeArb(0, 4).chain((s) =>
          fc.tuple(
            tensorArb(s, "float64"),
            fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }),
          ),
        ),
        ([x, perm]) => {
          const inv = new Array<number>(perm.length);
          perm.forEach((p, i) => (inv[p] = i));
          const t = ev(() => transpose(x, perm)) as Tensor;
          expect(t.shape).toEqual(perm.map((p) => x.shape[p]));
          const back = ev(() => transpose(t, inv)) as Tensor;
          expect(back.shape).toEqual(x.shape);
          expect(vals(back)).toEqual(vals(x));
          const twice = run(function* () {
            return yield* transpose(yield* transpose(x));
          });
          expect(vals(twice)).toEqual(vals(x));
        },
      ),
      RUNS,
    );
  });
});

describe("matmul", () => {
  it("is associative within tolerance", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), dtypeArb)
          .chain(([m, k, n, p, d]) => fc.tuple(floatTensorArb([m, k], d, -2, 2), floatTensorArb([k, n], d, -2, 2), floatTensorArb([n, p], d, -2, 2))),
        ([a, b, c]) => {
          const left = run(function* () {
            return yield* matmul(yield* matmul(a, b), c);
          });
          const right = run(function* () {
            return yield* matmul(a, yield* matmul(b, c));
          });
          expect(left.shape).toEqual([a.shape[0], c.shape[1]]);
          // entries are bounded by 4*4*8 = 128 in magnitude; scale the tolerance accordingly
          const err = vals(
            run(function* () {
              return yield* max(yield* abs(yield* sub(left, right)));
            }),
          )[0]!;
          expect(err).toBeLessThanOrEqual(128 * tolOf(a.dtype));
        },
      ),
      RUNS,
    );
  });
});
