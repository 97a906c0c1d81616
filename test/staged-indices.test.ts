// take (and nn.embedding, which is a take) with indices that exist only at run time: staged by
// jit (an Int32Array or tensor argument) or batched by vmap. They select by a one-hot product,
// so the compiled program serves every index value; the values and gradients are the gather's.
import { describe, expect, it } from "vitest";
import { grad, jit, mul, nn, randn, run, sum, take, tensor, Tensor, vmap, type Value } from "../src/index.ts";
import type { Gen } from "../src/transforms/common.ts";
import { expectSame } from "./expect-same.ts";

// the axis is closed over: a number argument of a jitted program is data, not a static axis
const takeOn = (axis: number) =>
  function* (x: Value, indices: Value): Gen<Value> {
    return yield* take(x, indices, axis);
  };
const take0 = takeOn(0);

describe("take with staged indices", () => {
  const x = randn([4, 3, 5], { seed: 3 });

  it("equals the eager gather on every axis, for n-d and negative indices, with one compile per index shape", () => {
    for (const axis of [0, 1, 2, -1]) {
      const j = jit(takeOn(axis));
      const n = x.shape.at(axis)!;
      const cases = [
        [0, n - 1, 1],
        [-1, 0, -n],
        [1, 1, 1],
      ];
      for (const idx of cases) {
        for (const indices of [Int32Array.from(idx), tensor(idx), tensor([idx, idx.map((i) => (i + 1) % n)])]) {
          const got = run(j, x, indices as never) as Tensor;
          const want = run(takeOn(axis), x, indices as never) as Tensor;
          expectSame(got, want, 0);
        }
      }
      expect(j.info.compiles).toBe(3); // Int32Array [3], Tensor [3], Tensor [2, 3]
      expect(j.info.hits).toBe(6);
    }
  });

  it("a float32 operand stays float32", () => {
    const x32 = randn([5, 2], { seed: 1, dtype: "float32" });
    const got = run(jit(take0), x32, tensor([4, 0])) as Tensor;
    expect(got.dtype).toBe("float32");
    expectSame(got, run(take0, x32, [4, 0] as never), 0);
  });

  it("jit(grad) through a staged take: the scatter-add of the eager gradient, repeated indices adding up", () => {
    function* loss(x: Value, indices: Int32Array | number[]): Gen<Value> {
      return yield* sum(yield* mul(yield* take(x, indices, 1), yield* take(x, indices, 1)));
    }
    const g = jit(grad(loss));
    for (const idx of [[0, 2, 2], [1, 1, 1]]) expectSame(run(g, x, Int32Array.from(idx)), run(grad(loss), x, idx), 1e-15);
    expect(g.info.compiles).toBe(1);
  });

  it("an index out of range, which cannot be checked before the run, gives NaN (as JAX's fill mode)", () => {
    const got = run(jit(take0), tensor([[1, 2], [3, 4]]), tensor([1, 2])) as Tensor;
    expect(Array.from(got.data).slice(0, 2)).toEqual([3, 4]);
    expect(Array.from(got.data).slice(2).every(Number.isNaN)).toBe(true);
  });

  it("vmap over a batch of indices: each example takes its own rows", () => {
    const table = randn([6, 2], { seed: 4 });
    const idx = tensor([[0, 5], [3, 3], [1, 2]]);
    const got = run(vmap(function* (i: Value) { return yield* take(table, i); }), idx) as Tensor;
    expectSame(got, run(take0, table, idx), 0);
  });
});

describe("nn.embedding with token ids as jit arguments", () => {
  const params = nn.embedding.init(0, 7, 3, { dtype: "float32" });

  it("fresh Int32Arrays of ids per call: one compile, the eager rows every time", () => {
    const embed = jit(nn.embedding.apply);
    for (let k = 0; k < 20; k++) {
      const ids = Int32Array.from([k % 7, (3 * k) % 7, 6]);
      expectSame(run(embed, params, ids), run(nn.embedding.apply, params, ids), 0);
    }
    expect(embed.info).toMatchObject({ compiles: 1, hits: 19 });
  });

  it("the table's gradient under jit counts each id's uses", () => {
    const g = jit(grad(function* (p: nn.EmbeddingParams, ids: Int32Array) { return yield* sum(yield* nn.embedding.apply(p, ids)); }));
    const { table } = run(g, params, Int32Array.of(2, 2, 5)) as { table: Tensor };
    expect(table.toArray()).toEqual([[0, 0, 0], [0, 0, 0], [2, 2, 2], [0, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0]]);
  });
});
