// The second round's shape operations (stack, split, flip, tile, repeat, squeeze, expandDims, pad,
// tril, triu, diag, trace): values as NumPy gives them, properties over random shapes and axes,
// derivatives of first and second order in both modes against finite differences (float64),
// vmap against a loop of single calls, jit against eager, and tagged errors for bad input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  IndexError, ShapeError, Tensor, ValueError, arange, concat, diag, expandDims, flip, grad, jit, makeIR, mul, pad, repeat,
  run, sin, split, squeeze, stack, sum, tensor, tile, trace, tril, triu, vmap, zeros,
  type Effect, type Value,
} from "../src/index.ts";
import { checkGrads, randomTensor, type Program } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";
import { caught, perform } from "./perform.ts";

const iota = (shape: number[]): Tensor => tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i), { shape });
const value = (op: () => Effect<unknown>): unknown => perform(op as () => Effect);
const arr = (op: () => Effect<unknown>): unknown => {
  const v = value(op);
  return Array.isArray(v) ? v.map((t) => (t as Tensor).toArray()) : (v as Tensor).toArray();
};
const shapeOfResult = (op: () => Effect<unknown>): readonly number[] => (value(op) as Tensor).shape;

// ---------------------------------------------------------------------------------------------
// Values (each checked against what NumPy gives for the same call)

describe("values, as NumPy", () => {
  it("stack", () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([4, 5, 6]);
    expect(arr(() => stack([a, b]))).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(arr(() => stack([a, b], 1))).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(arr(() => stack([a, b], -1))).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(arr(() => stack([1, 2, 3]))).toEqual([1, 2, 3]); // numbers are 0-d
    expect(shapeOfResult(() => stack([zeros([2, 3]), zeros([2, 3]), zeros([2, 3])], 1))).toEqual([2, 3, 3]);
    expect(arr(() => stack([a]))).toEqual([[1, 2, 3]]);
    expect((value(() => stack([tensor([1], { dtype: "float32" }), tensor([2])])) as Tensor).dtype).toBe("float64");
  });

  it("split: equal sections and split indices", () => {
    const x = arange(6);
    expect(arr(() => split(x, 3))).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(arr(() => split(x, [2, 5]))).toEqual([[0, 1], [2, 3, 4], [5]]);
    // NumPy: np.split(np.arange(6), [4, 1]) -> [0..3], [], [1..5]; indices past the end give empty pieces
    expect(arr(() => split(x, [4, 1]))).toEqual([[0, 1, 2, 3], [], [1, 2, 3, 4, 5]]);
    expect(arr(() => split(x, [-2, 10]))).toEqual([[0, 1, 2, 3], [4, 5], []]);
    expect(arr(() => split(x, []))).toEqual([[0, 1, 2, 3, 4, 5]]);
    const m = iota([2, 4]);
    expect(arr(() => split(m, 2, 1))).toEqual([[[0, 1], [4, 5]], [[2, 3], [6, 7]]]);
    expect(arr(() => split(m, [1], -1))).toEqual([[[0], [4]], [[1, 2, 3], [5, 6, 7]]]);
  });

  it("flip", () => {
    const m = iota([2, 3]);
    expect(arr(() => flip(m))).toEqual([[5, 4, 3], [2, 1, 0]]);
    expect(arr(() => flip(m, 0))).toEqual([[3, 4, 5], [0, 1, 2]]);
    expect(arr(() => flip(m, -1))).toEqual([[2, 1, 0], [5, 4, 3]]);
    expect(arr(() => flip(m, [0, 1]))).toEqual([[5, 4, 3], [2, 1, 0]]);
    expect(arr(() => flip(iota([2, 2, 2]), 1))).toEqual([[[2, 3], [0, 1]], [[6, 7], [4, 5]]]);
    expect(value(() => flip(3))).toBe(3);
    expect(shapeOfResult(() => flip(zeros([0, 2]), 0))).toEqual([0, 2]);
    const f32 = value(() => flip(tensor([1, 2], { dtype: "float32" }))) as Tensor;
    expect([f32.dtype, f32.toArray()]).toEqual(["float32", [2, 1]]);
  });

  it("tile", () => {
    const a = tensor([0, 1, 2]);
    expect(arr(() => tile(a, 2))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(arr(() => tile(a, [2, 2]))).toEqual([[0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2]]);
    expect(arr(() => tile(a, [2, 1, 2]))).toEqual([[[0, 1, 2, 0, 1, 2]], [[0, 1, 2, 0, 1, 2]]]);
    const b = tensor([[1, 2], [3, 4]]);
    expect(arr(() => tile(b, 2))).toEqual([[1, 2, 1, 2], [3, 4, 3, 4]]); // reps shorter than rank: leading 1s
    expect(arr(() => tile(b, [2, 1]))).toEqual([[1, 2], [3, 4], [1, 2], [3, 4]]);
    expect(shapeOfResult(() => tile(b, [0, 3]))).toEqual([0, 6]);
    expect(arr(() => tile(5, 3))).toEqual([5, 5, 5]);
  });

  it("repeat", () => {
    expect(arr(() => repeat(3, 4))).toEqual([3, 3, 3, 3]);
    const x = tensor([[1, 2], [3, 4]]);
    expect(arr(() => repeat(x, 2))).toEqual([1, 1, 2, 2, 3, 3, 4, 4]); // no axis: flattened
    expect(arr(() => repeat(x, 3, 1))).toEqual([[1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4]]);
    expect(arr(() => repeat(x, [1, 2], 0))).toEqual([[1, 2], [3, 4], [3, 4]]);
    expect(arr(() => repeat(x, [0, 2], -1))).toEqual([[2, 2], [4, 4]]);
    expect(arr(() => repeat(x, [2], 0))).toEqual([[1, 2], [1, 2], [3, 4], [3, 4]]); // one count for all
    expect(shapeOfResult(() => repeat(x, 0, 0))).toEqual([0, 2]);
  });

  it("squeeze and expandDims", () => {
    const x = zeros([1, 3, 1, 2]);
    expect(shapeOfResult(() => squeeze(x))).toEqual([3, 2]);
    expect(shapeOfResult(() => squeeze(x, 0))).toEqual([3, 1, 2]);
    expect(shapeOfResult(() => squeeze(x, [-2, 0]))).toEqual([3, 2]);
    expect(shapeOfResult(() => squeeze(zeros([1, 1])))).toEqual([]);
    expect(arr(() => squeeze(tensor([[7], [8]])))).toEqual([7, 8]);
    const y = zeros([2, 3]);
    expect(shapeOfResult(() => expandDims(y, 0))).toEqual([1, 2, 3]);
    expect(shapeOfResult(() => expandDims(y, 1))).toEqual([2, 1, 3]);
    expect(shapeOfResult(() => expandDims(y, -1))).toEqual([2, 3, 1]);
    expect(shapeOfResult(() => expandDims(y, [0, 3]))).toEqual([1, 2, 3, 1]);
    expect(shapeOfResult(() => expandDims(y, [-1, 0]))).toEqual([1, 2, 3, 1]);
    expect(arr(() => expandDims(5, 0))).toEqual([5]);
  });

  it("pad: constant, edge and reflect", () => {
    const v = tensor([1, 2, 3]);
    expect(arr(() => pad(v, [[2, 1]]))).toEqual([0, 0, 1, 2, 3, 0]);
    expect(arr(() => pad(v, [[1, 2]], { value: 9 }))).toEqual([9, 1, 2, 3, 9, 9]);
    expect(arr(() => pad(v, [[2, 2]], { mode: "edge" }))).toEqual([1, 1, 1, 2, 3, 3, 3]);
    expect(arr(() => pad(v, [[2, 2]], { mode: "reflect" }))).toEqual([3, 2, 1, 2, 3, 2, 1]);
    const m = tensor([[1, 2], [3, 4]]);
    expect(arr(() => pad(m, [[1, 0], [0, 1]], { value: -1 }))).toEqual([[-1, -1, -1], [1, 2, -1], [3, 4, -1]]);
    expect(arr(() => pad(m, [[1, 1], [1, 0]], { mode: "edge" }))).toEqual([[1, 1, 2], [1, 1, 2], [3, 3, 4], [3, 3, 4]]);
    // np.pad(np.arange(9).reshape(3, 3), ((1, 2), (2, 1)), "reflect")
    expect(arr(() => pad(iota([3, 3]), [[1, 2], [2, 1]], { mode: "reflect" }))).toEqual([
      [5, 4, 3, 4, 5, 4],
      [2, 1, 0, 1, 2, 1],
      [5, 4, 3, 4, 5, 4],
      [8, 7, 6, 7, 8, 7],
      [5, 4, 3, 4, 5, 4],
      [2, 1, 0, 1, 2, 1],
    ]);
    expect(arr(() => pad(v, [[0, 0]], { mode: "reflect" }))).toEqual([1, 2, 3]);
    expect(arr(() => pad(tensor([-0]), [[1, 0]], { value: -0 }))).toEqual([-0, -0]);
    const f32 = value(() => pad(tensor([1], { dtype: "float32" }), [[1, 1]], { value: 2 })) as Tensor;
    expect([f32.dtype, f32.toArray()]).toEqual(["float32", [2, 1, 2]]);
    expect(arr(() => pad(tensor([Infinity, NaN]), [[1, 0]]))).toEqual([0, Infinity, NaN]);
  });

  it("tril and triu, batched over leading axes", () => {
    const m = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    expect(arr(() => tril(m))).toEqual([[1, 0, 0], [4, 5, 0], [7, 8, 9], [10, 11, 12]]);
    expect(arr(() => tril(m, -1))).toEqual([[0, 0, 0], [4, 0, 0], [7, 8, 0], [10, 11, 12]]);
    expect(arr(() => tril(m, 1))).toEqual([[1, 2, 0], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    expect(arr(() => triu(m))).toEqual([[1, 2, 3], [0, 5, 6], [0, 0, 9], [0, 0, 0]]);
    expect(arr(() => triu(m, 1))).toEqual([[0, 2, 3], [0, 0, 6], [0, 0, 0], [0, 0, 0]]);
    expect(arr(() => triu(m, -1))).toEqual([[1, 2, 3], [4, 5, 6], [0, 8, 9], [0, 0, 12]]);
    expect(arr(() => triu(m, 5))).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(arr(() => tril(m, -9))).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(arr(() => tril(iota([2, 2, 2])))).toEqual([[[0, 0], [2, 3]], [[4, 0], [6, 7]]]);
    // masked elements are zero even when they are not finite (no 0 * Infinity)
    expect(arr(() => triu(tensor([[1, Infinity], [NaN, 2]])))).toEqual([[1, Infinity], [0, 2]]);
  });

  it("diag and trace", () => {
    expect(arr(() => diag(tensor([1, 2, 3])))).toEqual([[1, 0, 0], [0, 2, 0], [0, 0, 3]]);
    expect(arr(() => diag(tensor([1, 2]), 1))).toEqual([[0, 1, 0], [0, 0, 2], [0, 0, 0]]);
    expect(arr(() => diag(tensor([1, 2]), -1))).toEqual([[0, 0, 0], [1, 0, 0], [0, 2, 0]]);
    const m = iota([3, 4]);
    expect(arr(() => diag(m))).toEqual([0, 5, 10]);
    expect(arr(() => diag(m, 1))).toEqual([1, 6, 11]);
    expect(arr(() => diag(m, 2))).toEqual([2, 7]);
    expect(arr(() => diag(m, -1))).toEqual([4, 9]);
    expect(arr(() => diag(m, -2))).toEqual([8]);
    expect(arr(() => diag(m, 4))).toEqual([]);
    expect(arr(() => diag(m, -3))).toEqual([]);
    expect(arr(() => trace(iota([3, 3])))).toBe(12);
    expect(arr(() => trace(iota([2, 3])))).toBe(4);
    // rank 3: traced over the first two axes, as NumPy
    expect(arr(() => trace(iota([2, 2, 3])))).toEqual([9, 11, 13]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random shapes and axes

const dim = fc.integer({ min: 0, max: 3 });
const shapeArb = (min = 1, max = 4) => fc.array(dim, { minLength: min, maxLength: max });
const RUNS = { numRuns: 40 };

describe("properties", () => {
  it("concat of split is the identity (sections and indices)", () => {
    fc.assert(
      fc.property(shapeArb(), fc.nat(), fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 3 }), (shape, a, cuts) => {
        const x = iota(shape);
        const axis = a % shape.length;
        const pieces = value(() => split(x, [...cuts].sort((p, q) => p - q).map((c) => Math.max(0, c)), axis)) as Tensor[];
        expect(pieces.length).toBe(cuts.length + 1);
        expect((value(() => concat(pieces, axis)) as Tensor).toArray()).toEqual(x.toArray());
        const d = shape[axis]!;
        const n = [1, 2, 3].filter((k) => d % k === 0).pop()!;
        const equal = value(() => split(x, n, axis - shape.length)) as Tensor[];
        for (const p of equal) expect(p.shape[axis]).toBe(d / n);
        expect((value(() => concat(equal, axis)) as Tensor).toArray()).toEqual(x.toArray());
      }),
      RUNS,
    );
  });

  it("flip twice is the identity; flip matches reversed indices", () => {
    fc.assert(
      fc.property(shapeArb(0), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (shape, pick) => {
        const x = iota(shape);
        const axes = shape.map((_, i) => i).filter((i) => pick[i]);
        const y = value(() => flip(x, axes)) as Tensor;
        expect((value(() => flip(y, axes)) as Tensor).toArray()).toEqual(x.toArray());
        // element at index idx of y is x at idx with the flipped axes mirrored
        const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
        for (let f = 0; f < y.size; f++) {
          const idx = strides.map((s, i) => Math.floor(f / s) % shape[i]!);
          const src = idx.reduce((acc, k, i) => acc + (axes.includes(i) ? shape[i]! - 1 - k : k) * strides[i]!, 0);
          expect(y.buf[f]).toBe(x.buf[src]);
        }
      }),
      RUNS,
    );
  });

  it("stack then split along the same axis gives the operands back", () => {
    fc.assert(
      fc.property(shapeArb(0, 3), fc.integer({ min: 1, max: 3 }), fc.nat(), (shape, n, a) => {
        const xs = Array.from({ length: n }, (_, k) => randomTensor(shape, k + 1));
        const axis = a % (shape.length + 1);
        const s = value(() => stack(xs, axis)) as Tensor;
        expect(s.shape).toEqual([...shape.slice(0, axis), n, ...shape.slice(axis)]);
        const back = value(() => split(s, n, axis)) as Tensor[];
        back.forEach((p, k) => expect((value(() => squeeze(p, axis)) as Tensor).toArray()).toEqual(xs[k]!.toArray()));
      }),
      RUNS,
    );
  });

  it("squeeze undoes expandDims", () => {
    fc.assert(
      fc.property(shapeArb(0, 3), fc.array(fc.integer({ min: -4, max: 3 }), { minLength: 1, maxLength: 2 }), (shape, raw) => {
        const rank = shape.length + raw.length;
        const axes = raw.map((a) => ((a % rank) + rank) % rank);
        fc.pre(new Set(axes).size === axes.length);
        const x = iota(shape);
        const e = value(() => expandDims(x, raw.map((a) => (a < 0 ? -(rank - (((a % rank) + rank) % rank)) : a % rank)))) as Tensor;
        axes.forEach((a) => expect(e.shape[a]).toBe(1));
        expect((value(() => squeeze(e, axes)) as Tensor).toArray()).toEqual(x.toArray());
      }),
      RUNS,
    );
  });

  it("tile and repeat match index arithmetic", () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), (shape, reps) => {
        const x = iota(shape);
        const t = value(() => tile(x, reps)) as Tensor;
        const n = Math.max(shape.length, reps.length);
        const dims = [...Array(n - shape.length).fill(1), ...shape] as number[];
        const counts = [...Array(n - reps.length).fill(1), ...reps] as number[];
        expect(t.shape).toEqual(dims.map((d, i) => d * counts[i]!));
        const outStrides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((p, q) => p * q, 1));
        const inStrides = dims.map((_, i) => dims.slice(i + 1).reduce((p, q) => p * q, 1));
        for (let f = 0; f < t.size; f++) {
          const src = outStrides.reduce((acc, s, i) => acc + (Math.floor(f / s) % t.shape[i]! % dims[i]!) * inStrides[i]!, 0);
          expect(t.buf[f]).toBe(x.buf[src]);
        }
      }),
      RUNS,
    );
    fc.assert(
      fc.property(shapeArb(1, 3), fc.nat(), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }), (shape, a, counts) => {
        const x = iota(shape);
        const axis = a % shape.length;
        const reps = counts.slice(0, shape[axis]!);
        fc.pre(reps.length === shape[axis]);
        const r = value(() => repeat(x, reps, axis)) as Tensor;
        // along the axis, index i of x appears reps[i] times, in order
        const rows = shape[axis]!;
        const source: number[] = [];
        for (let i = 0; i < rows; i++) for (let k = 0; k < reps[i]!; k++) source.push(i);
        const want = value(() => concat(source.length === 0 ? [zeros(shape.map((d, i) => (i === axis ? 0 : d)))] : source.map((i) =>
          run(function* () {
            return (yield* split(x, [i, i + 1], axis))[1]!;
          }) as Tensor), axis)) as Tensor;
        expect(r.toArray()).toEqual(want.toArray());
      }),
      RUNS,
    );
  });

  it("pad matches index arithmetic in every mode", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 3, maxLength: 3 }),
        fc.constantFrom("constant", "edge", "reflect" as const),
        (shape, w, mode) => {
          const widths = shape.map((d, i) => (mode === "reflect" ? [Math.min(w[i]![0], d - 1), Math.min(w[i]![1], d - 1)] : w[i]!) as [number, number]);
          const x = iota(shape);
          const y = value(() => pad(x, widths, mode === "constant" ? { value: -1 } : { mode })) as Tensor;
          const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
          const outStrides = y.shape.map((_, i) => y.shape.slice(i + 1).reduce((p, q) => p * q, 1));
          for (let f = 0; f < y.size; f++) {
            let src = 0;
            let outside = false;
            y.shape.forEach((_, a) => {
              let i = (Math.floor(f / outStrides[a]!) % y.shape[a]!) - widths[a]![0];
              const d = shape[a]!;
              if (i < 0 || i >= d) {
                if (mode === "constant") outside = true;
                else if (mode === "edge") i = i < 0 ? 0 : d - 1;
                else i = i < 0 ? -i : 2 * (d - 1) - i;
              }
              src += i * inStrides[a]!;
            });
            expect(y.buf[f]).toBe(outside ? -1 : x.buf[src]);
          }
        },
      ),
      RUNS,
    );
  });

  it("tril(x, k) + triu(x, k + 1) = x, and diag of diag is the identity", () => {
    fc.assert(
      fc.property(shapeArb(2, 4), fc.integer({ min: -4, max: 4 }), (shape, k) => {
        const x = randomTensor(shape, 7);
        const lo = value(() => tril(x, k)) as Tensor;
        const hi = value(() => triu(x, k + 1)) as Tensor;
        expect(Array.from(lo.buf, (v, i) => v + hi.buf[i]!)).toEqual(Array.from(x.buf));
        const [r, c] = shape.slice(-2) as [number, number];
        lo.buf.forEach((v, f) => {
          const j = f % c;
          const i = Math.floor(f / c) % r;
          if (j - i > k) expect(v).toBe(0);
        });
        const v = randomTensor([shape[0]!], 3);
        expect((value(() => diag(value(() => diag(v, k)) as Tensor, k)) as Tensor).toArray()).toEqual(v.toArray());
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Derivatives, vmap and jit on one table of cases

interface Case {
  readonly name: string;
  readonly f: Program;
  readonly args: readonly Tensor[];
}

const program = (body: (...xs: Value[]) => Effect<unknown>): Program =>
  function* (...xs: Value[]) {
    return yield* body(...xs);
  };

const cases: Case[] = [
  { name: "stack axis 1", f: program((a, b) => stack([a!, b!], 1)), args: [randomTensor([2, 3], 1), randomTensor([2, 3], 2)] },
  { name: "stack of a product", f: function* (a: Value) { return yield* stack([a, yield* mul(a, a), yield* sin(a)], -1); }, args: [randomTensor([3], 3)] },
  { name: "split sections", f: program((x) => split(x!, 2, 1)), args: [randomTensor([2, 4], 4)] },
  { name: "split indices (an empty piece)", f: program((x) => split(x!, [1, 1, 2])), args: [randomTensor([3, 2], 5)] },
  { name: "flip all", f: program((x) => flip(x!)), args: [randomTensor([2, 3], 6)] },
  { name: "flip axis -1 of a square", f: function* (x: Value) { return yield* flip(yield* mul(x, x), -1); }, args: [randomTensor([2, 3, 2], 7)] },
  { name: "tile [2, 1, 2]", f: program((x) => tile(x!, [2, 1, 2])), args: [randomTensor([2, 3], 8)] },
  { name: "repeat 2 axis 0", f: program((x) => repeat(x!, 2, 0)), args: [randomTensor([2, 3], 9)] },
  { name: "repeat counts flattened", f: program((x) => repeat(x!, [2, 0, 1, 3])), args: [randomTensor([2, 2], 10)] },
  { name: "squeeze", f: program((x) => squeeze(x!, [0, -1])), args: [randomTensor([1, 3, 1], 11)] },
  { name: "expandDims", f: program((x) => expandDims(x!, [0, -1])), args: [randomTensor([2, 3], 12)] },
  { name: "pad constant 2.5", f: program((x) => pad(x!, [[1, 0], [2, 1]], { value: 2.5 })), args: [randomTensor([2, 3], 13)] },
  { name: "pad edge", f: program((x) => pad(x!, [[2, 1], [0, 3]], { mode: "edge" })), args: [randomTensor([2, 3], 14)] },
  { name: "pad reflect of sin", f: function* (x: Value) { return yield* pad(yield* sin(x), [[1, 2], [2, 0]], { mode: "reflect" }); }, args: [randomTensor([3, 3], 15)] },
  { name: "tril k 0 batched", f: program((x) => tril(x!)), args: [randomTensor([2, 3, 3], 16)] },
  { name: "triu k -1 of a square", f: function* (x: Value) { return yield* triu(yield* mul(x, x), -1); }, args: [randomTensor([3, 4], 17)] },
  { name: "diag of a vector, k 1", f: function* (x: Value) { return yield* diag(yield* mul(x, x), 1); }, args: [randomTensor([3], 18)] },
  { name: "diag of a matrix, k -1", f: function* (x: Value) { return yield* diag(yield* sin(x), -1); }, args: [randomTensor([3, 4], 19)] },
  { name: "trace of x·x", f: function* (x: Value) { return yield* trace(yield* mul(x, x)); }, args: [randomTensor([3, 3], 20)] },
  { name: "trace rank 3", f: program((x) => trace(x!)), args: [randomTensor([2, 2, 3], 21)] },
];

describe("derivatives: first and second order, forward and reverse, against finite differences", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    checkGrads(c.f, c.args, { order: 2, name: c.name, rtol: 1e-6, atol: 1e-8 });
  });
});

/** Examples stacked along a new axis 0. */
const stacked = (xs: readonly unknown[]): unknown =>
  Array.isArray(xs[0]) ? (xs[0] as unknown[]).map((_, i) => stacked(xs.map((x) => (x as unknown[])[i]))) : run(function* () {
    return yield* stack(xs as Tensor[]);
  });

describe("vmap agrees with a loop of single calls", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const size = 3;
    const batches = c.args.map((a, k) => randomTensor([size, ...a.shape], 100 + k));
    const examples = Array.from({ length: size }, (_, b) =>
      run(c.f, ...batches.map((x) => run(function* () { return (yield* split(x, size))[b]!; }) as Tensor).map((x) =>
        run(function* () { return yield* squeeze(x, 0); }) as Tensor)),
    );
    expectSame(run(vmap(c.f), ...batches), stacked(examples));
    // one operand batched, the other shared
    if (c.args.length === 2) {
      const got = run(vmap(c.f, [0, null]), batches[0]!, c.args[1]!);
      const want = stacked(Array.from({ length: size }, (_, b) =>
        run(c.f, run(function* () { return yield* squeeze((yield* split(batches[0]!, size))[b]!, 0); }) as Tensor, c.args[1]!)));
      expectSame(got, want);
    }
  });
});

describe("jit agrees with eager", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expectSame(run(jit(c.f), ...c.args), run(c.f, ...c.args));
    const loss = function* (...xs: Value[]) {
      const out = yield* c.f(...xs);
      const parts = (Array.isArray(out) ? out : [out]) as Value[];
      let total: Value = 0;
      for (const p of parts) total = yield* sum(yield* mul(p, yield* sin(p)));
      return total;
    };
    expectSame(run(jit(gradOf(loss)), ...c.args), run(gradOf(loss), ...c.args), 1e-12);
  });

  it("flip and tril are staged as their own primitives", () => {
    const ir = makeIR(function* (x: Value) {
      return yield* tril(yield* flip(x, 0));
    })(randomTensor([3, 3], 1)).toString();
    expect(ir).toMatch(/flip\(/);
    expect(ir).toMatch(/triangle\(/);
  });
});

const gradOf = (f: Program): Program => grad(f) as Program;

// ---------------------------------------------------------------------------------------------
// Bad input: tagged errors that name the operation and the fix

describe("bad input gives tagged errors", () => {
  const x = zeros([2, 3]);
  const cases: [string, () => Effect<unknown>, new (m: string) => Error, RegExp][] = [
    ["stack of different shapes", () => stack([x, zeros([3, 2])]), ShapeError, /stack: .*element 1 has \[3, 2\]/],
    ["stack of nothing", () => stack([]), ValueError, /stack: takes a non-empty array/],
    ["stack axis out of range", () => stack([x, x], 3), IndexError, /stack: axis 3/],
    ["split unequal", () => split(x, 2, 1), ValueError, /split: axis 1 of shape \[2, 3\] has size 3, which does not divide into 2/],
    ["split zero sections", () => split(x, 0), ValueError, /split: the number of sections must be a positive integer/],
    ["split non-integer index", () => split(x, [1.5]), ValueError, /split: split indices must be integers/],
    ["split a number", () => split(3, 1), ShapeError, /split: cannot split a 0-d value/],
    ["flip bad axis", () => flip(x, 2), IndexError, /flip: axis 2 is out of range/],
    ["flip repeated axis", () => flip(x, [0, -2]), IndexError, /flip: axis list .* repeats an axis/],
    ["tile negative", () => tile(x, [-1]), ValueError, /tile: reps must be a non-negative integer/],
    ["repeat wrong count", () => repeat(x, [1, 2], 1), ShapeError, /repeat: 2 repeat counts for 3 elements along axis 1/],
    ["repeat fractional", () => repeat(x, 1.5), ValueError, /repeat: repeats must be a non-negative integer/],
    ["squeeze a non-1 axis", () => squeeze(x, 1), ShapeError, /squeeze: axis 1 of shape \[2, 3\] has size 3, not 1/],
    ["expandDims without an axis", () => expandDims(x, undefined as unknown as number), IndexError, /expandDims: axis must be/],
    ["expandDims out of range", () => expandDims(x, 3), IndexError, /expandDims: axis 3 is out of range for a tensor of rank 3/],
    ["pad wrong widths", () => pad(x, [[1, 1]]), ValueError, /pad: widths must give one \[before, after\] pair .* per axis of shape \[2, 3\]/],
    ["pad negative width", () => pad(x, [[1, 1], [-1, 0]]), ValueError, /pad: widths must give/],
    ["pad unknown mode", () => pad(x, [[1, 1], [0, 0]], { mode: "wrap" as "edge" }), ValueError, /pad: option mode must be one of "constant", "edge", "reflect"/],
    ["pad value with edge", () => pad(x, [[1, 1], [0, 0]], { mode: "edge", value: 1 }), ValueError, /pad: option value is only for mode "constant"/],
    ["pad reflect too wide", () => pad(x, [[0, 0], [3, 0]], { mode: "reflect" }), ShapeError, /pad: mode "reflect" .* axis 1 of shape \[2, 3\] has size 3 but widths \[3, 0\]/],
    ["pad edge of an empty axis", () => pad(zeros([0, 2]), [[1, 0], [0, 0]], { mode: "edge" }), ShapeError, /pad: cannot extend axis 0 .* it is empty/],
    ["pad typo in options", () => pad(x, [[0, 0], [0, 0]], { mod: "edge" } as never), ValueError, /pad: option mod is not supported \(did you mean mode\?\)/],
    ["tril of a vector", () => tril(tensor([1, 2])), ShapeError, /tril: takes matrices \(rank >= 2/],
    ["triu fractional k", () => triu(x, 0.5), ValueError, /triu: the diagonal k must be an integer/],
    ["diag of rank 3", () => diag(zeros([2, 2, 2])), ShapeError, /diag: takes a vector .* or a matrix .* got shape \[2, 2, 2\]/],
    ["trace of a vector", () => trace(tensor([1, 2])), ShapeError, /trace: takes a matrix/],
    ["diag too large", () => diag(zeros([1]), 60000), ShapeError, /diag: shape \[60001, 60001\] has 3600120001 elements, more than/],
    ["tile too large", () => tile(x, [50000, 50000]), ShapeError, /tile: shape \[100000, 150000\] has/],
    ["stack of a plain array", () => stack([[1, 2] as never]), Error, /stack: element 0 is a plain array/],
  ];
  it.each(cases)("%s", (_name, op, cls, message) => {
    const e = caught(() => perform(op as () => Effect));
    expect(e).toBeInstanceOf(cls);
    expect(e.message).toMatch(message);
  });

  it("the same errors under jit", () => {
    const e = caught(() => run(jit(function* (v: Value) { return yield* pad(v, [[0, 0], [4, 0]], { mode: "reflect" }); }), x));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/pad: mode "reflect"/);
  });
});
