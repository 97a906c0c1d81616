// Compiled scalar VJP rules (effects/scalar-rules.ts): for every elementwise primitive whose
// rule compiles, the compiled cotangents are bit for bit what the rule gives on numbers; rules
// that read a concrete value are not compiled, and their steps still differentiate correctly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { definePrimitive, definedPrimitives, primitiveCode, type Primitive } from "../effects/primitive.ts";
import { scalarRule } from "../effects/scalar-rules.ts";
import { primal, type Value } from "../effects/value.ts";
import { E } from "../src/kernels/scalar-expr.ts";
import { add, cos, grad, mul, run, sin, valueAndGrad, vjp } from "../src/index.ts";
import { greater, mul as mulNow, where as whereNow } from "../src/primitives/binary.ts";
import { reshapeP } from "../src/primitives/shape.ts";
import { bind } from "../effects/trace.ts";
import { PrimitiveOp } from "../effects/operation.ts";

/** Elementwise primitives of one or two operands, without parameters: the ones scalar steps can hold. */
const elementwise = definedPrimitives().filter((p) => {
  const e = (p as Primitive<unknown>).elementwise;
  return e !== undefined && (e.arity === 1 || e.arity === 2) && p.reverse === undefined && p.sealed !== true;
}) as unknown as Primitive<unknown>[];

const SPECIAL = [0, -0, 1, -1, 0.5, -2.5, 3, 1e-300, -1e-300, 1e300, Infinity, -Infinity, NaN];

/** The cotangents the rule itself gives on numbers (as the backward pass called it before). */
const byRule = (p: Primitive<unknown>, ct: number, xs: number[], wanted: boolean[]): (number | null)[] => {
  const out = p.impl(xs, undefined) as number;
  return p.vjp(ct, xs, out, undefined, wanted).map((c) => (c === null || c === undefined ? null : (c as number)));
};

const sameNumber = (a: number | null, b: number | null): boolean => a === b || Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe("compiled scalar VJP rules", () => {
  it("compile for the common elementwise primitives", () => {
    const names = ["add", "sub", "mul", "div", "neg", "sin", "cos", "tan", "exp", "log", "log1p", "sqrt", "tanh", "sigmoid", "square", "maximum", "minimum", "abs", "relu"];
    for (const name of names) {
      const p = elementwise.find((q) => q.name === name);
      expect(p, name).toBeDefined();
      const arity = p!.elementwise!.arity;
      const rule = scalarRule(primitiveCode(p!), arity, arity === 1 ? 1 : 3);
      expect(rule, `${name} compiles`).not.toBeNull();
      expect(rule!.first, name).not.toBeNull();
      if (arity === 2) expect(rule!.second, name).not.toBeNull();
    }
  });

  it("give bit for bit the rule's cotangents on numbers, special values included, for every operand mask", () => {
    let compiled = 0;
    for (const p of elementwise) {
      const arity = p.elementwise!.arity;
      for (let mask = 1; mask < 1 << arity; mask++) {
        const rule = scalarRule(primitiveCode(p), arity, mask);
        if (rule === null) continue;
        compiled++;
        const wanted = [(mask & 1) !== 0, (mask & 2) !== 0];
        const check = (ct: number, xs: number[]) => {
          const expected = byRule(p, ct, xs, wanted);
          const out = p.impl(xs, undefined) as number;
          const got = [rule.first?.(ct, xs[0]!, xs[1] ?? 0, out) ?? null, rule.second?.(ct, xs[0]!, xs[1] ?? 0, out) ?? null];
          for (let i = 0; i < arity; i++) {
            if (!wanted[i]) continue;
            const e = expected[i] ?? null;
            // a zero cotangent may be left out by one and computed as 0 by the other
            if (!(sameNumber(got[i]!, e) || (e === null && got[i] === 0) || (got[i] === null && e === 0)))
              throw new Error(`${p.name} mask ${mask} operand ${i} at ct=${ct}, x=${xs}: compiled ${got[i]}, rule ${e}`);
          }
        };
        for (const ct of [1, -0.75, 0, NaN]) for (const a of SPECIAL) if (arity === 1) check(ct, [a]);
        else for (const b of SPECIAL) check(ct, [a, b]);
        fc.assert(
          fc.property(fc.double({ noNaN: false }), fc.double(), fc.double(), (ct, a, b) => {
            check(ct, arity === 1 ? [a] : [a, b]);
          }),
          { numRuns: 200 },
        );
      }
    }
    expect(compiled).toBeGreaterThan(40);
  });

  it("are not made for a rule that reads a concrete value; its steps call the rule, and gradients stay right", () => {
    // A primitive whose rule branches on the concrete operand (as a user may write one).
    const rampP: Primitive = definePrimitive({
      name: "testRamp",
      elementwise: { arity: 1, expr: E.select(E.gt(E.operand(0), 0), E.operand(0), E.mul(0.1, E.operand(0))) },
      impl: ([x]) => ((x as number) > 0 ? (x as number) : 0.1 * (x as number)),
      abstractEval: ([x]) => x!,
      jvp: ([x], [t]) => (t === null ? null : mulNow(t!, (primal(x!) as number) > 0 ? 1 : 0.1)),
      vjp: (ct, [x]) => [mulNow(ct, (primal(x!) as number) > 0 ? 1 : 0.1)],
      batch: () => {
        throw new Error("not batched in this test");
      },
    });
    expect(scalarRule(primitiveCode(rampP), 1, 1)).toBeNull();
    function* f(x: Value) {
      const r = yield* new PrimitiveOp(rampP, [x], undefined);
      return yield* mul(r, yield* sin(x));
    }
    for (const x of [2, -3]) {
      const slope = x > 0 ? 1 : 0.1;
      const [value, g] = run(valueAndGrad(f), x) as [number, number];
      expect(value).toBe(slope * x * Math.sin(x));
      expect(g).toBeCloseTo(slope * Math.sin(x) + slope * x * Math.cos(x), 14);
    }
  });

  it("a rule that applies a primitive with parameters is not compiled; one with where and a comparison is", () => {
    const withParams: Primitive = definePrimitive({
      name: "testReshapedRule",
      elementwise: { arity: 1, expr: E.mul(E.operand(0), 2) },
      impl: ([x]) => 2 * (x as number),
      abstractEval: ([x]) => x!,
      jvp: () => null,
      vjp: (ct) => [bind(reshapeP, [mulNow(ct, 2)], { shape: [] })],
      batch: () => {
        throw new Error("not batched in this test");
      },
    });
    expect(scalarRule(primitiveCode(withParams), 1, 1)).toBeNull();
    const selecting: Primitive = definePrimitive({
      name: "testSelectingRule",
      elementwise: { arity: 1, expr: E.math("abs", E.operand(0)) },
      impl: ([x]) => Math.abs(x as number),
      abstractEval: ([x]) => x!,
      jvp: () => null,
      vjp: (ct, [x]) => [whereNow(greater(x!, 0), ct, mulNow(ct, -1))],
      batch: () => {
        throw new Error("not batched in this test");
      },
    });
    const rule = scalarRule(primitiveCode(selecting), 1, 1);
    expect(rule).not.toBeNull();
    expect([rule!.first!(3, 2, 0, 2), rule!.first!(3, -2, 0, 2)]).toEqual([3, -3]);
    // and both differentiate right in a program
    for (const p of [withParams, selecting]) {
      function* f(x: Value) {
        return yield* mul(yield* new PrimitiveOp(p, [x], undefined), x);
      }
      const expected = p === withParams ? 4 * -1.5 : 2 * -1.5 * -1; // d(2x²) = 4x; d(|x|·x) = 2|x|
      expect(run(grad(f), -1.5)).toBe(p === withParams ? expected : 3);
    }
  });

  it("W1's chain: value and gradient through compiled rules equal the rules applied one by one (vjp keeps its steps)", () => {
    function* chain(x: Value) {
      let y: Value = x;
      for (let i = 0; i < 200; i++) y = yield* add(yield* sin(yield* mul(y, x)), x);
      return yield* cos(y);
    }
    // Reference: the same derivative by hand.
    let y = 0.5;
    let dy = 1;
    for (let i = 0; i < 200; i++) {
      const u = y * 0.5;
      dy = Math.cos(u) * (dy * 0.5 + y) + 1;
      y = Math.sin(u) + 0.5;
    }
    const expected = -Math.sin(y) * dy;
    expect(run(grad(chain), 0.5) as number).toBeCloseTo(expected, 10);
    const cts = run(function* () {
      const [, pullback] = yield* vjp(chain, 0.5);
      return (yield* pullback(2)) as number[];
    });
    expect(cts[0]).toBeCloseTo(2 * expected, 10);
  });
});
