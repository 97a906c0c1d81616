// The generated backward loop over scalar steps (effects/scalar-backward.ts): after a first pass
// has noted a primitive's steps, later passes run them in the loop's case for it. The gradients it
// gives must be bit for bit what the primitive's own VJP rule gives on numbers, for every
// elementwise primitive, every set of operands that are steps (the others constants), adjoints
// first set and then summed, and an operand used twice by one step.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { definedPrimitives, primitiveCode, type Primitive } from "../effects/primitive.ts";
import { hasCase } from "../effects/scalar-backward.ts";
import { BINARY, KIND_BITS, UNARY } from "../effects/reverse-steps.ts";
import { PrimitiveOp } from "../effects/operation.ts";
import type { Value } from "../effects/value.ts";
import { add, cos, exp, grad, jvp, mul, run, sin, sub, sum, tanh, tensor, valueAndGrad, div } from "../src/index.ts";

const elementwise = definedPrimitives().filter((p) => {
  const e = (p as Primitive<unknown>).elementwise;
  return e !== undefined && (e.arity === 1 || e.arity === 2) && p.reverse === undefined && p.sealed !== true;
}) as unknown as Primitive<unknown>[];

const VALUES = [0, -0, 1, -1, 0.5, -2.5, 3, 1e-300, 1e300, Infinity, -Infinity, NaN];

const same = (a: number, b: number): boolean => Object.is(a, b) || (a === 0 && b === 0) || (Number.isNaN(a) && Number.isNaN(b));

/** The rule's cotangents on numbers for an output cotangent of 1 (null: zero). */
const byRule = (p: Primitive<unknown>, xs: number[], wanted: boolean[]): (number | null)[] => {
  const out = p.impl(xs, undefined) as number;
  return p.vjp(1, xs, out, undefined, wanted).map((c) => (c === null || c === undefined ? null : (c as number)));
};

const apply = (p: Primitive<unknown>, args: Value[]) => new PrimitiveOp(p, args, undefined);

describe("the generated backward loop of scalar steps", () => {
  it("gives each primitive's rule bit for bit, for every set of operands that are steps, on the pass that notes it and on later ones", () => {
    let checked = 0;
    for (const p of elementwise) {
      const arity = p.elementwise!.arity;
      const slot = (arity === 1 ? UNARY : BINARY) | (primitiveCode(p) << KIND_BITS);
      for (let mask = 1; mask < 1 << arity; mask++) {
        const wanted = [(mask & 1) !== 0, (mask & 2) !== 0];
        for (const a of VALUES)
          for (const b of arity === 1 ? [0] : VALUES) {
            const xs = arity === 1 ? [a] : [a, b];
            // Each operand that is a step gets the rule's cotangent twice: set, then summed.
            function* twice(...args: Value[]) {
              let i = 0;
              const operands = xs.map((x, k) => (wanted[k] ? args[i++]! : x));
              const y1 = yield* apply(p, operands);
              const y2 = yield* apply(p, operands);
              return yield* add(y1, y2);
            }
            const argnums = wanted.flatMap((w, k) => (w ? [wanted.slice(0, k).filter(Boolean).length] : []));
            const inputs = xs.filter((_, k) => wanted[k]);
            const expected = byRule(p, xs, wanted).map((r) => (r === null ? 0 : r + r));
            for (let pass = 0; pass < 2; pass++) {
              const gs = run(grad(twice, { argnums }), ...inputs) as number[];
              let g = 0;
              for (let k = 0; k < arity; k++) {
                if (!wanted[k]) continue;
                if (!same(gs[g]!, expected[k]!)) throw new Error(`${p.name} mask ${mask} at ${xs}, pass ${pass}: operand ${k} got ${gs[g]}, rule ${expected[k]}`);
                g++;
              }
            }
            checked++;
          }
      }
      // Steps of primitives whose rule compiles have a case now (so the second pass ran in it).
      if (hasCase(slot)) checked++;
    }
    expect(checked).toBeGreaterThan(2000);
    for (const name of ["add", "sub", "mul", "div", "sin", "cos", "exp", "log", "tanh", "sqrt"]) {
      const p = elementwise.find((q) => q.name === name)!;
      const slot = (p.elementwise!.arity === 1 ? UNARY : BINARY) | (primitiveCode(p) << KIND_BITS);
      expect(hasCase(slot), name).toBe(true);
    }
  });

  it("sums both cotangents of an operand that one step uses twice, in the rule's order", () => {
    for (const p of elementwise.filter((q) => q.elementwise!.arity === 2))
      for (const x of VALUES) {
        const [r0, r1] = byRule(p, [x, x], [true, true]);
        const expected = r0 === null ? (r1 ?? 0) : r1 === null ? r0 : r0 + r1;
        for (let pass = 0; pass < 2; pass++) {
          const g = run(
            grad(function* (v: Value) {
              return yield* apply(p, [v, v]);
            }),
            x,
          ) as number;
          if (!same(g, expected)) throw new Error(`${p.name}(x, x) at ${x}, pass ${pass}: got ${g}, rule ${expected}`);
        }
      }
  });

  it("adds a number cotangent into an operand whose adjoint is a tensor", () => {
    // x·t (a tensor step) gives x a tensor adjoint first; sin(x) (a scalar step) adds a number to it.
    const t = tensor([0.5, -2, 4], { dtype: "float64" });
    function* f(x: Value) {
      return yield* add(yield* sum(yield* mul(x, t)), yield* sin(x));
    }
    for (let pass = 0; pass < 3; pass++) {
      const g = run(grad(f), 0.3);
      expect(Number(g)).toBeCloseTo(2.5 + Math.cos(0.3), 14);
    }
  });

  it("agrees with forward mode on random scalar programs", () => {
    const ops = [add, sub, mul, div] as const;
    const unaries = [sin, cos, tanh, exp] as const;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(7), fc.nat(100), fc.nat(100), fc.boolean()), { minLength: 1, maxLength: 40 }),
        fc.double({ min: -1.5, max: 1.5, noNaN: true }),
        (plan, x0) => {
          function* f(x: Value) {
            const vals: Value[] = [x];
            for (const [o, i, j, constant] of plan) {
              const a = vals[i % vals.length]!;
              const b = constant ? 0.75 : vals[j % vals.length]!;
              // bounded operands: tanh keeps exp and div tame
              vals.push(o < 4 ? yield* tanh(yield* ops[o]!(a, o === 3 ? yield* add(yield* exp(b), 1) : b)) : yield* unaries[o - 4]!(a));
            }
            return vals[vals.length - 1]!;
          }
          const [, g] = run(valueAndGrad(f), x0) as [number, number];
          const [, tangent] = run(function* () {
            return yield* jvp(f, [x0], [1]);
          }) as [number, number];
          expect(Math.abs(g - tangent)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(tangent)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
