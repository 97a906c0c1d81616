// `yield* call(f, ...args)`: a sub-program in a frame of the driver's heap stack. Recursion of
// 100,000 levels runs under every transformation and gives exactly what the same operations
// give in a loop; the driver's work is linear in the depth (counted, not timed); errors in a
// callee reach the caller's try/catch/finally at its yield*; plain yield* recursion past the
// engine's stack is a tagged error that names call; after any error the next run works.
import { describe, expect, it } from "vitest";
import { depth } from "../effects/trace.ts";
import {
  add, call, checkpoint, cos, customVjp, EffectError, fixpoint, grad, jit, jvp, mul, run, scan, ShapeError, sin, sum, tensor, vmap, zeros,
  type Effect, type Tensor, type Value,
} from "../src/index.ts";

type Gen<R> = Generator<Effect, R, unknown>;

const DEEP = 100_000;

/** y(n) = sin(y(n−1)·x) + x, y(0) = x: recursing n levels, one call per level. */
function* rec(x: Value, n: number): Gen<Value> {
  if (n === 0) return x;
  const y = yield* call(rec, x, n - 1);
  return yield* add(yield* sin(yield* mul(y, x)), x);
}

/** The same operations in the same order, in a loop. */
function* loop(x: Value, n: number): Gen<Value> {
  let y = x;
  for (let i = 0; i < n; i++) y = yield* add(yield* sin(yield* mul(y, x)), x);
  return y;
}

/** The recurrence and its first two derivatives in plain JS (forward mode by hand). */
const reference = (x: number, n: number): [number, number, number] => {
  let [y, dy, ddy] = [x, 1, 0];
  for (let i = 0; i < n; i++) {
    const u = y * x;
    const du = dy * x + y;
    const ddu = ddy * x + 2 * dy;
    [y, dy, ddy] = [Math.sin(u) + x, Math.cos(u) * du + 1, -Math.sin(u) * du * du + Math.cos(u) * ddu];
  }
  return [y, dy, ddy];
};

const close = (a: number, b: number, rel: number): void => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));

describe("call: recursion in frames of the driver", () => {
  it(`recurses ${DEEP.toLocaleString("en")} levels under run, grad and grad∘grad, as the loop does`, () => {
    const [y, dy, ddy] = reference(0.5, DEEP);
    const value = run(rec, 0.5, DEEP) as number;
    expect(value).toBe(run(loop, 0.5, DEEP));
    close(value, y, 1e-12);
    const g = run(grad(rec), 0.5, DEEP) as number;
    expect(g).toBe(run(grad(loop), 0.5, DEEP));
    close(g, dy, 1e-9);
    const gg = run(grad(grad(rec)), 0.5, DEEP) as number;
    close(gg, ddy, 1e-7);
    expect(Math.abs(ddy)).toBeGreaterThan(0.01); // a nontrivial second derivative
    expect(depth()).toBe(1);
  }, 120_000);

  it(`recurses ${DEEP.toLocaleString("en")} levels under jvp and vmap, 20,000 under jit`, () => {
    const [y, dy] = reference(0.5, DEEP);
    const [out, tangent] = run(function* () {
      return yield* jvp((x: Value) => rec(x, DEEP), [0.5], [1]);
    }) as [number, number];
    close(out, y, 1e-12);
    close(tangent, dy, 1e-9);

    const xs = tensor([0.25, 0.5, 0.75]);
    const batched = run(vmap(rec, [0, null]), xs, DEEP) as Tensor;
    expect(Array.from(batched.data)).toEqual([0.25, 0.5, 0.75].map((x) => reference(x, DEEP)[0]));

    // jit stages what the recursion performs: the unrolled program (60,000 operations for
    // 20,000 levels, beyond what yield* recursion reaches), compiled once.
    const staged = jit(function* (x: Value) {
      return yield* rec(x, 20_000);
    });
    close(run(staged, 0.5) as number, reference(0.5, 20_000)[0], 1e-12);
    close(run(staged, 0.25) as number, reference(0.25, 20_000)[0], 1e-12);
    expect(staged.info.compiles).toBe(1);
  }, 120_000);

  it("recurses 20,000 levels inside checkpoint, customVjp and a scan body (each runs its program with the driver)", () => {
    const N = 20_000;
    const [y, dy] = reference(0.5, N);
    const deep = (x: Value) => rec(x, N);
    close(run(grad(checkpoint(deep)), 0.5) as number, dy, 1e-9);
    const withRule = customVjp(
      deep,
      function* (x: Value) {
        return [yield* call(rec, x, N), x] as [Value, Value];
      },
      function* (_x: Value, ct: Value) {
        return [yield* mul(ct, 2)];
      },
    );
    expect(run(grad(withRule), 0.5)).toBe(2); // the rule's cotangent, after its forward program ran
    close(run(withRule, 0.5) as number, y, 1e-12);
    const [carry] = run(function* () {
      return yield* scan(function* (c: Value) {
        return [yield* call(rec, c, N), 0] as [Value, number];
      }, 0.5, null, { length: 2 });
    }) as [number, unknown];
    expect(carry).toBe(run(rec, run(rec, 0.5, N) as number, N));
  }, 60_000);

  it("costs driver work linear in the depth; yield* recursion resumes every level above a frame that waits (counted)", () => {
    /** How many times any frame is resumed, for recursion of depth n through `via`. */
    const resumes = (via: "call" | "yield*", n: number, leaf: "operation" | "call"): number => {
      let count = 0;
      // Each sub-program's iterator counts the resumes that reach it, directly or delegated.
      const counted = <R>(g: Gen<R>): Gen<R> => {
        const it: Gen<R> = {
          next: (v: unknown) => (count++, g.next(v)),
          throw: (e: unknown) => g.throw(e),
          return: (v: R) => g.return(v),
          [Symbol.iterator]: () => it,
        } as Gen<R>;
        return it;
      };
      function* sine(x: Value): Gen<Value> {
        return yield* sin(x);
      }
      const f = (x: Value, k: number): Gen<Value> => counted(body(x, k));
      function* body(x: Value, k: number): Gen<Value> {
        if (k === 0) return x;
        const y = via === "call" ? yield* call(f, x, k - 1) : yield* f(x, k - 1);
        // An operation is performed where the program makes it (no resume); a call waits for the driver.
        return leaf === "operation" ? yield* sin(y) : yield* call(sine, y);
      }
      run(f, 0.5, n);
      return count;
    };
    // call: each level is resumed a fixed number of times (its start, its caller's result).
    expect(resumes("call", 1000, "operation")).toBe(2 * 1000 + 1);
    expect(resumes("call", 4000, "operation")).toBe(2 * 4000 + 1);
    // yield* whose levels only perform operations: each level starts once and never waits.
    expect(resumes("yield*", 1000, "operation")).toBe(1000 + 1);
    // yield* whose levels wait for the driver (a call each): every resume passes every level above.
    expect(resumes("yield*", 1000, "call")).toBeGreaterThan((1000 * 1000) / 2);
    expect(resumes("yield*", 2000, "call") / resumes("yield*", 1000, "call")).toBeGreaterThan(3.9);
    // with call at every level, still linear
    expect(resumes("call", 1000, "call")).toBe(3 * 1000 + 1);
  });

  it("gives the callee's result its type", () => {
    function* half(x: number, label: string): Gen<{ value: Value; label: string }> {
      return { value: yield* mul(x, 0.5), label };
    }
    const out = run(function* () {
      const r = yield* call(half, 3, "three"); // r: { value: Value; label: string }
      const label: string = r.label;
      return [r.value, label];
    });
    expect(out).toEqual([1.5, "three"]);
    // Arguments are checked against the callee's parameters (compile-time checks only).
    const never = false;
    if (never)
      run(function* () {
        // @ts-expect-error: the second argument must be a string
        yield* call(half, 3, 4);
        // @ts-expect-error: an argument is missing
        yield* call(half, 3);
        // @ts-expect-error: the result is an object, not a number
        const n: number = yield* call(half, 3, "x");
        return n;
      });
  });
});

describe("call: errors", () => {
  it("an error thrown in a callee reaches the caller's try/catch at its yield*, and every finally runs", () => {
    const log: string[] = [];
    function* fails(x: Value): Gen<Value> {
      try {
        yield* sin(x);
        throw new Error("callee failed");
      } finally {
        log.push("callee finally");
      }
    }
    function* middle(x: Value): Gen<Value> {
      try {
        return yield* call(fails, x);
      } finally {
        log.push("middle finally");
      }
    }
    const out = run(function* (x: Value) {
      try {
        return yield* call(middle, x);
      } catch (e) {
        log.push(`caught: ${(e as Error).message}`);
        return yield* cos(x); // the program goes on
      }
    }, 0.5);
    expect(out).toBe(Math.cos(0.5));
    expect(log).toEqual(["callee finally", "middle finally", "caught: callee failed"]);
  });

  it("an operation's error deep in a recursion reaches the root, under grad too, and the next run works", () => {
    function* down(x: Value, n: number): Gen<Value> {
      if (n === 0) return yield* add(x, zeros([3])); // a ShapeError at the bottom (x is [2])
      return yield* call(down, yield* mul(x, 1.5), n - 1);
    }
    const x = tensor([1, 2]);
    expect(() => run(down, x, 20_000)).toThrow(ShapeError);
    expect(() =>
      run(
        grad(function* (x: Value) {
          return yield* sum(yield* call(down, x, 20_000));
        }),
        x,
      ),
    ).toThrow(ShapeError);
    expect(depth()).toBe(1);
    // Caught at the root under grad: the gradient of what did run is right.
    const g = run(
      grad(function* (x: Value) {
        let y: Value;
        try {
          y = yield* call(down, x, 1_000);
        } catch {
          y = yield* mul(x, x);
        }
        return yield* sum(y);
      }),
      x,
    ) as Tensor;
    expect(Array.from(g.data)).toEqual([2, 4]);
    expect(run(rec, 0.5, 10)).toBe(run(loop, 0.5, 10));
  });

  it("call of something that is not a generator function is an EffectError in the caller", () => {
    expect(() => call(42 as never)).toThrow(EffectError);
    const notAGenerator = (x: number) => x as unknown as Gen<number>;
    const out = run(function* () {
      try {
        return yield* call(notAGenerator, 1);
      } catch (e) {
        return e;
      }
    });
    expect(out).toBeInstanceOf(EffectError);
    expect((out as EffectError).message).toContain("not a generator");
  });

  it("plain yield* recursion past the engine's stack is an EffectError that names call, and the next run works", () => {
    function* plain(x: Value, n: number): Gen<Value> {
      if (n === 0) return x;
      return yield* add(yield* plain(x, n - 1), 1);
    }
    for (const program of [plain, grad(plain)]) {
      let error: unknown;
      try {
        run(program, 0.5, DEEP);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EffectError);
      expect((error as EffectError)._tag).toBe("EffectError");
      expect((error as EffectError).message).toContain("yield* call(f, ...args)");
      expect((error as EffectError).cause).toBeInstanceOf(RangeError);
      expect(depth()).toBe(1);
    }
    expect(run(plain, 0.5, 100)).toBe(100.5);
    expect(run(grad(plain), 0.5, 100)).toBe(1);
  });
});

describe("fixpoint runs its eager recursion in frames too", () => {
  it("recurses 20,000 levels eagerly and under grad", () => {
    const countdown = fixpoint(function* (x: Value, n: number): Gen<Value> {
      if (n === 0) return x;
      return yield* add(yield* sin(yield* mul(yield* countdown(x, n - 1), x)), x);
    }, 0);
    const [y, dy] = reference(0.5, 20_000);
    close(run(countdown, 0.5, 20_000) as number, y, 1e-12);
    close(run(grad(countdown), 0.5, 20_000) as number, dy, 1e-9);
  }, 60_000);
});
