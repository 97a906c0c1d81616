// conv2d's options (stride, padding in every form, dilation, groups), convTranspose2d (PyTorch's
// convention) and pooling with padding: values against direct loops, in the WebAssembly
// products and in JS; gradients of first and second order against finite differences; vmap
// against a loop of single calls; jit against eager; bad input.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  ShapeError, ValueError, Tensor, avgPool2d, conv2d, convTranspose2d, grad, jit, maxPool2d, mul, run, sum, tensor, vmap,
  type Conv2dOptions, type Value,
} from "../src/index.ts";
import { conv2dInputGradKernel, conv2dKernel, conv2dWeightGradKernel } from "../src/kernels/conv.ts";
import { wasmSimdSupported, wasmStats, withWasmEnabled } from "../src/kernels/wasm/gemm.ts";
import { checkGrads, distinctLeaves, randomTensor } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";
import { caught, perform } from "./perform.ts";

type P2 = [number, number];
type Pads = [P2, P2];

/** Direct loops: out[n, o, i, j] = Σ x[n, g·C/G + c, i·sh − top + ki·dh, j·sw − left + kj·dw] · w[o, c, ki, kj], g = o's group. */
function naiveConv(x: Tensor, w: Tensor, s: P2, p: Pads, d: P2, groups: number): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, CG, KH, KW] = w.shape as [number, number, number, number];
  const OH = Math.floor((H + p[0][0] + p[0][1] - (KH - 1) * d[0] - 1) / s[0]) + 1;
  const OW = Math.floor((W + p[1][0] + p[1][1] - (KW - 1) * d[1] - 1) / s[1]) + 1;
  const out = new Float64Array(N * O * OH * OW);
  const og = O / groups;
  let k = 0;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++, k++) {
          let acc = 0;
          const g = Math.floor(o / og);
          for (let c = 0; c < CG; c++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) {
                const r = i * s[0] - p[0][0] + ki * d[0];
                const q = j * s[1] - p[1][0] + kj * d[1];
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                acc += x.buf[((n * C + g * CG + c) * H + r) * W + q]! * w.buf[((o * CG + c) * KH + ki) * KW + kj]!;
              }
          out[k] = acc;
        }
  return new Tensor(out, [N, O, OH, OW]);
}

/** PyTorch's transposed convolution by its definition: out[n, co, i·s − top + ki, j·s − left + kj] += x[n, ci, i, j] · w[ci, co, ki, kj]. */
function naiveConvTranspose(x: Tensor, w: Tensor, s: P2, p: Pads): Tensor {
  const [N, CI, H, W] = x.shape as [number, number, number, number];
  const [, CO, KH, KW] = w.shape as [number, number, number, number];
  const OH = (H - 1) * s[0] - p[0][0] - p[0][1] + KH;
  const OW = (W - 1) * s[1] - p[1][0] - p[1][1] + KW;
  const out = new Float64Array(N * CO * OH * OW);
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < CI; ci++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++)
          for (let co = 0; co < CO; co++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) {
                const r = i * s[0] - p[0][0] + ki;
                const q = j * s[1] - p[1][0] + kj;
                if (r < 0 || r >= OH || q < 0 || q >= OW) continue;
                out[((n * CO + co) * OH + r) * OW + q] += x.buf[((n * CI + ci) * H + i) * W + j]! * w.buf[((ci * CO + co) * KH + ki) * KW + kj]!;
              }
  return new Tensor(out, [N, CO, OH, OW]);
}

/** Pooling by direct loops: max with −∞ padding, or the sum over the window divided by its size. */
function naivePool(kind: "max" | "avg", x: Tensor, k: P2, s: P2, p: Pads): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = Math.floor((H + p[0][0] + p[0][1] - k[0]) / s[0]) + 1;
  const OW = Math.floor((W + p[1][0] + p[1][1] - k[1]) / s[1]) + 1;
  const out = new Float64Array(N * C * OH * OW);
  let idx = 0;
  for (let pl = 0; pl < N * C; pl++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++, idx++) {
        let acc = kind === "max" ? -Infinity : 0;
        for (let a = 0; a < k[0]; a++)
          for (let b = 0; b < k[1]; b++) {
            const r = i * s[0] - p[0][0] + a, q = j * s[1] - p[1][0] + b;
            const v = r < 0 || r >= H || q < 0 || q >= W ? (kind === "max" ? -Infinity : 0) : x.buf[(pl * H + r) * W + q]!;
            acc = kind === "max" ? Math.max(acc, v) : acc + v;
          }
        out[idx] = kind === "max" ? acc : acc / (k[0] * k[1]);
      }
  return new Tensor(out, [N, C, OH, OW]);
}

/** "same" padding by its definition (JAX's padtype_to_pads). */
const samePads = (h: number, w: number, k: P2, s: P2, d: P2): Pads =>
  [[h, k[0], s[0], d[0]], [w, k[1], s[1], d[1]]].map(([n, kk, ss, dd]) => {
    const total = Math.max(0, (Math.ceil(n! / ss!) - 1) * ss! + (kk! - 1) * dd! + 1 - n!);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }) as Pads;

const close = (got: unknown, want: Tensor, rel = 1e-12): void => expectSame(got, want, rel);

const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    d: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pads: fc.tuple(fc.tuple(fc.nat(3), fc.nat(3)), fc.tuple(fc.nat(3), fc.nat(3))),
    form: fc.constantFrom("pads", "same", "valid", "pair", "number"),
    seed: fc.integer(),
  })
  .map((g) => {
    const padding =
      g.form === "same" ? "same" : g.form === "valid" ? "valid" : g.form === "pair" ? ([g.pads[0][0], g.pads[1][0]] as P2) : g.form === "number" ? g.pads[0][0] : g.pads;
    const pads: Pads =
      g.form === "same"
        ? samePads(g.h, g.w, [g.kh, g.kw], g.s, g.d)
        : g.form === "valid"
          ? [[0, 0], [0, 0]]
          : g.form === "pair"
            ? [[g.pads[0][0], g.pads[0][0]], [g.pads[1][0], g.pads[1][0]]]
            : g.form === "number"
              ? [[g.pads[0][0], g.pads[0][0]], [g.pads[0][0], g.pads[0][0]]]
              : g.pads;
    return { ...g, padding, pads };
  })
  .filter((g) => g.h + g.pads[0][0] + g.pads[0][1] >= (g.kh - 1) * g.d[0] + 1 && g.w + g.pads[1][0] + g.pads[1][1] >= (g.kw - 1) * g.d[1] + 1);

const operands = (g: { n: number; groups: number; cg: number; og: number; h: number; w: number; kh: number; kw: number; seed: number }) => ({
  x: randomTensor([g.n, g.groups * g.cg, g.h, g.w], g.seed),
  w: randomTensor([g.groups * g.og, g.cg, g.kh, g.kw], g.seed + 1),
});

describe("conv2d options: values against direct loops", () => {
  it("stride, every padding form, dilation and groups, in the WebAssembly products and in JS (property)", () => {
    fc.assert(
      fc.property(convCase, (g) => {
        const { x, w } = operands(g);
        const options: Conv2dOptions = { stride: g.s, padding: g.padding as Conv2dOptions["padding"], dilation: g.d, groups: g.groups };
        const want = naiveConv(x, w, g.s, g.pads, g.d, g.groups);
        close(perform(() => conv2d(x, w, options)), want);
        close(withWasmEnabled(false, () => perform(() => conv2d(x, w, options))), want);
      }),
      { numRuns: 150 },
    );
  });

  it("the adjoints in x and w: <conv(x, w), c> = <x, convT(c, w)> = <w, wgrad(x, c)>, with and without WebAssembly (property)", () => {
    const dot = (a: Tensor, b: Tensor): number => {
      let s = 0;
      for (let i = 0; i < a.size; i++) s += a.buf[i]! * b.buf[i]!;
      return s;
    };
    fc.assert(
      fc.property(convCase, fc.boolean(), (g, wasm) => {
        const { x, w } = operands(g);
        const more = { dilation: g.d, groups: g.groups };
        withWasmEnabled(wasm, () => {
          const y = conv2dKernel(x, w, g.s, g.pads, more);
          const c = randomTensor(y.shape, g.seed + 2);
          const lhs = dot(y, c);
          const dx = conv2dInputGradKernel(c, w, x.shape, g.s, g.pads, more);
          const dw = conv2dWeightGradKernel(x, c, w.shape, g.s, g.pads, 1, more);
          expect(Math.abs(dot(x, dx) - lhs)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(lhs)));
          expect(Math.abs(dot(w, dw) - lhs)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(lhs)));
        });
      }),
      { numRuns: 100 },
    );
  });

  it('"same" padding as JAX: ⌈H / stride⌉ outputs, the odd padding at the bottom and right', () => {
    const x = tensor([[[[1, 2, 3, 4, 5, 6]]]]); // [1, 1, 1, 6]
    const w = tensor([[[[1, 10, 100]]]]); // [1, 1, 1, 3]
    // stride 2 on 6 columns: 3 outputs, one column of padding in all, on the right
    expect((perform(() => conv2d(x, w, { stride: 2, padding: "same" })) as Tensor).toArray()).toEqual([[[[321, 543, 65]]]]);
    // stride 1: one column on each side
    expect((perform(() => conv2d(x, w, { padding: "same" })) as Tensor).toArray()).toEqual([[[[210, 321, 432, 543, 654, 65]]]]);
    // dilation 2 widens the kernel to 5: two on each side
    expect((perform(() => conv2d(x, w, { padding: "same", dilation: 2 })) as Tensor).toArray()).toEqual([[[[310, 420, 531, 642, 53, 64]]]]);
    expect((perform(() => conv2d(x, w, { padding: "valid" })) as Tensor).toArray()).toEqual([[[[321, 432, 543, 654]]]]);
  });

  it("depthwise convolution (groups = channels) of a W6-sized batch runs one product per image and group in the arena", () => {
    const x = randomTensor([2, 8, 12, 12], 3, { dtype: "float32" });
    const w = randomTensor([16, 1, 5, 5], 4, { dtype: "float32" });
    const calls = wasmStats.calls;
    const y = perform(() => conv2d(x, w, { groups: 8, padding: "same" })) as Tensor;
    if (wasmSimdSupported()) expect(wasmStats.calls).toBe(calls + 2 * 8);
    expect(y.dtype).toBe("float32");
    const want = naiveConv(x, w, [1, 1], [[2, 2], [2, 2]], [1, 1], 8);
    for (let i = 0; i < y.size; i++) expect(Math.abs(y.buf[i]! - want.buf[i]!)).toBeLessThanOrEqual(1e-5);
  });
});

describe("convTranspose2d (PyTorch's convention)", () => {
  const ones22 = tensor([[[[1, 1], [1, 1]]]]);
  const x = tensor([[[[1, 2], [3, 4]]]]);
  it("known values: the full convolution, strides spreading the taps, padding cropping", () => {
    expect((perform(() => convTranspose2d(x, ones22)) as Tensor).toArray()).toEqual([[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]]);
    expect((perform(() => convTranspose2d(x, tensor([[[[1, 2], [3, 4]]]]))) as Tensor).toArray()).toEqual([[[[1, 4, 4], [6, 20, 16], [9, 24, 16]]]]);
    expect((perform(() => convTranspose2d(x, ones22, { stride: 2 })) as Tensor).toArray()).toEqual([
      [[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]],
    ]);
    expect((perform(() => convTranspose2d(x, ones22, { stride: 2, padding: 1 })) as Tensor).toArray()).toEqual([[[[1, 2], [3, 4]]]]);
    // [C_in, C_out, KH, KW]: two input channels, three output channels
    const w = tensor([[[[1]], [[2]], [[3]]], [[[10]], [[20]], [[30]]]]); // [2, 3, 1, 1]
    const x2 = tensor([[[[1]], [[2]]]]); // [1, 2, 1, 1]
    expect((perform(() => convTranspose2d(x2, w)) as Tensor).toArray()).toEqual([[[[21]], [[42]], [[63]]]]);
  });

  it("matches the definition on random shapes, strides and paddings (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }), ci: fc.integer({ min: 1, max: 3 }), co: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 1, max: 6 }), kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
          s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          p: fc.tuple(fc.tuple(fc.nat(2), fc.nat(2)), fc.tuple(fc.nat(2), fc.nat(2))),
          seed: fc.integer(),
        }),
        (g) => {
          const oh = (g.h - 1) * g.s[0] - g.p[0][0] - g.p[0][1] + g.kh, ow = (g.w - 1) * g.s[1] - g.p[1][0] - g.p[1][1] + g.kw;
          fc.pre(oh >= 1 && ow >= 1);
          const x = randomTensor([g.n, g.ci, g.h, g.w], g.seed), w = randomTensor([g.ci, g.co, g.kh, g.kw], g.seed + 1);
          const want = naiveConvTranspose(x, w, g.s, g.p);
          close(perform(() => convTranspose2d(x, w, { stride: g.s, padding: g.p })), want);
          close(withWasmEnabled(false, () => perform(() => convTranspose2d(x, w, { stride: g.s, padding: g.p }))), want);
          if (g.p[0][0] === g.p[0][1] && g.p[1][0] === g.p[1][1])
            close(perform(() => convTranspose2d(x, w, { stride: g.s, padding: [g.p[0][0], g.p[1][0]] })), want);
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe("pooling with padding", () => {
  it("maxPool2d pads with −∞ and avgPool2d with zeros divided by the whole window (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 20 }), w: fc.integer({ min: 1, max: 20 }),
          k: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
          s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          p: fc.tuple(fc.tuple(fc.nat(3), fc.nat(3)), fc.tuple(fc.nat(3), fc.nat(3))),
          seed: fc.integer(),
        }),
        (g) => {
          const p = g.p.map((side, a) => side.map((v) => v % g.k[a]!)) as Pads;
          fc.pre(g.h + p[0][0] + p[0][1] >= g.k[0] && g.w + p[1][0] + p[1][1] >= g.k[1]);
          const x = randomTensor([g.n, g.c, g.h, g.w], g.seed);
          const o = { size: g.k, stride: g.s, padding: p };
          for (const wasm of [true, false]) {
            withWasmEnabled(wasm, () => {
              close(perform(() => maxPool2d(x, o)), naivePool("max", x, g.k, g.s, p));
              close(perform(() => avgPool2d(x, o)), naivePool("avg", x, g.k, g.s, p));
              // the same under jit (maxPool2d through its gather primitive, not the eager kernel)
              close(run(jit(function* (v: Value) { return yield* maxPool2d(v, o); }), x), naivePool("max", x, g.k, g.s, p));
            });
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("known values: a border of padding, counted as zeros by avgPool2d", () => {
    const x = tensor([[[[1, 2], [3, 4]]]]);
    expect((perform(() => avgPool2d(x, { size: 2, stride: 1, padding: 1 })) as Tensor).toArray()).toEqual([
      [[[0.25, 0.75, 0.5], [1, 2.5, 1.5], [0.75, 1.75, 1]]],
    ]);
    expect((perform(() => maxPool2d(tensor([[[[-1, -2], [-3, -4]]]]), { size: 2, stride: 1, padding: 1 })) as Tensor).toArray()).toEqual([
      [[[-1, -1, -2], [-1, -1, -2], [-3, -3, -4]]],
    ]);
    // the gradient of a padded max pool lands on the picks only
    const g = run(grad(function* (v: Value) { return yield* sum(yield* maxPool2d(v, { size: 2, stride: 1, padding: 1 })); }), tensor([[[[-1, -2], [-3, -4]]]])) as Tensor;
    expect(g.toArray()).toEqual([[[[4, 2], [2, 1]]]]);
  });
});

describe("gradients at float64, first and second order, forward and reverse", () => {
  it("conv2d with asymmetric padding, stride, dilation and groups", () => {
    const x = randomTensor([1, 4, 5, 4], 11), w = randomTensor([4, 2, 2, 2], 12);
    const f = function* (a: Value, b: Value) { return yield* conv2d(a, b, { stride: [2, 1], padding: [[1, 0], [0, 2]], dilation: [1, 2], groups: 2 }); };
    checkGrads(f, [x, w], { order: 2, modes: ["fwd", "rev"], name: "conv2d" });
    const same = function* (a: Value, b: Value) { return yield* conv2d(a, b, { padding: "same", dilation: 2, groups: 2 }); };
    checkGrads(same, [x, w], { order: 2, modes: ["fwd", "rev"], name: "conv2d same" });
  });

  it("convTranspose2d", () => {
    const x = randomTensor([2, 2, 3, 2], 13), w = randomTensor([2, 3, 3, 2], 14);
    const f = function* (a: Value, b: Value) { return yield* convTranspose2d(a, b, { stride: [2, 1], padding: [1, 0] }); };
    checkGrads(f, [x, w], { order: 2, modes: ["fwd", "rev"], name: "convTranspose2d" });
  });

  it("pooling with padding", () => {
    const [x] = distinctLeaves([[1, 2, 4, 5]], 15) as [Tensor];
    const mx = function* (a: Value) { return yield* maxPool2d(a, { size: [2, 3], stride: [2, 2], padding: [[1, 0], [1, 2]] }); };
    const av = function* (a: Value) { return yield* avgPool2d(a, { size: 3, stride: 2, padding: [1, 2] }); };
    checkGrads(mx, [x], { order: 2, modes: ["fwd", "rev"], name: "maxPool2d padded" });
    checkGrads(av, [x], { order: 2, modes: ["fwd", "rev"], name: "avgPool2d padded" });
  });
});

describe("vmap and jit", () => {
  const options: Conv2dOptions = { stride: [1, 2], padding: [[0, 1], [2, 1]], dilation: [2, 1], groups: 2 };
  const conv = function* (a: Value, b: Value) { return yield* conv2d(a, b, options); };
  const xs = randomTensor([3, 2, 4, 6, 5], 21); // 3 examples of [2, 4, 6, 5]
  const ws = randomTensor([3, 6, 2, 2, 3], 22); // 3 filters [6, 2, 2, 3]
  const slice = (t: Tensor, b: number): Tensor => new Tensor(t.buf.slice((b * t.size) / t.shape[0]!, ((b + 1) * t.size) / t.shape[0]!), t.shape.slice(1));
  const stackOf = (ts: Tensor[]): Tensor => new Tensor(Float64Array.from(ts.flatMap((t) => Array.from(t.buf))), [ts.length, ...ts[0]!.shape]);

  it("vmap over images, over filters (a filter per example: the examples as groups) and over both, against a loop", () => {
    const loop = (fx: (b: number) => Tensor, fw: (b: number) => Tensor) => stackOf([0, 1, 2].map((b) => run(conv, fx(b), fw(b)) as Tensor));
    const w0 = slice(ws, 0), x0 = slice(xs, 0);
    close(run(vmap(conv, [0, null]), xs, w0), loop((b) => slice(xs, b), () => w0));
    close(run(vmap(conv, [null, 0]), x0, ws), loop(() => x0, (b) => slice(ws, b)));
    close(run(vmap(conv, [0, 0]), xs, ws), loop((b) => slice(xs, b), (b) => slice(ws, b)));
  });

  it("per-example gradients (vmap of grad) with groups and dilation, and convTranspose2d under vmap", () => {
    const loss = function* (b: Value, a: Value) { return yield* sum(yield* conv2d(a, b, options)); };
    const per = run(vmap(grad(loss), [null, 0]), slice(ws, 0), xs) as Tensor;
    close(per, stackOf([0, 1, 2].map((b) => run(grad(loss), slice(ws, 0), slice(xs, b)) as Tensor)));
    const ct = function* (a: Value, b: Value) { return yield* convTranspose2d(a, b, { stride: 2, padding: 1 }); };
    const cx = randomTensor([3, 1, 2, 3, 3], 23), cw = randomTensor([3, 2, 4, 3, 3], 24);
    close(run(vmap(ct, [0, 0]), cx, cw), stackOf([0, 1, 2].map((b) => run(ct, slice(cx, b), slice(cw, b)) as Tensor)));
  });

  it("second order through per-example filter gradients: grad of a function of vmap(grad), against a loop", () => {
    const loss = function* (b: Value, a: Value) { return yield* sum(yield* mul(yield* conv2d(a, b, options), yield* conv2d(a, b, options))); };
    const w = slice(ws, 0);
    const c = randomTensor([3, 6, 2, 2, 3], 25);
    const total = function* (xsv: Value) { return yield* sum(yield* mul(yield* vmap(grad(loss), [null, 0])(w, xsv), c)); };
    const one = (b: number) => function* (xv: Value) { return yield* sum(yield* mul(yield* grad(loss)(w, xv), slice(c, b))); };
    close(run(grad(total), xs), stackOf([0, 1, 2].map((b) => run(grad(one(b)), slice(xs, b)) as Tensor)), 1e-11);
  });

  it("the weight-gradient kernel's batches (per-example filter gradients) with groups, with and without WebAssembly", () => {
    // 2 batches of 3 images; x [4, 7, 6] per image, w [6, 2, 2, 3] in 2 groups, output [6, 7, 4]
    const x = randomTensor([2 * 3, 4, 7, 6], 26), ct = randomTensor([2 * 3, 6, 7, 4], 27);
    const more = { dilation: [1, 2] as P2, groups: 2 };
    const part = (t: Tensor, b: number): Tensor => new Tensor(t.buf.slice((b * t.size) / 2, ((b + 1) * t.size) / 2), [3, ...t.shape.slice(1)]);
    for (const wasm of [true, false])
      withWasmEnabled(wasm, () => {
        const both = conv2dWeightGradKernel(x, ct, [6, 2, 2, 3], [1, 1], [[0, 1], [1, 1]], 2, more);
        expect(both.shape).toEqual([2, 6, 2, 2, 3]);
        for (let b = 0; b < 2; b++) {
          const one = conv2dWeightGradKernel(part(x, b), part(ct, b), [6, 2, 2, 3], [1, 1], [[0, 1], [1, 1]], 1, more);
          close(slice(both, b), one, 1e-12);
        }
      });
  });

  it("padded pooling under vmap, against a loop", () => {
    const mx = function* (a: Value) { return yield* maxPool2d(a, { size: 3, stride: 2, padding: [[1, 2], [0, 1]] }); };
    const av = function* (a: Value) { return yield* avgPool2d(a, { size: [2, 3], stride: 1, padding: 1 }); };
    for (const f of [mx, av]) {
      close(run(vmap(f), xs), stackOf([0, 1, 2].map((b) => run(f, slice(xs, b)) as Tensor)));
      const g = grad(function* (a: Value) { return yield* sum(yield* f(a)); });
      close(run(vmap(g), xs), stackOf([0, 1, 2].map((b) => run(g, slice(xs, b)) as Tensor)));
    }
  });

  it("jit against eager, with its gradients", () => {
    const x = slice(xs, 0), w = slice(ws, 0);
    close(run(jit(conv), x, w), run(conv, x, w) as Tensor);
    const loss = function* (a: Value, b: Value) {
      const y = yield* conv2d(a, b, options);
      const z = yield* convTranspose2d(y, b, { stride: [1, 2] });
      return yield* sum(yield* avgPool2d(yield* maxPool2d(z, { size: 2, padding: 1 }), { size: 2, padding: [1, 0] }));
    };
    const g = grad(loss, { argnums: [0, 1] });
    const eager = run(g, x, w) as Tensor[];
    const jitted = run(jit(g), x, w) as Tensor[];
    close(jitted[0], eager[0]!);
    close(jitted[1], eager[1]!);
  });
});

describe("bad input: tagged errors naming the operation", () => {
  const x = randomTensor([1, 4, 5, 5], 31);
  const expectError = (f: () => unknown, tag: typeof ShapeError | typeof ValueError, parts: (string | RegExp)[]): void => {
    const e = caught(f);
    expect(e).toBeInstanceOf(tag);
    for (const p of parts) typeof p === "string" ? expect(e.message).toContain(p) : expect(e.message).toMatch(p);
  };
  it("conv2d", () => {
    expectError(() => perform(() => conv2d(x, randomTensor([3, 2, 3, 3], 1), { groups: 2 })), ShapeError, ["conv2d", "3 output channels", "2 groups"]);
    expectError(() => perform(() => conv2d(x, randomTensor([3, 1, 3, 3], 1), { groups: 3 })), ShapeError, ["conv2d", "4 channels", "3 groups do not divide"]);
    expectError(() => perform(() => conv2d(x, randomTensor([4, 4, 3, 3], 1), { groups: 2 })), ShapeError, ["conv2d", "expects 8", "per group"]);
    expectError(() => perform(() => conv2d(x, randomTensor([4, 4, 3, 3], 1), { groups: 0 })), ValueError, ["conv2d", "groups must be a positive integer"]);
    expectError(() => perform(() => conv2d(x, randomTensor([4, 4, 3, 3], 1), { padding: -1 })), ValueError, ["conv2d", "padding must be", "-1"]);
    expectError(() => perform(() => conv2d(x, randomTensor([4, 4, 3, 3], 1), { padding: [[1, -2], [0, 0]] })), ValueError, ["conv2d", "[[top, bottom], [left, right]]"]);
    expectError(() => perform(() => conv2d(x, randomTensor([4, 4, 3, 3], 1), { padding: "full" as never })), ValueError, ["conv2d", '"same" or "valid"', '"full"']);
    expectError(() => perform(() => conv2d(x, randomTensor([4, 4, 3, 3], 1), { dilation: [1, -1] })), ValueError, ["conv2d", "dilation must be a positive integer"]);
    expectError(() => perform(() => conv2d(x, randomTensor([4, 4, 3, 3], 1), { stride: 0 })), ValueError, ["conv2d", "stride must be a positive integer"]);
    expectError(() => perform(() => conv2d(x, randomTensor([4, 4, 3, 3], 1), { dilation: 3 })), ShapeError, ["conv2d", "dilated by [3, 3]: 7x7", "output would be empty"]);
    // under jit the staged shapes give the same error
    expectError(() => run(jit(function* (a: Value) { return yield* conv2d(a, randomTensor([3, 2, 3, 3], 1), { groups: 2 }); }), x), ShapeError, ["conv2d", "2 groups"]);
  });
  it("convTranspose2d", () => {
    expectError(() => perform(() => convTranspose2d(x, randomTensor([3, 2, 3, 3], 1))), ShapeError, ["convTranspose2d", "[C_in, C_out, KH, KW]"]);
    expectError(() => perform(() => convTranspose2d(randomTensor([1, 1, 1, 1], 1), randomTensor([1, 1, 2, 2], 1), { padding: 1 })), ShapeError, ["convTranspose2d", "0x0", "at least 1x1"]);
    expectError(() => perform(() => convTranspose2d(x, randomTensor([4, 1, 3, 3], 1), { padding: "same" } as never)), ValueError, ["convTranspose2d", "padding must be"]);
    expectError(() => perform(() => convTranspose2d(x, randomTensor([4, 1, 3, 3], 1), { groups: 2 } as never)), ValueError, ["convTranspose2d", "groups"]);
  });
  it("pooling", () => {
    expectError(() => perform(() => maxPool2d(x, { size: 2, padding: 2 })), ValueError, ["maxPool2d", "not smaller than the window"]);
    expectError(() => perform(() => avgPool2d(x, { size: 2, padding: [0, -1] as never })), ValueError, ["avgPool2d", "padding must be"]);
  });
});
