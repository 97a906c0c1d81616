// Code generation that avoids kernel calls: gate slices read inside fused loops, the sum of
// disjoint zero-pads (their gradient) built in place, one-element operands broadcast in a loop,
// reshape and dynamicIndex inline. Each must give eager's numbers, forward and backward.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  add, dynamicIndex, grad, jit, logSoftmax, makeIR, matmul, mul, randn, relu, reshape, run, sigmoid, slice, sub, sum, tanh, tensor, valueAndGrad,
  type Tensor, type Value,
} from "../src/index.ts";
import { expectSame } from "./expect-same.ts";
import { simdElementwise } from "../src/kernels/vector.ts";
import { wasmUnavailableReason } from "../src/kernels/wasm/gemm.ts";

/** An LSTM-like gate split: z [4n] sliced into four gates, combined elementwise. */
function* gates(z: Value, c: Value, n: number) {
  const [i, f, o, u] = [0, 1, 2, 3].map((k) => ({ from: k * n, to: (k + 1) * n }));
  const gi = yield* sigmoid(yield* slice(z, [i!.from], [i!.to]));
  const gf = yield* sigmoid(yield* slice(z, [f!.from], [f!.to]));
  const go = yield* sigmoid(yield* slice(z, [o!.from], [o!.to]));
  const gu = yield* tanh(yield* slice(z, [u!.from], [u!.to]));
  const c2 = yield* add(yield* mul(gi, gu), yield* mul(gf, c));
  return yield* mul(go, yield* tanh(c2));
}

const vector = (n: number) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }).map((v) => tensor(v));

describe("fusion without kernel calls", () => {
  it("slices of a gate vector and the pads of their gradient: jit(grad) = grad, and the code reads in place", () => {
    const n = 5;
    const f = function* (z: Value, c: Value) {
      return yield* sum(yield* gates(z, c, n));
    };
    const jg = jit(grad(f, { argnums: [0, 1] }));
    fc.assert(
      fc.property(vector(4 * n), vector(n), (z, c) => {
        expectSame(run(jg, z, c), run(grad(f, { argnums: [0, 1] }), z, c));
      }),
      { numRuns: 30 },
    );
    const src = makeIR(grad(f, { argnums: [0, 1] }))(tensor(new Array(4 * n).fill(0.1)), tensor(new Array(n).fill(0.2))).source;
    expect(src).toMatch(/\[i \+ 15\]/); // the u gate read at its offset in the fused loop
    expect(src).toMatch(/o\d+\.set\(v\d+\.buf, 15\)/); // its gradient written into place
  });

  it("a one-element operand (a sum) is read as element 0 of a fused loop; small totals and their broadcasts inline", () => {
    const f = function* (x: Value) {
      const s = yield* sum(x, 0, true); // [1]
      return yield* sum(yield* mul(yield* sub(x, s), yield* add(x, s)));
    };
    const vg = valueAndGrad(f);
    fc.assert(fc.property(vector(7), (x) => expectSame(run(jit(vg), x), run(vg, x))), { numRuns: 20 });
    const src = makeIR(vg)(tensor([1, 2, 3])).source;
    expect(src).toMatch(/b\d+\[0\]/); // the [1] sum read as element 0
    expect(src).toMatch(/s\d+ \+= b\[i\]/); // the small total summed inline
    expect(src).not.toMatch(/P\[/); // and no kernel call is left at all
  });

  it("logSoftmax with its gradient, reshape and dynamicIndex rows inside jit = eager", () => {
    const f = function* (table: Value, i: Value, w: Value) {
      const row = yield* dynamicIndex(table, i); // [4]
      const y = yield* logSoftmax(yield* mul(yield* reshape(row, [2, 2]), w));
      return yield* sum(yield* mul(y, y));
    };
    const table = tensor([[1, 2, 3, 4], [-1, 0.5, 2, -3], [0, 0, 0, 0]]);
    const w = tensor([[0.5, -1], [2, 0.25]]);
    const vg = valueAndGrad(f, { argnums: 2 });
    for (const i of [0, 1, 2]) expectSame(run(jit(vg), table, i, w), run(vg, table, i, w));
    expect(() => run(jit(vg), table, 3, w)).toThrow(/dynamicIndex: index 3 is out of range for axis 0 of shape \[3, 4\]/);
    expectSame(run(jit(vg), table, 1, w), run(vg, table, 1, w)); // and the next call works
    const [, g] = run(vg, table, 0, w) as [number, Tensor];
    expect(g.shape).toEqual([2, 2]);
  });

  it("an unrolled RNN: the weight gradient's sum of per-step outer products is one product, bias sums inline", () => {
    // h ← tanh(h·W + x_t·U + b) over 6 steps, h [1, 4], x_t [1, 3]; loss Σ h
    for (const dtype of ["float64", "float32"] as const) {
      const f = function* (p: { W: Value; U: Value; b: Value }, xs: readonly Value[]) {
        let h: Value = tensor([[0.1, -0.2, 0.3, 0]], { dtype });
        for (const x of xs) h = yield* tanh(yield* add(yield* add(yield* matmul(h, p.W), yield* matmul(x, p.U)), p.b));
        return yield* sum(h);
      };
      const p = { W: randn([4, 4], { seed: 1, dtype }), U: randn([3, 4], { seed: 2, dtype }), b: randn([4], { seed: 3, dtype }) };
      const xs = Array.from({ length: 6 }, (_, t) => randn([1, 3], { seed: 10 + t, dtype }));
      const vg = valueAndGrad(f);
      expectSame(run(jit(vg), p, xs), run(vg, p, xs), dtype === "float64" ? 1e-12 : 1e-5);
      const src = makeIR(vg)(p, xs).source;
      // dW and dU: the 6 steps' pairs each (the first step's h is a constant)
      expect(src.match(/K\.outerSum\(\[((v\d+|C\[\d+\]), ){11}(v\d+|C\[\d+\])\]/g)).toHaveLength(2);
      // every operation inline, summed or a pinned matrix-vector product (its kernel the fallback)
      expect(src.split("\n").filter((l) => l.includes("P[") && !l.includes("K.matvec("))).toEqual([]);
    }
  });
  it("a large run of operations that run in SIMD (relu's gradient, a bias): kernel calls, not a JS loop, with eager's bits", () => {
    // 64 x 100 = 6,400 elements, above the size from which a run calls the SIMD kernels
    const f = function* (w: Value, x: Value, b: Value) {
      const h = yield* relu(yield* add(yield* matmul(x, w), b));
      return yield* sum(yield* mul(h, h));
    };
    const x = randn([64, 30], { seed: 1 });
    const w = randn([30, 100], { seed: 2 });
    const b = randn([100], { seed: 3 });
    for (const dtype of ["float32", "float64"] as const) {
      const cast = (t: Tensor): Tensor => (dtype === "float64" ? t : tensor(Array.from(t.buf), { dtype, shape: t.shape }));
      const [xc, wc, bc] = [cast(x), cast(w), cast(b)];
      const vg = valueAndGrad(f, { argnums: [0, 2] });
      const calls = simdElementwise.calls;
      const got = run(jit(vg), wc, xc, bc);
      if (wasmUnavailableReason() === undefined) expect(simdElementwise.calls).toBeGreaterThan(calls);
      expectSame(got, run(vg, wc, xc, bc), 0); // bit for bit: the same kernels
    }
    const src = makeIR(valueAndGrad(f))(w, x, b).source;
    if (wasmUnavailableReason() === undefined) {
      // relu's gradient (x > 0) * ct: two kernel calls, no loop over the 6,400 elements
      expect(src).not.toMatch(/i < 6400/);
      expect(src).toMatch(/P\[\d+\]\.impl\(\[v\d+, \(0\)\]/);
    } else expect(src).toMatch(/i < 6400/); // without WebAssembly, one fused loop is faster
  });
});
