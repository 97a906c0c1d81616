// customVjp and checkpoint under every transformation: the user's rule holds at every level
// (vmap over grad, grad over vmap, jit of grad), their programs compile inside jit (generators
// run only while tracing), and makeIR prints them.
import { describe, expect, it } from "vitest";
import { checkpoint, customVjp, grad, jit, makeIR, mul, run, sin, sum, tensor, vmap, Tensor, type Value } from "../src/index.ts";
import { expectClose } from "./fd.ts";

/** sin, whose rule says its derivative is 10 (so the rule is told apart from the formula). */
const makeCustom = () => {
  const calls = { f: 0, fwd: 0, bwd: 0 };
  const c = customVjp(
    function* (y: Value) {
      calls.f++;
      return yield* sin(y);
    },
    function* (y: Value) {
      calls.fwd++;
      return [yield* sin(y), y] as [Value, unknown];
    },
    function* (_r: Value, ct: Value) {
      calls.bwd++;
      return [yield* mul(10, ct)];
    },
  );
  return { c, calls };
};
const x = tensor([0.3, 1.2, 2]);
const tens = (n: number) => Array<number>(n).fill(10);

describe("customVjp under vmap keeps the rule at every level", () => {
  it("grad of vmap, vmap of grad", () => {
    const { c } = makeCustom();
    const g1 = run(grad(function* (x: Value) {
      return yield* sum(yield* vmap(c)(x));
    }), x) as Tensor;
    expect(g1.toArray()).toEqual(tens(3));
    expect((run(vmap(grad(c)), x) as Tensor).toArray()).toEqual(tens(3));
  });
  it("a shared (unmapped) operand's cotangent sums over the batch", () => {
    const { c } = makeCustom();
    const g = run(grad(function* (w: Value) {
      return yield* sum(yield* vmap(function* (xi: Value) {
        return yield* c(yield* mul(w, xi));
      })(x));
    }), 2);
    expectClose(g, 10 * (0.3 + 1.2 + 2), { rtol: 1e-12 });
  });
  it("values under vmap are f's, once for the whole batch (no per-example fallback)", () => {
    const { c, calls } = makeCustom();
    expectClose((run(vmap(c), x) as Tensor).toArray(), [0.3, 1.2, 2].map(Math.sin), { rtol: 1e-14 });
    expect(calls.f).toBe(1);
  });
});

describe("customVjp and checkpoint compile inside jit", () => {
  it("jit(grad(customVjp)): the rule, with fwd and bwd run once, while tracing", () => {
    const { c, calls } = makeCustom();
    const j = jit(grad(function* (x: Value) {
      return yield* sum(yield* c(x));
    }));
    for (let i = 0; i < 3; i++) expect((run(j, x) as Tensor).toArray()).toEqual(tens(3));
    expect(calls).toEqual({ f: 0, fwd: 1, bwd: 1 });
    expect(j.info.compiles).toBe(1);
  });
  it("jit(checkpoint): the function's generator runs once, while tracing", () => {
    let calls = 0;
    const k = jit(function* (x: Value) {
      return yield* sum(yield* checkpoint(function* (v: Value) {
        calls++;
        return yield* sin(v);
      })(x));
    });
    for (let i = 0; i < 3; i++) expectClose(run(k, x), Math.sin(0.3) + Math.sin(1.2) + Math.sin(2), { rtol: 1e-14 });
    expect(calls).toBe(1);
  });
  it("makeIR prints programs holding them (no customCall left, no JSON of live objects)", () => {
    const { c } = makeCustom();
    const ir = String(makeIR(grad(function* (x: Value) {
      return yield* sum(yield* c(yield* checkpoint(function* (v: Value) {
        return yield* mul(v, v);
      })(x)));
    }))(x));
    expect(ir).toMatch(/^in \(v0: f64\[3\]\)/);
    expect(ir).not.toMatch(/customCall/);
    expect(ir).toMatch(/sin/);
  });
});
