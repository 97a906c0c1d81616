// Bad calls through the public API: each throws a yieldiff error class with its `_tag`, and a
// message that names the operation, the shapes/dtypes involved and what to do. After every
// error the handler stack is clean: the next gradient is correct.
import { afterEach, describe, expect, it } from "vitest";
import {
  run, grad, valueAndGrad, vjp, tensor, zeros, ones, full, randn, arange, Tensor, type Effect,
  add, mul, sum, mean, max, sin, matmul, dot, softmax, reshape, transpose, broadcastTo, concat, slice, take, where,
  conv2d, maxPool2d, avgPool2d,
  YieldiffError, ShapeError, DTypeError, IndexError, EffectError, ValueError, TransformError, EscapeError,
} from "../src/index.ts";

type ErrorClass = abstract new (...args: never[]) => YieldiffError;

/** Runs one operation as a program, `yield*`-ing it, and returns its result (or throws its error). */
const perform = (op: () => Effect): unknown =>
  run(function* () {
    return yield* op();
  });

const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to throw, but it returned normally");
};

/** Asserts the class, `_tag`, `name`, and that the message contains every part. */
const expectError = (f: () => unknown, cls: ErrorClass, parts: (string | RegExp)[]): YieldiffError => {
  const e = caught(f);
  expect(e).toBeInstanceOf(cls);
  expect(e).toBeInstanceOf(YieldiffError);
  expect(e).toBeInstanceOf(Error);
  const err = e as YieldiffError;
  const tag = (cls as unknown as { name: string }).name;
  expect(err._tag).toBe(tag);
  expect(err.name).toBe(tag);
  for (const p of parts) {
    if (typeof p === "string") expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
  return err;
};

// The handler stack must be clean after every test, whatever it threw.
function* square(x: number | Tensor) {
  return yield* sum(yield* mul(x, x));
}
const expectCleanState = (): void => {
  expect(run(grad(square), 3)).toBe(6);
  const g = run(grad(square), tensor([1, -2]));
  expect(g).toBeInstanceOf(Tensor);
  expect(Array.from((g as Tensor).data)).toEqual([2, -4]);
  const v = run(function* () {
    return yield* mul(2, 3);
  });
  expect(v).toBe(6);
  expect(run(square, tensor([3]))).toBeInstanceOf(Tensor);
};
afterEach(expectCleanState);

const m23 = () => zeros([2, 3]);
const img = (c = 3) => zeros([1, c, 4, 4]);

describe("operations reject bad operands", () => {
  it("mismatched broadcasting names both shapes and how to fix it", () => {
    expectError(() => perform(() => add(m23(), zeros([4]))), ShapeError, ["add", "[2, 3]", "[4]", "broadcast", /reshape|broadcastTo/]);
    expectError(() => perform(() => mul(zeros([2, 1, 3]), zeros([5, 2]))), ShapeError, ["mul", "[2, 1, 3]", "[5, 2]"]);
  });

  it("matmul inner-dimension mismatch names both shapes", () => {
    expectError(() => perform(() => matmul(m23(), zeros([4, 5]))), ShapeError, ["matmul", "[2, 3]", "[4, 5]", /transpose|reshape/]);
    expectError(() => perform(() => matmul(zeros([3]), zeros([4]))), ShapeError, ["matmul", "[3]", "[4]"]);
  });

  it("matmul of a 0-d operand, dot of rank > 2", () => {
    expectError(() => perform(() => matmul(zeros([]), zeros([2]))), ShapeError, ["matmul", "[]", "[2]", "mul"]);
    expectError(() => perform(() => dot(zeros([2, 2, 2]), zeros([2, 2]))), ShapeError, ["dot", "[2, 2, 2]", "matmul"]);
  });

  it("axis out of range (reductions and softmax)", () => {
    expectError(() => perform(() => sum(m23(), 2)), IndexError, ["sum", "axis 2", "rank 2", "[-2, 1]"]);
    expectError(() => perform(() => max(m23(), -3)), IndexError, ["max", "axis -3", "[-2, 1]"]);
    expectError(() => perform(() => softmax(m23(), 2)), IndexError, ["softmax", "axis 2", "[-2, 1]"]);
  });

  it("non-integer axis", () => {
    expectError(() => perform(() => sum(m23(), 0.5)), IndexError, ["sum", "0.5", "integer"]);
    expectError(() => perform(() => take(m23(), [0], 1.5)), IndexError, ["take", "1.5", "integer"]);
  });

  it("repeated axes", () => {
    expectError(() => perform(() => sum(m23(), [0, -2])), IndexError, ["sum", "[0, -2]", "repeats", "once"]);
    expectError(() => perform(() => mean(m23(), [1, 1])), IndexError, ["mean", "[1, 1]", "once"]);
  });

  it("non-integer take indices", () => {
    expectError(() => perform(() => take(zeros([3]), [0.5])), IndexError, ["take", "0.5", "not an integer", "[-3, 2]"]);
    expectError(() => perform(() => take(zeros([3]), tensor([[0, 1.5]]))), IndexError, ["take", "1.5", "[0, 1]"]);
    expectError(() => perform(() => take(zeros([3]), "0" as never)), IndexError, ["take", "number[]", "Tensor"]);
  });

  it("out-of-range take indices (also negative)", () => {
    expectError(() => perform(() => take(zeros([3]), [3])), IndexError, ["take", "index 3", "size 3", "[-3, 2]"]);
    expectError(() => perform(() => take(m23(), [-4])), IndexError, ["take", "index -4", "[-2, 1]"]);
    expectError(() => perform(() => take(zeros([]), [0])), ShapeError, ["take", "0-d", "reshape"]);
  });

  it("out-of-range slices, and slices with the wrong number of axes", () => {
    expectError(() => perform(() => slice(zeros([3, 2]), [0, 0], [4, 2])), IndexError, ["slice", "[0, 4)", "axis 0", "[3, 2]", "<= 3"]);
    expectError(() => perform(() => slice(zeros([3, 2]), [2, 0], [1, 2])), IndexError, ["slice", "[2, 1)", "[3, 2]"]);
    expectError(() => perform(() => slice(zeros([3, 2]), [0], [2])), IndexError, ["slice", "[0]", "[2]", "[3, 2]", "rank 2"]);
    expectError(() => perform(() => slice(zeros([3, 2]), [0.5, 0], [1, 1])), IndexError, ["slice", "0.5", "integers"]);
  });

  it("reshape size mismatch, bad -1, bad shapes", () => {
    expectError(() => perform(() => reshape(m23(), [4, 2])), ShapeError, ["reshape", "[2, 3]", "[4, 2]", "6", "8"]);
    expectError(() => perform(() => reshape(m23(), [4, -1])), ShapeError, ["reshape", "[4, -1]", "[2, 3]"]);
    expectError(() => perform(() => reshape(m23(), [2.5, 2])), ShapeError, ["reshape", "2.5", "non-negative integers"]);
  });

  it("transpose with a bad perm", () => {
    expectError(() => perform(() => transpose(m23(), [0, 0])), IndexError, ["transpose", "[0, 0]", "twice", "exactly once"]);
    expectError(() => perform(() => transpose(m23(), [0])), ShapeError, ["transpose", "[0]", "rank 2"]);
    expectError(() => perform(() => transpose(m23(), [0, 2])), IndexError, ["transpose", "[0, 2]", "[-2, 1]"]);
  });

  it("broadcastTo an incompatible shape", () => {
    expectError(() => perform(() => broadcastTo(zeros([3]), [2, 2])), ShapeError, ["broadcastTo", "[3]", "[2, 2]", "be 1"]);
  });

  it("concat with mismatched shapes, ranks, or nothing", () => {
    expectError(() => perform(() => concat([m23(), zeros([2, 4])])), ShapeError, ["concat", "[2, 3]", "[2, 4]", "axis 0", "must match"]);
    expectError(() => perform(() => concat([zeros([2]), zeros([2, 1])])), ShapeError, ["concat", "[2]", "[2, 1]"]);
    expectError(() => perform(() => concat([])), ValueError, ["concat", "empty"]);
    expectError(() => perform(() => concat([m23(), m23()], 2)), IndexError, ["concat", "axis 2"]);
  });

  it("conv2d channel mismatch, bad rank, bad stride", () => {
    expectError(() => perform(() => conv2d(img(3), zeros([2, 2, 3, 3]))), ShapeError, ["conv2d", "[1, 3, 4, 4]", "[2, 2, 3, 3]", "3 channels", "expects 2", "must equal"]);
    expectError(() => perform(() => conv2d(zeros([3, 4, 4]), zeros([2, 3, 3, 3]))), ShapeError, ["conv2d", "[3, 4, 4]", "[N, C, H, W]", "reshape"]);
    expectError(() => perform(() => conv2d(img(1), zeros([1, 1, 3, 3]), { stride: 0 })), ValueError, ["conv2d", "stride", "positive integer", "0"]);
    expectError(() => perform(() => conv2d(img(1), zeros([1, 1, 5, 5]))), ShapeError, ["conv2d", "5x5", "[1, 1, 4, 4]", "padding"]);
  });

  it("bad pool sizes and options", () => {
    expectError(() => perform(() => maxPool2d(img(1), { size: 0 })), ValueError, ["maxPool2d", "size", "positive integer", "0"]);
    expectError(() => perform(() => avgPool2d(img(1), { size: 5 })), ShapeError, ["avgPool2d", "5x5", "4x4", "[1, 1, 4, 4]", "smaller"]);
    expectError(() => perform(() => maxPool2d(img(1), { size: 1.5 })), ValueError, ["maxPool2d", "1.5"]);
    expectError(() => perform(() => maxPool2d(img(1), undefined as never)), ValueError, ["maxPool2d", "{ size"]);
    expectError(() => perform(() => avgPool2d(zeros([4, 4]), { size: 2 })), ShapeError, ["avgPool2d", "[4, 4]", "[N, C, H, W]"]);
  });

  it("reductions of zero elements", () => {
    expectError(() => perform(() => mean(zeros([0, 2]), 0)), ShapeError, ["mean", "[0, 2]", "zero elements"]);
    expectError(() => perform(() => max(zeros([0, 2]))), ShapeError, ["max", "[0, 2]", "empty"]);
  });

  it("a string or a plain array passed to an operation", () => {
    expectError(() => perform(() => sin("abc" as never)), DTypeError, ["sin", "string", "Tensors"]);
    expectError(() => perform(() => add([1, 2] as never, 1)), DTypeError, ["add", "first operand", "plain array", "tensor(["]);
    expectError(() => perform(() => mul(1, null as never)), DTypeError, ["mul", "second operand", "null"]);
    expectError(() => perform(() => where("x" as never, 1, 2)), DTypeError, ["where", "condition", "string"]);
    expectError(() => perform(() => matmul(m23(), [[1], [2], [3]] as never)), DTypeError, ["matmul", "plain array", "tensor(["]);
  });
});

describe("constructors and tensors reject bad input", () => {
  it("wrong dtype strings", () => {
    expectError(() => zeros([2], "int32" as never), DTypeError, ["zeros", '"int32"', '"float32" or "float64"']);
    expectError(() => tensor([1], { dtype: "float16" as never }), DTypeError, ["tensor", '"float16"', '"float32" or "float64"']);
    expectError(() => randn([2], { dtype: "double" as never }), DTypeError, ["randn", '"double"']);
  });

  it("ragged nested arrays and non-numbers in tensor()", () => {
    expectError(() => tensor([[1, 2], [3]]), ValueError, ["tensor", "ragged", "[2, 2]", "same length"]);
    expectError(() => tensor([[1, 2], 3] as never), ValueError, ["tensor", "ragged"]);
    expectError(() => tensor([1, "2"] as never), ValueError, ["tensor", "[1]", "string", "expected a number"]);
    expectError(() => tensor("abc" as never), ValueError, ["tensor", "string"]);
  });

  it("shapes that do not fit, bad shapes, bad values", () => {
    expectError(() => tensor([1, 2, 3], { shape: [2, 2] }), ShapeError, ["tensor", "3 values", "[2, 2]"]);
    expectError(() => ones([2, -1]), ShapeError, ["ones", "[2, -1]", "non-negative integers"]);
    expectError(() => full([2], "a" as never), ValueError, ["full", "value", "string"]);
    expectError(() => arange(0, 1, 0), ValueError, ["arange", "step"]);
    expectError(() => randn([2], { seed: 0.5 }), ValueError, ["randn", "seed", "0.5"]);
  });

  it("item() on a multi-element tensor", () => {
    expectError(() => tensor([1, 2]).item(), ValueError, ["item", "[2]", "2 elements", /sum|take/]);
    expectError(() => zeros([2, 3]).item(), ValueError, ["item", "[2, 3]", "6 elements"]);
  });
});

describe("programs and the effect protocol", () => {
  it("a program yielding a non-effect", () => {
    expectError(() => run(function* () { yield 5 as never; return 1; }), EffectError, ["yielded number 5", "not an effect", "yield*"]);
    expectError(() => run(function* () { yield [1, 2] as never; return 1; }), EffectError, ["yielded", "Array", "yield*"]);
    expectError(
      () => run(grad(function* (x: number) { yield undefined as never; return x; }), 1),
      EffectError,
      ["yielded undefined", "yield*"],
    );
  });

  it("a non-effect yielded inside a program can be caught by the program", () => {
    const r = run(function* () {
      try {
        yield "oops" as never;
      } catch (e) {
        return (e as EffectError)._tag;
      }
      return "not thrown";
    });
    expect(r).toBe("EffectError");
  });

  it("run of a non-generator function, or of a non-function", () => {
    expectError(() => run((() => 3) as never), EffectError, ["run", "number", "not a generator", "function*"]);
    expectError(() => run(3 as never), EffectError, ["run", "generator function", "number"]);
    expectError(() => run(grad(((x: number) => x) as never) as never, 1), EffectError, ["grad", "not a generator", "function*"]);
    expectError(() => grad(3 as never), EffectError, ["grad", "generator function", "number"]);
  });
});

describe("transformations reject what they cannot transform", () => {
  it("grad of a non-scalar output says to use vjp or jacrev", () => {
    expectError(
      () => run(grad(function* (x: Tensor) { return yield* mul(x, 2); }), tensor([1, 2])),
      TransformError,
      ["grad", "shape [2]", "scalar", "vjp", "jacrev"],
    );
    expectError(
      () => run(valueAndGrad(function* (x: Tensor) { return yield* mul(x, 2); }), zeros([2, 2])),
      TransformError,
      ["valueAndGrad", "[2, 2]", "vjp"],
    );
    expectError(() => run(grad(function* (_x: number) { return "no" as never; }), 1), TransformError, ["grad", "string", "scalar", "vjp"]);
  });

  it("grad of a non-float argument", () => {
    const f = function* (x: number) {
      return yield* mul(x, 2);
    };
    expectError(() => run(grad(f), "abc" as never), DTypeError, ["grad", "argument 0", "string", "no float values"]);
    expectError(() => run(grad(f), true as never), DTypeError, ["grad", "argument 0", "boolean"]);
    expectError(() => run(grad(f), [] as never), DTypeError, ["grad", "array without numbers"]);
    expectError(
      () => run(grad(function* (_a: number, b: number) { return b; }, { argnums: 1 }), 1, "x" as never),
      DTypeError,
      ["grad", "argument 1", "string", "argnums"],
    );
  });

  it("grad with argnums outside the call", () => {
    expectError(() => run(grad(function* (x: number) { return x; }, { argnums: 2 }), 3), TransformError, ["grad", "argnums 2", "1 argument"]);
  });

  it("a pullback given a cotangent of the wrong shape", () => {
    expectError(
      () =>
        run(function* () {
          const [, pb] = yield* vjp(function* (x: Tensor) { return yield* mul(x, 2); }, zeros([2]));
          return yield* pb(zeros([3]));
        }),
      ShapeError,
      ["vjp", "cotangent", "[3]", "[2]"],
    );
  });
});

describe("traced values outside their transformation", () => {
  it("a traced value escaping its grad (stored outside, used after grad returned) → EscapeError", () => {
    let leaked: unknown;
    const g = run(grad(function* (x: number) {
      leaked = x;
      return yield* mul(x, x);
    }), 3);
    expect(g).toBe(6);
    expectError(() => perform(() => mul(leaked as number, 2)), EscapeError, ["mul", "traced value", "grad", "already returned", "primal"]);
    // also when used inside a later, unrelated grad
    expectError(
      () => run(grad(function* (y: number): Generator<Effect, number, unknown> { return (yield mul(y, leaked as number)) as number; }), 2),
      EscapeError,
      ["mul", "escaped"],
    );
  });

  it("a traced value escaping a tensor grad, used with a tensor op", () => {
    let leaked: unknown;
    run(grad(function* (x: Tensor) {
      leaked = x;
      return yield* sum(x);
    }), tensor([1, 2]));
    expectError(() => perform(() => sum(leaked as Tensor)), EscapeError, ["sum", "already returned"]);
  });

  it("JS arithmetic on a traced value throws instead of giving NaN", () => {
    expectError(() => run(grad(function* (x: number) { return (x as unknown as number) * 2; }), 3), EscapeError, ["JS arithmetic", "grad", "yield* mul", "primal"]);
    expectError(() => run(grad(function* (x: Tensor) { return yield* sum(((x as unknown as number) + 1) as never); }), tensor([1])), EscapeError, ["JS arithmetic"]);
    expectError(() => run(grad(function* (x: number) { return (x as unknown as number) > 0 ? x : 0; }), 3), EscapeError, ["comparison"]);
  });
});

describe("the handler stack recovers after errors", () => {
  it("after an error deep inside grad(grad(...)) the next grad is correct and inner values are dead", () => {
    let inner: unknown;
    const bad = function* (x: number): Generator<Effect, number, unknown> {
      const y = yield* mul(x, x);
      inner = y;
      yield reshape(y, [2]); // a 0-d value cannot become [2]
      return y;
    };
    expectError(() => run(grad(grad(bad)), 3), ShapeError, ["reshape", "[2]"]);
    expectCleanState();
    // the boxes of both aborted levels are dead
    expectError(() => perform(() => add(inner as number, 1)), EscapeError, ["add"]);
    // and three levels deep, with the operation used through yield*
    const bad3 = function* (x: number) {
      const y = yield* mul(x, yield* mul(x, x));
      return yield* matmul(y, y);
    };
    expectError(() => run(grad(grad(grad(bad3))), 2), ShapeError, ["matmul", "[]", "at least 1-d"]);
    expectCleanState();
    expect(run(grad(grad(grad(function* (x: number) { return yield* mul(x, yield* mul(x, x)); }))), 2)).toBe(6);
  });

  it("after an error inside vjp and inside a pullback", () => {
    expect(() =>
      run(function* () {
        return yield* vjp(function* (x: Tensor): Generator<Effect, Tensor, unknown> { return (yield concat([x, zeros([2, 2])])) as Tensor; }, zeros([3]));
      }),
    ).toThrow(ShapeError);
    expectCleanState();
  });

  it("a program can catch an operation's error with try/catch around yield* and continue", () => {
    const f = function* (x: number | Tensor) {
      let caughtError: unknown = null;
      try {
        yield* add(x, zeros([5]));
      } catch (e) {
        caughtError = e;
      }
      const y = yield* mul(x, x);
      return [caughtError, y] as const;
    };
    const [e, y] = run(f, tensor([1, 2]));
    expect(e).toBeInstanceOf(ShapeError);
    expect((e as ShapeError)._tag).toBe("ShapeError");
    expect((e as ShapeError).message).toContain("[5]");
    expect(Array.from((y as Tensor).data)).toEqual([1, 4]);
    // and inside grad: the failed operation records nothing
    const g = run(grad(function* (x: number) {
      const [, y2] = yield* f(x);
      return y2;
    }), 3);
    expect(g).toBe(6);
  });

  it("a program that yields an operation without * gets the same error, catchable", () => {
    const f = function* (x: Tensor): Generator<Effect, unknown, unknown> {
      let tag = "";
      try {
        yield add(x, zeros([5]));
      } catch (e) {
        expect(e).toBeInstanceOf(ShapeError);
        tag = (e as ShapeError)._tag;
      }
      return [tag, yield* sum(yield* mul(x, x))];
    };
    const [tag, s] = run(f, tensor([1, 2])) as [string, Tensor];
    expect(tag).toBe("ShapeError");
    expect(s.item()).toBe(5);
    const g = run(grad(function* (x: Tensor) {
      const [, s2] = (yield* f(x)) as [string, Tensor];
      return s2;
    }), tensor([1, 2])) as Tensor;
    expect(Array.from(g.data)).toEqual([2, 4]);
  });

  it("an operation's error keeps its class through yield* and nested sub-programs", () => {
    function* inner(x: Tensor) {
      return yield* add(x, zeros([5]));
    }
    function* outer(x: Tensor) {
      return yield* inner(x);
    }
    expectError(() => run(outer, tensor([1, 2])), ShapeError, ["add", "[2]", "[5]"]);
    expectError(() => run(grad(function* (x: Tensor) { return yield* sum(yield* outer(x)); }), tensor([1, 2])), ShapeError, ["add"]);
    // the same operation object yielded again after an error runs again
    const op = add(tensor([1, 2]), zeros([5]));
    const r = run(function* () {
      let n = 0;
      for (let i = 0; i < 2; i++) {
        try {
          yield* op;
        } catch (e) {
          if (e instanceof ShapeError) n++;
        }
      }
      return n;
    });
    expect(r).toBe(2);
  });
});

describe("at least 25 distinct bad calls are covered", () => {
  it("distinct error kinds", () => {
    // a summary check over a fresh table, so the count is explicit
    const calls: [() => unknown, ErrorClass][] = [
      [() => perform(() => add(m23(), zeros([4]))), ShapeError],
      [() => perform(() => matmul(m23(), zeros([4, 5]))), ShapeError],
      [() => perform(() => sum(m23(), 2)), IndexError],
      [() => perform(() => sum(m23(), 0.5)), IndexError],
      [() => perform(() => sum(m23(), [1, -1])), IndexError],
      [() => perform(() => take(zeros([3]), [1.5])), IndexError],
      [() => perform(() => take(zeros([3]), [5])), IndexError],
      [() => perform(() => slice(zeros([3]), [0], [4])), IndexError],
      [() => perform(() => reshape(m23(), [5])), ShapeError],
      [() => perform(() => transpose(m23(), [1, 1])), IndexError],
      [() => perform(() => concat([m23(), zeros([3, 2])])), ShapeError],
      [() => perform(() => conv2d(img(3), zeros([1, 2, 1, 1]))), ShapeError],
      [() => perform(() => maxPool2d(img(1), { size: -1 })), ValueError],
      [() => ones([1], "float16" as never), DTypeError],
      [() => run(function* () { yield 5 as never; }), EffectError],
      [() => run(function* () { yield [1, 2] as never; }), EffectError],
      [() => run((() => 1) as never), EffectError],
      [() => tensor([[1], [2, 3]]), ValueError],
      [() => perform(() => sin("s" as never)), DTypeError],
      [() => perform(() => add([1] as never, 2)), DTypeError],
      [() => ones([3]).item(), ValueError],
      [() => run(grad(function* (x: Tensor) { return x; }), ones([2])), TransformError],
      [() => run(grad(function* (x: number) { return x; }), false as never), DTypeError],
      [() => run(grad(function* (x: number) { return (x as unknown as number) * 2; }), 1), EscapeError],
      [() => perform(() => broadcastTo(ones([2]), [3])), ShapeError],
      [() => perform(() => dot(ones([2, 2, 2]), ones([2]))), ShapeError],
      [() => perform(() => avgPool2d(img(1), { size: 9 })), ShapeError],
    ];
    expect(calls.length).toBeGreaterThanOrEqual(25);
    calls.forEach(([f, cls], i) => {
      const e = caught(f);
      if (!(e instanceof cls)) throw new Error(`call ${i}: expected ${cls.name}, got ${String(e)}`);
      expect((e as YieldiffError)._tag).toBe(cls.name);
    });
  });
});

