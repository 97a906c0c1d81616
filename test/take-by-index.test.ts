// take and scatter-add with the indices as an operand (primitives/take-by-index.ts: the path of
// indices held on a GPU, checked here on the CPU): the same values as take with known indices
// (negative ones counting from the end, repeats summing in the adjoint), NaN rows for indices
// that select nothing and dropped cotangents for them, derivatives of first and second order
// against finite differences, and vmap against a loop.
import { describe, expect, it } from "vitest";
import * as Y from "../src/index.ts";
import { run, tensor, type Tensor, type Value } from "../src/index.ts";
import { scatterByIndex, selectedRow, takeByIndex } from "../src/primitives/take-by-index.ts";
import { checkGrads } from "./check-grads.ts";

const x = tensor([[1, -2, 3], [0.5, 4, -1], [2, 2, -3], [7, -0.25, 1.5]]); // [4, 3]
const idx = (values: number[], shape = [values.length]): Tensor => tensor(values, { shape });

describe("takeByIndex / scatterByIndex (indices as an operand)", () => {
  it("selects as take does with the same known indices, along any axis and index shape", () => {
    for (const [axis, i] of [[0, idx([3, 0, -1, 1])], [1, idx([2, -3, 2, 0], [2, 2])], [0, idx([2], [])], [-1, idx([1, 1])]] as [number, Tensor][]) {
      const a = axis < 0 ? axis + 2 : axis;
      const got = run(function* () { return takeByIndex(x, i, a); }) as Tensor;
      const want = run(function* () { return yield* Y.take(x, i, axis); }) as Tensor;
      expect(got.shape).toEqual(want.shape);
      expect(got.toArray()).toEqual(want.toArray());
    }
  });

  it("an index out of range or not an integer selects nothing: a NaN row, and its cotangent is dropped", () => {
    const got = (run(function* () { return takeByIndex(x, idx([4, 1.5, -5, NaN, 2]), 0); }) as Tensor).toArray() as number[][];
    expect(got.slice(0, 4).flat().every(Number.isNaN)).toBe(true);
    expect(got[4]).toEqual([2, 2, -3]);
    const s = run(function* () { return scatterByIndex(tensor([[1, 1], [2, 2], [3, 3], [4, 4]]), idx([9, 0, -1, 0.5]), 0, 3); }) as Tensor;
    expect(s.toArray()).toEqual([[2, 2], [0, 0], [3, 3]]);
    expect([selectedRow(-1, 3), selectedRow(3, 3), selectedRow(-4, 3), selectedRow(0.5, 3), selectedRow(-0, 3)]).toEqual([2, -1, -1, -1, 0]);
  });

  it("the adjoint sums repeated indices", () => {
    const s = run(function* () { return scatterByIndex(tensor([[1, 2], [3, 4], [5, 6]]), idx([1, 1, -1]), 0, 3); }) as Tensor;
    expect(s.toArray()).toEqual([[0, 0], [4, 6], [5, 6]]);
  });

  it("first and second derivatives, forward and reverse, against finite differences", () => {
    const i = idx([2, 0, 2, -1, 1]);
    checkGrads(function* (x: Value) { return yield* Y.sin(takeByIndex(x, i, 0)); }, [x], { order: 2 });
    checkGrads(function* (x: Value) { return yield* Y.square(takeByIndex(x, idx([2, 0, 1, 1], [2, 2]), 1)); }, [x], { order: 2 });
    checkGrads(function* (v: Value) { return yield* Y.tanh(scatterByIndex(v, i, 0, 4)); }, [tensor([[1, 2, 3], [0.5, -1, 2], [3, 1, 0], [-2, 1, 1], [0.25, 2, -1]])], { order: 2 });
  });

  it("vmap over x, and over the indices, is the loop of single calls", () => {
    const xs = tensor([[[1, 2], [3, 4], [5, 6]], [[-1, 0], [2, 8], [0.5, 1]]]); // [2, 3, 2]
    const shared = run(Y.vmap(function* (r: Value) { return takeByIndex(r, idx([2, 0, 2]), 0); }), xs) as Tensor;
    const each = run(Y.vmap(function* (r: Value, k: Value) { return takeByIndex(r, k, 0); }), xs, idx([0, 2, 1, 1], [2, 2])) as Tensor;
    const loop = (k: number[][]) => [0, 1].map((b) => (run(function* () { return takeByIndex(run(function* () { return yield* Y.slice(xs, [b, 0, 0], [b + 1, 3, 2]); }) as Tensor, idx(k[b]!), 1); }) as Tensor).toArray());
    expect(shared.toArray()).toEqual(loop([[2, 0, 2], [2, 0, 2]]).map((r) => (r as number[][][])[0]));
    expect(each.toArray()).toEqual(loop([[0, 2], [1, 1]]).map((r) => (r as number[][][])[0]));
  });
});
