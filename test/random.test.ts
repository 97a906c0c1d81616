// random: keys and samples against JAX's published values (default Threefry-2x32 with
// jax_threefry_partitionable=True, JAX's default since v0.5.0), and the transformations: jit
// takes keys as data, vmap maps over keys (and data), every derivative is zero.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Abstract } from "../effects/primitive.ts";
import { abstractOf } from "../src/primitives/abstract.ts";
import {
  DTypeError, Effect, ShapeError, Tensor, ValueError, arange, grad, jit, jvp, mul, random, run, scan, sum, tensor, vmap, type Value,
} from "../src/index.ts";
import { categoricalP, foldInP, normalP, permutationP, splitP, uniformP } from "../src/random/primitives.ts";
import { threefry2x32 } from "../src/random/threefry.ts";

const draw = <R>(e: () => Effect<R>): R =>
  run(function* () {
    return yield* e();
  });
const arr = (v: unknown): unknown => (v as Tensor).toArray();
const round2 = (xs: number[][]) => xs.map((r) => r.map((v) => Math.round(v * 100) / 100 + 0));
/** `v` agrees with a number JAX printed (to the printed digits: within half a unit of the last one). */
const expectPrinted = (v: number, printed: string): void => {
  const decimals = (printed.split(".")[1] ?? "").length;
  expect(Math.abs(v - Number(printed)), `${v} printed as ${printed}`).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-12);
};

describe("Threefry-2x32", () => {
  it("gives the Random123 known-answer vectors", () => {
    // Salmon et al.'s Random123 KAT, as JAX checks them in tests/random_test.py (testThreefry2x32)
    const hex = (w: [number, number]) => w.map((x) => "0x" + x.toString(16).padStart(8, "0"));
    expect(hex(threefry2x32([0, 0], [0, 0]))).toEqual(["0x6b200159", "0x99ba4efe"]);
    const m = 0xffffffff;
    expect(hex(threefry2x32([m, m], [m, m]))).toEqual(["0x1cb996fc", "0xbb002be7"]);
    expect(hex(threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3]))).toEqual(["0xc4923a9c", "0x483df7a0"]);
  });
});

describe("keys", () => {
  it("key(seed) holds JAX's words for the seed (default 32-bit mode)", () => {
    // tests/random_test.py, test_prng_seeds_and_keys (the values without jax_enable_x64)
    const cases: [number, [number, number]][] = [
      [0, [0, 0]], [1, [0, 1]], [2, [0, 2]], [3, [0, 3]],
      [-1, [0, 4294967295]], [-2, [0, 4294967294]], [-3, [0, 4294967293]],
      [2147483647 + 100, [0, 2147483747]], [2147483647 + 101, [0, 2147483748]],
      [-2147483648 - 100, [0, 2147483548]], [-2147483648 - 101, [0, 2147483547]],
    ];
    for (const [seed, words] of cases) expect(random.keyData(random.key(seed)), `seed ${seed}`).toEqual(words);
    const k = random.key(7);
    expect(k.dtype).toBe("float64");
    expect(k.shape).toEqual([2]);
  });

  it("foldIn gives JAX's key", () => {
    // tests/random_test.py, testPRNGValues: key_data(fold_in(key(0), 4)) (fold_in's bits do not
    // depend on jax_threefry_partitionable)
    expect(arr(draw(() => random.foldIn(random.key(0), 4)))).toEqual([2285895361, 433833334]);
  });

  it("split(key, n)[i] equals foldIn(key, i)", () => {
    // tests/random_test.py, test_threefry_split_fold_in_symmetry (partitionable Threefry)
    const key = random.key(72);
    const s = arr(draw(() => random.split(key, 3))) as number[][];
    for (let i = 0; i < 3; i++) expect(arr(draw(() => random.foldIn(key, i)))).toEqual(s[i]);
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 1, max: 6 }), (seed, n) => {
        const k = random.key(seed);
        const keys = arr(draw(() => random.split(k, n))) as number[][];
        keys.forEach((w, i) => expect(arr(draw(() => random.foldIn(k, i)))).toEqual(w));
      }),
      { numRuns: 20 },
    );
  });

  it("split's default is two keys; its keys are new keys", () => {
    const s = draw(() => random.split(random.key(0))) as Tensor;
    expect(s.shape).toEqual([2, 2]);
    expect(s.dtype).toBe("float64");
    expect(random.keyData(s)).toEqual((s.toArray() as number[][]).map((w) => w));
    expect(draw(() => random.split(random.key(0), 0)).shape).toEqual([0, 2]);
  });

  it("splitKeys gives split's rows as an array of keys, also under jit and vmap", () => {
    const key = random.key(12);
    const rows = arr(draw(() => random.split(key, 3))) as number[][];
    const unpack = function* (k: Value) {
      const [a, b, c] = yield* random.splitKeys(k, 3);
      return [a!, b!, c!];
    };
    expect((run(unpack, key) as Tensor[]).map(arr)).toEqual(rows);
    expect((run(jit(unpack), key) as Tensor[]).map(arr)).toEqual(rows);
    const keys = draw(() => random.split(random.key(1), 2)) as Tensor;
    const batched = run(vmap(unpack), keys) as Tensor[];
    const each = (keys.toArray() as number[][]).map((w) => arr(draw(() => random.split(tensor(w), 3))) as number[][]);
    batched.forEach((b, j) => expect(arr(b)).toEqual(each.map((e) => e[j])));
    expect(draw(() => random.splitKeys(key))).toHaveLength(2);
  });

  it("foldIn takes negative data as its 32-bit two's complement", () => {
    const k = random.key(5);
    expect(arr(draw(() => random.foldIn(k, -1)))).toEqual(arr(draw(() => random.foldIn(k, 2 ** 32 - 1))));
  });
});

describe("uniform", () => {
  it("float32 samples equal JAX's documented values", () => {
    // jax/random.py (module docstring): random.uniform(key(0)) → 0.947667; then
    // key, subkey = split(key); random.uniform(subkey) → 0.00729382
    const k = random.key(0);
    const u = draw(() => random.uniform(k, [], { dtype: "float32" })) as Tensor;
    expect(u.dtype).toBe("float32");
    expectPrinted(u.item(), "0.947667");
    const [, sub] = (arr(draw(() => random.split(k))) as number[][]).map((w) => tensor(w));
    expectPrinted((draw(() => random.uniform(sub!, [], { dtype: "float32" })) as Tensor).item(), "0.00729382");
    // docs/jep/9263-typed-keys.md: jax.random.uniform(key(0), shape=(3,))
    const three = arr(draw(() => random.uniform(k, [3], { dtype: "float32" }))) as number[];
    ["0.947667", "0.9785799", "0.33229148"].forEach((printed, i) => expectPrinted(three[i]!, printed));
  });

  it("with minval and maxval, equals JAX's docstring examples (printed to 2 decimals)", () => {
    // jax/_src/numpy/ufuncs.py, floor: jax.random.uniform(key(42), (3, 3), minval=-5, maxval=5)
    const a = draw(() => random.uniform(random.key(42), [3, 3], { dtype: "float32", minval: -5, maxval: 5 }));
    expect(round2(arr(a) as number[][])).toEqual([[-0.11, 1.8, 1.16], [0.61, -0.49, 0.86], [-4.25, 2.75, 1.99]]);
    // jax/_src/numpy/ufuncs.py, ceil: key(1), minval=-5, maxval=5
    const b = draw(() => random.uniform(random.key(1), [3, 3], { dtype: "float32", minval: -5, maxval: 5 }));
    expect(round2(arr(b) as number[][])).toEqual([[-0.61, 0.34, -0.54], [-0.62, 3.97, 0.59], [4.84, 3.42, -1.14]]);
    // jax/_src/numpy/lax_numpy.py, trunc: key(42), minval=-10, maxval=10
    const c = draw(() => random.uniform(random.key(42), [3, 3], { dtype: "float32", minval: -10, maxval: 10 }));
    expect(round2(arr(c) as number[][])).toEqual([[-0.23, 3.6, 2.33], [1.22, -0.99, 1.72], [-8.5, 5.5, 3.98]]);
  });

  it("lies in [minval, maxval) for both dtypes and is deterministic", () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom<"float32" | "float64">("float32", "float64"), fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 0.001, max: 10, noNaN: true }), (seed, dtype, lo, width) => {
        const k = random.key(seed);
        const u = draw(() => random.uniform(k, [50], { dtype, minval: lo, maxval: lo + width })) as Tensor;
        const a = dtype === "float32" ? Math.fround(lo) : lo;
        const b = dtype === "float32" ? Math.fround(lo + width) : lo + width;
        for (const v of u.buf) expect(v >= a && v <= b).toBe(true);
        expect(draw(() => random.uniform(k, [50], { dtype, minval: lo, maxval: lo + width })).buf).toEqual(u.buf);
      }),
      { numRuns: 30 },
    );
  });

  it("float64 samples use 52 random bits and have the uniform's mean and variance", () => {
    const u = draw(() => random.uniform(random.key(3), [20000])) as Tensor;
    const fracBits = Array.from(u.buf.subarray(0, 200)).some((v) => !Number.isInteger(v * 2 ** 30));
    expect(fracBits).toBe(true);
    const mean = Array.from(u.buf).reduce((s, v) => s + v, 0) / u.size;
    const variance = Array.from(u.buf).reduce((s, v) => s + (v - mean) ** 2, 0) / u.size;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01); // sd of the mean: 0.002
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.003);
  });
});

/** DCT-II along the last axis, unnormalized (scipy.fft.dct's default): y_k = 2 Σ x_n cos(πk(2n+1)/(2N)). */
const dct = (rows: number[][]): number[][] =>
  rows.map((x) => x.map((_, k) => 2 * x.reduce((s, v, n) => s + v * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * x.length)), 0)));

describe("normal", () => {
  it("float32 samples agree with JAX's documented values", () => {
    // jax/_src/scipy/fft.py, dct: x = jax.random.normal(jax.random.key(0), (3, 3)); dct(x) printed to 2 decimals
    const x = arr(draw(() => random.normal(random.key(0), [3, 3], { dtype: "float32" }))) as number[][];
    expect(round2(dct(x))).toEqual([[6.43, 3.56, -2.86], [-1.75, 1.55, -1.4], [1.33, -2.01, -0.82]]);
    // jax/_src/numpy/lax_numpy.py, cov: x = jax.random.normal(key(0), shape=(3, 100)); jnp.cov(x) to 2 decimals
    const y = arr(draw(() => random.normal(random.key(0), [3, 100], { dtype: "float32" }))) as number[][];
    const means = y.map((r) => r.reduce((s, v) => s + v, 0) / r.length);
    const cov = y.map((a, i) => y.map((b, j) => a.reduce((s, v, n) => s + (v - means[i]!) * (b[n]! - means[j]!), 0) / (a.length - 1)));
    expect(round2(cov)).toEqual([[0.9, 0.03, 0.1], [0.03, 1, 0.01], [0.1, 0.01, 0.85]]);
  });

  it("is √2·erfinv of JAX's uniform in (−1, 1): float64 samples have the normal's moments", () => {
    const z = draw(() => random.normal(random.key(11), [40000])) as Tensor;
    const n = z.size;
    const mean = Array.from(z.buf).reduce((s, v) => s + v, 0) / n;
    const m2 = Array.from(z.buf).reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    const m4 = Array.from(z.buf).reduce((s, v) => s + (v - mean) ** 4, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.02); // sd of the mean: 0.005
    expect(Math.abs(m2 - 1)).toBeLessThan(0.03);
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(0.15);
    // the fraction below 1 is Φ(1) = 0.8413
    expect(Math.abs(Array.from(z.buf).filter((v) => v < 1).length / n - 0.8413447460685429)).toBeLessThan(0.01);
  });
});

describe("bernoulli, categorical, permutation", () => {
  it("bernoulli is uniform(key, shape, p's dtype) < p", () => {
    const k = random.key(9);
    const p = tensor([0.1, 0.5, 0.9, 0.3], { dtype: "float32" });
    const b = draw(() => random.bernoulli(k, p, [3, 4])) as Tensor;
    const u = draw(() => random.uniform(k, [3, 4], { dtype: "float32" })) as Tensor;
    expect(b.dtype).toBe("float32");
    expect(Array.from(b.buf)).toEqual(Array.from(u.buf).map((v, i) => (v < p.buf[i % 4]! ? 1 : 0)));
    const many = draw(() => random.bernoulli(k, 0.3, [20000])) as Tensor;
    expect(Math.abs(Array.from(many.buf).reduce((s, v) => s + v, 0) / 20000 - 0.3)).toBeLessThan(0.015);
    expect(draw(() => random.bernoulli(k, p)).shape).toEqual([4]);
  });

  it("categorical follows softmax(logits) along the class axis", () => {
    const logits = tensor([Math.log(0.2), Math.log(0.5), Math.log(0.3)]);
    const s = draw(() => random.categorical(random.key(4), logits, { shape: [30000] })) as Tensor;
    const freq = [0, 1, 2].map((c) => Array.from(s.buf).filter((v) => v === c).length / s.size);
    [0.2, 0.5, 0.3].forEach((p, c) => expect(Math.abs(freq[c]! - p)).toBeLessThan(0.015));
    // a class axis other than the last; -Infinity logits are never drawn
    const l2 = tensor([[0, -Infinity], [-Infinity, 0], [-Infinity, -Infinity]]).buf;
    l2[5] = 0; // column 0: class 0 only; column 1: class 1 or 2
    const t2 = new Tensor(l2, [3, 2]);
    const s2 = arr(draw(() => random.categorical(random.key(1), t2, { axis: 0, shape: [5, 2] }))) as number[][];
    for (const [a, b] of s2) {
      expect(a).toBe(0);
      expect([1, 2]).toContain(b);
    }
  });

  it("categorical is the argmax of logits + Gumbel noise −log(−log(u)) drawn as JAX draws it", () => {
    const k = random.key(21);
    const logits = tensor([[0.3, -1, 2, 0.5], [1, 1, 1, 1]], { dtype: "float32" });
    const s = arr(draw(() => random.categorical(k, logits, { shape: [3, 2] }))) as number[][];
    const u = draw(() => random.uniform(k, [3, 2, 4], { dtype: "float32", minval: 2 ** -126 })) as Tensor;
    const f = Math.fround;
    for (let p = 0; p < 3; p++)
      for (let r = 0; r < 2; r++) {
        const scores = [0, 1, 2, 3].map((c) => f(-f(Math.log(-f(Math.log(u.buf[p * 8 + r * 4 + c]!)))) + logits.buf[r * 4 + c]!));
        expect(s[p]![r]).toBe(scores.indexOf(Math.max(...scores)));
      }
  });

  it("permutation is a permutation, reproducible, and uniform over positions", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 40 }), (seed, n) => {
        const p = draw(() => random.permutation(random.key(seed), n)) as Tensor;
        expect(Array.from(p.buf).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(draw(() => random.permutation(random.key(seed), n)).buf).toEqual(p.buf);
      }),
      { numRuns: 40 },
    );
    // where element 0 lands, over many keys: each of 5 places about 1/5 of the time
    const keys = draw(() => random.split(random.key(0), 5000)) as Tensor;
    const places = run(vmap(function* (k: Value) {
      return yield* random.permutation(k, 5);
    }), keys) as Tensor;
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 5000; i++) counts[Array.from(places.buf.subarray(i * 5, i * 5 + 5)).indexOf(0)]! += 1;
    for (const c of counts) expect(Math.abs(c / 5000 - 0.2)).toBeLessThan(0.03);
    // more than 1625 elements take two rounds of sorting: still a permutation
    const big = draw(() => random.permutation(random.key(2), 3000)) as Tensor;
    expect(new Set(big.buf).size).toBe(3000);
  });
});

describe("under transformations", () => {
  const sample = function* (k: Value) {
    const [a, b] = [yield* random.uniform(k, [2, 3]), yield* random.normal(k, [4], { dtype: "float32" })];
    const s = yield* random.split(k, 3);
    const f = yield* random.foldIn(k, 17);
    const c = yield* random.categorical(k, tensor([0.5, 1.5, -1]), { shape: [6] });
    const p = yield* random.permutation(k, 7);
    const bern = yield* random.bernoulli(k, 0.4, [5]);
    return [a, b, s, f, c, p, bern];
  };

  it("jit gives eager's values, and a new key per call reuses the compiled code", () => {
    const step = jit(sample);
    for (let seed = 0; seed < 5; seed++) {
      const k = random.key(seed);
      expect((run(step, k) as Tensor[]).map(arr)).toEqual((run(sample, k) as Tensor[]).map(arr));
    }
    expect(step.info.compiles).toBe(1);
    expect(step.info.hits).toBe(4);
  });

  it("a key carried through scan (split each step) gives eager's numbers, staged as one loop under jit", () => {
    const body = function* (key: Value, _x: Value) {
      const [next, sub] = yield* random.splitKeys(key);
      return [next!, yield* random.uniform(sub!, [2])] as [Value, Value];
    };
    const prog = function* (key: Value) {
      return yield* scan(body, key, tensor([0, 0, 0]));
    };
    const [k, ys] = run(prog, random.key(5)) as [Tensor, Tensor];
    const [kj, ysj] = run(jit(prog), random.key(5)) as [Tensor, Tensor];
    expect(arr(ysj)).toEqual(arr(ys));
    expect(arr(kj)).toEqual(arr(k));
    // by hand: three splits in a row
    let key = random.key(5);
    for (let t = 0; t < 3; t++) {
      const [next, sub] = draw(() => random.splitKeys(key));
      expect((ys.toArray() as number[][])[t]).toEqual(arr(draw(() => random.uniform(sub!, [2]))));
      key = next!;
    }
    expect(arr(k)).toEqual(arr(key));
  });

  it("vmap over a batch of keys equals one call per key", () => {
    const keys = draw(() => random.split(random.key(8), 4)) as Tensor;
    const batched = run(vmap(sample), keys) as Tensor[];
    const each = (keys.toArray() as number[][]).map((w) => run(sample, tensor(w)) as Tensor[]);
    batched.forEach((b, j) => expect(arr(b)).toEqual(each.map((e) => arr(e[j]))));
    // and under jit
    const jitted = run(jit(vmap(sample)), keys) as Tensor[];
    jitted.forEach((b, j) => expect(arr(b)).toEqual(arr(batched[j])));
  });

  it("vmap over foldIn's data equals split (JAX's test_threefry_split_vmapped_fold_in_symmetry)", () => {
    const key = random.key(72);
    const folded = run(vmap(function* (d: Value) {
      return yield* random.foldIn(key, d);
    }), arange(3));
    expect(arr(folded)).toEqual(arr(draw(() => random.split(key, 3))));
    // keys and data both mapped, and nested maps (keys outer, data inner)
    const keys = draw(() => random.split(random.key(1), 2)) as Tensor;
    const both = run(vmap(function* (k: Value, d: Value) {
      return yield* random.foldIn(k, d);
    }), keys, tensor([5, 6]));
    const kw = keys.toArray() as number[][];
    expect(arr(both)).toEqual([arr(draw(() => random.foldIn(tensor(kw[0]!), 5))), arr(draw(() => random.foldIn(tensor(kw[1]!), 6)))]);
    const nested = run(vmap(function* (k: Value) {
      return yield* vmap(function* (d: Value) {
        return yield* random.foldIn(k, d);
      })(arange(3));
    }), keys) as Tensor;
    expect(nested.shape).toEqual([2, 3, 2]);
    expect(arr(nested)).toEqual(kw.map((w) => arr(draw(() => random.split(tensor(w), 3)))));
  });

  it("vmap of categorical over logits equals one call per example", () => {
    const k = random.key(2);
    const logits = tensor([[0, 1, 2], [2, 1, 0], [5, -5, 0]]);
    const got = run(vmap(function* (l: Value) {
      return yield* random.categorical(k, l, { shape: [4] });
    }), logits);
    const want = (logits.toArray() as number[][]).map((l) => arr(draw(() => random.categorical(k, tensor(l), { shape: [4] }))));
    expect(arr(got)).toEqual(want);
    // keys and logits both mapped, under jit
    const keys = draw(() => random.split(k, 3)) as Tensor;
    const both = run(jit(vmap(function* (key: Value, l: Value) {
      return yield* random.categorical(key, l, { shape: [4] });
    })), keys, logits);
    const kw = keys.toArray() as number[][];
    expect(arr(both)).toEqual((logits.toArray() as number[][]).map((l, i) => arr(draw(() => random.categorical(tensor(kw[i]!), tensor(l), { shape: [4] })))));
  });

  it("every derivative is zero: samples are constants to grad and jvp", () => {
    const k = random.key(1);
    function* f(x: Value, key: Value) {
      return yield* sum(yield* mul(x, yield* random.uniform(key, [3])));
    }
    const u = draw(() => random.uniform(k, [3])) as Tensor;
    expect(arr(run(grad(f), tensor([1, 2, 3]), k))).toEqual(arr(u));
    expect(arr(run(grad(f, { argnums: 1 }), tensor([1, 2, 3]), k))).toEqual([0, 0]);
    const [out, tangent] = run(function* () {
      return yield* jvp(function* (key: Value) {
        return yield* random.normal(key, [2]);
      }, [k], [tensor([1, 1])]);
    }) as [Tensor, Value];
    expect(out.shape).toEqual([2]);
    expect(tangent instanceof Tensor ? Array.from(tangent.buf) : tangent).toEqual([0, 0]);
    expect(run(grad(grad(function* (x: Value) {
      return yield* sum(yield* mul(yield* mul(x, x), yield* random.normal(k, [2])));
    })), 1.5)).toBeCloseTo(2 * Array.from((draw(() => random.normal(k, [2])) as Tensor).buf).reduce((s, v) => s + v, 0), 12);
  });
});

describe("abstract evaluation", () => {
  const same = (a: Abstract) => ({ shape: [...a.shape], dtype: a.dtype, scalar: a.scalar });
  it("each primitive's rule gives its kernel's shape and dtype, for one key and a batch of keys", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), fc.constantFrom<"float32" | "float64">("float32", "float64"), (batch, shape, dtype) => {
        const n = batch.reduce((a, b) => a * b, 1);
        const keys = new Tensor(Float64Array.from({ length: 2 * n }, (_, i) => i * 7919), [...batch, 2]);
        const logits = new Tensor(new Float64Array(3 * shape.reduce((a, b) => a * b, 1)), [...shape, 3]);
        const cases: [{ impl: Function; abstractEval: Function }, Value[], unknown][] = [
          [splitP, [keys], { n: 3 }],
          [foldInP, [keys, 5], undefined],
          [uniformP, [keys], { shape, dtype, minval: 0, maxval: 1 }],
          [normalP, [keys], { shape, dtype }],
          [categoricalP, [keys, logits], { axis: shape.length, shape: [2, ...shape] }],
          [permutationP, [keys], { n: 4 }],
        ];
        for (const [p, args, params] of cases) {
          const out = p.impl(args, params) as Value;
          expect(same(p.abstractEval(args.map(abstractOf), params) as Abstract)).toEqual(same(abstractOf(out)));
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe("bad input", () => {
  const k = random.key(0);
  it("names the operation and the fix", () => {
    expect(() => random.uniform(tensor([0, 1], { dtype: "float32" }), [2])).toThrow(DTypeError);
    expect(() => random.uniform(tensor([0, 1], { dtype: "float32" }), [2])).toThrow(/random.uniform: a key is a float64 tensor/);
    expect(() => random.normal(tensor([0, 1, 2]), [2])).toThrow(ShapeError);
    expect(() => random.split(tensor([[0, 1], [2, 3]]))).toThrow(/map over them with vmap/);
    expect(() => random.uniform(3 as never, [2])).toThrow(/random.uniform: the key is number/);
    expect(() => draw(() => random.uniform(tensor([0.5, 1]), [2]))).toThrow(ValueError);
    expect(() => draw(() => random.uniform(tensor([0.5, 1]), [2]))).toThrow(/holds 0.5, which is not a 32-bit word/);
    expect(() => random.split(k, -1)).toThrow(/random.split: n must be a non-negative integer/);
    expect(() => random.foldIn(k, 1.5)).toThrow(ValueError);
    expect(() => random.foldIn(k, tensor([1, 2]))).toThrow(/data must be a scalar/);
    expect(() => random.uniform(k, [2], { minval: 1, maxval: 0 })).toThrow(/minval <= maxval/);
    expect(() => random.uniform(k, [2], { mival: 1 } as never)).toThrow(/mival/);
    expect(() => random.normal(k, [-1])).toThrow(ShapeError);
    expect(() => random.bernoulli(k, tensor([0.5, 0.5]), [3])).toThrow(/random.bernoulli: shapes \[3\] and \[2\] do not broadcast/);
    expect(() => random.bernoulli(k, tensor([[0.5], [0.5]]), [3])).toThrow(/random.bernoulli: p of shape \[2, 1\] must broadcast to shape \[3\]/);
    expect(() => random.categorical(k, tensor([1, 2]), { axis: 1 })).toThrow(/axis 1 is out of range/);
    expect(() => random.categorical(k, tensor([[1, 2], [3, 4]]), { shape: [3] })).toThrow(/must end with the logits' axes/);
    expect(() => random.categorical(k, 1)).toThrow(/logits must be a tensor/);
    expect(() => random.permutation(k, 2.5)).toThrow(/random.permutation: n must be a non-negative integer/);
    expect(() => random.key(1.5)).toThrow(/random.key: seed must be an integer/);
  });

  it("gives the same error under jit, where the rule (not the kernel) sees the key", () => {
    const bad = tensor([0, 1], { dtype: "float32" });
    const f = function* (key: Value) {
      return yield* random.uniform(key, [2]);
    };
    expect(() => run(f, bad)).toThrow(/a key is a float64 tensor/);
    expect(() => run(jit(f), bad)).toThrow(/a key is a float64 tensor/);
  });
});
