// fixpoint (staged recursion, Lantern's FUN) and dynamicIndex: eager vs jit vs finite
// differences on random binary trees; jit(valueAndGrad) through the recursion (a real recursive
// function with pullback closures); one compilation for every tree of a padded size; errors.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  IndexError,
  ShapeError,
  TransformError,
  add,
  cond,
  dynamicIndex,
  fixpoint,
  grad,
  jit,
  jvp,
  less,
  makeIR,
  matmul,
  mul,
  reshape,
  run,
  sigmoid,
  sum,
  tanh,
  tensor,
  valueAndGrad,
  vmap,
  type Effect,
  Tensor,
  zeros,
  type DType,
  type Value,
} from "../src/index.ts";
import { checkGrads, numericGrad, randomTensor } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";
import { expectClose } from "./fd.ts";

type Gen<R> = Generator<Effect, R, unknown>;

/** A binary tree as index tables, nodes in post-order (the root last), padded to `size`. */
interface Tree {
  lch: Tensor;
  rch: Tensor;
  word: Tensor;
  root: number;
}

/** A random binary tree with `leaves` leaves, from a seed; tables padded with -1 to `size`. */
function randomTree(leaves: number, seed: number, size = 2 * leaves - 1): Tree {
  let s = seed >>> 0;
  const rand = (n: number): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s % n;
  };
  const lch: number[] = [];
  const rch: number[] = [];
  const word: number[] = [];
  // Post-order construction: merge two random adjacent subtrees until one remains.
  let forest = Array.from({ length: leaves }, (_, k) => {
    lch.push(-1);
    rch.push(-1);
    word.push(k % 7);
    return lch.length - 1;
  });
  while (forest.length > 1) {
    const i = rand(forest.length - 1);
    lch.push(forest[i]!);
    rch.push(forest[i + 1]!);
    word.push(-1);
    forest = [...forest.slice(0, i), lch.length - 1, ...forest.slice(i + 2)];
  }
  const pad = (a: number[]) => tensor([...a, ...Array<number>(size - a.length).fill(-1)]);
  return { lch: pad(lch), rch: pad(rch), word: pad(word), root: lch.length - 1 };
}

const H = 4;
const E = 3;
interface Params {
  emb: Value; // [7, E] word vectors (differentiated too)
  Wx: Value; // [E, H]
  U: Value; // [2H, H]
  b: Value; // [H]
}
const params = (seed: number): Params => ({
  emb: randomTensor([7, E], seed),
  Wx: randomTensor([E, H], seed + 1),
  U: randomTensor([2 * H, H], seed + 2),
  b: randomTensor([H], seed + 3),
});

/** A small tree RNN: a leaf's state is tanh(emb[word] Wx); a node's is tanh([hl, hr] U + b). */
const makeEncode = (dtype: DType) => {
  const encode = fixpoint(function* (p: Params, t: Tree, i: Value): Gen<Value> {
  return yield* cond(
    yield* less(yield* dynamicIndex(t.lch, i), 0),
    function* (p: Params, i: Value) {
      const x = yield* reshape(yield* dynamicIndex(p.emb, yield* dynamicIndex(t.word, i)), [1, E]);
      return yield* reshape(yield* tanh(yield* matmul(x, p.Wx)), [H]);
    },
    function* (p: Params, i: Value) {
      const hl = yield* encode(p, t, yield* dynamicIndex(t.lch, i));
      const hr = yield* encode(p, t, yield* dynamicIndex(t.rch, i));
      const hl2 = yield* reshape(hl, [1, H]);
      const hr2 = yield* reshape(hr, [1, H]);
      const z = yield* add(yield* add(yield* matmul(hl2, yield* sliceRows(p.U, 0)), yield* matmul(hr2, yield* sliceRows(p.U, H))), p.b);
      return yield* reshape(yield* tanh(z), [H]);
    },
    p,
    i,
  );
}, zeros([H], dtype));
  return encode;
};
const encode = makeEncode("float64");
const encode32 = makeEncode("float32");

const cast32 = (v: Value): Tensor => new Tensor(Float32Array.from((v as Tensor).buf), (v as Tensor).shape);

/** Rows [from, from + H) of U, as a matmul with a fixed selector (keeps the test to core ops). */
function* sliceRows(U: Value, from: number): Gen<Value> {
  const sel = tensor(Array.from({ length: H }, (_, r) => Array.from({ length: 2 * H }, (_, c) => (c === from + r ? 1 : 0))), { dtype: (U as Tensor).dtype });
  return yield* matmul(sel, U);
}

function* loss(p: Params, t: Tree): Gen<Value> {
  const h = yield* ((p.U as Tensor).dtype === "float32" ? encode32 : encode)(p, t, t.root);
  return yield* sum(yield* mul(yield* sigmoid(h), h));
}

describe("dynamicIndex", () => {
  it("reads row i of a value whose index is a value, first and second order gradients", () => {
    for (const i of [0, 2]) {
      checkGrads(function* (x: Value) {
        return yield* dynamicIndex(x, i);
      }, [randomTensor([3, 2], 1)], { order: 2, name: `dynamicIndex row ${i}` });
      checkGrads(function* (x: Value) {
        return yield* mul(yield* dynamicIndex(x, tensor([i])), yield* dynamicIndex(x, i));
      }, [randomTensor([3], 2)], { order: 2, name: `dynamicIndex of a vector, index ${i}` });
    }
    expect(run(function* () {
      return yield* dynamicIndex(tensor([5, 6, 7]), 1);
    })).toBe(6);
  });

  it("under jit the index is a run-time value: one compilation serves every index", () => {
    const f = jit(function* (x: Value, i: Value) {
      return yield* dynamicIndex(x, i);
    });
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    for (const i of [0, 1, 2]) expectSame(run(f, x, i), run(function* () {
      return yield* dynamicIndex(x, i);
    }));
    expect(f.info.compiles).toBe(1);
  });

  it("says which index is out of range, and for which shape", () => {
    const x = tensor([1, 2, 3]);
    for (const i of [3, -1, 0.5])
      expect(() => run(function* () {
        return yield* dynamicIndex(x, i);
      })).toThrow(IndexError);
    expect(() => run(function* () {
      return yield* dynamicIndex(x, 7);
    })).toThrow(/index 7 is out of range for axis 0 of shape \[3\]/);
    expect(() => run(function* () {
      return yield* dynamicIndex(x, tensor([0, 1]));
    })).toThrow(ShapeError);
    expect(() => run(function* () {
      return yield* dynamicIndex(3, 0);
    })).toThrow(/0-d/);
  });
});

describe("fixpoint", () => {
  const treeArb = fc.record({ leaves: fc.integer({ min: 1, max: 9 }), seed: fc.nat(), pseed: fc.integer({ min: 1, max: 1000 }) });

  it("eager recursion differentiates: grad = finite differences on random trees", () => {
    fc.assert(
      fc.property(treeArb, ({ leaves, seed, pseed }) => {
        const t = randomTree(leaves, seed);
        const p = params(pseed);
        const g = run(grad(loss), p, t) as Params;
        const fd = numericGrad(function* (emb: Value, Wx: Value, U: Value, b: Value) {
          return yield* loss({ emb, Wx, U, b }, t);
        }, [p.emb, p.Wx, p.U, p.b], { argnums: [0, 1, 2, 3] }) as Value[];
        expectClose([g.emb, g.Wx, g.U, g.b], fd, { rtol: 1e-6, atol: 1e-8 });
      }),
      { numRuns: 15 },
    );
  });

  it("jit stages one recursive function: equals eager on every tree, compiled once per padded size", () => {
    const j = jit(loss);
    const jvg = jit(valueAndGrad(loss));
    fc.assert(
      fc.property(treeArb, ({ leaves, seed, pseed }) => {
        const t = randomTree(leaves, seed, 17); // 9 leaves at most: 17 nodes
        const p = params(pseed);
        expectSame(run(j, p, t), run(loss, p, t));
        expectSame(run(jvg, p, t), run(valueAndGrad(loss), p, t));
      }),
      { numRuns: 25 },
    );
    expect(j.info.compiles).toBe(1);
    expect(jvg.info.compiles).toBe(1);
    const src = jvg.info.sources()[0]!;
    expect(src).toMatch(/const f\d+ = function/); // the recursive function
    expect(src).toMatch(/\] = f\d+\(/); // its recursive calls
    expect(src).toContain("K.truthy"); // the branch, taken at run time
  });

  it("float32 weights: jit(valueAndGrad) through the recursion = eager within float32 rounding", () => {
    const f32 = (p: Params): Params => ({
      emb: cast32(p.emb),
      Wx: cast32(p.Wx),
      U: cast32(p.U),
      b: cast32(p.b),
    });
    const jvg = jit(valueAndGrad(loss));
    for (const [leaves, seed] of [[1, 3], [5, 8], [9, 2]] as const) {
      const t = randomTree(leaves, seed, 17);
      const p = f32(params(seed + 10));
      expectSame(run(jvg, p, t), run(valueAndGrad(loss), p, t), 1e-5);
    }
  });

  it("makeIR shows the function, its calls and the pullback closures", () => {
    const ir = String(makeIR(valueAndGrad(loss))(params(1), randomTree(3, 1)));
    expect(ir).toMatch(/= fix f\d+/);
    expect(ir).toMatch(/= call f\d+/);
    expect(ir).toContain("lambda");
    expect(ir).toMatch(/= apply v\d+/);
    // the weights pass unchanged to every call: their cotangents go into accumulators
    expect(ir).toMatch(/accumulate v\d+ \+=/);
    expect(ir).toMatch(/= read v\d+/);
  });

  it("an argument that changes from call to call gets its cotangent through the closures", () => {
    // f(n, x) = n < 1 ? x : tanh(f(n - 1, 0.9 x) + x): x is rescaled at each level
    const f = fixpoint(function* (n: Value, x: Value): Gen<Value> {
      return yield* cond(
        yield* less(n, 1),
        function* (_n: Value, x: Value) {
          return x;
        },
        function* (n: Value, x: Value) {
          return yield* tanh(yield* add(yield* f(yield* add(n, -1), yield* mul(x, 0.9)), x));
        },
        n,
        x,
      );
    }, 0);
    const prog = function* (x: Value, n: Value) {
      return yield* f(n, x);
    };
    for (const n of [0, 3, 6]) {
      const g = run(grad(prog), 0.4, n) as number;
      expect(g).toBeCloseTo(numericGrad(prog, [0.4, n], { argnums: 0 }) as number, 7);
      expectSame(run(jit(grad(prog)), 0.4, n), g);
    }
    expect(String(makeIR(grad(prog))(0.4, 3))).not.toContain("accumulate");
  });

  it("recursion on numbers: a Fibonacci-like recurrence, eager = jit, gradient = finite differences", () => {
    // f(n, x) = n < 2 ? x^n : sin-free mix of f(n-1) and f(n-2)
    const f = fixpoint(function* (n: Value, x: Value): Gen<Value> {
      return yield* cond(
        yield* less(n, 2),
        function* (n: Value, x: Value) {
          return yield* add(yield* mul(n, x), 1);
        },
        function* (n: Value, x: Value) {
          const a = yield* f(yield* add(n, -1), x);
          const b = yield* f(yield* add(n, -2), x);
          return yield* tanh(yield* add(yield* mul(a, x), b));
        },
        n,
        x,
      );
    }, 0);
    const prog = function* (x: Value, n: Value) {
      return yield* f(n, x);
    };
    for (const n of [0, 1, 2, 5, 8]) {
      for (const x of [0.3, -0.7]) {
        expectSame(run(jit(prog), x, n), run(prog, x, n));
        const g = run(grad(prog), x, n) as number;
        expect(g).toBeCloseTo(numericGrad(prog, [x, n], { argnums: 0 }) as number, 7);
        expectSame(run(jit(grad(prog)), x, n), g);
      }
    }
  });

  it("recursion deeper than Node's stack of nested handler resumes would allow eagerly: 2,000 levels under jit", () => {
    const countdown = fixpoint(function* (n: Value, x: Value): Gen<Value> {
      return yield* cond(
        yield* less(n, 1),
        function* (_n: Value, x: Value) {
          return x;
        },
        function* (n: Value, x: Value) {
          return yield* add(yield* countdown(yield* add(n, -1), x), yield* mul(x, 0.001));
        },
        n,
        x,
      );
    }, 0);
    const prog = function* (x: Value, n: Value) {
      return yield* countdown(n, x);
    };
    expect(run(jit(prog), 2, 2000)).toBeCloseTo(2 + 2000 * 0.002, 9);
    expect(run(jit(grad(prog)), 2, 2000)).toBeCloseTo(1 + 2000 * 0.001, 9);
  });

  it("errors: a result unlike the declared one, jvp or vmap of a staged recursion, a closure over a differentiated value", () => {
    const bad = fixpoint(function* (x: Value): Gen<Value> {
      return yield* mul(x, tensor([1, 2]));
    }, 0);
    expect(() => run(bad, 1)).toThrow(ShapeError);
    expect(() => run(jit(bad), 1)).toThrow(ShapeError);
    const t = randomTree(3, 2);
    const p = params(3);
    expect(() => run(jit(function* (p: Params) {
      return yield* jvp((q: Params) => loss(q, t), [p], [p]);
    }), p)).toThrow(TransformError);
    expect(() => run(jit(vmap((x: Value) => encode({ ...p, b: x }, t, t.root))), randomTensor([2, H], 4))).toThrow(TransformError);
    // the branch reads `p` through a closure instead of as an operand
    const leaky = fixpoint(function* (p: Params, i: Value): Gen<Value> {
      return yield* cond(
        yield* less(yield* dynamicIndex(t.lch, i), 0),
        function* () {
          return yield* tanh(p.b);
        },
        function* () {
          return yield* add(yield* leaky(p, yield* dynamicIndex(t.lch, i)), p.b);
        },
      );
    }, randomTensor([H], 0));
    const leakyLoss = function* (p: Params) {
      return yield* sum(yield* leaky(p, t.root));
    };
    expectSame(run(jit(leakyLoss), p), run(leakyLoss, p)); // fine without differentiation
    expect(() => run(jit(grad(leakyLoss)), p)).toThrow(/captured by a closure.*as an operand/);
    // the next call works (no state left behind)
    expectSame(run(jit(valueAndGrad(loss)), p, t), run(valueAndGrad(loss), p, t));
  });

  it("an error inside a compiled recursion (an index out of range at run time) leaves nothing behind", () => {
    const jvg = jit(valueAndGrad(loss));
    const p = params(21);
    const good = randomTree(4, 3, 17);
    const want = run(valueAndGrad(loss), p, good);
    expectSame(run(jvg, p, good), want);
    // a table pointing at a word the embedding does not have: the compiled code throws mid-call
    const bad = { ...good, word: tensor(Array.from(good.word.data, (w) => (w >= 0 ? 99 : w))) };
    expect(() => run(jvg, p, bad)).toThrow(IndexError);
    expect(() => run(jvg, p, bad)).toThrow(/index 99 is out of range/);
    // the same compiled program, and its scratch and pinned memory, serve the next call correctly
    expectSame(run(jvg, p, good), want);
    expectSame(run(jit(loss), p, good), run(loss, p, good));
    expect(jvg.info.compiles).toBe(1);
  });
});
