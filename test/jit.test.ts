// jit: the per-signature cache, numbers and pytrees through compiled code, constant folding and
// dead-code elimination visible in the generated source, composition with the transformations
// (both ways), the IR printout, errors and recovery, and the safety of generated code.
import { describe, expect, it } from "vitest";
import {
  add,
  cos,
  EscapeError,
  exp,
  grad,
  jit,
  jvp,
  makeIR,
  matmul,
  mul,
  primal,
  run,
  ShapeError,
  sin,
  sum,
  tanh,
  tensor,
  Tensor,
  Traced,
  TransformError,
  valueAndGrad,
  vjp,
  vmap,
  type Effect,
  type Value,
} from "../src/index.ts";
import { expectSame } from "./expect-same.ts";

type Gen<R> = Generator<Effect, R, unknown>;

const t = (data: number[] | number[][], dtype: "float32" | "float64" = "float64"): Tensor => tensor(data, { dtype });


/** How many kernel calls the generated source makes. */
const kernelCalls = (source: string): number => source.split(".impl(").length - 1;

/** The source with generated identifiers renumbered in order of appearance (v7 -> _0, ...). */
const normalize = (source: string): string => {
  const names = new Map<string, string>();
  return source.replace(/\b[a-z]\d+\b/g, (id) => {
    if (!names.has(id)) names.set(id, `_${names.size}`);
    return names.get(id)!;
  });
};

function* f(x: Value, y: Value): Gen<Value> {
  return yield* add(yield* sin(yield* mul(x, y)), 1);
}

describe("the cache", () => {
  it("compiles once per signature and hits after", () => {
    const j = jit(f);
    expectSame(run(j, t([1, 2, 3]), 2), run(f, t([1, 2, 3]), 2));
    expect(j.info).toMatchObject({ compiles: 1, hits: 0, inlined: 0 });
    // same shapes and dtypes, other values: a hit, and the new values are used
    expectSame(run(j, t([4, 5, 6]), -1), run(f, t([4, 5, 6]), -1));
    expectSame(run(j, t([7, 8, 9]), 0.5), run(f, t([7, 8, 9]), 0.5));
    expect(j.info).toMatchObject({ compiles: 1, hits: 2, inlined: 0 });
    expect(j.info.sources()).toHaveLength(1);
  });

  it("recompiles for a new shape, dtype, number-vs-tensor or pytree structure", () => {
    const j = jit(function* (a: Value, b: Value) {
      return yield* f(a, b);
    });
    const calls: [[Value, Value], number, number][] = [
      [[t([1, 2, 3]), 2], 1, 0],
      [[t([1, 2]), 2], 2, 0], // new shape
      [[t([1, 2, 3], "float32"), 2], 3, 0], // new dtype
      [[t([1, 2, 3]), tensor(2)], 4, 0], // number -> 0-d tensor
      [[3, 2], 5, 0], // tensor -> number
      [[t([[1, 2, 3]]), 2], 6, 0], // [3] -> [1, 3]
      [[t([9, 9, 9]), 7], 6, 1], // the first signature again
      [[4, 5], 6, 2],
      [[t([1, 2, 3], "float32"), 1], 6, 3],
    ];
    for (const [args, compiles, hits] of calls) {
      expectSame(run(j, ...args), run(f, ...args));
      expect(j.info.compiles).toBe(compiles);
      expect(j.info.hits).toBe(hits);
    }
    expect(j.info.sources()).toHaveLength(6);
  });

  it("keys on the pytree structure: arrays vs objects, keys, lengths, nesting", () => {
    function* g(p: unknown): Gen<Value> {
      const leaves: Value[] = [];
      const collect = (x: unknown): void => {
        if (typeof x === "number" || x instanceof Tensor || x instanceof Traced) leaves.push(x as Value);
        else if (Array.isArray(x)) x.forEach(collect);
        else for (const k of Object.keys(x as object)) collect((x as Record<string, unknown>)[k]);
      };
      collect(p);
      let acc: Value = 0;
      for (const [i, l] of leaves.entries()) acc = yield* add(acc, yield* mul(yield* sum(l), i + 1));
      return acc;
    }
    const j = jit(g);
    const trees: [unknown, number, number][] = [
      [[1, 2], 1, 0],
      [{ a: 1, b: 2 }, 2, 0], // same leaves, an object
      [{ b: 1, a: 2 }, 3, 0], // other key order
      [{ a: 1, c: 2 }, 4, 0], // other key
      [[1, 2, 3], 5, 0], // longer
      [[[1], 2], 6, 0], // nested
      [[5, 6], 6, 1],
      [{ a: 7, b: 8 }, 6, 2],
      [[[3], 4], 6, 3],
    ];
    for (const [tree, compiles, hits] of trees) {
      expectSame(run(j, tree), run(g, tree));
      expect(j.info).toMatchObject({ compiles, hits });
    }
  });

  it("keys on non-array arguments by value (strings, booleans) and the result follows them", () => {
    const j = jit(function* (x: Value, mode: string, flip: boolean) {
      const y = mode === "sin" ? yield* sin(x) : yield* cos(x);
      return flip ? yield* mul(y, -1) : y;
    });
    expect(run(j, 1, "sin", false)).toBe(Math.sin(1));
    expect(run(j, 1, "cos", false)).toBe(Math.cos(1));
    expect(run(j, 2, "sin", true)).toBe(-Math.sin(2));
    expect(run(j, 3, "sin", false)).toBe(Math.sin(3));
    expect(j.info).toMatchObject({ compiles: 3, hits: 1 });
  });

  it("each jitted function has its own cache", () => {
    const a = jit(f);
    const b = jit(f);
    run(a, 1, 2);
    run(a, 1, 2);
    run(b, 1, 2);
    expect(a.info).toMatchObject({ compiles: 1, hits: 1 });
    expect(b.info).toMatchObject({ compiles: 1, hits: 0 });
  });
});

describe("values through compiled code", () => {
  it("numbers in give numbers out, 0-d tensors give 0-d tensors", () => {
    const j = jit(f);
    const n = run(j, 0.5, 3);
    expect(typeof n).toBe("number");
    expect(n).toBe(Math.sin(1.5) + 1);
    const z = run(j, tensor(0.5), 3) as Tensor;
    expect(z).toBeInstanceOf(Tensor);
    expect(z.shape).toEqual([]);
    expect(z.buf[0]).toBe(Math.sin(1.5) + 1);
    const g = run(jit(grad(f)), 0.5, 3);
    expect(typeof g).toBe("number");
    expect(g).toBe(3 * Math.cos(1.5));
  });

  it("numbers stay inline JS arithmetic (no kernel calls) in the source", () => {
    const j = jit(f);
    run(j, 0.5, 3);
    const [src] = j.info.sources();
    expect(kernelCalls(src!)).toBe(0);
    expect(src).toContain("Math.sin");
  });

  it("pytree arguments and outputs (objects, arrays, nesting, non-leaf constants)", () => {
    function* model(p: { w: Value; b: Value; extra: [Value, { s: Value }] }, x: Value, tag: string) {
      const h = yield* tanh(yield* add(yield* matmul(x, p.w), p.b));
      const s = yield* mul(yield* sum(h), p.extra[1].s);
      return { tag, h, pair: [s, p.extra[0]], nested: { deep: [yield* exp(s)] }, none: null };
    }
    const p = { w: t([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]), b: t([0.01, -0.02]), extra: [t([1, 2]), { s: 0.7 }] as [Value, { s: Value }] };
    const x = t([[1, 2, 3], [-1, 0, 1]]);
    const j = jit(model);
    const got = run(j, p, x, "label") as Record<string, unknown>;
    const want = run(model, p, x, "label") as Record<string, unknown>;
    expect(got.tag).toBe("label");
    expect(got.none).toBeNull();
    const { tag: _a, none: _b, ...gotLeaves } = got;
    const { tag: _c, none: _d, ...wantLeaves } = want;
    expectSame(gotLeaves, wantLeaves);
    // a second call with other values hits the cache and gives the new result
    const p2 = { ...p, b: t([1, 1]) };
    expectSame(
      (({ tag: _, none: __, ...r }) => r)(run(j, p2, x, "label") as Record<string, unknown>),
      (({ tag: _, none: __, ...r }) => r)(run(model, p2, x, "label") as Record<string, unknown>),
    );
    expect(j.info).toMatchObject({ compiles: 1, hits: 1 });
  });

  it("an identity program and a program returning an argument unchanged", () => {
    const id = jit(function* (a: Value, b: Value) {
      return [b, a];
    });
    const a = t([1, 2]);
    const [b2, a2] = run(id, a, 3) as [Value, Value];
    expect(b2).toBe(3);
    expectSame(a2, a);
  });
});

describe("constant folding and dead code", () => {
  const A = t([[1, 2], [3, 4]]);
  const B = t([[0.5, -1], [2, 0.25]]);

  it("a program on constants only compiles to no kernel calls and no equations", () => {
    function* consts(_x: Value): Gen<Value> {
      const m = yield* matmul(A, B);
      return yield* exp(yield* mul(yield* sum(m), 0.1));
    }
    const j = jit(consts);
    expectSame(run(j, t([1, 2, 3])), run(consts, t([1, 2, 3])));
    const [src] = j.info.sources();
    expect(kernelCalls(src!)).toBe(0);
    expect(src).not.toContain("Math.");
    const ir = makeIR(consts)(t([1, 2, 3]));
    expect(ir.block.eqns).toHaveLength(0);
    expect(ir.toString()).not.toContain("matmul");
  });

  it("constant subexpressions of a program on inputs are folded", () => {
    function* partly(x: Value): Gen<Value> {
      const m = yield* exp(yield* matmul(A, B)); // constants only
      return yield* add(yield* matmul(x, m), 1);
    }
    const j = jit(partly);
    const x = t([[1, -1], [2, 0.5]]);
    expectSame(run(j, x), run(partly, x));
    const ir = makeIR(partly)(x);
    expect(ir.block.eqns.map((e) => (e.kind === "prim" ? e.prim.name : e.kind))).toEqual(["matmul", "add"]);
    // the same code as with the folded constant written in by hand
    const M = run(function* () {
      return yield* exp(yield* matmul(A, B));
    }) as Tensor;
    const byHand = makeIR(function* (x: Value) {
      return yield* add(yield* matmul(x, M), 1);
    })(x);
    expect(normalize(j.info.sources()[0]!)).toBe(normalize(byHand.source));
  });

  it("an unused expensive operation does not appear in the source", () => {
    function* wasteful(x: Value): Gen<Value> {
      yield* matmul(x, x); // unused
      const unusedScalar = yield* exp(yield* sum(x)); // unused
      void unusedScalar;
      return yield* sin(x);
    }
    const x = t([[1, 2], [3, 4]]);
    const j = jit(wasteful);
    expectSame(run(j, x), run(wasteful, x));
    const ir = makeIR(wasteful)(x);
    // recorded in the IR …
    expect(ir.toString()).toContain("matmul");
    // … but only sin is emitted: the same code as the program without the dead operations
    const [src] = j.info.sources();
    const clean = makeIR(function* (y: Value) {
      return yield* sin(y);
    })(x);
    expect(normalize(src!)).toBe(normalize(clean.source));
    expect(normalize(ir.source)).toBe(normalize(clean.source));
    const matmulVar = ir.block.eqns.find((e) => e.kind === "prim" && e.prim.name === "matmul")!;
    expect(src).not.toContain(`const v${(matmulVar as { out: { id: number } }).out.id} `);
  });

  it("unused scalar arithmetic is not emitted", () => {
    const j = jit(function* (x: Value) {
      yield* exp(yield* tanh(x));
      return yield* sin(x);
    });
    expect(run(j, 0.3)).toBe(Math.sin(0.3));
    const [src] = j.info.sources();
    expect(src).not.toContain("Math.exp");
    expect(src).not.toContain("Math.tanh");
    expect(src).toContain("Math.sin");
  });
});

describe("jit with the transformations", () => {
  function* loss(w: Value, x: Value): Gen<Value> {
    const h = yield* tanh(yield* matmul(x, w));
    return yield* sum(yield* mul(h, h));
  }
  const w = t([[0.3, -0.1], [0.2, 0.5], [-0.4, 0.1]]);
  const x = t([[1, 2, 3], [0.5, -1, 2]]);

  it("jit(grad(f)), jit(valueAndGrad(f)) with argnums", () => {
    expectSame(run(jit(grad(loss)), w, x), run(grad(loss), w, x));
    const both = grad(loss, { argnums: [0, 1] });
    expectSame(run(jit(both), w, x), run(both, w, x));
    const vg = valueAndGrad(loss);
    const j = jit(vg);
    expectSame(run(j, w, x), run(vg, w, x));
    expectSame(run(j, w, x), run(vg, w, x));
    expect(j.info).toMatchObject({ compiles: 1, hits: 1 });
  });

  it("jit of a jvp program and of a vjp program", () => {
    const v = t([[1, 0], [0, 1], [1, 1]]);
    function* tangent(w0: Value, v0: Value) {
      return yield* jvp((ww: Value) => loss(ww, x), [w0], [v0]);
    }
    expectSame(run(jit(tangent), w, v), run(tangent, w, v));
    function* pullback(w0: Value, ct: Value) {
      const [out, pb] = yield* vjp(loss, w0, x);
      return [out, yield* pb(ct)];
    }
    expectSame(run(jit(pullback), w, 2), run(pullback, w, 2));
  });

  it("jit(vmap(f)) and vmap(jit(f)) (the latter inline)", () => {
    const perExample = function* (row: Value) {
      return yield* sum(yield* tanh(yield* matmul(row, w)));
    };
    expectSame(run(jit(vmap(perExample)), x), run(vmap(perExample), x));
    const j = jit(perExample);
    expectSame(run(vmap(j), x), run(vmap(perExample), x));
    expect(j.info).toMatchObject({ compiles: 0, inlined: 1 });
    const gv = jit(grad(function* (ww: Value) {
      return yield* sum(yield* vmap((row: Value) => loss(ww, row))(x));
    }));
    expectSame(
      run(gv, w),
      run(grad(function* (ww: Value) {
        return yield* sum(yield* vmap((row: Value) => loss(ww, row))(x));
      }), w),
    );
  });

  it("grad(jit(f)) and jvp of a jitted program run inline and count it", () => {
    const j = jit(loss);
    expectSame(run(grad(j), w, x), run(grad(loss), w, x));
    expect(j.info).toMatchObject({ compiles: 0, hits: 0, inlined: 1 });
    expectSame(run(grad(grad((a: Value) => jit(f)(a, 2))), 0.7), run(grad(grad((a: Value) => f(a, 2))), 0.7));
    const [y, dy] = run(function* () {
      return yield* jvp(j, [w, x], [w, x]);
    }) as [Value, Value];
    const [ye, dye] = run(function* () {
      return yield* jvp(loss, [w, x], [w, x]);
    }) as [Value, Value];
    expectSame([y, dy], [ye, dye]);
    expect(j.info.inlined).toBe(2);
    // a plain call still compiles
    expectSame(run(j, w, x), run(loss, w, x));
    expect(j.info).toMatchObject({ compiles: 1, inlined: 2 });
  });

  it("a jit inside a jit is staged into the outer program", () => {
    const inner = jit(function* (a: Value) {
      return yield* exp(a);
    });
    const outer = jit(function* (a: Value) {
      return yield* mul(yield* inner(a), 2);
    });
    expect(run(outer, 1)).toBe(2 * Math.exp(1));
    expect(inner.info).toMatchObject({ compiles: 0, inlined: 1 });
    expect(outer.info.compiles).toBe(1);
    expect(outer.info.sources()[0]).toContain("Math.exp");
  });

  it("jit(hessian-like grad(grad)) of a number program", () => {
    const g2 = grad(grad((a: Value) => f(a, 3)));
    const j = jit(g2);
    expect(run(j, 0.4)).toBeCloseTo(-9 * Math.sin(1.2), 12);
    expect(typeof run(j, 0.4)).toBe("number");
  });
});

describe("makeIR", () => {
  it("prints op names, shapes and dtypes readably", () => {
    function* p(a: Value, b: Value, s: Value) {
      return yield* mul(yield* sum(yield* matmul(a, b), 1), s);
    }
    const ir = makeIR(p)(t([[1, 2, 3], [4, 5, 6]]), t([[1, 2], [3, 4], [5, 6]], "float32"), 2);
    const text = ir.toString();
    expect(String(ir)).toBe(text);
    expect(text).toContain("in (v0: f64[2,3], v1: f32[3,2], v2: f64[]#)");
    expect(text).toMatch(/v\d+: f64\[2,2\] = matmul\(v0, v1\)/);
    expect(text).toMatch(/v\d+: f64\[2\] = sum\(v\d+\) .*"axes":\[1\]/);
    expect(text).toMatch(/v\d+: f64\[2\] = mul\(v\d+, v2\)/);
    expect(text).toMatch(/^out \(v\d+\)$/m);
    expect(ir.block.inputs).toHaveLength(3);
    expect(ir.source).toContain("return function compiled");
  });
});

describe("errors", () => {
  it("primal inside jit throws a TransformError pointing to cond, whileLoop and scan", () => {
    const j = jit(function* (x: Value) {
      const p = primal(x) as number;
      return p > 0 ? yield* sin(x) : yield* cos(x);
    });
    let err: unknown;
    try {
      run(j, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransformError);
    expect((err as TransformError)._tag).toBe("TransformError");
    expect((err as Error).message).toMatch(/jit/);
    for (const w of ["cond", "whileLoop", "scan"]) expect((err as Error).message).toContain(w);
    expect(j.info.compiles).toBe(0);
  });

  it("JS arithmetic on a staged value throws an EscapeError", () => {
    const j = jit(function* (x: Value) {
      return (x as unknown as number) * 2;
    });
    expect(() => run(j, 1)).toThrow(EscapeError);
  });

  it("a closure capturing an outer transformation's traced value runs the program as itself", () => {
    function* outer(a: Value) {
      const inner = jit(function* (y: Value) {
        return yield* mul(a, y); // a: captured, traced by grad
      });
      const r = yield* inner(3);
      expect(inner.info.inlined).toBe(1);
      expect(inner.info.compiles).toBe(0);
      return r;
    }
    expect(run(grad(outer), 2)).toBe(3);
    expect(run(grad(grad(outer)), 2)).toBe(0);
    // passed as an argument instead, it works the same (inline)
    const inner = jit(function* (a: Value, y: Value) {
      return yield* mul(a, y);
    });
    expect(run(grad((a: Value) => inner(a, 3)), 2)).toBe(3);
  });

  it("after an error inside a jitted program, the next call (and everything else) works", () => {
    const j = jit(function* (a: Value, b: Value) {
      return yield* matmul(a, b);
    });
    expect(() => run(j, t([[1, 2]]), t([[1, 2]]))).toThrow(ShapeError);
    expect(j.info.compiles).toBe(0);
    expectSame(run(j, t([[1, 2]]), t([[3], [4]])), t([[11]]));
    expect(j.info.compiles).toBe(1);
    // a user error thrown while staging
    let fail = true;
    const k = jit(function* (x: Value) {
      const y = yield* sin(x);
      if (fail) throw new Error("user error while staging");
      return y;
    });
    expect(() => run(k, 1)).toThrow("user error while staging");
    fail = false;
    expect(run(k, 1)).toBe(Math.sin(1));
    expect(k.info).toMatchObject({ compiles: 1, hits: 0 });
    // the handler stack is clean: eager, grad and other jits behave
    expect(run(f, 1, 2)).toBe(Math.sin(2) + 1);
    expect(run(grad(f), 1, 2)).toBe(2 * Math.cos(2));
    expect(run(jit(grad(f)), 1, 2)).toBe(2 * Math.cos(2));
    // and an error caught inside the program itself
    const caught = jit(function* (a: Value) {
      try {
        yield* matmul(a, a);
      } catch {
        // shape error: fall back
      }
      return yield* exp(a);
    });
    expectSame(run(caught, t([1, 2, 3])), t([Math.exp(1), Math.exp(2), Math.exp(3)]));
  });
});

describe("safety of generated code", () => {
  const hostile = [
    `quote"key`,
    `single'key`,
    "back`tick`key",
    "end*/comment",
    "open/*comment",
    "${(globalThis.pwned = 1)}",
    "new\nline\r\u2028\u2029key",
    "__proto__",
    "constructor",
    '"); globalThis.pwned = 1; ("',
    "'); globalThis.pwned = 1; ('",
    "`); globalThis.pwned = 1; (`",
    "}; globalThis.pwned = 1; {",
    "\\\"escaped\\",
  ];
  const plainObject = <T = Value>(entries: [string, T][]): Record<string, T> => {
    const o: Record<string, T> = {};
    for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  };

  it("hostile pytree keys pass through jit as argument and output keys; nothing runs, nothing reaches the source", () => {
    const g = globalThis as { pwned?: unknown };
    delete g.pwned;
    const arg = plainObject(hostile.map((k, i) => [k, i % 2 === 0 ? i + 0.5 : t([i, -i])]));
    function* double(tree: Record<string, Value>, tag: string) {
      const entries: [string, unknown][] = [];
      for (const k of Object.keys(tree)) entries.push([k, plainObject([[k, yield* mul(tree[k]!, 2)]])]);
      entries.push([tag, plainObject([[tag, yield* sum(yield* mul(tree[hostile[1]!]!, tree[hostile[3]!]!))]])]);
      return plainObject(entries);
    }
    const j = jit(double);
    const tag = "`${(globalThis.pwned = 2)}`*/\"); globalThis.pwned = 3; //";
    for (let call = 0; call < 2; call++) {
      const out = run(j, arg, tag) as Record<string, Record<string, Value>>;
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.keys(out)).toEqual([...hostile, tag]);
      expectSame(out[tag]![tag], tensor(6)); // Σ [1, -1]·[3, -3]
      hostile.forEach((k, i) => {
        expect(Object.keys(out[k]!)).toEqual([k]);
        const v = out[k]![k]!;
        if (i % 2 === 0) expect(v).toBe(2 * (i + 0.5));
        else expectSame(v, t([2 * i, -2 * i]));
      });
    }
    expect(j.info).toMatchObject({ compiles: 1, hits: 1 });
    // jit(grad) of a program over the hostile tree: the gradient has the same hostile keys
    const gj = jit(grad(function* (tree: Record<string, Value>) {
      let acc: Value = 0;
      for (const k of Object.keys(tree)) acc = yield* add(acc, yield* sum(yield* mul(tree[k]!, tree[k]!)));
      return acc;
    }));
    // (tensor leaves only: a number leaf's gradient under jit is a known 0-d-tensor bug, see jit-grads.test.ts)
    const tensorArg = plainObject(hostile.map((k, i) => [k, t([i, -i, 0.5])]));
    const gr = run(gj, tensorArg) as Record<string, Value>;
    expect(Object.keys(gr)).toEqual(hostile);
    hostile.forEach((k, i) => expectSame(gr[k], t([2 * i, -2 * i, 1])));
    // nothing ran, and no key (or the string argument) is in any generated source
    expect(g.pwned).toBeUndefined();
    const sources = [...j.info.sources(), ...gj.info.sources()];
    expect(sources).toHaveLength(2);
    for (const src of sources) for (const k of [...hostile, tag]) expect(src.includes(k), `source contains ${JSON.stringify(k)}`).toBe(false);
    // the hostile keys did not reach Object.prototype either
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "pwned")).toBe(false);
  });

  it("a hostile string argument is a cache key only, never code", () => {
    const g = globalThis as { pwned?: unknown };
    delete g.pwned;
    const j = jit(function* (x: Value, label: string) {
      return { [label]: yield* mul(x, label.length) };
    });
    for (const k of hostile) {
      const out = run(j, 2, k) as Record<string, number>;
      expect(out[k]).toBe(2 * k.length);
    }
    expect(g.pwned).toBeUndefined();
    expect(j.info.compiles).toBe(hostile.length);
    for (const src of j.info.sources()) for (const k of hostile) expect(src.includes(k)).toBe(false);
  });
});
