// Result types follow inputs: a program on numbers gives a number through run, grad and
// grad(grad); on tensors a tensor; a pytree's gradient has the tree's type; valueAndGrad gives
// [value, gradient]; vmap gives tensors. The expectTypeOf lines are checked by the type check
// (`tsc --noEmit`, run in CI), and each value's runtime kind is checked here as well, so that
// the types say what the values are.
import { describe, expect, expectTypeOf, it } from "vitest";
import { Tensor, grad, hessian, jacfwd, jacrev, jit, mul, run, sin, sum, tensor, valueAndGrad, vmap } from "../src/index.ts";

function* scalar(x: number) {
  return yield* mul(x, yield* sin(x));
}
function* reduce(x: Tensor) {
  return yield* sum(yield* mul(x, x));
}
type Params = { w: Tensor; b: number; layers: [Tensor, { scale: number }] };
function* model(p: Params, x: Tensor) {
  const y = yield* mul(yield* mul(p.w, x), p.layers[1].scale);
  return yield* sum(yield* mul(yield* mul(y, p.layers[0]), p.b));
}
const params: Params = { w: tensor([1, 2]), b: 3, layers: [tensor([0.5, 0.25]), { scale: 2 }] };
const x = tensor([3, 4]);

describe("result types follow inputs", () => {
  it("numbers give numbers through run, grad, grad(grad), jit, hessian and the Jacobians", () => {
    const values = [run(scalar, 1.5), run(grad(scalar), 1.5), run(grad(grad(scalar)), 1.5), run(jit(grad(scalar)), 1.5), run(hessian(scalar), 1.5), run(jacfwd(scalar), 1.5), run(jacrev(scalar), 1.5)] as const;
    expectTypeOf(values).toEqualTypeOf<readonly [number, number, number, number, number, number, number]>();
    const g: number = run(grad(scalar), 1.5);
    expect(g).toBeCloseTo(Math.sin(1.5) + 1.5 * Math.cos(1.5), 12);
    for (const v of values) expect(typeof v).toBe("number");
  });

  it("tensors give tensors", () => {
    const values = [run(reduce, x), run(grad(reduce), x), run(hessian(reduce), x), run(jacrev(reduce), x)] as const;
    expectTypeOf(values).toEqualTypeOf<readonly [Tensor, Tensor, Tensor, Tensor]>();
    for (const v of values) expect(v).toBeInstanceOf(Tensor);
  });

  it("a pytree's gradient has the tree's type; argnums pick and arrays of argnums give tuples", () => {
    const g = run(grad(model), params, x);
    expectTypeOf(g).toEqualTypeOf<Params>();
    expect(g.layers[0]).toBeInstanceOf(Tensor);
    expect(typeof g.b).toBe("number");
    const gx = run(grad(model, { argnums: 1 }), params, x);
    expectTypeOf(gx).toEqualTypeOf<Tensor>();
    expect(gx).toBeInstanceOf(Tensor);
    const both = run(grad(model, { argnums: [1, 0] }), params, x);
    expectTypeOf(both).toEqualTypeOf<[Tensor, Params]>();
    expect(both[0]).toBeInstanceOf(Tensor);
    expect(typeof both[1].layers[1].scale).toBe("number");
  });

  it("valueAndGrad gives [value, gradient]", () => {
    const [v, g] = run(valueAndGrad(model), params, x);
    expectTypeOf(v).toEqualTypeOf<Tensor>();
    expectTypeOf(g).toEqualTypeOf<Params>();
    const [vs, gs] = run(valueAndGrad(scalar), 2);
    expectTypeOf(vs).toEqualTypeOf<number>();
    expectTypeOf(gs).toEqualTypeOf<number>();
    expect([typeof vs, typeof gs]).toEqual(["number", "number"]);
  });

  it("vmap gives tensors", () => {
    const out = run(vmap(scalar), tensor([1, 2]));
    expectTypeOf(out).toEqualTypeOf<Tensor>();
    const rows = run(vmap(reduce), tensor([[1, 2], [3, 4]]));
    expectTypeOf(rows).toEqualTypeOf<Tensor>();
    expect(Array.from(rows.data)).toEqual([5, 25]);
  });
});
