// Silent misuse made loud: a program that returns an operation or a generator object instead of
// performing it, an operation or a generator object passed as an operand, a Tensor or an
// operation in JS arithmetic. Each is a tagged error whose message names the fix (`yield*`,
// `run(...)`); a size-1 Tensor converts to its number.
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  run, grad, valueAndGrad, vjp, jvp, vmap, jit, jacfwd, jacrev, hessian, checkpoint, customVjp, scan, cond,
  tensor, zeros, mul, sin, sum, add, EffectError, ValueError, YieldiffError, type Value,
} from "../src/index.ts";
import { caught } from "./perform.ts";

const expectTagged = (f: () => unknown, cls: abstract new (...a: never[]) => YieldiffError, parts: (string | RegExp)[]): Error => {
  const e = caught(f);
  expect(e).toBeInstanceOf(cls);
  expect((e as YieldiffError)._tag).toBe((cls as unknown as { name: string }).name);
  for (const p of parts) {
    if (typeof p === "string") expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
  return e;
};

function* square(x: Value) {
  return yield* mul(x, x);
}

describe("a program that returns an operation or a generator instead of performing it", () => {
  it("run names the operation and says yield*", () => {
    expectTagged(() => run(function* (x: number) { return mul(x, x); } as never, 3), EffectError, ["run", "mul", "yield*", "return yield* mul("]);
    expectTagged(() => run(function* (x: number) { return square(x); } as never, 3), EffectError, ["run", "generator", "yield*"]);
    expectTagged(() => run(function* (x: number) { return [1, sin(x)]; } as never, 3), EffectError, ["run", "sin", "yield*", "[1]"]);
    expectTagged(() => run(function* (x: number) { return { loss: sum(x) }; } as never, 3), EffectError, ["run", "sum", ".loss"]);
  });

  it("every transformation's result check says so too", () => {
    const bad = function* (x: Value) {
      return mul(x, x);
    } as never;
    expectTagged(() => run(grad(bad), 2), EffectError, ["grad", "mul", "yield*"]);
    expectTagged(() => run(valueAndGrad(bad), 2), EffectError, ["valueAndGrad", "mul", "yield*"]);
    expectTagged(() => run(function* () { return yield* vjp(bad, 2); }), EffectError, ["vjp", "mul", "yield*"]);
    expectTagged(() => run(function* () { return yield* jvp(bad, [2], [1]); }), EffectError, ["jvp", "mul", "yield*"]);
    expectTagged(() => run(vmap(bad), zeros([3])), EffectError, ["vmap", "mul", "yield*"]);
    expectTagged(() => run(jit(bad), zeros([3])), EffectError, ["jit", "mul", "yield*"]);
    expectTagged(() => run(jacfwd(bad), zeros([3])), EffectError, ["jacfwd", "mul", "yield*"]);
    expectTagged(() => run(jacrev(bad), zeros([3])), EffectError, ["jacrev", "mul", "yield*"]);
    expectTagged(() => run(hessian(function* (x: Value) { return sum(x); } as never), zeros([3])), EffectError, ["hessian", "sum", "yield*"]);
    expectTagged(() => run(grad(checkpoint(bad)), 2), EffectError, ["checkpoint", "mul", "yield*"]);
    const cv = customVjp(bad, function* (x: Value) { return [yield* mul(x, x), x]; } as never, function* () { return [1]; } as never);
    expectTagged(() => run(cv, 2), EffectError, ["customVjp", "mul", "yield*"]);
    expectTagged(
      () => run(jit(function* (c: Value) { return yield* scan(function* (carry: Value) { return [carry, mul(carry, 2)]; } as never, c, [], { length: 2 }); }), 1),
      EffectError,
      ["scan", "mul", "yield*"],
    );
    expectTagged(
      () => run(jit(function* (x: Value) { return yield* cond(x, function* (y: Value) { return sin(y); } as never, function* (y: Value) { return y; }, x); }), 1),
      EffectError,
      ["cond", "sin", "yield*"],
    );
  });

  it("programs that perform their operations are unaffected", () => {
    expect(run(square, 3)).toBe(9);
    expect(run(grad(square), 3)).toBe(6);
    expect(run(function* () { return [1, "a", null, { k: [2] }]; })).toEqual([1, "a", null, { k: [2] }]);
  });
});

describe("an operation or a generator object passed as an operand", () => {
  it("says yield* was forgotten, naming the operation", () => {
    expectTagged(() => run(function* (x: number) { return yield* sin(mul(x, x) as never); }, 2), EffectError, ["sin", "mul", /forg[eo]t yield\*/, "yield* mul("]);
    expectTagged(() => run(function* (x: number) { return yield* add(x, square(x) as never); }, 2), EffectError, ["add", "second operand", "generator", /forg[eo]t yield\*/]);
    expectTagged(() => run(function* (x: number) { return yield* sum(mul(x, x) as never); }, 2), EffectError, ["sum", "mul", "yield*"]);
  });

  it("a transformation's argument", () => {
    expectTagged(() => run(grad(square), mul(2, 3) as never), EffectError, ["grad", "argument 0", "mul", "yield*"]);
  });

  it("other bad operands keep their message", () => {
    const e = caught(() => run(function* () { return yield* sin("a" as never); }));
    expect(e.message).toContain("sin");
    expect(e.message).not.toContain("yield*");
  });
});

describe("Tensors in JS arithmetic", () => {
  it("a size-1 tensor is its number", () => {
    expect(Number(tensor([3]))).toBe(3);
    expect(Number(tensor(2.5))).toBe(2.5);
    expect((tensor(2) as unknown as number) + (tensor(3) as unknown as number)).toBe(5);
    expect((tensor([[4]]) as unknown as number) * 2).toBe(8);
    expect((tensor([1]) as unknown as number) < 2).toBe(true);
    expect(tensor(7).valueOf()).toBe(7);
    expect(Math.max(tensor(7) as unknown as number, 1)).toBe(7);
  });

  it("a larger tensor is a ValueError saying what to do", () => {
    expectTagged(() => Number(tensor([1, 2])), ValueError, ["[2]", "2 elements", /item\(\)|sum|mean/]);
    expectTagged(() => (tensor([1, 2]) as unknown as number) + (tensor([1, 2]) as unknown as number), ValueError, ["[2]", /yield\* add|operations/]);
    expectTagged(() => (zeros([2, 3]) as unknown as number) * 2, ValueError, ["[2, 3]"]);
    expectTagged(() => zeros([0]).valueOf(), ValueError, ["[0]"]);
  });

  it("String(t) and template literals print as before", () => {
    const t = tensor([1, 2, 3]);
    expect(String(t)).toBe("Tensor(float64, [3]) [1,2,3]");
    expect(`${t}`).toBe("Tensor(float64, [3]) [1,2,3]");
    expect(`${tensor(2)}`).toBe("Tensor(float64, []) 2");
    expect([t].join()).toBe("Tensor(float64, [3]) [1,2,3]");
  });
});

describe("operations and transformed programs outside a program", () => {
  it("an operation in arithmetic or printed says yield* and run(...)", () => {
    expectTagged(() => (sin(2) as unknown as number) + 1, EffectError, ["sin", "yield*", "run("]);
    expectTagged(() => Number(mul(2, 3)), EffectError, ["mul", "yield*", "run("]);
    expect(String(sin(2))).toMatch(/sin.*yield\*.*run\(/s);
    expect(inspect(sin(2))).toMatch(/sin.*yield\*.*run\(/s);
  });

  it("grad(f)(x) called directly says to run it", () => {
    const g = grad(square)(3);
    expectTagged(() => (g as unknown as number) + 1, EffectError, ["grad", "run("]);
    expect(String(g)).toMatch(/grad.*run\(/s);
    expect(inspect(g)).toMatch(/grad.*run\(/s);
    expect(inspect(vmap(square)(zeros([2])))).toMatch(/vmap.*run\(/s);
    expect(inspect(jit(square)(2))).toMatch(/jit.*run\(/s);
    // still a working generator: run(() => it) and yield* it
    expect(run(function* () { return yield* grad(square)(3); })).toBe(6);
  });
});
