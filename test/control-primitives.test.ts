// The control primitives (cond, switchCase, whileLoop, scan, fixpoint) under every nesting of
// grad, jvp, vmap and jit: each rule of each record against the eager program, derivatives
// against finite differences (check_grads, order 2, forward and reverse), vmap against a loop
// of single calls, and jvp inside jit staged whole (one branch or loop, not expanded).
import { describe, expect, it } from "vitest";
import {
  add,
  cond,
  fixpoint,
  grad,
  greater,
  jit,
  jvp,
  less,
  makeIR,
  mul,
  run,
  scan,
  sin,
  sub,
  sum,
  switchCase,
  tanh,
  tensor,
  Tensor,
  TransformError,
  vmap,
  whileLoop,
  type Effect,
  type Value,
} from "../src/index.ts";
import { checkGrads } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";

type Gen<R> = Generator<Effect, R, unknown>;

function* condProgram(x: Value): Gen<Value> {
  return yield* cond(yield* greater(yield* sum(x), 0), function* (v: Value) {
    return yield* mul(yield* sin(v), v);
  }, function* (v: Value) {
    return yield* mul(v, 3);
  }, x);
}

/** Index 0, 1 or 2 from the sum of x (below 0, in [0, 1), from 1). */
function* switchProgram(x: Value): Gen<Value> {
  const s = yield* sum(x);
  const k = yield* add(yield* greater(s, 0), yield* greater(s, 1));
  return yield* switchCase(k, [
    function* (v: Value, w: Value) {
      return yield* mul(v, w);
    },
    function* (v: Value, w: Value) {
      return yield* sin(yield* add(v, w));
    },
    function* (v: Value, w: Value) {
      return yield* tanh(yield* mul(v, yield* mul(v, w)));
    },
  ], x, s);
}

function* whileProgram(x: Value): Gen<Value> {
  const [n, y] = yield* whileLoop(function* ([i]: [Value, Value]) {
    return yield* less(i, 4);
  }, function* ([i, v]: [Value, Value]) {
    return [yield* add(i, 1), yield* sin(yield* mul(v, 1.5))] as [Value, Value];
  }, [0, x] as [Value, Value]);
  return yield* mul(y, n);
}

function* scanProgram(x: Value): Gen<[Value, Value]> {
  return yield* scan(function* (acc: Value, t: Value) {
    const next = yield* add(yield* mul(acc, yield* sin(t)), t);
    return [next, yield* mul(next, next)] as [Value, Value];
  }, 0.5, x);
}

/** x ↦ sin(sin(… x)) n levels deep, as a staged recursion. */
const nest = fixpoint(function* (n: Value, x: Value): Gen<Value> {
  return yield* cond(yield* greater(n, 0), function* (m: Value, v: Value) {
    return yield* nest(yield* sub(m, 1), yield* mul(yield* sin(v), 1.2));
  }, function* (_m: Value, v: Value) {
    return v;
  }, n, x);
}, tensor([0, 0, 0]));
function* fixProgram(x: Value): Gen<Value> {
  return yield* nest(3, x);
}

const cases = [
  ["cond", condProgram, [tensor([0.3, -0.2, 0.9]), tensor([-0.3, -0.2, 0.1])]],
  ["switchCase", switchProgram, [tensor([-0.6, 0.2, -0.1]), tensor([0.3, 0.1, 0.2]), tensor([0.9, 0.4, 0.5])]],
  ["whileLoop", whileProgram, [tensor([0.3, -0.2, 0.9])]],
  ["scan", scanProgram, [tensor([0.3, -0.2, 0.9]), tensor([1.1, 0.7, -0.4])]],
  ["fixpoint", fixProgram, [tensor([0.3, -0.2, 0.9])]],
] as const;

/** A scalar loss of a program's (pytree) result. */
const lossOf = (f: (x: Value) => Gen<unknown>) =>
  function* (x: Value): Gen<Value> {
    const out = yield* f(x);
    const leaves = Array.isArray(out) ? (out as Value[]) : [out as Value];
    let total: Value = 0;
    for (const l of leaves) total = yield* add(total, yield* sum(l));
    return total;
  };

const jvpOf = (f: (x: Value) => Gen<unknown>) =>
  function* (x: Value, t: Value) {
    return yield* jvp(f, [x], [t]);
  };

describe.each(cases)("%s", (name, f, inputs) => {
  const program = f as (x: Value) => Gen<unknown>;
  const loss = lossOf(program);

  it("derivatives against finite differences: check_grads order 2, forward and reverse", () => {
    for (const x of inputs) checkGrads(program, [x], { order: 2, modes: ["fwd", "rev"], name });
  });

  it("jit, jit(grad), grad(jit), jvp(jit) equal the eager programs", () => {
    for (const x of inputs) {
      expectSame(run(jit(program), x), run(program, x));
      const g = run(grad(loss), x);
      expectSame(run(jit(grad(loss)), x), g);
      expectSame(run(grad(jit(loss)), x), g);
      const t = tensor([1, -0.5, 0.25]);
      expectSame(run(jvpOf(jit(program)), x, t), run(jvpOf(program), x, t));
    }
  });

  it("vmap, jit(vmap) and vmap(grad) equal a loop of single calls", () => {
    const xs = new Tensor(Float64Array.from(inputs.flatMap((x) => [...(x as Tensor).buf])), [inputs.length, 3]);
    const rows = inputs.map((x) => run(program, x));
    const batched = run(vmap(program), xs);
    const check = (out: unknown) => {
      rows.forEach((row, b) => {
        // example b of a batched result (a pytree of tensors with the batch on axis 0)
        const pick = (v: unknown): unknown => {
          if (Array.isArray(v)) return v.map(pick);
          const t = v as Tensor;
          const n = t.size / t.shape[0]!;
          return new Tensor(t.buf.slice(b * n, (b + 1) * n), t.shape.slice(1));
        };
        expectSame(pick(out), row);
      });
    };
    check(batched);
    if (name !== "fixpoint") check(run(jit(vmap(program)), xs)); // a staged recursion under vmap inside jit: an error, below
    const grads = run(vmap(grad(loss)), xs) as Tensor;
    inputs.forEach((x, b) => expectSame([...grads.buf.slice(b * 3, b * 3 + 3)], [...(run(grad(loss), x) as Tensor).buf]));
  });

  it("second order inside jit: jit(grad(grad)), jit(jvp(grad)), jit(grad(jvp)) equal the eager programs", () => {
    if (name === "fixpoint") return; // a staged recursion differentiated twice inside jit is an error (docs/staging.md)
    const t = tensor([1, -0.5, 0.25]);
    const hvp = function* (x: Value) {
      return yield* jvp(grad(loss), [x], [t]);
    };
    const gOfJvp = grad(function* (x: Value) {
      const [, d] = (yield* jvp(loss, [x], [t])) as [Value, Value];
      return d;
    });
    for (const x of inputs) {
      expectSame(run(jit(hvp), x), run(hvp, x));
      expectSame(run(jit(gOfJvp), x), run(gOfJvp, x));
      // grad of grad: of the sum of the gradient
      const gg = grad(function* (v: Value) {
        return yield* sum((yield* grad(loss)(v)) as Value);
      });
      expectSame(run(jit(gg), x), run(gg, x));
    }
  });

  it("jvp inside jit: the construct is staged whole, on its programs' JVPs", () => {
    const t = tensor([1, -0.5, 0.25]);
    for (const x of inputs) {
      if (name === "fixpoint") {
        expect(() => run(jit(jvpOf(program)), x, t)).toThrow(TransformError);
        continue;
      }
      expectSame(run(jit(jvpOf(program)), x, t), run(jvpOf(program), x, t));
    }
    if (name === "fixpoint") return;
    const ir = makeIR(jvpOf(program))(inputs[0]!, t).toString();
    const kind = { cond: "cond", switchCase: "switch", whileLoop: "while", scan: "scan" }[name];
    expect(ir.match(new RegExp(`= ${kind} `, "g"))).toHaveLength(1);
  });
});

describe("the rule a nesting picks", () => {
  it("a concrete condition runs in place under jvp inside jit (no branch staged)", () => {
    const f = function* (x: Value) {
      return yield* jvp(function* (v: Value) {
        return yield* cond(1, function* (a: Value) {
          return yield* sin(a);
        }, function* (a: Value) {
          return a;
        }, v);
      }, [x], [1]);
    };
    expect(makeIR(f)(0.5).toString()).not.toMatch(/= cond/);
    expectSame(run(jit(f), 0.5), [Math.sin(0.5), Math.cos(0.5)]);
  });

  it("a branch that reads a differentiated value through a closure under jvp inside jit: every branch and a select", () => {
    const f = function* (x: Value, y: Value) {
      return yield* jvp(function* (v: Value) {
        return yield* cond(yield* greater(y, 0), function* () {
          return yield* mul(v, v);
        }, function* () {
          return yield* sin(v);
        });
      }, [x], [1]);
    };
    expectSame(run(jit(f), 0.5, 1), run(f, 0.5, 1));
    expectSame(run(jit(f), 0.5, -1), run(f, 0.5, -1));
    expect(makeIR(f)(0.5, 1).toString()).toMatch(/= where\(/);
  });

  it("a shared condition under vmap inside jit stays one branch over the batched operands; a batched one selects", () => {
    const f = function* (p: Value, x: Value, y: Value) {
      return yield* cond(p, function* (a: Value, b: Value) {
        return [yield* mul(yield* sin(a), b), b];
      }, function* (a: Value, b: Value) {
        return [yield* add(a, b), 2];
      }, x, y);
    };
    const xs = tensor([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]);
    const ys = tensor([1, 2, 3]);
    for (const p of [1, 0]) {
      const shared = vmap(f, [null, 0, 0]);
      const ir = makeIR(shared)(p, xs, ys).toString();
      expect(ir.match(/= cond /g)).toHaveLength(1);
      expect(ir).not.toMatch(/= where\(/);
      const want = run(shared, p, xs, ys) as [Tensor, Tensor];
      expectSame(run(jit(shared), p, xs, ys), want);
      for (let b = 0; b < 3; b++) {
        const x = new Tensor(xs.buf.slice(2 * b, 2 * b + 2), [2]);
        const single = run(f, p, x, ys.buf[b]!) as [Tensor, number];
        expectSame([...want[0].buf.slice(2 * b, 2 * b + 2)], [...single[0].buf]);
        expect(want[1].buf[b]).toBe(single[1]);
      }
    }
    // a batched condition: both branches and a select, the same values as one example at a time
    const ps = tensor([1, 0, 1]);
    const batched = vmap(f);
    expect(makeIR(batched)(ps, xs, ys).toString()).toMatch(/= where\(/);
    expectSame(run(jit(batched), ps, xs, ys), run(batched, ps, xs, ys));
  });

  it("scan under vmap inside jit stays one loop over the batched body, whatever is batched", () => {
    type Carry = { a: Value; w: Value; n: Value };
    // (the weight rides in the carry: a body reading a batched value through a closure unrolls)
    const rnn = function* (h: Carry, xs: Value) {
      return yield* scan(function* (c: Carry, x: Value) {
        const a = yield* tanh(yield* add(yield* mul(c.a, c.w), x));
        return [{ a, w: c.w, n: yield* add(c.n, 1) }, yield* sum(a)] as [Carry, Value];
      }, h, xs);
    };
    const h = { a: tensor([[0.1, 0.2], [0.3, -0.1], [0, 0.5]]), w: tensor([[0.5, -0.3], [0.2, 0.4], [1, 0.1]]), n: tensor([0, 1, 2]) };
    const xs = new Tensor(Float64Array.from({ length: 3 * 4 * 2 }, (_, i) => Math.sin(i)), [3, 4, 2]);
    const cases: [Parameters<typeof vmap>[1], [Carry, Value]][] = [
      [0, [h, xs]], // everything batched
      [[null, 0], [{ a: tensor([0.1, 0.2]), w: tensor([0.5, -0.3]), n: 0 }, xs]], // a shared carry
      [[0, null], [h, new Tensor(xs.buf.slice(0, 8), [4, 2])]], // shared xs
    ];
    for (const [inAxes, args] of cases) {
      const mapped = vmap(rnn, inAxes);
      expect(makeIR(mapped)(...args).toString().match(/= scan 4 /g)).toHaveLength(1);
      const want = run(mapped, ...args);
      expectSame(run(jit(mapped), ...args), want);
      // against a loop of single calls
      const [carry, ys] = want as [Carry, Tensor];
      for (let b = 0; b < 3; b++) {
        const row = (t: Value, batched: boolean): Value => (batched ? new Tensor((t as Tensor).buf.slice(b * ((t as Tensor).size / 3), (b + 1) * ((t as Tensor).size / 3)), (t as Tensor).shape.slice(1)) : t);
        const hb = inAxes === 0 || (Array.isArray(inAxes) && inAxes[0] === 0);
        const xb = inAxes === 0 || (Array.isArray(inAxes) && inAxes[1] === 0);
        const single = run(rnn, { a: row(args[0].a, hb), w: row(args[0].w, hb), n: row(args[0].n, hb) }, row(args[1], xb)) as [Carry, Value];
        expectSame(row(carry.a, true), single[0].a);
        expectSame([...(row(ys, true) as Tensor).buf], [...(single[1] as Tensor).buf]);
      }
    }
    // a body reading a batched value through a closure: unrolled, the same values
    const closed = function* (a: Value, w: Value, xs: Value) {
      return yield* scan(function* (c: Value, x: Value) {
        const next = yield* tanh(yield* add(yield* mul(c, w), x));
        return [next, next] as [Value, Value];
      }, a, xs);
    };
    const args = [h.a, h.w, xs] as const;
    expect(makeIR(vmap(closed))(...args).toString()).not.toMatch(/= scan/);
    expectSame(run(jit(vmap(closed)), ...args), run(vmap(closed), ...args));
  });

  it("whileLoop whose trip count depends on the input: jit(jvp) stages one loop (it was an error)", () => {
    const f = function* (x: Value) {
      return yield* whileLoop(function* (c: Value) {
        return yield* less(c, 10);
      }, function* (c: Value) {
        return yield* mul(c, 1.7);
      }, x);
    };
    for (const x of [0.5, 2, 9]) {
      const [y, dy] = run(jit(jvpOf(f)), x, 1) as [number, number];
      const [ey, edy] = run(jvpOf(f), x, 1) as [number, number];
      expect(y).toBe(ey);
      expect(dy).toBe(edy);
    }
    expect(() => run(vmap(f), tensor([0.5, 2]))).toThrow(/under vmap the loop condition is batched/);
  });
});
