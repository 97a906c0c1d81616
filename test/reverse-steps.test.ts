// Reverse mode's step columns (effects/reverse-steps.ts): scalar steps with constant operands,
// scalar steps mixed with tensor steps, columns grown past their first capacity and reused by
// the next grad, a pullback that keeps its steps while other grads reuse columns, a cotangent
// that is a box of an outer level, a program that throws half-way, and the primitive codes the
// columns keep in place of references.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { definedPrimitives, primitiveCode, primitiveOfCode, type Primitive } from "../effects/primitive.ts";
import { addP } from "../src/primitives/binary.ts";
import { add, div, exp, grad, jvp, mul, run, sin, sub, sum, tensor, valueAndGrad, vjp, type Effect, type Pullback, type Value } from "../src/index.ts";
import { checkGrads } from "./check-grads.ts";
import { PrimitiveOp } from "../effects/operation.ts";

type Gen<R> = Generator<Effect, R, unknown>;

/** y ← sin(y·x + c) / 2 + 3 − y, n times: constants on both sides of binary steps. */
function* chain(x: Value, n: number): Gen<Value> {
  let y: Value = x;
  for (let i = 0; i < n; i++) y = yield* sub(3, yield* add(yield* div(yield* sin(yield* add(yield* mul(y, x), 0.25 * i)), 2), y));
  return y;
}

/** The same recurrence and its derivative by hand. */
const byHand = (x: number, n: number): [number, number] => {
  let y = x;
  let dy = 1;
  for (let i = 0; i < n; i++) {
    const u = y * x + 0.25 * i;
    const du = dy * x + y;
    [y, dy] = [3 - (Math.sin(u) / 2 + y), -(Math.cos(u) * du / 2 + dy)];
  }
  return [y, dy];
};

describe("reverse mode's step columns", () => {
  it("differentiates scalar steps with constant operands, past the columns' first capacity, against the derivative by hand", () => {
    fc.assert(
      fc.property(fc.double({ min: -1.5, max: 1.5, noNaN: true }), fc.integer({ min: 1, max: 300 }), (x, n) => {
        const [v, d] = run(valueAndGrad((x: number) => chain(x, n)), x);
        const [rv, rd] = byHand(x, n);
        expect(v).toBeCloseTo(rv, 12);
        expect(Math.abs(d - rd)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(rd)));
      }),
      { numRuns: 25 },
    );
  });

  it("gives first and second derivatives that match finite differences, both modes", () => {
    checkGrads((x: number) => chain(x, 7), [0.3], { order: 2 });
  });

  it("mixes scalar steps with tensor steps (a tensor reduced to a number, then scalar operations on it)", () => {
    function* f(w: Value, s: Value) {
      const t = yield* sum(yield* exp(yield* mul(w, s)));
      return yield* mul(yield* sin(t), s);
    }
    checkGrads(f, [tensor([0.1, -0.2, 0.3]), 0.7], { order: 2 });
  });

  it("reuses the columns of one grad in the next without mixing their steps", () => {
    const g = grad((x: number) => chain(x, 120));
    const h = grad(function* (x: number) {
      return yield* mul(x, x);
    });
    const first = run(g, 0.4);
    for (let i = 0; i < 5; i++) {
      expect(run(h, 3 + i)).toBe(2 * (3 + i));
      expect(run(g, 0.4)).toBe(first);
    }
    expect(first).toBeCloseTo(byHand(0.4, 120)[1], 9);
  });

  it("keeps a pullback's steps while other grads run in between, and runs it any number of times", () => {
    const [y, pullback] = run(vjp, (x: number) => chain(x, 50), 0.2) as [number, Pullback];
    const [ry, rd] = byHand(0.2, 50);
    expect(y).toBeCloseTo(ry, 12);
    for (let i = 0; i < 3; i++) {
      run(grad((x: number) => chain(x, 80)), 0.9); // takes and releases columns
      const [ct] = run(pullback, 2) as [number];
      expect(ct).toBeCloseTo(2 * rd, 9);
    }
  });

  it("takes a cotangent that is a box of an outer level (jvp of a pullback of scalar steps)", () => {
    const [, pullback] = run(vjp, (x: number) => chain(x, 10), 0.5) as [number, Pullback];
    const [, rd] = byHand(0.5, 10);
    // The pullback is linear in its cotangent: its tangent along 1 is the derivative itself.
    const [[out], [tangent]] = run(jvp, function* (ct: number) { return yield* pullback(ct); }, [3], [1]) as [[number], [number]];
    expect(out).toBeCloseTo(3 * rd, 9);
    expect(tangent).toBeCloseTo(rd, 9);
  });

  it("leaves nothing behind when the program throws half-way: the next grad is right", () => {
    function* failing(x: number): Gen<Value> {
      const y = yield* chain(x, 40);
      throw new Error(`stopped at ${typeof y}`);
    }
    for (let i = 0; i < 3; i++) {
      expect(() => run(grad(failing), 0.3)).toThrow(/stopped at object/);
      expect(run(grad((x: number) => chain(x, 30)), 0.3)).toBeCloseTo(byHand(0.3, 30)[1], 9);
    }
  });

  it("keeps each defined primitive as a code that gives the primitive back; a record made otherwise has none", () => {
    const prims = definedPrimitives();
    expect(prims.length).toBeGreaterThan(100);
    const codes = prims.map((p) => primitiveCode(p));
    expect(new Set(codes).size).toBe(prims.length);
    prims.forEach((p, i) => expect(primitiveOfCode(codes[i]!)).toBe(p));
    expect(Object.keys(addP)).not.toContain("code"); // the code is no enumerable field of the record
    const copy: Primitive = { ...addP };
    expect(primitiveCode(copy)).toBe(-1);
  });

  it("differentiates a primitive record not made by definePrimitive (kept as a general step) like the defined one", () => {
    const copy: Primitive = { ...addP };
    const grads = (p: Primitive) =>
      run(grad(function* (x: number) {
        let y: Value = x;
        for (let i = 0; i < 5; i++) y = yield* mul(y, (yield* new PrimitiveOp(p, [y, x], undefined)) as Value);
        return y;
      }), 0.7);
    expect(grads(copy)).toBe(grads(addP));
  });
});

