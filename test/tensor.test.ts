// The constructors of API.md and the Tensor value itself, through the public entry.
import { describe, expect, it } from "vitest";
import {
  Tensor, tensor, zeros, ones, full, arange, eye, randn, rand,
  DTypeError, ShapeError, ValueError, type DType,
} from "../src/index.ts";

const DTYPES: DType[] = ["float32", "float64"];
const vals = (t: Tensor): number[] => Array.from(t.data);

const meanStd = (xs: ArrayLike<number>): [number, number] => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const m = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - m) ** 2;
  return [m, Math.sqrt(v / xs.length)];
};

describe("tensor()", () => {
  it("from a number is 0-d float64 by default", () => {
    const t = tensor(3.5);
    expect(t).toBeInstanceOf(Tensor);
    expect([t.shape, t.dtype, t.size]).toEqual([[], "float64", 1]);
    expect(t.toArray()).toBe(3.5);
    expect(t.item()).toBe(3.5);
  });

  it.each(DTYPES)("from nested arrays at %s", (dtype) => {
    const t = tensor([[1, 2, 3], [4, 5, 6]], { dtype });
    expect([t.shape, t.dtype, t.size]).toEqual([[2, 3], dtype, 6]);
    expect(t.data).toBeInstanceOf(dtype === "float32" ? Float32Array : Float64Array);
    expect(vals(t)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it("from a 3-d nested array keeps row-major order", () => {
    const t = tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    expect(t.shape).toEqual([2, 2, 2]);
    expect(vals(t)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("float32 rounds values to single precision", () => {
    const t = tensor([0.1], { dtype: "float32" });
    expect(t.data[0]).toBe(Math.fround(0.1));
    expect(t.data[0]).not.toBe(0.1);
  });

  it("an empty array gives shape [0]", () => {
    const t = tensor([]);
    expect([t.shape, t.size]).toEqual([[0], 0]);
    expect(t.toArray()).toEqual([]);
  });

  it("from typed arrays keeps their dtype (1-d by default), or takes dtype and shape options", () => {
    const a = tensor(new Float32Array([1, 2, 3, 4]));
    expect([a.dtype, a.shape]).toEqual(["float32", [4]]);
    const b = tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
    expect([b.dtype, b.shape]).toEqual(["float64", [3, 2]]);
    expect(b.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    const c = tensor(new Float64Array([1.5, 2.5]), { dtype: "float32", shape: [2, 1] });
    expect([c.dtype, c.shape]).toEqual(["float32", [2, 1]]);
    expect(c.toArray()).toEqual([[1.5], [2.5]]);
  });

  it("copies a typed array: later writes to the source do not show", () => {
    const src = new Float64Array([1, 2, 3]);
    const t = tensor(src);
    src[0] = 99;
    expect(vals(t)).toEqual([1, 2, 3]);
  });

  it("shape option reshapes nested arrays and numbers", () => {
    expect(tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor(7, { shape: [1, 1] }).toArray()).toEqual([[7]]);
  });

  it("rejects a shape that does not hold the values, and bad dtypes", () => {
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(ShapeError);
    expect(() => tensor([1, 2], { dtype: "int32" as DType })).toThrow(DTypeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(ValueError);
  });

  it("from a Tensor copies it (with an optional dtype change)", () => {
    const a = tensor([1, 2]);
    const b = tensor(a, { dtype: "float32" });
    expect([b.dtype, vals(b)]).toEqual(["float32", [1, 2]]);
    expect(b).not.toBe(a);
  });
});

describe("zeros / ones / full / eye", () => {
  it.each(DTYPES)("at %s", (dtype) => {
    const z = zeros([2, 3], dtype);
    expect([z.shape, z.dtype, vals(z)]).toEqual([[2, 3], dtype, [0, 0, 0, 0, 0, 0]]);
    const o = ones([3], dtype);
    expect([o.shape, o.dtype, vals(o)]).toEqual([[3], dtype, [1, 1, 1]]);
    const f = full([2, 2], 2.5, dtype);
    expect([f.dtype, f.toArray()]).toEqual([dtype, [[2.5, 2.5], [2.5, 2.5]]]);
    const e = eye(3, dtype);
    expect([e.dtype, e.toArray()]).toEqual([dtype, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]]);
  });

  it("default to float64; shape [] gives a 0-d tensor; a 0 in the shape gives no elements", () => {
    expect(zeros([2]).dtype).toBe("float64");
    expect(ones([]).toArray()).toBe(1);
    expect(full([], -3).item()).toBe(-3);
    expect(zeros([2, 0, 3]).size).toBe(0);
    expect(eye(0).shape).toEqual([0, 0]);
  });

  it("reject bad shapes", () => {
    expect(() => zeros([2, -1])).toThrow(ShapeError);
    expect(() => ones([1.5])).toThrow(ShapeError);
    expect(() => eye(-1)).toThrow(ShapeError);
  });
});

describe("arange", () => {
  it("arange(n)", () => {
    const t = arange(5);
    expect([t.shape, t.dtype, vals(t)]).toEqual([[5], "float64", [0, 1, 2, 3, 4]]);
    expect(arange(0).shape).toEqual([0]);
  });
  it("arange(start, stop) and arange(start, stop, step) as NumPy", () => {
    expect(vals(arange(2, 6))).toEqual([2, 3, 4, 5]);
    expect(vals(arange(0, 10, 3))).toEqual([0, 3, 6, 9]);
    expect(vals(arange(5, 0, -2))).toEqual([5, 3, 1]);
    expect(vals(arange(0, 1, 0.25))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(arange(3, 1).size).toBe(0);
  });
  it("rejects step 0", () => {
    expect(() => arange(0, 3, 0)).toThrow(ValueError);
  });
});

describe("randn / rand", () => {
  it("same seed gives identical data; different seeds differ", () => {
    expect(vals(randn([50], { seed: 7 }))).toEqual(vals(randn([50], { seed: 7 })));
    expect(vals(rand([50], { seed: 7 }))).toEqual(vals(rand([50], { seed: 7 })));
    expect(vals(randn([50], { seed: 7 }))).not.toEqual(vals(randn([50], { seed: 8 })));
    expect(vals(rand([50], { seed: 7 }))).not.toEqual(vals(rand([50], { seed: 8 })));
  });

  it("take shape and dtype", () => {
    const a = randn([2, 3], { seed: 1, dtype: "float32" });
    expect([a.shape, a.dtype]).toEqual([[2, 3], "float32"]);
    const b = rand([4], { seed: 1 });
    expect([b.shape, b.dtype]).toEqual([[4], "float64"]);
  });

  it("randn statistics on 10k samples: mean ≈ 0, std ≈ 1", () => {
    const [m, s] = meanStd(randn([10_000], { seed: 123 }).data);
    expect(Math.abs(m)).toBeLessThan(0.05);
    expect(Math.abs(s - 1)).toBeLessThan(0.05);
  });

  it("rand statistics on 10k samples: in [0, 1), mean ≈ 0.5, std ≈ 0.2887", () => {
    const d = rand([10_000], { seed: 123 }).data;
    expect(d.every((v) => v >= 0 && v < 1)).toBe(true);
    const [m, s] = meanStd(d);
    expect(Math.abs(m - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(s - Math.sqrt(1 / 12))).toBeLessThan(0.02);
  });

  it("pins the stream of seed 42 (a change of the PRNG must be deliberate)", () => {
    const n = vals(randn([4], { seed: 42 }));
    const want = [0.6953712153418404, 0.5878986391985577, 2.242263762064122, 0.2149308925848208];
    n.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    const u = vals(rand([4], { seed: 42 }));
    const wantU = [0.6606157208001621, 0.1117019639532224, 0.0791056456144914, 0.015209237180418];
    u.forEach((v, i) => expect(v).toBeCloseTo(wantU[i]!, 12));
    // float32 is the float64 stream rounded
    expect(vals(randn([4], { seed: 42, dtype: "float32" }))).toEqual(want.map(Math.fround));
  });

  it("rejects a non-integer seed", () => {
    expect(() => randn([2], { seed: 1.5 })).toThrow(ValueError);
  });
});

describe("Tensor value", () => {
  it("toArray gives nested arrays, a number for 0-d", () => {
    expect(tensor([[1], [2]]).toArray()).toEqual([[1], [2]]);
    expect(tensor(4).toArray()).toBe(4);
    expect(zeros([1, 2, 1]).toArray()).toEqual([[[0], [0]]]);
  });

  it("item() reads a size-1 tensor of any rank, and rejects others", () => {
    expect(tensor([[5]]).item()).toBe(5);
    expect(tensor([9]).item()).toBe(9);
    expect(() => tensor([1, 2]).item()).toThrow(ValueError);
  });

  it("data is a copy: mutating it does not change the tensor", () => {
    const t = tensor([1, 2, 3]);
    const d = t.data;
    d[0] = 100;
    expect(vals(t)).toEqual([1, 2, 3]);
    expect(t.toArray()).toEqual([1, 2, 3]);
    expect(t.data).not.toBe(t.data);
  });

  it("toArray is a fresh array: mutating it does not change the tensor", () => {
    const t = tensor([[1, 2]]);
    const a = t.toArray() as number[][];
    a[0]![0] = 100;
    expect(t.toArray()).toEqual([[1, 2]]);
  });

  it("shape is frozen", () => {
    const t = tensor([[1, 2], [3, 4]]);
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(() => {
      (t.shape as number[])[0] = 4;
    }).toThrow(TypeError);
    expect(() => {
      (t.shape as number[]).push(1);
    }).toThrow(TypeError);
    expect(t.shape).toEqual([2, 2]);
  });

  it("the shape passed to a constructor is copied, not kept", () => {
    const s = [2, 2];
    const t = zeros(s);
    s[0] = 5;
    expect(t.shape).toEqual([2, 2]);
  });
});

describe("printing", () => {
  it("shows NaN and infinities as themselves (JSON would print null)", () => {
    const t = tensor([[NaN, Infinity], [-Infinity, 0.5]], { dtype: "float32" });
    expect(String(t)).toBe("Tensor(float32, [2, 2]) [[NaN,Infinity],[-Infinity,0.5]]");
    expect(tensor([1, 2, 3], { dtype: "float64" }).toString()).toBe("Tensor(float64, [3]) [1,2,3]");
  });
});
