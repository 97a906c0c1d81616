// prod, variance, std, argmax/argmin, cumsum and cumprod: values against NumPy's semantics
// (known values, and a plain-loop reference over random shapes and axes), derivatives of first
// and second order in both modes against finite differences (prod and cumprod with zeros),
// vmap against a loop, jit against eager, and bad input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as Y from "../src/index.ts";
import { grad, jit, run, tensor, vmap, Tensor, type Value } from "../src/index.ts";
import { checkGrads, randomTensor } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";
import { exampleOf, stackOf } from "./stack-examples.ts";
import { expectTagged } from "./expect-tagged.ts";

const vals = (t: unknown): number[] => Array.from((t as Tensor).buf);
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const stridesOf = (s: readonly number[]) => s.map((_, i) => sizeOf(s.slice(i + 1)));

/** The reference of a reduction over `axes` by plain loops: fold(values of a slice). */
function reduceRef(x: Tensor, axes: readonly number[], fold: (xs: number[]) => number): number[] {
  const s = x.shape;
  const outShape = s.filter((_, a) => !axes.includes(a));
  const groups = new Map<number, number[]>();
  const st = stridesOf(s);
  const ost = stridesOf(outShape);
  for (let i = 0; i < x.size; i++) {
    let o = 0;
    let k = 0;
    for (let a = 0; a < s.length; a++) {
      const idx = Math.floor(i / st[a]!) % s[a]!;
      if (!axes.includes(a)) o += idx * ost[k++]!;
    }
    if (!groups.has(o)) groups.set(o, []);
    groups.get(o)!.push(x.buf[i]!);
  }
  return Array.from({ length: sizeOf(outShape) }, (_, o) => fold(groups.get(o) ?? []));
}

/** Running fold along one axis by plain loops. */
function scanRef(x: Tensor, axis: number, op: (a: number, b: number) => number, init: number): number[] {
  const s = x.shape;
  const out = new Array<number>(x.size);
  const st = stridesOf(s)[axis]!;
  for (let i = 0; i < x.size; i++) {
    const idx = Math.floor(i / st) % s[axis]!;
    out[i] = op(idx === 0 ? init : out[i - st]!, x.buf[i]!);
  }
  return out;
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
const withAxes = shapeArb.chain((s) =>
  fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i)), fc.integer({ min: 0, max: 1000 }), fc.boolean()),
);
const withAxis = shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 }), fc.integer({ min: 0, max: 1000 })));

describe("values (NumPy semantics)", () => {
  it("prod: known values, axes, keepdims, an empty product is 1, a number stays a number", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    run(function* () {
      expect(vals(yield* Y.prod(x))).toEqual([720]);
      expect(vals(yield* Y.prod(x, 0))).toEqual([4, 10, 18]);
      const k = yield* Y.prod(x, -1, true);
      expect(k.shape).toEqual([2, 1]);
      expect(vals(k)).toEqual([6, 120]);
      expect(vals(yield* Y.prod(Y.zeros([0, 2]), 0))).toEqual([1, 1]);
      expect(yield* Y.prod(3)).toBe(3);
      expect(vals(yield* Y.prod(x, []))).toEqual([1, 2, 3, 4, 5, 6]);
    });
  });

  it("prod, cumsum, cumprod, argmax, argmin match loop references over random shapes and axes", () => {
    fc.assert(
      fc.property(withAxes, ([s, axes, seed, keepdims]) => {
        const x = randomTensor(s, seed, { lo: -1.5, hi: 1.5 });
        const got = run(function* () {
          return yield* Y.prod(x, axes, keepdims);
        }) as Tensor;
        const want = reduceRef(x, axes, (xs) => xs.reduce((a, b) => a * b, 1));
        expect(got.shape).toEqual(s.map((d, a) => (axes.includes(a) ? (keepdims ? 1 : null) : d)).filter((d) => d !== null));
        vals(got).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
      }),
      { numRuns: 40 },
    );
    fc.assert(
      fc.property(withAxis, ([s, axis, seed]) => {
        const x = randomTensor(s, seed);
        const a = axis < 0 ? axis + s.length : axis;
        const [cs, cp, am, an] = run(function* () {
          return [yield* Y.cumsum(x, axis), yield* Y.cumprod(x, axis), yield* Y.argmax(x, axis), yield* Y.argmin(x, axis)];
        }) as Tensor[];
        vals(cs).forEach((v, i) => expect(v).toBeCloseTo(scanRef(x, a, (p, q) => p + q, 0)[i]!, 12));
        vals(cp).forEach((v, i) => expect(v).toBeCloseTo(scanRef(x, a, (p, q) => p * q, 1)[i]!, 12));
        const first = (pick: (xs: number[]) => number) => (xs: number[]) => xs.indexOf(pick(xs));
        const wantMax = reduceRef(x, [a], first((xs) => Math.max(...xs)));
        const wantMin = reduceRef(x, [a], first((xs) => Math.min(...xs)));
        expect(vals(am)).toEqual(wantMax);
        expect(vals(an)).toEqual(wantMin);
        expect(am!.shape).toEqual(s.filter((_, i) => i !== a));
        expect(am!.dtype).toBe("float64");
      }),
      { numRuns: 40 },
    );
  });

  it("variance and std: known values, ddof, axes, keepdims", () => {
    const x = tensor([[1, 2, 3, 4], [2, 2, 2, 2]]);
    run(function* () {
      expect(vals(yield* Y.variance(x, 1))).toEqual([1.25, 0]);
      expect(vals(yield* Y.variance(x, 1, false, { ddof: 1 }))).toEqual([5 / 3, 0]);
      expect(vals(yield* Y.std(x, -1, true))).toEqual([Math.sqrt(1.25), 0]);
      expect((yield* Y.std(x, -1, true)).shape).toEqual([2, 1]);
      expect(vals(yield* Y.variance(x, 0))).toEqual([0.25, 0, 0.25, 1]);
      expect(vals(yield* Y.variance(x))[0]).toBeCloseTo(0.6875, 14); // over all 8: mean 2.25, Σ squares 5.5
      expect(yield* Y.variance(5)).toBe(0);
    });
  });

  it("argmax/argmin: first occurrence on ties, the first NaN wins, no axis searches the flattened operand", () => {
    run(function* () {
      expect(vals(yield* Y.argmax(tensor([1, 3, 3, 0])))).toEqual([1]);
      expect(vals(yield* Y.argmin(tensor([2, 0, 5, 0])))).toEqual([1]);
      expect(vals(yield* Y.argmax(tensor([1, NaN, 3, NaN])))).toEqual([1]);
      expect(vals(yield* Y.argmin(tensor([1, 0, NaN])))).toEqual([2]);
      const m = tensor([[1, 9, 2], [8, 0, 9]]);
      expect(vals(yield* Y.argmax(m))).toEqual([1]); // flattened: the first 9
      expect((yield* Y.argmax(m)).shape).toEqual([]);
      expect(vals(yield* Y.argmax(m, 0))).toEqual([1, 0, 1]);
      expect(vals(yield* Y.argmin(m, -1))).toEqual([0, 1]);
      expect(vals(yield* Y.argmax(7))).toEqual([0]);
      expect(vals(yield* Y.argmax(tensor([-Infinity, -Infinity])))).toEqual([0]);
    });
  });

  it("cumsum and cumprod: known values, float32 kept, empty axes", () => {
    run(function* () {
      expect(vals(yield* Y.cumsum(tensor([[1, 2, 3], [4, 5, 6]])))).toEqual([1, 3, 6, 4, 9, 15]);
      expect(vals(yield* Y.cumsum(tensor([[1, 2, 3], [4, 5, 6]]), 0))).toEqual([1, 2, 3, 5, 7, 9]);
      expect(vals(yield* Y.cumprod(tensor([2, 0, 3, 4])))).toEqual([2, 0, 0, 0]);
      const f = yield* Y.cumprod(tensor([1.5, 2, 2], { dtype: "float32" }));
      expect(f.dtype).toBe("float32");
      expect(vals(f)).toEqual([1.5, 3, 6]);
      expect((yield* Y.cumsum(Y.zeros([2, 0]))).shape).toEqual([2, 0]);
    });
  });
});

describe("derivatives against finite differences (first and second order, forward and reverse)", () => {
  const prodAll = function* (x: Value) {
    return yield* Y.prod(x);
  };
  it("prod of random values over axes, keepdims", () => {
    for (const [axis, keepdims] of [[undefined, false], [1, false], [[0, 2], true], [-1, true]] as const)
      checkGrads(function* (x: Value) {
        return yield* Y.prod(x, axis as number | number[] | undefined, keepdims);
      }, [randomTensor([2, 3, 2], 7)], { order: 2, name: `prod axis ${JSON.stringify(axis)}` });
  });
  it("numbers stay numbers: prod and variance of a number, prod over no axes", () => {
    checkGrads(function* (x: Value) {
      return yield* Y.mul(yield* Y.prod(x), yield* Y.add(x, yield* Y.variance(x)));
    }, [1.5], { order: 2, name: "prod and variance of a number" });
    checkGrads(function* (x: Value) {
      return yield* Y.prod(x, []);
    }, [randomTensor([2, 2], 9)], { order: 2, name: "prod over no axes" });
  });
  it("prod with one zero, two zeros and three zeros in a slice (second order exact at a single zero)", () => {
    checkGrads(prodAll, [tensor([1.5, 0, -2, 0.7])], { order: 2, name: "prod, one zero" });
    checkGrads(prodAll, [tensor([0, 1.5, 0, -2])], { order: 2, name: "prod, two zeros" });
    checkGrads(prodAll, [tensor([0, 0, 0.5, 0])], { order: 2, name: "prod, three zeros" });
    checkGrads(function* (x: Value) {
      return yield* Y.prod(x, 1);
    }, [tensor([[0, 2, 3], [1, 0, 0], [1, 2, 3]])], { order: 2, name: "prod rows with 1, 2 and no zeros" });
  });
  it("prod's gradient is the product of the others, exactly, at zeros", () => {
    const g = (x: Tensor) => vals(run(grad(prodAll), x));
    expect(g(tensor([2, 0, 3, 4]))).toEqual([0, 24, 0, 0]);
    expect(g(tensor([2, 0, 3, 0]))).toEqual([0, 0, 0, 0]);
    // second order at a single zero: d²/dx₁dx₀ of x0·x1·x2·x3 = x2·x3
    const h = run(grad(function* (x: Value) {
      const gx = yield* grad(prodAll)(x);
      return yield* Y.sum(yield* Y.mul(gx, tensor([1, 0, 0, 0])));
    }), tensor([2, 0, 3, 4]));
    expect(vals(h)).toEqual([0, 12, 0, 0]);
  });
  it("cumprod with zeros, both directions of axis; cumsum", () => {
    checkGrads(function* (x: Value) {
      return yield* Y.cumprod(x);
    }, [tensor([[1.5, 0, -2, 0.7, 1.1], [0, 0.5, 0, 2, -1]])], { order: 2, name: "cumprod with zeros" });
    checkGrads(function* (x: Value) {
      return yield* Y.cumprod(x, 0);
    }, [randomTensor([5, 2], 3)], { order: 2, name: "cumprod axis 0" });
    checkGrads(function* (x: Value) {
      return yield* Y.cumsum(x, 1);
    }, [randomTensor([2, 4, 2], 4)], { order: 2, name: "cumsum axis 1" });
  });
  it("variance and std (ddof 0 and 1)", () => {
    for (const ddof of [0, 1]) {
      checkGrads(function* (x: Value) {
        return yield* Y.variance(x, 1, false, { ddof });
      }, [randomTensor([2, 3], 5)], { order: 2, name: `variance ddof ${ddof}` });
      checkGrads(function* (x: Value) {
        return yield* Y.std(x, [0, 1], true, { ddof });
      }, [randomTensor([2, 3], 6)], { order: 2, name: `std ddof ${ddof}` });
    }
  });
  it("std's gradient at zero variance is NaN (0·∞, as JAX); variance's is 0", () => {
    const gs = run(grad(function* (x: Value) {
      return yield* Y.std(x);
    }), tensor([2, 2, 2]));
    expect(vals(gs).every(Number.isNaN)).toBe(true);
    const gv = run(grad(function* (x: Value) {
      return yield* Y.variance(x);
    }), tensor([2, 2, 2]));
    expect(vals(gv)).toEqual([0, 0, 0]);
  });
  it("prod's and cumprod's gradients equal the products of the other factors, with random zeros, over random shapes and axes", () => {
    fc.assert(
      fc.property(withAxes, fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), ([s, axes, seed], zero) => {
        const x = tensor(Float64Array.from(randomTensor(s, seed).buf, (v, i) => (zero[i % 64] ? 0 : v)), { shape: s });
        const g = run(grad(function* (v: Value) {
          return yield* Y.sum(yield* Y.prod(v, axes));
        }), x) as Tensor;
        // the product of the other elements of each slice, by brute force
        const want = Array.from(x.buf, (_, i) => {
          const slice = reduceRef(tensor(Float64Array.from(x.buf, (v, j) => (j === i ? NaN : v)), { shape: s }), axes, (xs) => (xs.some(Number.isNaN) ? xs.reduce((a, b) => (Number.isNaN(b) ? a : a * b), 1) : NaN));
          return slice.find((v) => !Number.isNaN(v))!;
        });
        vals(g).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
        const last = s.length - 1;
        const gc = run(grad(function* (v: Value) {
          return yield* Y.sum(yield* Y.cumprod(v, last));
        }), x) as Tensor;
        const n = s[last]!;
        const wantC = Array.from(x.buf, (_, i) => {
          const r = i % n;
          const row = Array.from(x.buf.slice(i - r, i - r + n));
          let total = 0;
          for (let end = r; end < n; end++) total += row.slice(0, end + 1).reduce((a, b, j) => (j === r ? a : a * b), 1);
          return total;
        });
        vals(gc).forEach((v, i) => expect(v).toBeCloseTo(wantC[i]!, 12));
      }),
      { numRuns: 30 },
    );
  });
  it("integer-valued results have zero tangents in forward mode", () => {
    const [out, t] = run(function* () {
      return yield* Y.jvp(function* (v: Value) {
        return yield* Y.argmax(v, 0);
      }, [tensor([[1, 4], [3, 2]])], [tensor([[1, 1], [1, 1]])]);
    }) as [Tensor, Tensor];
    expect(vals(out)).toEqual([1, 0]);
    expect(vals(t)).toEqual([0, 0]);
  });
  it("argmax and argmin have no derivative: zero at every order", () => {
    const g = run(grad(function* (x: Value) {
      return yield* Y.sum(yield* Y.mul(yield* Y.argmax(x, 1), yield* Y.sum(x)));
    }), tensor([[1, 5, 2], [7, 0, 1]]));
    // d/dx [Σ argmax · Σx] = Σ argmax (the argmax is a constant): 1 + 0
    expect(vals(g)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe("vmap against a loop, jit against eager", () => {
  const ops: [string, (x: Value) => Generator<Y.Effect, Value, unknown>][] = [
    ["prod", function* (x) { return yield* Y.prod(x, -1); }],
    ["variance", function* (x) { return yield* Y.variance(x, 0, true, { ddof: 1 }); }],
    ["std", function* (x) { return yield* Y.std(x); }],
    ["argmax", function* (x) { return yield* Y.argmax(x, 1); }],
    ["argmin flattened", function* (x) { return yield* Y.argmin(x); }],
    ["cumsum", function* (x) { return yield* Y.cumsum(x, 0); }],
    ["cumprod", function* (x) { return yield* Y.cumprod(x); }],
    ["grad of prod", function* (x) { return yield* grad(function* (y: Value) { return yield* Y.prod(y); })(x); }],
    ["grad of cumprod", function* (x) { return yield* grad(function* (y: Value) { return yield* Y.sum(yield* Y.cumprod(y, 1)); })(x); }],
  ];
  for (const [name, f] of ops) {
    it(`${name}: vmap equals stacking one call per example; jit equals eager`, () => {
      const xs = tensor([[[1, 0, 3], [2, -1, 0.5]], [[0, 0, 2], [1, 1, 1]], [[-1, 2, 0.25], [3, 0, 2]]]);
      const each = [0, 1, 2].map((b) => run(f, exampleOf(xs, b)) as Tensor);
      expectSame(run(vmap(f), xs), stackOf(each));
      for (const b of [0, 1, 2]) expectSame(run(jit(f), exampleOf(xs, b)), each[b]);
    });
  }
});

describe("bad input: tagged errors that name the operation", () => {
  const fails = (f: () => Generator<Y.Effect, unknown, unknown>, tag: string, text: RegExp) => expectTagged(() => run(f), tag, text);
  it("cumsum/cumprod of a 0-d value, axes out of range, argmax of nothing, bad ddof and options", () => {
    fails(function* () { return yield* Y.cumsum(3); }, "ShapeError", /cumsum: the operand is 0-d/);
    fails(function* () { return yield* Y.cumprod(tensor([1, 2]), 1); }, "IndexError", /cumprod: axis 1 is out of range/);
    fails(function* () { return yield* Y.prod(tensor([1, 2]), 2); }, "IndexError", /prod: axis 2/);
    fails(function* () { return yield* Y.argmax(Y.zeros([0])); }, "ValueError", /argmax: .*no elements/);
    fails(function* () { return yield* Y.argmin(Y.zeros([2, 0]), 1); }, "ValueError", /argmin: cannot reduce shape \[2, 0\]/);
    fails(function* () { return yield* Y.argmax(tensor([1, 2]), [0] as unknown as number); }, "ValueError", /argmax: axis must be one integer/);
    fails(function* () { return yield* Y.variance(tensor([1, 2]), 0, false, { ddof: 2 }); }, "ValueError", /variance: ddof 2 leaves no degrees of freedom/);
    fails(function* () { return yield* Y.std(tensor([1, 2]), 0, false, { ddof: -1 }); }, "ValueError", /std: ddof must be/);
    fails(function* () { return yield* Y.std(tensor([1, 2]), 0, false, { dof: 1 } as never); }, "ValueError", /std: option dof is not supported \(did you mean ddof\?\)/);
    fails(function* () { return yield* Y.variance(Y.zeros([0])); }, "ShapeError", /variance: .*zero elements/);
    fails(function* () { return yield* Y.prod([1, 2] as unknown as Value); }, "DTypeError", /prod: operand is a plain array/);
  });
  it("under jit, the same errors", () => {
    expect(() => run(jit(function* (x: Value) { return yield* Y.cumsum(x, 2); }), tensor([1, 2]))).toThrow(/cumsum: axis 2/);
    expect(() => run(jit(function* (x: Value) { return yield* Y.argmax(x, 1); }), Y.zeros([2, 0]))).toThrow(/argmax: cannot reduce/);
  });
});
