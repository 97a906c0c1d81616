// The GPU benchmark's agreement check (bench/webgpu/agree.ts) and its table, without a browser:
// a result the CPU backend does not give must stop the run, an agreeing one must pass, and
// figures measured on SwiftShader must never be labelled as a GPU's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FLOAT32, adapterLabel, checkAgreement, checkProduct, isCpuEmulation } from "../bench/webgpu/agree.ts";
import { gpuTable } from "../bench/webgpu/table.ts";

/** A k-long float32 dot product summed in order, as one GPU thread sums it. */
const dot32 = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.fround(s + Math.fround(a[i]! * b[i]!));
  return s;
};

describe("checkAgreement: a step's loss and parameters against the CPU's", () => {
  const want = { loss: Float32Array.of(2.302585), W1: Float32Array.of(0.5, -0.25, 1e-3, 0) };

  it("passes on the same values and on float32 rounding differences, reporting the largest share of the tolerance", () => {
    expect(checkAgreement("W2", "eager", want, want)).toBe(0);
    const got = { loss: Float32Array.of(2.302585 * (1 + 2e-6)), W1: Float32Array.of(0.5 + 1e-6, -0.25, 1e-3, 1e-6) };
    const worst = checkAgreement("W2", "eager", got, want);
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(1);
  });

  it("throws on a wrong element, naming the workload, the array, the element and both values", () => {
    const got = { loss: want.loss, W1: Float32Array.of(0.5, -0.25, 1.1e-3, 0) };
    expect(() => checkAgreement("W2", "jit on webgpu", got, want)).toThrow(/^W2: jit on webgpu disagrees with the CPU backend: W1\[2\] is 0\.001099999.*, the CPU's 0\.001000000.* \(allowed ±0\.0000101\)/);
  });

  it("throws on NaN, a missing array and a wrong length", () => {
    expect(() => checkAgreement("W6", "eager", { loss: Float32Array.of(NaN), W1: want.W1 }, want)).toThrow(/loss\[0\] is NaN/);
    expect(() => checkAgreement("W6", "eager", { loss: want.loss }, want)).toThrow(/has no W1/);
    expect(() => checkAgreement("W6", "eager", { loss: want.loss, W1: want.W1.subarray(1) }, want)).toThrow(/W1 has 3 elements, the CPU's 4/);
  });

  it("any element moved beyond the tolerance fails, and within it passes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.double({ min: 1.01, max: 1e6, noNaN: true }),
        (values, at, factor) => {
          const w = Float32Array.from(values);
          const i = at % w.length;
          const bound = FLOAT32.atol + FLOAT32.rtol * Math.abs(w[i]!);
          const near = Float64Array.from(w);
          near[i] = w[i]! + 0.5 * bound;
          const far = Float64Array.from(w);
          far[i] = w[i]! + factor * bound;
          expect(checkAgreement("W2", "eager", { p: near }, { p: w })).toBeLessThanOrEqual(1);
          expect(() => checkAgreement("W2", "eager", { p: far }, { p: w })).toThrow(new RegExp(`p\\[${i}\\]`));
        },
      ),
    );
  });
});

describe("checkProduct: W7's product within the dot product's rounding bound", () => {
  const n = 64;
  const k = 96;
  const a = Float32Array.from({ length: n * k }, (_, i) => Math.sin(i * 1.3) * 3);
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.7));
  const col = (j: number): Float32Array => Float32Array.from({ length: k }, (_, p) => b[p * n + j]!);
  const row = (i: number): Float32Array => a.subarray(i * k, (i + 1) * k);
  const exact = new Float64Array(n * n);
  const float32 = new Float32Array(n * n);
  const scale = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const [r, c] = [row(i), col(j)];
      for (let p = 0; p < k; p++) {
        exact[i * n + j] += r[p]! * c[p]!;
        scale[i * n + j] += Math.abs(r[p]! * c[p]!);
      }
      float32[i * n + j] = dot32(r, c);
    }

  it("a float32 product summed in order agrees with the exact one", () => {
    const worst = checkProduct("W7", "eager", float32, exact, scale, k);
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(1);
  });

  it("a product with one wrong element, or a transposed one, fails", () => {
    const wrong = Float32Array.from(float32);
    wrong[n * 5 + 7] += 1e-3 * scale[n * 5 + 7]!;
    expect(() => checkProduct("W7", "jit on webgpu", wrong, exact, scale, k)).toThrow(/^W7: jit on webgpu disagrees with the CPU backend: product\[327\]/);
    const transposed = Float32Array.from({ length: n * n }, (_, i) => float32[(i % n) * n + Math.floor(i / n)]!);
    expect(() => checkProduct("W7", "eager", transposed, exact, scale, k)).toThrow(/disagrees with the CPU backend/);
  });
});

describe("the adapter's label", () => {
  const swiftshader = { vendor: "google", architecture: "swiftshader", device: "", description: "", isFallbackAdapter: true };

  it("SwiftShader's figures are labelled CPU emulation, not a GPU figure (by name or as a fallback adapter)", () => {
    expect(isCpuEmulation(swiftshader)).toBe(true);
    expect(adapterLabel(swiftshader)).toBe("SwiftShader (CPU emulation), not a GPU figure");
    expect(adapterLabel({ description: "SwiftShader Device (Subzero)" })).toBe("SwiftShader (CPU emulation), not a GPU figure");
    expect(adapterLabel({ vendor: "microsoft", architecture: "warp", isFallbackAdapter: true })).toBe(
      "microsoft warp (a fallback adapter: CPU emulation), not a GPU figure",
    );
  });

  it("a GPU's figures carry its name", () => {
    const gpu = { vendor: "nvidia", architecture: "ampere", device: "", description: "", isFallbackAdapter: false };
    expect(isCpuEmulation(gpu)).toBe(false);
    expect(adapterLabel(gpu)).toBe("nvidia ampere");
  });

  it("the table puts the label on every row, and a missing row's reason instead of a number", () => {
    const label = adapterLabel(swiftshader);
    const text = gpuTable({
      label,
      rows: [
        { workload: "W7", mode: "eager", unit: "GFLOP/s", timing: { median: 0.32, min: 0.16, max: 0.41 }, note: "with the read back" },
        { workload: "W7", mode: "jit", unit: "GFLOP/s", missing: "jit: an argument is a webgpu tensor | not yet", note: "" },
      ],
    });
    const rows = text.split("\n").slice(2);
    expect(rows).toEqual([
      `| W7 | eager | 0.320 | 0.160 – 0.410 | GFLOP/s | ${label} | with the read back |`,
      `| W7 | jit | — | — | GFLOP/s | ${label} | not measured: jit: an argument is a webgpu tensor \\| not yet |`,
    ]);
  });
});
