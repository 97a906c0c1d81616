// switchCase: values and index clamping eagerly and under jit (one multi-way branch in the IR,
// one compilation for every index); gradients through the branch taken (check_grads, order 2,
// forward and reverse; jit(grad)); vmap with a batched index (every branch runs, each example
// takes its own) against a loop of single calls, and its nestings with grad and jit; bad input.
import { describe, expect, it } from "vitest";
import {
  add,
  cond,
  cos,
  DTypeError,
  EffectError,
  exp,
  grad,
  greater,
  jit,
  jvp,
  log,
  makeIR,
  mul,
  run,
  ShapeError,
  sin,
  sqrt,
  sum,
  switchCase,
  tensor,
  Tensor,
  ValueError,
  vmap,
  type Effect,
  type Value,
} from "../src/index.ts";
import { checkGrads, randomTensor } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";

type Gen<R> = Generator<Effect, R, unknown>;

/** Three branches over (x, y) with different derivatives; branch k counts its runs in ran[k]. */
const ran = [0, 0, 0];
const branches = [
  function* (x: Value, y: Value): Gen<Value> {
    ran[0]!++;
    return yield* mul(yield* sin(x), y);
  },
  function* (x: Value, y: Value): Gen<Value> {
    ran[1]!++;
    return yield* add(yield* mul(x, x), y);
  },
  function* (x: Value, y: Value): Gen<Value> {
    ran[2]!++;
    return yield* mul(yield* exp(x), yield* cos(y));
  },
];
const reference = [
  (x: number, y: number) => Math.sin(x) * y,
  (x: number, y: number) => x * x + y,
  (x: number, y: number) => Math.exp(x) * Math.cos(y),
];

function* pick(k: Value, x: Value, y: Value): Gen<Value> {
  return yield* switchCase(k, branches, x, y);
}

const resetRuns = (): void => void ran.fill(0);

describe("switchCase", () => {
  it("runs the branch the index picks, the index clamped, eagerly and under jit", () => {
    const jitted = jit(pick);
    for (const k of [-3, -1, 0, 1, 2, 3, 100]) {
      const want = reference[Math.min(Math.max(k, 0), 2)]!(0.7, -1.3);
      resetRuns();
      expect(run(pick, k, 0.7, -1.3)).toBeCloseTo(want, 14);
      expect(ran.reduce((a, b) => a + b)).toBe(1); // only the branch picked runs
      expect(run(jitted, k, 0.7, -1.3)).toBeCloseTo(want, 14);
      // a 0-d tensor index, and a [1] one, as for cond's condition
      expect(run(pick, tensor(k), 0.7, -1.3)).toBeCloseTo(want, 14);
      expect(run(jitted, tensor([k]), 0.7, -1.3)).toBeCloseTo(want, 14);
    }
    // one compiled program per signature serves every index
    expect(jitted.info.compiles).toBe(2);
  });

  it("takes pytrees of operands and results; one branch is fine", () => {
    const f = function* (k: Value, p: { a: Value; b: Value[] }) {
      return yield* switchCase(k, [
        function* (q: typeof p) {
          return { s: yield* sum(q.a), t: [q.b[0]!, q.b[1]!] };
        },
        function* (q: typeof p) {
          return { s: yield* sum(yield* mul(q.a, q.a)), t: [q.b[1]!, q.b[0]!] };
        },
      ], p);
    };
    const p = { a: tensor([1, 2, 3]), b: [tensor([4, 5]), tensor([6, 7])] };
    for (const k of [0, 1]) {
      const eager = run(f, k, p) as { s: Tensor; t: Tensor[] };
      expectSame(run(jit(f), k, p), eager);
      expect(eager.s.buf[0]).toBe(k === 0 ? 6 : 14);
      expect([...eager.t[0]!.buf]).toEqual(k === 0 ? [4, 5] : [6, 7]);
    }
    const one = function* (k: Value, x: Value) {
      return yield* switchCase(k, [function* (a: Value) {
        return yield* sqrt(a);
      }], x);
    };
    expect(run(one, 5, 16)).toBe(4);
    expect(run(jit(one), -2, 16)).toBe(4);
  });

  it("is one multi-way branch in the IR and in the generated code", () => {
    const ir = makeIR(pick)(1, 0.5, 2);
    const text = ir.toString();
    expect(text.match(/= switch v0 \(v1, v2\)/g)).toHaveLength(1);
    expect(text).toContain("case 0:");
    expect(text).toContain("case 1:");
    expect(text).toContain("case 2:");
    expect(text).not.toContain("case 3:");
    expect(ir.block.eqns.filter((e) => e.kind === "switch")).toHaveLength(1);
    expect(ir.block.eqns.filter((e) => e.kind === "cond")).toHaveLength(0);
    expect(ir.source).toMatch(/switch \(K\.branch\(/);
    // cond stays a two-way branch on its condition
    const c = makeIR(function* (x: Value) {
      return yield* cond(yield* greater(x, 0), branches[0]!, branches[1]!, x, x);
    })(1).toString();
    expect(c).toMatch(/= cond v\d+/);
    expect(c).not.toContain("switch");
  });

  it("gradients flow through the branch picked: check_grads order 2, forward and reverse", () => {
    for (const k of [0, 1, 2, 5]) {
      const f = function* (x: Value, y: Value) {
        return yield* pick(k, x, y);
      };
      checkGrads(f, [0.4, -0.9], { order: 2, modes: ["fwd", "rev"], name: `switchCase[${k}]` });
      checkGrads(f, [randomTensor([3], 1), randomTensor([3], 2)], { order: 2, modes: ["fwd", "rev"], name: `switchCase[${k}] tensors` });
    }
  });

  it("jit(grad) stages the branch with its pullback; only the branch picked contributes", () => {
    // branch 1 takes the log of a negative number: a NaN that must not reach the gradient
    const f = function* (k: Value, x: Value) {
      return yield* sum(yield* switchCase(k, [
        function* (a: Value) {
          return yield* mul(a, a);
        },
        function* (a: Value) {
          return yield* log(a);
        },
        function* (a: Value) {
          return yield* sin(a);
        },
      ], x));
    };
    const x = tensor([-1, 2, -3]);
    const g = grad(f, { argnums: 1 });
    const jg = jit(g);
    for (const k of [0, 2, 7, -1]) {
      const want = run(g, k, x) as Tensor;
      expect([...want.buf].every(Number.isFinite)).toBe(true);
      expectSame(run(jg, k, x), want);
    }
    expect(jg.info.compiles).toBe(1);
    expect(makeIR(g)(0, x).toString()).toMatch(/= switch v0/);
  });

  it("vmap with a batched index runs every branch and selects each example's result (as JAX)", () => {
    const ks = tensor([0, 1, 2, -4, 9, 1]);
    const xs = randomTensor([6], 3);
    const ys = randomTensor([6], 4);
    resetRuns();
    const batched = run(vmap(pick), ks, xs, ys) as Tensor;
    expect(ran).toEqual([1, 1, 1]); // each branch once, on the whole batch
    const loop = [...ks.buf].map((k, i) => run(pick, k, xs.buf[i]!, ys.buf[i]!) as number);
    expectSame([...batched.buf], loop);
    // under jit: the same values, staged with every branch and selects
    expectSame(run(jit(vmap(pick)), ks, xs, ys), batched);
    // a shared index under vmap picks one branch for all examples: only it runs
    resetRuns();
    const shared = run(vmap(pick, [null, 0, 0]), 2, xs, ys) as Tensor;
    expect(ran).toEqual([0, 0, 1]);
    expectSame([...shared.buf], [...xs.buf].map((x, i) => reference[2]!(x, ys.buf[i]!)));
  });

  it("vmap nests with grad and jvp (batched index)", () => {
    const ks = tensor([2, 0, 1, 1]);
    const xs = randomTensor([4], 5);
    const ys = randomTensor([4], 6);
    const gx = grad(pick, { argnums: 1 });
    const perExample = [...ks.buf].map((k, i) => run(gx, k, xs.buf[i]!, ys.buf[i]!) as number);
    expectSame([...(run(vmap(gx), ks, xs, ys) as Tensor).buf], perExample);
    expectSame([...(run(jit(vmap(gx)), ks, xs, ys) as Tensor).buf], perExample);
    // grad of a sum over the batch: the same numbers
    const total = function* (k: Value, x: Value, y: Value) {
      return yield* sum(yield* vmap(pick)(k, x, y));
    };
    expectSame([...(run(grad(total, { argnums: 1 }), ks, xs, ys) as Tensor).buf], perExample);
    // jvp of the batched program along ones: the same derivatives
    const [, t] = run(function* () {
      return yield* jvp((x: Value) => vmap(pick)(ks, x, ys), [xs], [tensor([1, 1, 1, 1])]);
    }) as [Tensor, Tensor];
    expectSame([...t.buf], perExample);
  });

  it("bad input: tagged errors that say what to pass", () => {
    const f = (bs: unknown, k: unknown = 0) =>
      run(function* () {
        return yield* switchCase(k as Value, bs as never, 1);
      });
    expect(() => f("not an array")).toThrow(ValueError);
    expect(() => f("not an array")).toThrow(/switchCase: branches must be an array of generator functions, got string/);
    expect(() => f([])).toThrow(ValueError);
    expect(() => f([])).toThrow(/branches is empty/);
    expect(() => f([branches[0], 3])).toThrow(EffectError);
    expect(() => f([branches[0], 3])).toThrow(/switchCase \(branch 1\): expected a generator function, got number/);
    // the index: an integer scalar
    expect(() => run(pick, 1.5, 1, 2)).toThrow(ValueError);
    expect(() => run(pick, 1.5, 1, 2)).toThrow(/switchCase: the index must be an integer .*got 1\.5/);
    expect(() => run(pick, NaN, 1, 2)).toThrow(ValueError);
    expect(() => run(jit(pick), 0.5, 1, 2)).toThrow(ValueError);
    expect(() => run(jit(pick), 0.5, 1, 2)).toThrow(/must be an integer/);
    expect(() => run(vmap(pick, [0, null, null]), tensor([0, 2.5]), 1, 2)).toThrow(/switchCase: the index must be an integer .*got 2\.5/);
    expect(() => run(pick, tensor([0, 1]), 1, 2)).toThrow(ShapeError);
    expect(() => run(pick, tensor([0, 1]), 1, 2)).toThrow(/switchCase: the index must be a scalar, got shape \[2\]/);
    expect(() => run(jit(pick), tensor([0, 1]), 1, 2)).toThrow(ShapeError);
    expect(() => run(pick, "1" as never, 1, 2)).toThrow(DTypeError);
    // branches whose results differ: the error names them, staged (every branch is staged)
    const mixed = function* (k: Value, x: Value) {
      return yield* switchCase(k, [function* (a: Value) {
        return a;
      }, function* (a: Value) {
        return yield* sum(a);
      }], x);
    };
    expect(() => run(jit(mixed), 0, tensor([1, 2]))).toThrow(ShapeError);
    expect(() => run(jit(mixed), 0, tensor([1, 2]))).toThrow(/results of branches 0 and 1 differ at value 0/);
    expect(() => run(vmap(mixed, [0, null]), tensor([0, 1]), tensor([1, 2]))).toThrow(ShapeError);
  });
});
