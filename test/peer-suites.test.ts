// Regressions found by the peers' own test suites (HIPS/autograd, google/jax, jax-js), rewritten
// against yieldiff. Each test is named after the peer test it comes from.
import { describe, expect, it } from "vitest";
import {
  add,
  checkpoint,
  cos,
  customVjp,
  div,
  grad,
  jit,
  jvp,
  less,
  logSoftmax,
  mul,
  pow,
  run,
  sin,
  softmax,
  sum,
  tensor,
  zeros,
  Tensor,
  TransformError,
  valueAndGrad,
  vjp,
  vmap,
  whileLoop,
  type Value,
} from "../src/index.ts";
import type { Gen } from "../src/transforms/common.ts";
import { checkGrads } from "./check-grads.ts";
import { expectClose } from "./fd.ts";

/** JAX's f: cos(2x)/2 whose custom rule says its derivative is 3 (not −sin 2x). */
const fCustom = customVjp(
  function* f(x: Value) {
    return yield* div(yield* cos(yield* mul(2, x)), 2);
  },
  function* fwd(x: Value) {
    return [yield* div(yield* cos(yield* mul(2, x)), 2), x] as [Value, unknown];
  },
  function* bwd(_res: never, g: never) {
    return [yield* mul(3, g as Value)];
  },
);

describe("jax CustomVJPTest.test_invariance: a custom rule holds at every level", () => {
  it("grad f = 3", () => {
    expect(run(grad(fCustom), 1)).toBe(3);
  });
  it("grad of valueAndGrad(f)'s value = 3", () => {
    const f2 = function* (x: Value) {
      return (yield* valueAndGrad(fCustom)(x))[0];
    };
    expect(run(grad(f2), 1)).toBe(3);
  });
  it("grad of vjp(f)'s value = 3", () => {
    const f3 = function* (x: Value) {
      return (yield* vjp(fCustom, x))[0];
    };
    expect(run(grad(f3), 1)).toBe(3);
  });
  it("grad of jvp(f)'s value = 3, and jvp of grad(f) = 0 (the rule is linear)", () => {
    const f4 = function* (x: Value) {
      return (yield* jvp(fCustom, [x], [1]))[0];
    };
    expect(run(grad(f4), 1)).toBe(3);
    const [g, dg] = run(function* () {
      return yield* jvp(grad(fCustom), [1], [1]);
    });
    expect([g, dg]).toEqual([3, 0]);
  });
  it("grad∘grad of valueAndGrad(f)'s gradient = 0 (the gradient 3 is constant)", () => {
    const g = function* (x: Value) {
      return (yield* valueAndGrad(fCustom)(x))[1];
    };
    expect(run(grad(g), 1)).toBe(0);
  });
});

describe("jax RematTest.test_remat_freevars: checkpoint of a function closing over a traced value", () => {
  // f1 computes z directly; f2 checkpoints the part that reads y through a closure.
  function* f1(x: Value) {
    const y = yield* mul(2, yield* sin(x));
    return yield* mul(yield* cos(x), yield* sin(y));
  }
  function* f2(x: Value) {
    const y = yield* mul(2, yield* sin(x));
    return yield* checkpoint(function* (v: Value) {
      return yield* mul(yield* cos(v), yield* sin(y));
    })(x);
  }
  it("jvp matches the function without checkpoint (numbers, not boxes)", () => {
    const got = run(function* () {
      return yield* jvp(f2, [2], [1]);
    });
    const want = run(function* () {
      return yield* jvp(f1, [2], [1]);
    });
    expect(typeof got[0]).toBe("number");
    expect(typeof got[1]).toBe("number");
    expectClose(got, want, { rtol: 1e-12 });
    expectClose(got[1], -0.9665, { rtol: 1e-4 });
  });
  it("grad(x ↦ checkpoint(v ↦ v·sin x)(x))(2) = sin 2 + 2 cos 2", () => {
    const g = run(
      grad(function* (x: Value) {
        return yield* checkpoint(function* (v: Value) {
          return yield* mul(v, yield* sin(x));
        })(x);
      }),
      2,
    );
    expect(typeof g).toBe("number");
    expectClose(g, Math.sin(2) + 2 * Math.cos(2), { rtol: 1e-12 });
  });
  it("first and second order, forward and reverse, against finite differences", () => {
    checkGrads(f2, [0.7], { order: 2, name: "remat_freevars" });
  });
});

describe("jax CustomVJPTest.test_closure_with_vmap2: customVjp inside vmap closing over the mapped value", () => {
  // h(z) = Σₓ g(z) over x ∈ [0, 1, 2], g(y) = x·y with the rule ḡ ↦ ruleScale·x·ḡ (residual x).
  const h = (ruleScale: number) =>
    function* (z: Value) {
      const perX = vmap(function* (x: Value) {
        const g = customVjp(
          function* (y: Value) {
            return yield* mul(x, y);
          },
          function* (y: Value) {
            return [yield* mul(x, y), x] as [Value, unknown];
          },
          function* (res: never, w: never) {
            return [yield* mul(ruleScale, yield* mul(res as Value, w as Value))];
          },
        );
        return yield* g(z);
      });
      return yield* sum(yield* perX(tensor([0, 1, 2])));
    };
  it("grad(h)(3.14) = 3", () => {
    expectClose(run(grad(h(1)), 3.14), 3, { rtol: 1e-12 });
    expectClose(run(h(1), 3.14), 3 * 3.14, { rtol: 1e-12 });
  });
  it("the rule is the one used, once per example", () => {
    expectClose(run(grad(h(10)), 3.14), 30, { rtol: 1e-12 });
  });
});

describe("closures over a differentiated value in customVjp: an error, as in JAX", () => {
  it("test_closed_over_tracers_error_message: customVjp reading the grad's own value", () => {
    const f = function* (x: Value) {
      const g = customVjp(
        function* (y: Value) {
          return yield* mul(x, y);
        },
        function* (y: Value) {
          return [yield* mul(x, y), null] as [Value, unknown];
        },
        function* (_r: never, ct: never) {
          return [ct];
        },
      );
      return yield* g(2);
    };
    expect(() => run(grad(f), 3)).toThrow(/customVjp.*reads a value of the enclosing grad through a closure.*pass that value as an argument/);
    // no state leaks: the next call works
    expect(run(grad(fCustom), 1)).toBe(3);
  });
  it("bwd reading a differentiated value through a closure is an error, not a wrong number", () => {
    const f = function* (x: Value) {
      const g = customVjp(
        function* (y: Value) {
          return yield* mul(y, y);
        },
        function* (y: Value) {
          return [yield* mul(y, y), y] as [Value, unknown];
        },
        function* (_r: never, ct: never) {
          return [yield* mul(x, ct as Value)];
        },
      );
      return yield* g(x);
    };
    expect(() => run(grad(f), 3)).toThrow(/bwd reads a value of the enclosing grad through a closure/);
  });
  it("a user's try/catch around the capture cannot hide it", () => {
    const f = function* (x: Value) {
      const g = customVjp(
        function* (y: Value) {
          try {
            return yield* mul(x, y);
          } catch {
            return y;
          }
        },
        function* (y: Value) {
          try {
            return [yield* mul(x, y), null] as [Value, unknown];
          } catch {
            return [y, null] as [Value, unknown];
          }
        },
        function* (_r: never, ct: never) {
          return [ct];
        },
      );
      return yield* g(2);
    };
    expect(() => run(grad(f), 3)).toThrow(/reads a value of the enclosing grad/);
  });
});

describe("jit under another transformation, closing over that transformation's value", () => {
  it("jax test_jit_closure / jvp: jvp(x ↦ jit(y ↦ x + y)(0), [1], [2]) = [1, 2]", () => {
    const got = run(function* () {
      return yield* jvp(
        function* (x: Value) {
          return yield* jit(function* (y: Value) {
            return yield* add(x, y);
          })(0);
        },
        [1],
        [2],
      );
    });
    expect(got).toEqual([1, 2]);
  });
  it("grad(x ↦ jit(y ↦ x·y)(2))(3) = 2", () => {
    const g = run(
      grad(function* (x: Value) {
        return yield* jit(function* (y: Value) {
          return yield* mul(x, y);
        })(2);
      }),
      3,
    );
    expect(g).toBe(2);
  });
  it("jax core_test fun_with_nested_calls_2: jit(x ↦ jit(() ↦ sin x)())(1) = sin 1", () => {
    expect(
      run(
        jit(function* (x: Value) {
          return yield* jit(function* () {
            return yield* sin(x);
          })();
        }),
        1,
      ),
    ).toBeCloseTo(Math.sin(1), 14);
  });
  it("jax test_jvp_jit_cached: two calls of one jitted closure under jvp = (45, 9)", () => {
    const func = function* (x: Value) {
      const inner = jit(function* (y: Value) {
        return yield* mul(y, x);
      });
      const r1 = yield* inner(4);
      const r2 = yield* inner(5);
      return yield* add(r1, r2);
    };
    expect(
      run(function* () {
        return yield* jvp(func, [5], [1]);
      }),
    ).toEqual([45, 9]);
  });
  it("nested jits and jvp inside grad agree with the same program without jit", () => {
    // `stage` is jit or the identity: both must give the same numbers at every order.
    type Stage = <A extends unknown[]>(f: (...a: A) => Gen<Value>) => (...a: A) => Gen<Value>;
    const make = (stage: Stage) =>
      function* (x: Value) {
        const baz = function* (w: Value) {
          let q = yield* stage(function* (_u: Value) {
            return yield* mul(x, 1);
          })(x);
          q = yield* add(q, yield* stage(function* () {
            return yield* sin(x);
          })());
          q = yield* add(q, yield* stage(function* (y: Value) {
            return yield* mul(w, y);
          })(x));
          return q;
        };
        const [p, t] = yield* jvp(baz, [yield* add(x, 1)], [x]);
        return yield* add(t, yield* mul(x, p));
      };
    const staged = make(jit);
    const plain = make((f) => f);
    for (const x of [0.3, 1.7]) {
      expectClose(run(staged, x), run(plain, x), { rtol: 1e-12 });
      expectClose(run(grad(staged), x), run(grad(plain), x), { rtol: 1e-12 });
      expectClose(run(grad(grad(staged)), x), run(grad(grad(plain)), x), { rtol: 1e-12 });
      expectClose(run(jit(grad(staged)), x), run(grad(plain), x), { rtol: 1e-12 });
    }
  });
});

describe("pow with an integer exponent at 0: every derivative finite", () => {
  const power = (n: number) =>
    function* (x: Value) {
      return yield* pow(x, n);
    };
  const nthGrad = (f: (x: Value) => Gen<Value>, k: number) => {
    let g = f;
    for (let i = 0; i < k; i++) g = grad(g) as typeof f;
    return g;
  };
  /** d^k/dx^k x^n at 0: n! when k = n, else 0. */
  const atZero = (n: number, k: number) => (k === n ? [1, 1, 2, 6, 24][n]! : 0);

  it("autograd test_power_arg0: grad(x^0)(0) = grad∘grad(x^0)(0) = 0", () => {
    expect(run(grad(power(0)), 0)).toBe(0);
    expect(run(grad(grad(power(0))), 0)).toBe(0);
  });
  it("jax testPowIntPowerAtZero: every derivative of x^n at 0, reverse, forward and under jit", () => {
    for (let n = 0; n <= 3; n++)
      for (let k = 1; k <= 4; k++) {
        const want = atZero(n, k);
        expect(run(nthGrad(power(n), k), 0), `d^${k}/dx^${k} x^${n}`).toBe(want);
        expect(run(jit(nthGrad(power(n), k)), 0), `jit d^${k}/dx^${k} x^${n}`).toBe(want);
        // forward over the (k−1)-th reverse derivative
        const [, t] = run(function* () {
          return yield* jvp(nthGrad(power(n), k - 1), [0], [1]);
        });
        expect(t, `jvp of d^${k - 1}/dx^${k - 1} x^${n}`).toBe(want);
      }
  });
  it("a tensor of integer exponents, and a differentiated exponent keeps its derivative", () => {
    const f = function* (x: Value) {
      return yield* sum(yield* pow(x, tensor([0, 1, 2, 3])));
    };
    expect((run(grad(f), tensor([0, 0, 0, 0])) as Tensor).toArray()).toEqual([0, 1, 0, 0]);
    const second = function* (x: Value) {
      return yield* sum(yield* grad(f)(x));
    };
    expect((run(grad(second), tensor([0, 0, 0, 0])) as Tensor).toArray()).toEqual([0, 0, 2, 0]);
    const third = function* (x: Value) {
      return yield* sum(yield* grad(second)(x));
    };
    expect((run(grad(third), tensor([0, 0, 0, 0])) as Tensor).toArray()).toEqual([0, 0, 0, 6]);
    // d/db a^b = a^b log a, unchanged
    expectClose(run(grad(function* (b: Value) {
      return yield* pow(2, b);
    }), 3), 8 * Math.log(2), { rtol: 1e-12 });
    checkGrads(function* (a: Value, b: Value) {
      return yield* pow(a, b);
    }, [1.3, 2.2], { order: 2, name: "pow" });
  });
});

describe("softmax / logSoftmax over an empty axis give an empty result (JAX)", () => {
  for (const [shape, axis] of [[[0], -1], [[2, 0], 1], [[0, 3], 0]] as const)
    it(`shape [${shape.join(", ")}], axis ${axis}: values, gradient and jit`, () => {
      for (const op of [softmax, logSoftmax]) {
        const f = function* (x: Value) {
          return yield* op(x, axis);
        };
        const x = zeros(shape);
        expect((run(f, x) as Tensor).shape).toEqual(shape);
        expect((run(jit(f), x) as Tensor).shape).toEqual(shape);
        const g = run(grad(function* (x: Value) {
          return yield* sum(yield* f(x));
        }), x) as Tensor;
        expect(g.shape).toEqual(shape);
      }
    });
});

describe("jax test_grad_negative_argnums: negative argnums count from the end", () => {
  const f = function* (x: Value, y: Value) {
    return yield* mul(yield* sin(x), y);
  };
  it("argnums -1 is the last argument, -2 the first", () => {
    expect(run(grad(f, { argnums: -1 }), 0.5, 2)).toBe(Math.sin(0.5));
    expect(run(grad(f, { argnums: -2 }), 0.5, 2)).toBe(2 * Math.cos(0.5));
    expect(run(valueAndGrad(f, { argnums: [-1, 0] }), 0.5, 2)).toEqual([2 * Math.sin(0.5), [Math.sin(0.5), 2 * Math.cos(0.5)]]);
  });
  it("out of range either way is a clear error", () => {
    expect(() => run(grad(f, { argnums: -3 }), 0.5, 2)).toThrow(/argnums -3 names argument -3.*\[-2, 1\]/);
    expect(() => run(grad(f, { argnums: 2 }), 0.5, 2)).toThrow(TransformError);
  });
});

describe("whileLoop under vmap (a deliberate difference from JAX) is a clear error", () => {
  it("names vmap and the alternatives", () => {
    const loop = vmap(function* (x: Value) {
      return yield* whileLoop(
        function* (c: Value) {
          return yield* less(c, 100);
        },
        function* (c: Value) {
          return yield* mul(c, 3);
        },
        x,
      );
    });
    expect(() => run(loop, tensor([5, 50]))).toThrow(/under vmap the loop condition is batched.*use scan/);
    // under grad too (the condition is a box of the grad over the batch)
    expect(() =>
      run(
        grad(function* (y: Value) {
          return yield* sum(yield* loop(yield* mul(y, tensor([5, 50]))));
        }),
        1,
      ),
    ).toThrow(/under vmap the loop condition is batched/);
  });
});
