// nn initializers and dropout take keys: an initializer given a key draws JAX's samples for it
// (jax.nn.initializers' formulas on random.uniform / random.normal); dropout given a key draws
// flax's mask (bernoulli(key, 1 − rate) in x's dtype), also from a traced key under jit.
import { describe, expect, it } from "vitest";
import { Tensor, ValueError, grad, jit, nn, random, run, sum, tensor, type Effect, type Value } from "../src/index.ts";

const draw = <R>(e: () => Effect<R>): R =>
  run(function* () {
    return yield* e();
  });
const values = (t: unknown): number[] => Array.from((t as Tensor).buf);

describe("initializers with keys", () => {
  const key = random.key(3);
  it("normal and uniform are the random operations' samples, scaled and shifted in the dtype", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const z = values(draw(() => random.normal(key, [4, 3], { dtype })));
      const r = dtype === "float32" ? Math.fround : (v: number) => v;
      expect(values(nn.init.normal(0.02)(key, [4, 3], dtype))).toEqual(z.map((v) => r(v * r(0.02))));
      expect(values(nn.init.normal(2, 1)(key, [4, 3], dtype))).toEqual(z.map((v) => r(r(v * 2) + 1)));
      const u = values(draw(() => random.uniform(key, [5], { dtype, minval: -3, maxval: 2 })));
      expect(values(nn.init.uniform(-3, 2)(key, [5], dtype))).toEqual(u);
      expect(nn.init.uniform(-3, 2)(key, [5], dtype).dtype).toBe(dtype);
    }
  });

  it("variance scaling draws limit·uniform(key, −1, 1) or std·normal(key), as JAX's variance_scaling", () => {
    const shape = [6, 4];
    const limit = Math.sqrt(6 / (6 + 4));
    const u = values(draw(() => random.uniform(key, shape, { minval: -1, maxval: 1 })));
    expect(values(nn.init.glorotUniform()(key, shape))).toEqual(u.map((v) => v * limit));
    const z = values(draw(() => random.normal(key, shape)));
    expect(values(nn.init.heNormal()(key, shape))).toEqual(z.map((v) => v * Math.sqrt(2 / 6)));
    expect(values(nn.init.zeros()(key, [2]))).toEqual([0, 0]);
    expect(values(nn.init.constant(3)(key, [2]))).toEqual([3, 3]);
  });

  it("init.foldIn of a key is random.foldIn; seeds keep their own stream", () => {
    expect(nn.init.foldIn(key, 5).toArray()).toEqual((draw(() => random.foldIn(key, 5)) as Tensor).toArray());
    expect(typeof nn.init.foldIn(7, 1)).toBe("number");
    // the seeded path is unchanged: the same seed, the same tensor, and no key involved
    expect(values(nn.init.normal()(42, [3]))).toEqual(values(nn.init.normal()(42, [3])));
    expect(values(nn.init.normal()(42, [3]))).not.toEqual(values(nn.init.normal()(key, [3])));
  });

  it("a bad key is refused by name", () => {
    expect(() => nn.init.normal()(tensor([1, 2], { dtype: "float32" }), [2])).toThrow(/init.normal: a key is a float64 tensor/);
    expect(() => nn.init.glorotUniform()(tensor([0.5, 2]), [2, 2])).toThrow(/not a 32-bit word/);
  });
});

describe("dropout with a key", () => {
  const x = tensor([[1, 2, 3, 4], [5, 6, 7, 8]], { dtype: "float32" });
  it("keeps where bernoulli(key, 1 − rate) in x's dtype is 1, scaled by 1 / (1 − rate)", () => {
    const key = random.key(0);
    const y = values(run(nn.dropout, x, { rate: 0.25, key, training: true }));
    const keep = values(draw(() => random.bernoulli(key, tensor(0.75, { dtype: "float32" }), [2, 4])));
    expect(y).toEqual(values(x).map((v, i) => (keep[i] ? Math.fround(v / 0.75) : 0)));
    expect(values(run(nn.dropout, x, { rate: 0.25, key, training: false }))).toEqual(values(x));
    expect(values(run(nn.dropout, x, { rate: 1, key, training: true }))).toEqual(Array(8).fill(0));
  });

  it("a jitted training step takes a new key per call without recompiling; its gradient is the mask", () => {
    const step = jit(function* (w: Value, key: Value) {
      return yield* sum(yield* nn.dropout(w, { rate: 0.5, key, training: true }));
    });
    const g = jit(grad(function* (w: Value, key: Value) {
      return yield* sum(yield* nn.dropout(w, { rate: 0.5, key, training: true }));
    }));
    for (let s = 0; s < 4; s++) {
      const key = draw(() => random.foldIn(random.key(1), s));
      const eager = run(nn.dropout, x, { rate: 0.5, key, training: true }) as Tensor;
      expect(run(step, x, key)).toBeCloseTo(values(eager).reduce((a, b) => a + b, 0), 4);
      const keep = values(draw(() => random.bernoulli(key, tensor(0.5, { dtype: "float32" }), [2, 4])));
      expect(values(run(g, x, key))).toEqual(keep.map((k) => (k ? 2 : 0)));
    }
    expect(step.info.compiles).toBe(1);
    expect(g.info.compiles).toBe(1);
  });

  it("refuses a key and a seed together, and a bad key", () => {
    expect(() => run(nn.dropout, x, { rate: 0.5, key: random.key(0), seed: 1, training: true })).toThrow(ValueError);
    expect(() => run(nn.dropout, x, { rate: 0.5, key: tensor([1, 2, 3]), training: true })).toThrow(/dropout: a key is a float64 tensor of shape \[2\]/);
    expect(() => run(nn.dropout, x, { rate: 0.5, training: true })).toThrow(/pass a key/);
    // the seeded form still works
    expect(values(run(nn.dropout, x, { rate: 0.5, seed: 3, training: true }))).toEqual(values(run(nn.dropout, x, { rate: 0.5, seed: 3, training: true })));
  });
});
