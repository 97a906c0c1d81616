// Reverse mode over 3 million scalar effects must not overflow the stack (one iterative
// driver, the pending backward steps on a heap stack), and must give the right derivative.
import { describe, it, expect } from "vitest";
import { run, valueAndGrad, add, mul, sin, type Value } from "../src/index.ts";

const STEPS = 1_000_000; // 3 primitive ops each: mul, sin, add

describe("stack safety", () => {
  it(
    "valueAndGrad of y ← sin(y·x) + x iterated 1,000,000 times (3M effects)",
    () => {
      function* f(x: Value) {
        let y: Value = x;
        for (let i = 0; i < STEPS; i++) y = yield* add(yield* sin(yield* mul(y, x)), x);
        return y;
      }
      const x = 0.5;
      const [value, dydx] = run(valueAndGrad(f), x);

      // The same recurrence differentiated by hand (forward, in plain JS):
      // y' = sin(y·x) + x,  dy' = cos(y·x)·(dy·x + y) + 1, from y₀ = x, dy₀ = 1.
      let y = x;
      let dy = 1;
      for (let i = 0; i < STEPS; i++) {
        const z = y * x;
        const dz = dy * x + y;
        y = Math.sin(z) + x;
        dy = Math.cos(z) * dz + 1;
      }
      expect(typeof value).toBe("number");
      expect(typeof dydx).toBe("number");
      expect(Math.abs((value as number) - y)).toBeLessThanOrEqual(1e-14 * Math.abs(y)); // the same float64 operations
      expect(Math.abs((dydx as number) - dy)).toBeLessThanOrEqual(1e-12 * Math.abs(dy));
      expect(Math.abs(dy)).toBeGreaterThan(1); // a nontrivial derivative
    },
    120_000,
  );
});
