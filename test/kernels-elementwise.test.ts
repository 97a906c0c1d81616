import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { ShapeError } from "../src/errors.ts";
import { Tensor, type DType } from "../src/tensor/tensor.ts";
import { broadcastShapes, sizeOf, stridesOf } from "../src/tensor/shape.ts";
import { castKernel } from "../src/kernels/elementwise.ts";
import {
  binaryKernel, binaryScalar, unaryKernel, unaryScalar, whereKernel,
  type BinaryName, type Operand, type UnaryName,
} from "./elementwise-kernels.ts";

const DTYPES: DType[] = ["float32", "float64"];
const T = (values: number[], shape: number[] = [values.length], dtype: DType = "float64"): Tensor =>
  new Tensor(dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values), shape);
const vals = (t: Tensor): number[] => Array.from(t.buf);

// Slow, obviously-correct broadcasting reference: map each output multi-index into each operand.
function reference(f: (...xs: number[]) => number, ...ops: Operand[]): { shape: number[]; values: number[] } {
  const shapes = ops.map((o) => (typeof o === "number" ? [] : o.shape));
  const shape = shapes.reduce<number[]>((s, t) => broadcastShapes("ref", s, t), []);
  const os = stridesOf(shape);
  const values: number[] = [];
  for (let i = 0; i < sizeOf(shape); i++) {
    const index = os.map((s, k) => Math.floor(i / s) % shape[k]!);
    const args = ops.map((o, j) => {
      if (typeof o === "number") return o;
      const sh = shapes[j]!;
      const st = stridesOf(sh);
      let flat = 0;
      for (let k = 0; k < sh.length; k++) flat += (sh[k] === 1 ? 0 : index[k + shape.length - sh.length]!) * st[k]!;
      return o.buf[flat]!;
    });
    values.push(f(...args));
  }
  return { shape, values };
}

// Pairs of broadcast-compatible shapes: take an output shape, then per operand a suffix of it
// with some axes set to 1. Includes 0-d, rank differences and empty (size-0) axes.
const dim = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constant(0) });
const operandShape = (out: number[]) =>
  fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
const tensorOf = (shape: number[], dtype: DType) =>
  fc.array(fc.integer({ min: -9, max: 9 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((v) => T(v, shape, dtype));
const dtypeArb = fc.constantFrom<DType>("float32", "float64");
const pairArb = fc
  .tuple(fc.array(dim, { maxLength: 4 }), dtypeArb, dtypeArb)
  .chain(([out, da, db]) => fc.tuple(operandShape(out), operandShape(out)).chain(([sa, sb]) => fc.tuple(tensorOf(sa, da), tensorOf(sb, db))));

describe("unaryScalar / unaryKernel", () => {
  const xs = [-2.5, -1, -0.25, 0, 0.5, 1, 3];
  it("computes the documented math", () => {
    const u = unaryScalar;
    expect([u.neg(2), u.exp(0), u.log(Math.E), u.sqrt(9), u.square(-3), u.abs(-2)]).toEqual([-2, 1, 1, 3, 9, 2]);
    expect([u.sin(0), u.cos(0), u.tan(0), u.tanh(0)]).toEqual([0, 1, 0, 0]);
    expect([u.relu(-1), u.relu(0), u.relu(2)]).toEqual([0, 0, 2]);
    expect([u.sign(-3), u.sign(0), u.sign(4)]).toEqual([-1, 0, 1]);
    expect(Number.isNaN(u.sign(NaN))).toBe(true);
    expect(u.log1p(1e-20)).toBe(1e-20);
    expect(u.expm1(1e-20)).toBe(1e-20);
  });
  it("sigmoid is stable at large |x|", () => {
    expect(unaryScalar.sigmoid(0)).toBe(0.5);
    expect(unaryScalar.sigmoid(1000)).toBe(1);
    expect(unaryScalar.sigmoid(-1000)).toBe(0);
    expect(unaryScalar.sigmoid(-40)).toBeCloseTo(Math.exp(-40), 30); // no cancellation to 0
    expect(unaryScalar.sigmoid(2)).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    const t = unaryKernel("sigmoid", T([-1000, 1000, -745, 745], [4], "float32"));
    expect(vals(t)).toEqual([0, 1, 0, 1]);
  });
  it.each(DTYPES)("every op matches unaryScalar elementwise at %s", (dtype) => {
    for (const name of Object.keys(unaryScalar) as UnaryName[]) {
      const x = T(xs.map(Math.abs).map((v, i) => (["log", "sqrt"].includes(name) ? v + 0.5 : xs[i]!)), [7], dtype);
      const before = vals(x);
      const y = unaryKernel(name, x);
      expect(y.dtype).toBe(dtype);
      expect(y.shape).toEqual([7]);
      const want = before.map(unaryScalar[name]).map((v) => (dtype === "float32" ? Math.fround(v) : v));
      expect(vals(y)).toEqual(want);
      expect(vals(x)).toEqual(before); // input untouched
    }
  });
  it("keeps the shape of 0-d and empty tensors", () => {
    expect(unaryKernel("exp", T([0], [])).toArray()).toBe(1);
    expect(unaryKernel("neg", T([], [2, 0, 3])).shape).toEqual([2, 0, 3]);
  });
});

describe("binaryScalar", () => {
  it("arithmetic and comparisons", () => {
    const b = binaryScalar;
    expect([b.add(2, 3), b.sub(2, 3), b.mul(2, 3), b.div(3, 2), b.pow(2, 10)]).toEqual([5, -1, 6, 1.5, 1024]);
    expect([b.maximum(1, 2), b.minimum(1, 2)]).toEqual([2, 1]);
    expect(Number.isNaN(b.maximum(NaN, 1)) && Number.isNaN(b.minimum(1, NaN))).toBe(true);
    expect([b.greater(2, 1), b.greater(1, 1), b.less(1, 2), b.less(2, 2)]).toEqual([1, 0, 1, 0]);
    expect([b.equal(1, 1), b.equal(1, 2), b.greaterEqual(1, 1), b.lessEqual(2, 1)]).toEqual([1, 0, 1, 0]);
  });
});

describe("binaryKernel", () => {
  it.each(DTYPES)("same-shape and row broadcasting at %s", (dtype) => {
    const a = T([1, 2, 3, 4, 5, 6], [2, 3], dtype);
    const r = T([10, 20, 30], [3], dtype);
    const s = binaryKernel("add", a, r);
    expect(s.dtype).toBe(dtype);
    expect(s.toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(binaryKernel("mul", a, a).toArray()).toEqual([[1, 4, 9], [16, 25, 36]]);
    expect(binaryKernel("sub", r, a).toArray()).toEqual([[9, 18, 27], [6, 15, 24]]);
    expect(binaryKernel("div", a, T([2], [1], dtype)).toArray()).toEqual([[0.5, 1, 1.5], [2, 2.5, 3]]);
    expect(binaryKernel("greater", a, T([3], [], dtype)).toArray()).toEqual([[0, 0, 0], [1, 1, 1]]);
    expect(binaryKernel("pow", a, 2).toArray()).toEqual([[1, 4, 9], [16, 25, 36]]);
  });
  it.each(DTYPES)("numbers on either side never change the dtype (%s)", (dtype) => {
    const a = T([1, 2, 4], [3], dtype);
    const l = binaryKernel("sub", 10, a);
    const r = binaryKernel("sub", a, 10);
    expect([l.dtype, r.dtype]).toEqual([dtype, dtype]);
    expect(vals(l)).toEqual([9, 8, 6]);
    expect(vals(r)).toEqual([-9, -8, -6]);
    expect(vals(binaryKernel("div", 1, a))).toEqual([1, 0.5, 0.25]);
    expect(binaryKernel("add", 0.1, T([0], [], "float32")).item()).toBe(Math.fround(0.1));
  });
  it("promotes mixed dtypes to float64, numbers alone give float64", () => {
    expect(binaryKernel("add", T([1], [1], "float32"), T([1], [1])).dtype).toBe("float64");
    expect(binaryKernel("add", T([1], [1]), T([1], [1], "float32")).dtype).toBe("float64");
    const n = binaryKernel("add", 1, 2);
    expect([n.dtype, n.shape, n.item()]).toEqual(["float64", [], 3]);
  });
  it("size-1 axes on both sides, rank differences, 0-d", () => {
    const col = T([1, 2, 3], [3, 1]);
    const row = T([10, 20, 30, 40], [1, 4]);
    expect(binaryKernel("add", col, row).toArray()).toEqual([
      [11, 21, 31, 41], [12, 22, 32, 42], [13, 23, 33, 43],
    ]);
    const a = T([0, 1, 2, 3, 4, 5, 6, 7], [2, 1, 4]);
    const b = T([100, 200, 300], [3, 1]);
    const s = binaryKernel("add", a, b);
    expect(s.shape).toEqual([2, 3, 4]);
    expect(s.at(1, 2, 3)).toBe(307);
    expect(s.at(0, 1, 0)).toBe(200);
    const zero = T([5], []);
    expect(binaryKernel("mul", zero, T([1, 2])).toArray()).toEqual([5, 10]);
    expect(binaryKernel("mul", T([1, 2]), zero).toArray()).toEqual([5, 10]);
    expect(binaryKernel("add", zero, zero).shape).toEqual([]);
    expect(binaryKernel("add", T([1], [1, 1]), T([1, 2, 3])).shape).toEqual([1, 3]); // scalar path, extra axis
    expect(binaryKernel("add", T([1, 2, 3], [1, 3]), T([1, 2, 3])).toArray()).toEqual([[2, 4, 6]]);
  });
  it("empty tensors with a 0 dimension", () => {
    expect(binaryKernel("add", T([], [0, 3]), T([1, 2, 3])).shape).toEqual([0, 3]);
    expect(binaryKernel("add", T([], [0]), T([1], [1])).shape).toEqual([0]);
    expect(binaryKernel("add", T([], [2, 0]), T([1, 2], [2, 1])).shape).toEqual([2, 0]);
    expect(binaryKernel("add", T([], [0]), 3).shape).toEqual([0]);
  });
  it("maximum/minimum propagate NaN, equal treats NaN as unequal", () => {
    const a = T([1, NaN, 3]);
    expect(vals(binaryKernel("maximum", a, 2))).toEqual([2, NaN, 3]);
    expect(vals(binaryKernel("minimum", 2, a))).toEqual([1, NaN, 2]);
    expect(vals(binaryKernel("equal", a, a))).toEqual([1, 0, 1]);
  });
  it("throws ShapeError naming the op and both shapes", () => {
    expect(() => binaryKernel("mul", T([1, 2, 3, 4, 5, 6], [2, 3]), T([1, 2, 3, 4, 5, 6], [3, 2]))).toThrow(ShapeError);
    expect(() => binaryKernel("mul", T([1, 2, 3, 4, 5, 6], [2, 3]), T([1, 2], [2]))).toThrow(/mul: shapes \[2, 3\] and \[2\]/);
  });
  it("matches the broadcasting reference for every op (property)", () => {
    const names = Object.keys(binaryScalar) as BinaryName[];
    fc.assert(
      fc.property(pairArb, fc.constantFrom(...names), ([a, b], name) => {
        const got = binaryKernel(name, a, b);
        const want = reference(binaryScalar[name], a, b);
        expect(got.shape).toEqual(want.shape);
        const round = got.dtype === "float32" ? Math.fround : (v: number) => v;
        expect(vals(got)).toEqual(want.values.map(round));
      }),
      { numRuns: 300 },
    );
  });
  it("add and mul are commutative under broadcasting (property)", () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        for (const op of ["add", "mul"] as const) {
          const ab = binaryKernel(op, a, b);
          const ba = binaryKernel(op, b, a);
          expect(ba.shape).toEqual(ab.shape);
          expect(ba.dtype).toBe(ab.dtype);
          expect(vals(ba)).toEqual(vals(ab));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("whereKernel", () => {
  it.each(DTYPES)("selects with a nonzero condition at %s", (dtype) => {
    const c = T([1, 0, 2, 0], [4]);
    const r = whereKernel(c, T([1, 2, 3, 4], [4], dtype), T([-1, -2, -3, -4], [4], dtype));
    expect(r.dtype).toBe(dtype);
    expect(vals(r)).toEqual([1, -2, 3, -4]);
    expect(vals(whereKernel(T([NaN, 0]), 1, T([5, 5], [2], dtype)))).toEqual([1, 5]);
  });
  it("broadcasts three ways and takes its dtype from a and b", () => {
    const c = T([1, 0, 1], [3, 1]);
    const r = whereKernel(c, T([1, 2], [1, 2], "float32"), T([0], [], "float32"));
    expect(r.dtype).toBe("float32");
    expect(r.toArray()).toEqual([[1, 2], [0, 0], [1, 2]]);
    expect(whereKernel(T([1, 0], [2], "float32"), 7, 8).dtype).toBe("float64");
    expect(whereKernel(T([1, 0]), T([1], [1], "float32"), T([2], [1])).dtype).toBe("float64");
    expect(whereKernel(1, T([1, 2], [2, 1]), T([3, 4, 5], [1, 3])).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(whereKernel(T([], [0, 1]), 1, T([1, 2])).shape).toEqual([0, 2]);
  });
  it("throws ShapeError on incompatible shapes", () => {
    expect(() => whereKernel(T([1, 0, 1]), T([1, 2]), 0)).toThrow(ShapeError);
    expect(() => whereKernel(T([1, 0, 1]), T([1, 2]), 0)).toThrow(/where/);
  });
  it("matches the reference under broadcasting (property)", () => {
    fc.assert(
      fc.property(pairArb, fc.integer({ min: 0, max: 4 }), ([a, b], k) => {
        const cond = T(vals(a).map((v) => (v + k) % 2), [...a.shape]);
        const got = whereKernel(cond, a, b);
        const want = reference((c, x, y) => (c !== 0 ? x! : y!), cond, a, b);
        expect(got.shape).toEqual(want.shape);
        expect(vals(got)).toEqual(want.values);
      }),
      { numRuns: 100 },
    );
  });
});

describe("castKernel", () => {
  it("rounds to float32 and widens to float64", () => {
    const x = T([0.1, 1e40, 2], [3]);
    const f = castKernel(x, "float32");
    expect(f.dtype).toBe("float32");
    expect(vals(f)).toEqual([Math.fround(0.1), Infinity, 2]);
    const g = castKernel(f, "float64");
    expect(g.dtype).toBe("float64");
    expect(g.shape).toEqual([3]);
    expect(vals(g)).toEqual(vals(f));
  });
  it("returns the same tensor when the dtype already matches", () => {
    const x = T([1, 2], [2, 1], "float32");
    expect(castKernel(x, "float32")).toBe(x);
  });
});
