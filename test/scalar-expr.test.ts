// The scalar expressions elementwise primitives are written in (src/kernels/scalar-expr.ts):
// what they render to, that a shared value is computed once, that helpers are reached through
// the caller, and that a compiled expression computes what the tree says (fast-check).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { E, compileWith, render, type Num } from "../src/kernels/scalar-expr.ts";

const names = () => {
  let k = 0;
  const helpers: unknown[] = [];
  return {
    helpers,
    local: () => `l${k++}`,
    helper: (fn: unknown) => `H[${helpers.push(fn) - 1}]`,
  };
};
const fn1 = (e: Num) => compileWith<(x: number) => number>(e, ["x"], ["x"], (r) => `${r.prelude.join(" ")} return ${r.value};`);

describe("render", () => {
  it("operators, Math, selections and literals (-0, NaN, ±Infinity, negatives)", () => {
    const x = E.operand(0);
    const r = render(E.select(E.and(E.gt(x, 0), E.ne(x, Infinity)), E.math("exp", E.neg(x)), E.add(E.mul(x, -2), -0)), ["v"], names());
    expect(r.prelude).toEqual([]);
    expect(r.value).toBe("((v > 0) && (v !== Infinity) ? Math.exp((-v)) : ((v * (-2)) + (-0)))");
    expect(render(E.add(NaN, -Infinity), [], names()).value).toBe("(NaN + (-Infinity))");
  });
  it("a shared value becomes one local however often it is read", () => {
    const x = E.operand(0);
    const r = render(E.let(E.math("abs", x), (a) => E.div(a, E.add(1, a))), ["v"], names());
    expect(r.prelude).toEqual(["const l0 = Math.abs(v);"]);
    expect(r.value).toBe("(l0 / (1 + l0))");
  });
  it("helpers are named by the caller, never written into the source", () => {
    const n = names();
    const f = (v: number) => v + 1;
    const r = render(E.call(f, E.operand(0)), ["v"], n);
    expect(r.value).toBe("H[0](v)");
    expect(n.helpers).toEqual([f]);
  });
  it("an operand that does not exist is an internal error, not a wrong number", () => {
    expect(() => render(E.operand(1), ["v"], names())).toThrow(/operand 1 of 1/);
  });
});

describe("compileWith", () => {
  // random trees of the builder, against a direct interpretation
  type Tree = { e: Num; f: (x: number) => number };
  const leaf: fc.Arbitrary<Tree> = fc.oneof(
    fc.constant<Tree>({ e: E.operand(0), f: (x) => x }),
    fc.double({ min: -4, max: 4, noNaN: true }).map((c): Tree => ({ e: E.add(E.operand(0), c), f: (x) => x + c })),
  );
  const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
    t: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.tuple(tie("t"), tie("t")).map(([a, b]): Tree => ({ e: E.mul(a.e, b.e), f: (x) => a.f(x) * b.f(x) })),
      fc.tuple(tie("t"), tie("t")).map(([a, b]): Tree => ({ e: E.sub(a.e, b.e), f: (x) => a.f(x) - b.f(x) })),
      tie("t").map((a): Tree => ({ e: E.math("tanh", a.e), f: (x) => Math.tanh(a.f(x)) })),
      tie("t").map((a): Tree => ({ e: E.let(a.e, (v) => E.select(E.ge(v, 0), v, E.neg(v))), f: (x) => (a.f(x) >= 0 ? a.f(x) : -a.f(x)) })),
      fc.tuple(tie("t"), tie("t")).map(([a, b]): Tree => ({ e: E.select(E.lt(a.e, b.e), a.e, b.e), f: (x) => (a.f(x) < b.f(x) ? a.f(x) : b.f(x)) })),
    ),
  })).t;
  it("computes what the tree says (property)", () => {
    fc.assert(
      fc.property(tree, fc.double({ min: -3, max: 3, noNaN: true }), (t, x) => {
        expect(Object.is(fn1(t.e)(x), t.f(x)) || (Number.isNaN(fn1(t.e)(x)) && Number.isNaN(t.f(x)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
