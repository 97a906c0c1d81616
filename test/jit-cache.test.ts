// jit's cache (issue #15, item 9): keys are structural and unambiguous (static values by type
// and escaped value), typed arrays are data (staged, keyed by type and length), and the cache
// keeps a bounded number of compiled programs, dropping the least recently used.
import { describe, expect, it } from "vitest";
import { add, grad, jit, mul, run, sum, take, tensor, Tensor, ValueError, type Value } from "../src/index.ts";
import { DEFAULT_JIT_CACHE_SIZE } from "../src/staging/jit.ts";
import type { Gen } from "../src/transforms/common.ts";

describe("jax test_jit_static_args: static arguments key by value, and never collide", () => {
  it("f('x,n') then f('x', 5): two signatures, each with its own result", () => {
    const f = jit(function* (s: string, n?: Value): Gen<Value> {
      return n === undefined ? s.length : yield* mul(n, 10);
    });
    expect(run(f, "x,n")).toBe(3);
    expect(run(f, "x", 5)).toBe(50);
    expect(run(f, "x,n")).toBe(3);
    expect(f.info).toMatchObject({ compiles: 2, hits: 1 });
  });

  it("strings that look like key syntax stay apart (commas, brackets, quotes, escapes)", () => {
    const f = jit(function* (...args: unknown[]): Gen<string> {
      return JSON.stringify(args);
    });
    const calls: unknown[][] = [
      ["a,b"],
      ["a", "b"],
      ["a,string:b"],
      ["x,boolean:true"],
      ["a]", "b"],
      [["a", "b"]],
      ["[s\"a\",s\"b\"]"],
      ['a"', "b"],
      ['a\\"', "b"],
      [{ "a,b": "c" }],
      [{ a: "b,c" }],
      [{ a: "b", c: "" }],
      ["n"],
      ["x", true],
      ["x,T"],
      ["x", "T"],
      ["s\"x\""],
    ];
    const want = calls.map((args) => JSON.stringify(args));
    calls.forEach((args, i) => expect(run(f, ...args)).toBe(want[i]));
    expect(f.info.compiles).toBe(calls.length);
    calls.forEach((args, i) => expect(run(f, ...args)).toBe(want[i]));
    expect(f.info).toMatchObject({ compiles: calls.length, hits: calls.length });
  });
});

describe("jax test_jit_static_argnums_requires_type_equality: values that print alike but differ in type do not hit", () => {
  it("true / 'true', null / 'null', undefined / 'undefined', 1n / '1', two symbols of one description", () => {
    const f = jit(function* (k: unknown): Gen<string> {
      return `${typeof k}:${String(k)}`;
    });
    const a = Symbol("s");
    const b = Symbol("s");
    const values: unknown[] = [true, "true", null, "null", undefined, "undefined", 1n, "1", a, b, "T", "Z", "U"];
    for (const v of values) expect(run(f, v)).toBe(`${typeof v}:${String(v)}`);
    expect(f.info.compiles).toBe(values.length);
    for (const v of values) run(f, v);
    expect(f.info.hits).toBe(values.length);
  });
});

describe("typed arrays as jit arguments are data", () => {
  function* total(xs: Value): Gen<Value> {
    return yield* sum(yield* mul(xs, xs));
  }

  it("2,000 fresh Int32Arrays of one length: one compile, and each call reads its own contents", () => {
    const f = jit(total);
    for (let i = 0; i < 2000; i++) {
      const xs = Int32Array.of(i, 1, -2);
      expect((run(f, xs as never) as Tensor).item()).toBe(i * i + 5);
    }
    expect(f.info).toMatchObject({ compiles: 1, hits: 1999, evictions: 0 });
    expect(f.info.sources()).toHaveLength(1);
  });

  it("the same array changed between calls gives the new result (nothing is kept from the last call)", () => {
    const f = jit(total);
    const xs = new Float64Array([1, 2]);
    expect((run(f, xs as never) as Tensor).item()).toBe(5);
    xs[0] = 3;
    expect((run(f, xs as never) as Tensor).item()).toBe(13);
    expect(f.info).toMatchObject({ compiles: 1, hits: 1 });
  });

  it("keys on type and length: another length or another array type compiles again", () => {
    const f = jit(total);
    const calls: [ArrayLike<number>, number, number][] = [
      [Int32Array.of(1, 2), 1, 0],
      [Int32Array.of(3, 4), 1, 1],
      [Int32Array.of(1, 2, 3), 2, 1],
      [Uint8Array.of(1, 2), 3, 1],
      [Float32Array.of(1, 2), 4, 1],
      [Float64Array.of(1, 2), 5, 1],
      [Uint8Array.of(5, 6), 5, 2],
    ];
    for (const [xs, compiles, hits] of calls) {
      expect((run(f, xs as never) as Tensor).item()).toBe(Array.from(xs).reduce((s, v) => s + v * v, 0));
      expect(f.info).toMatchObject({ compiles, hits });
    }
  });

  it("a Float32Array is a float32 tensor inside the program; other arrays are float64", () => {
    const dtypes: string[] = [];
    const f = jit(function* (xs: Value): Gen<Value> {
      dtypes.push((xs as Tensor).dtype);
      return yield* add(xs, 1);
    });
    const out32 = run(f, Float32Array.of(0.1, 2) as never) as Tensor;
    expect(out32.dtype).toBe("float32");
    expect(Array.from(out32.data)).toEqual(Array.from(Float32Array.of(1.1, 3)));
    expect((run(f, Int32Array.of(7) as never) as Tensor).toArray()).toEqual([8]);
    expect(dtypes).toEqual(["float32", "float64"]);
  });

  it("inside pytrees and under an enclosing grad (where the program runs inline on the array)", () => {
    const f = jit(function* (p: { w: Value; ids: Int32Array }): Gen<Value> {
      return yield* sum(yield* take(p.w, p.ids));
    });
    const w = tensor([1, 2, 3, 4, 5]);
    expect((run(f, { w, ids: Int32Array.of(3, 4) }) as Tensor).item()).toBe(9);
    expect((run(f, { w, ids: Int32Array.of(0, 0) }) as Tensor).item()).toBe(2);
    expect(f.info).toMatchObject({ compiles: 1, hits: 1 });
    const g = run(grad(function* (v: Value) { return yield* f({ w: v, ids: Int32Array.of(3, 4) }); }), w) as Tensor;
    expect(g.toArray()).toEqual([0, 0, 0, 1, 1]);
    expect(f.info.inlined).toBe(1);
  });

  it("BigInt arrays and DataViews cannot be data: a ValueError naming jit and the fix", () => {
    const f = jit(function* (x: unknown): Gen<number> {
      return x === undefined ? 0 : 1;
    });
    expect(() => run(f, BigInt64Array.of(1n))).toThrow(ValueError);
    expect(() => run(f, BigInt64Array.of(1n))).toThrow(/jit: a BigInt64Array argument cannot be data/);
    expect(() => run(f, new DataView(new ArrayBuffer(4)))).toThrow(/jit: a DataView argument/);
  });
});

describe("the cache is bounded: least recently used signatures are dropped", () => {
  function* twice(x: Value): Gen<Value> {
    return yield* mul(x, 2);
  }
  const ofLength = (n: number): Tensor => tensor(Array.from({ length: n }, (_, i) => i));

  it(`keeps ${DEFAULT_JIT_CACHE_SIZE} signatures by default`, () => {
    expect(DEFAULT_JIT_CACHE_SIZE).toBe(64);
    const f = jit(twice);
    for (let n = 1; n <= 100; n++) expect((run(f, ofLength(n)) as Tensor).toArray()).toEqual((ofLength(n).toArray() as number[]).map((v) => 2 * v));
    expect(f.info).toMatchObject({ compiles: 100, hits: 0, evictions: 36 });
    expect(f.info.sources()).toHaveLength(64);
    run(f, ofLength(100)); // among the newest: a hit
    run(f, ofLength(1)); // dropped long ago: compiles again
    expect(f.info).toMatchObject({ compiles: 101, hits: 1, evictions: 37 });
  });

  it("cacheSize sets the bound; a hit makes a signature the most recent", () => {
    const f = jit(twice, { cacheSize: 3 });
    for (const n of [1, 2, 3]) run(f, ofLength(n));
    run(f, ofLength(1)); // hit: 1 is now the most recent, 2 the least
    run(f, ofLength(4)); // drops 2
    expect(f.info).toMatchObject({ compiles: 4, hits: 1, evictions: 1 });
    run(f, ofLength(1));
    run(f, ofLength(3));
    expect(f.info).toMatchObject({ compiles: 4, hits: 3 });
    run(f, ofLength(2)); // was dropped: compiles again, dropping 4 (the least recently used now)
    expect(f.info).toMatchObject({ compiles: 5, hits: 3, evictions: 2 });
    expect(f.info.sources()).toHaveLength(3);
    // results stay right after evictions and recompiles
    expect((run(f, ofLength(4)) as Tensor).toArray()).toEqual([0, 2, 4, 6]);
  });

  it("cacheSize: Infinity keeps everything; a bad size is a ValueError", () => {
    const f = jit(twice, { cacheSize: Infinity });
    for (let n = 1; n <= 70; n++) run(f, ofLength(n));
    expect(f.info).toMatchObject({ compiles: 70, evictions: 0 });
    for (const bad of [0, -1, 1.5, NaN, -Infinity, "3"]) expect(() => jit(twice, { cacheSize: bad as never })).toThrow(ValueError);
  });
});
