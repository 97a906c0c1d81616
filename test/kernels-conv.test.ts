import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { checkConv2d, conv2dKernel, conv2dInputGradKernel, conv2dWeightGradKernel } from "../src/kernels/conv.ts";
import { avgPool2dGradKernel, avgPool2dKernel, checkPool2d, maxPool2dKernel } from "../src/kernels/pool.ts";
import { Tensor, allocate, type DType } from "../src/tensor/tensor.ts";
import { Random } from "../src/tensor/random.ts";
import { ShapeError, ValueError } from "../src/errors.ts";

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

const rand = (shape: number[], seed: number, dtype: DType = "float64"): Tensor => {
  const r = new Random(seed);
  const buf = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() * 2 - 1;
  return new Tensor(buf, shape);
};
const of = (values: number[], shape: number[], dtype: DType = "float64"): Tensor => {
  const buf = allocate(dtype, values.length);
  buf.set(values);
  return new Tensor(buf, shape);
};
const dot = (a: Tensor, b: Tensor): number => {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.buf[i]! * b.buf[i]!;
  return s;
};
const expectRel = (x: number, y: number, rel: number): void =>
  expect(Math.abs(x - y)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(x), Math.abs(y)));

/** Direct 7-loop cross-correlation with zero padding. */
const naiveConv = (x: Tensor, w: Tensor, [sh, sw]: [number, number], [ph, pw]: [number, number]): number[] => {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, , KH, KW] = w.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * ph - KH) / sh) + 1, OW = Math.floor((W + 2 * pw - KW) / sw) + 1;
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let s = 0;
          for (let c = 0; c < C; c++)
            for (let a = 0; a < KH; a++)
              for (let b = 0; b < KW; b++) {
                const ih = i * sh - ph + a, iw = j * sw - pw + b;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x.buf[((n * C + c) * H + ih) * W + iw]! * w.buf[((o * C + c) * KH + a) * KW + b]!;
              }
          out.push(s);
        }
  return out;
};

/** Random conv geometry whose kernel fits the padded input. */
const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    o: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 7 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    seed: fc.integer(),
  })
  .filter((g) => g.kh <= g.h + 2 * g.ph && g.kw <= g.w + 2 * g.pw);

describe("conv2dKernel", () => {
  it("hand-computed 3x3 * 2x2 diagonal kernel", () => {
    const x = of([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const w = of([1, 0, 0, 1], [1, 1, 2, 2]);
    expect(conv2dKernel(x, w, [1, 1], [0, 0]).toArray()).toEqual([[[[6, 8], [12, 14]]]]);
    // padding 1, stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1); only the w[1,1] tap (and w[0,0] at (1,1)) land inside.
    expect(conv2dKernel(x, w, [2, 2], [1, 1]).toArray()).toEqual([[[[1, 3], [7, 9 + 5]]]]);
  });

  it("matches a direct 7-loop reference on random shapes, strides and paddings (property)", () => {
    fc.assert(
      fc.property(convCase, (g) => {
        const x = rand([g.n, g.c, g.h, g.w], g.seed), w = rand([g.o, g.c, g.kh, g.kw], g.seed + 1);
        const y = conv2dKernel(x, w, [g.sh, g.sw], [g.ph, g.pw]);
        expect(y.shape).toEqual(checkConv2d(x, w, [g.sh, g.sw], [g.ph, g.pw]).outShape);
        const want = naiveConv(x, w, [g.sh, g.sw], [g.ph, g.pw]);
        expect(y.size).toBe(want.length);
        for (let i = 0; i < want.length; i++) expectRel(y.buf[i]!, want[i]!, 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps float32, promotes mixed dtypes to float64, leaves inputs alone", () => {
    const x32 = rand([2, 2, 5, 5], 7, "float32"), w32 = rand([3, 2, 3, 3], 8, "float32");
    const x0 = Array.from(x32.buf);
    const y = conv2dKernel(x32, w32, [1, 1], [1, 1]);
    expect(y.dtype).toBe("float32");
    const want = naiveConv(x32, w32, [1, 1], [1, 1]);
    for (let i = 0; i < want.length; i++) expectRel(y.buf[i]!, want[i]!, 1e-6);
    expect(conv2dKernel(x32, rand([3, 2, 3, 3], 8), [1, 1], [1, 1]).dtype).toBe("float64");
    expect(Array.from(x32.buf)).toEqual(x0);
  });
});

describe("conv2d adjoints", () => {
  it("<conv2d(x, w), ct> = <x, conv2dInputGrad(ct, w)> = <w, conv2dWeightGrad(x, ct)> (property)", () => {
    fc.assert(
      fc.property(convCase, (g) => {
        const s: [number, number] = [g.sh, g.sw], p: [number, number] = [g.ph, g.pw];
        const x = rand([g.n, g.c, g.h, g.w], g.seed), w = rand([g.o, g.c, g.kh, g.kw], g.seed + 1);
        const y = conv2dKernel(x, w, s, p);
        const ct = rand([...y.shape], g.seed + 2);
        const lhs = dot(y, ct);
        const dx = conv2dInputGradKernel(ct, w, x.shape, s, p);
        const dw = conv2dWeightGradKernel(x, ct, w.shape, s, p);
        expect(dx.shape).toEqual(x.shape);
        expect(dw.shape).toEqual(w.shape);
        expectRel(dot(x, dx), lhs, 1e-9);
        expectRel(dot(w, dw), lhs, 1e-9);
      }),
      { numRuns: 200 },
    );
  });

  it("gradient dtypes follow promotion", () => {
    const x = rand([1, 1, 4, 4], 1, "float32"), w = rand([1, 1, 2, 2], 2, "float32");
    const ct = rand([1, 1, 3, 3], 3, "float32");
    expect(conv2dInputGradKernel(ct, w, x.shape, [1, 1], [0, 0]).dtype).toBe("float32");
    expect(conv2dWeightGradKernel(x, rand([1, 1, 3, 3], 3), w.shape, [1, 1], [0, 0]).dtype).toBe("float64");
  });

  it("rejects a cotangent of the wrong shape", () => {
    const w = rand([1, 1, 2, 2], 2);
    expect(() => conv2dInputGradKernel(rand([1, 1, 2, 2], 1), w, [1, 1, 4, 4], [1, 1], [0, 0])).toThrow(ShapeError);
    expect(() => conv2dWeightGradKernel(rand([1, 1, 4, 4], 1), rand([1, 1, 2, 2], 1), [1, 1, 2, 2], [1, 1], [0, 0])).toThrow(
      /cotangent \[1, 1, 2, 2\] does not match the conv2d output shape \[1, 1, 3, 3\]/,
    );
  });
});

describe("checkConv2d", () => {
  const x = { shape: [1, 3, 8, 8] };
  const w = { shape: [4, 3, 3, 3] };

  it("normalizes stride/padding and computes the output shape", () => {
    expect(checkConv2d(x, w, undefined, undefined)).toEqual({ stride: [1, 1], padding: [0, 0], outShape: [1, 4, 6, 6] });
    expect(checkConv2d(x, w, 1, 0)).toEqual({ stride: [1, 1], padding: [0, 0], outShape: [1, 4, 6, 6] });
    expect(checkConv2d(x, w, [2, 3], [1, 2])).toEqual({ stride: [2, 3], padding: [1, 2], outShape: [1, 4, 4, 4] });
  });

  it("rejects ranks other than 4", () => {
    expect(() => checkConv2d({ shape: [3, 8, 8] }, w, 1, 0)).toThrow(ShapeError);
    expect(() => checkConv2d({ shape: [3, 8, 8] }, w, 1, 0)).toThrow(/x \[3, 8, 8\] has rank 3/);
    expect(() => checkConv2d(x, { shape: [4, 3, 3] }, 1, 0)).toThrow(/w \[4, 3, 3\] has rank 3/);
  });

  it("names both shapes on a channel mismatch", () => {
    const f = (): unknown => checkConv2d(x, { shape: [4, 2, 3, 3] }, 1, 0);
    expect(f).toThrow(ShapeError);
    expect(f).toThrow("conv2d: x [1, 3, 8, 8] has 3 channels but w [4, 2, 3, 3] expects 2");
  });

  it("rejects bad strides and paddings", () => {
    for (const s of [0, -1, 1.5, [1], [1, 0], "2", null])
      expect(() => checkConv2d(x, w, s, 0)).toThrow(/conv2d: stride must be a positive integer or a pair/);
    for (const p of [-1, 0.5, [0, -1], [1, 1, 1], null])
      expect(() => checkConv2d(x, w, 1, p)).toThrow(/conv2d: padding must be a non-negative integer or a pair/);
    expect(() => checkConv2d(x, w, 0, 0)).toThrow(ValueError);
  });

  it("rejects a kernel larger than the padded input", () => {
    const f = (): unknown => checkConv2d({ shape: [1, 3, 2, 8] }, w, 1, 0);
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/kernel 3x3 .* larger than the padded input 2x8/);
    expect(checkConv2d({ shape: [1, 3, 2, 8] }, w, 1, [1, 0]).outShape).toEqual([1, 4, 2, 6]);
  });
});

describe("pooling", () => {
  // 1 x 1 x 4 x 4
  const x = of([1, 3, 3, 0, 2, 3, 1, 1, 0, 5, 9, 9, 4, 5, 9, 2], [1, 1, 4, 4]);

  it("maxPool2d picks the first maximum on ties", () => {
    const { out, argmax } = maxPool2dKernel(x, [2, 2], [2, 2]);
    expect(out.toArray()).toEqual([[[[3, 3], [5, 9]]]]);
    expect(Array.from(argmax)).toEqual([1, 2, 9, 10]);
  });

  it("maxPool2d with stride != size (overlapping and skipping windows)", () => {
    const o = maxPool2dKernel(x, [2, 2], [1, 1]);
    expect(o.out.toArray()).toEqual([[[[3, 3, 3], [5, 9, 9], [5, 9, 9]]]]);
    expect(Array.from(o.argmax)).toEqual([1, 1, 2, 9, 10, 10, 9, 10, 10]);
    const s = maxPool2dKernel(x, [1, 2], [3, 2]); // rows 0 and 3, column pairs
    expect(s.out.toArray()).toEqual([[[[3, 3], [5, 9]]]]);
    expect(Array.from(s.argmax)).toEqual([1, 2, 13, 14]);
  });

  it("maxPool2d lets the first NaN win and keeps dtype and planes apart", () => {
    const y = of([1, NaN, 5, NaN, -1, -2, -3, -4], [1, 2, 2, 2], "float32");
    const { out, argmax } = maxPool2dKernel(y, [2, 2], [2, 2]);
    expect(out.dtype).toBe("float32");
    expect(Number.isNaN(out.buf[0])).toBe(true);
    expect(out.buf[1]).toBe(-1);
    expect(Array.from(argmax)).toEqual([1, 4]);
  });

  it("avgPool2d averages windows, with stride != size", () => {
    expect(avgPool2dKernel(x, [2, 2], [2, 2]).toArray()).toEqual([[[[9 / 4, 5 / 4], [14 / 4, 29 / 4]]]]);
    expect(avgPool2dKernel(x, [3, 2], [1, 2]).toArray()).toEqual([[[[14 / 6, 23 / 6], [19 / 6, 31 / 6]]]]);
    expect(avgPool2dKernel(of([1, 2, 3, 4], [1, 1, 2, 2], "float32"), [2, 2], [2, 2]).dtype).toBe("float32");
  });

  it("avgPool2dGrad is the adjoint of avgPool2d, including overlapping windows (property)", () => {
    const arb = fc
      .record({
        n: fc.integer({ min: 1, max: 2 }),
        c: fc.integer({ min: 1, max: 2 }),
        h: fc.integer({ min: 1, max: 7 }),
        w: fc.integer({ min: 1, max: 7 }),
        kh: fc.integer({ min: 1, max: 3 }),
        kw: fc.integer({ min: 1, max: 3 }),
        sh: fc.integer({ min: 1, max: 3 }),
        sw: fc.integer({ min: 1, max: 3 }),
        seed: fc.integer(),
      })
      .filter((g) => g.kh <= g.h && g.kw <= g.w);
    fc.assert(
      fc.property(arb, (g) => {
        const xs = [g.n, g.c, g.h, g.w];
        const t = rand(xs, g.seed);
        const y = avgPool2dKernel(t, [g.kh, g.kw], [g.sh, g.sw]);
        const ct = rand([...y.shape], g.seed + 1);
        const dx = avgPool2dGradKernel(ct, xs, [g.kh, g.kw], [g.sh, g.sw]);
        expect(dx.shape).toEqual(xs);
        expectRel(dot(t, dx), dot(y, ct), 1e-9);
      }),
      { numRuns: 200 },
    );
  });

  it("avgPool2dGrad hand-computed overlap", () => {
    const dx = avgPool2dGradKernel(of([4, 8], [1, 1, 1, 2]), [1, 1, 2, 3], [2, 2], [1, 1]);
    expect(dx.toArray()).toEqual([[[[1, 3, 2], [1, 3, 2]]]]);
    expect(() => avgPool2dGradKernel(of([4, 8], [1, 1, 2, 1]), [1, 1, 2, 3], [2, 2], [1, 1])).toThrow(ShapeError);
  });
});

describe("checkPool2d", () => {
  const x = { shape: [2, 3, 8, 6] };

  it("normalizes size and stride (stride defaults to size)", () => {
    expect(checkPool2d("maxPool2d", x, { size: 2 })).toEqual({ size: [2, 2], stride: [2, 2], padding: [[0, 0], [0, 0]], outShape: [2, 3, 4, 3] });
    expect(checkPool2d("avgPool2d", x, { size: [3, 2], stride: 1 })).toEqual({ size: [3, 2], stride: [1, 1], padding: [[0, 0], [0, 0]], outShape: [2, 3, 6, 5] });
  });

  it("rejects ranks other than 4, naming op and shape", () => {
    const f = (): unknown => checkPool2d("maxPool2d", { shape: [8, 6] }, { size: 2 });
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/maxPool2d: x \[8, 6\] has rank 2; x must be \[N, C, H, W\]/);
  });

  it("rejects missing or malformed options", () => {
    for (const o of [undefined, null, 2, {}, { stride: 2 }])
      expect(() => checkPool2d("avgPool2d", x, o)).toThrow(/avgPool2d: options must be an object \{ size, stride\?, padding\? \}/);
    expect(() => checkPool2d("avgPool2d", x, {})).toThrow(ValueError);
  });

  it("rejects bad sizes and strides", () => {
    for (const size of [0, -2, 1.5, [2], [2, 0], "2"]) {
      expect(() => checkPool2d("maxPool2d", x, { size })).toThrow(ValueError);
      expect(() => checkPool2d("maxPool2d", x, { size })).toThrow(/maxPool2d: size must be a positive integer or a pair/);
    }
    expect(() => checkPool2d("maxPool2d", x, { size: 2, stride: 0 })).toThrow(/maxPool2d: stride must be a positive integer/);
  });

  it("rejects a window larger than the input", () => {
    const f = (): unknown => checkPool2d("avgPool2d", x, { size: [2, 7] });
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/avgPool2d: window 2x7 is larger than the 8x6 input of x \[2, 3, 8, 6\]; use a smaller size/);
  });
});
