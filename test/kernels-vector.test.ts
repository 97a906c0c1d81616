// The vector kernels (src/kernels/vector.ts): WebAssembly SIMD vs the JS loops over random
// lengths (odd ones, not multiples of the lanes, below and above the SIMD threshold), float32
// and float64, NaN and infinities; the optimizers through them.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adagradStep, addInto, sgdStep } from "../src/kernels/vector.ts";
import { wasmSimdSupported, withWasmEnabled } from "../src/kernels/wasm/gemm.ts";

type Buf = Float32Array | Float64Array;

const withWasm = withWasmEnabled;

const random = (n: number, seed: number, f32: boolean): Buf => {
  const b = f32 ? new Float32Array(n) : new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    b[i] = (s / 2 ** 32) * 4 - 2;
  }
  return b;
};

/** Same values: float64 exactly (same order of operations), float32 within 1e-6 relative. */
const expectAgree = (got: Buf, want: Buf, f32: boolean): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w)) expect(g, `[${i}]`).toBeNaN();
    else if (!f32 || !Number.isFinite(w)) expect(g, `[${i}]`).toBe(w);
    else expect(Math.abs(g - w), `[${i}]: ${g} vs ${w}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w)));
  }
};

const both = <T extends Buf[]>(run: (on: boolean) => T, f32: boolean): void => {
  const js = withWasm(false, () => run(false));
  const simd = withWasm(true, () => run(true));
  js.forEach((b, i) => expectAgree(simd[i]!, b, f32));
};

const lengthArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 3000 }));
const cases = fc.record({ n: lengthArb, seed: fc.nat(), f32: fc.boolean() });

describe("vector kernels: WebAssembly SIMD = JS", () => {
  it.runIf(wasmSimdSupported())("the SIMD module loads", () => {
    expect(withWasm(true, () => sgdStep(new Float64Array(1000), new Float64Array(1000), new Float64Array(1000), 0.1, 0))).toBe(true);
  });

  it("addInto", () => {
    fc.assert(
      fc.property(cases, ({ n, seed, f32 }) =>
        both(() => {
          const a = random(n, seed, f32);
          addInto(a, random(n, seed + 1, f32));
          return [a];
        }, f32),
      ),
      { numRuns: 40 },
    );
  });

  it("sgd step", () => {
    fc.assert(
      fc.property(cases, fc.constantFrom(0, 0.01), ({ n, seed, f32 }, wd) =>
        both((on) => {
          const out = f32 ? new Float32Array(n) : new Float64Array(n);
          const p = random(n, seed, f32);
          const g = random(n, seed + 1, f32);
          if (!on || !sgdStep(p, g, out, 0.05, wd)) for (let k = 0; k < n; k++) out[k] = p[k]! - 0.05 * (g[k]! + wd * p[k]!);
          return [out];
        }, f32),
      ),
      { numRuns: 40 },
    );
  });

  it("adagrad step with clipping, NaN and infinities placed where they were", () => {
    fc.assert(
      fc.property(cases, fc.boolean(), ({ n, seed, f32 }, poison) =>
        both((on) => {
          const [p, g, a] = [random(n, seed, f32), random(n, seed + 1, f32), random(n, seed + 2, f32).map(Math.abs) as Buf];
          if (poison) {
            g[0] = NaN;
            g[n - 1] = Infinity;
          }
          const [outP, outA] = [p.slice(), a.slice()].map((b) => b.fill(0)) as [Buf, Buf];
          const [rate, eps, lo, hi] = [0.1, 1e-8, -1, 1];
          if (!on || !adagradStep(p, g, a, outP, outA, rate, eps, lo, hi))
            for (let k = 0; k < n; k++) {
              const g0 = g[k]!;
              const gk = g0 < lo ? lo : g0 > hi ? hi : g0;
              const ak = a[k]! + gk * gk;
              outA[k] = ak;
              outP[k] = p[k]! - (rate * gk) / Math.sqrt(ak + eps);
            }
          return [outP, outA];
        }, f32),
      ),
      { numRuns: 40 },
    );
  });
});
