// Buffers of jitted programs: values read only inside one call keep one buffer across calls;
// nothing the caller receives is ever overwritten by a later call.
import { describe, expect, it } from "vitest";
import { add, dynamicIndex, exp, grad, jit, matmul, mul, reshape, run, scan, sin, sum, tanh, tensor, valueAndGrad, type Tensor, type Value } from "../src/index.ts";
import { expectSame } from "./expect-same.ts";

const W = tensor([[0.5, -0.2], [0.1, 0.3]]);

describe("buffer reuse in compiled code", () => {
  it("reuses the buffer of an intermediate read only by kernels", () => {
    const f = function* (x: Value) {
      const h = yield* tanh(yield* add(yield* mul(x, 2), 1)); // fused; read by matmul only
      return yield* sum(yield* matmul(h, W));
    };
    const j = jit(f);
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[-1, 0.5], [0.25, 2]]);
    expect(run(j, a)).toEqual(run(f, a));
    expect(run(j, b)).toEqual(run(f, b)); // the second call sees fresh values in the reused buffer
    expect(j.info.sources()[0]).toMatch(/= B\[0\];/);
  });

  it("never reuses what the caller receives: outputs, views of them, loop carries", () => {
    const f = function* (x: Value) {
      const y = yield* exp(yield* mul(x, 0.5)); // fused and returned
      const r = yield* reshape(yield* add(y, 1), [4]); // fused, then viewed by reshape, returned
      return { y, r };
    };
    const j = jit(f);
    const first = run(j, tensor([[1, 2], [3, 4]])) as { y: Tensor; r: Tensor };
    const keepY = Array.from(first.y.data);
    const keepR = Array.from(first.r.data);
    run(j, tensor([[9, 9], [9, 9]]));
    expect(Array.from(first.y.data)).toEqual(keepY);
    expect(Array.from(first.r.data)).toEqual(keepR);
    const g = jit(function* (x: Value) {
      const [c] = yield* scan(function* (c: Value) { return [yield* tanh(yield* add(yield* mul(c, 0.9), 0.1)), 0] as [Value, number]; }, x, null, { length: 3 });
      return c;
    });
    const c1 = run(g, tensor([1, 2])) as Tensor;
    const keepC = Array.from(c1.data);
    run(g, tensor([5, 6]));
    expect(Array.from(c1.data)).toEqual(keepC);
  });

  it("keeps jit(grad(f)) equal to eager over repeated calls", () => {
    const f = function* (x: Value) {
      const h = yield* tanh(yield* add(yield* mul(x, 2), 1));
      return yield* sum(yield* mul(yield* matmul(h, W), h));
    };
    const jg = jit(grad(f));
    for (const x of [tensor([[1, 2], [3, 4]]), tensor([[0.1, -0.2], [0.3, 0.05]]), tensor([[1, 2], [3, 4]])])
      expect(Array.from((run(jg, x) as Tensor).data)).toEqual(Array.from((run(grad(f), x) as Tensor).data));
  });

  it("intermediates live in the program's scratch memory; results are copied out of it", () => {
    // matmul and sum results are kernel outputs: scratch memory from the second call on
    const f = function* (x: Value) {
      const m = yield* matmul(x, W);
      const v = yield* reshape(m, [4]); // a view of scratch memory, returned
      return { v, s: yield* sum(yield* mul(m, m)) };
    };
    const j = jit(f);
    const xs = [tensor([[1, 2], [3, 4]]), tensor([[-1, 0.5], [0.25, 2]]), tensor([[7, 8], [9, 10]])];
    const got = xs.map((x) => run(j, x) as { v: Tensor; s: Tensor });
    const want = xs.map((x) => run(f, x) as { v: Tensor; s: Tensor });
    // every earlier result is unchanged by the later calls
    got.forEach((g, i) => {
      expect(Array.from(g.v.data)).toEqual(Array.from(want[i]!.v.data));
      expect(g.s.item()).toBe(want[i]!.s.item());
    });
  });

  it("a long program is split into functions V8 optimizes; values cross between them", () => {
    // 600 unrolled steps of a scalar chain and a small tensor recurrence, forward and backward
    const f = function* (x: Value, v: Value) {
      let y: Value = x;
      let h: Value = v;
      for (let i = 0; i < 600; i++) {
        y = yield* add(yield* sin(yield* mul(y, x)), x);
        if (i % 50 === 0) h = yield* tanh(yield* add(yield* matmul(h, W), y));
      }
      return yield* add(y, yield* sum(h));
    };
    const jg = jit(valueAndGrad(f, { argnums: [0, 1] }));
    const v = tensor([[0.3, -0.1]]);
    for (const x of [0.5, 0.7]) expectSame(run(jg, x, v), run(valueAndGrad(f, { argnums: [0, 1] }), x, v));
    const src = jg.info.sources()[0]!;
    expect(src).toMatch(/function part0\(I, R\)/);
    expect(src).toMatch(/function part3\(I, R\)/);
    expect(src).toMatch(/R\[\d+\] = v\d+;/);
  });
});

describe("jit(f, { reuseOutputs: true }): results in buffers the program keeps", () => {
  // A training step's shape: a matmul gradient (a kernel result), a fused loop's result, a sum
  // held in the scratch memory and copied out, an input passed through, a number.
  const step = function* (w: Value, x: Value) {
    const h = yield* tanh(yield* matmul(x, w));
    const y = yield* mul(yield* add(h, 1), 3); // fused, returned
    return { loss: yield* sum(y), y, x, two: 2 };
  };
  const vg = valueAndGrad(function* (w: Value, x: Value) {
    return (yield* step(w, x)).loss;
  });
  const w = tensor([[0.5, -0.2, 0.1], [0.1, 0.3, -0.4]]);
  const x1 = tensor([[1, 2], [3, 4], [5, 6]]);
  const x2 = tensor([[-1, 0.5], [0.25, 2], [0, 1]]);
  type Out = { loss: Tensor; y: Tensor; x: Tensor; two: number };

  it("gives the same numbers as fresh results, call after call", () => {
    const fresh = jit(step);
    const kept = jit(step, { reuseOutputs: true });
    for (const x of [x1, x2, x1, x2]) expectSame(run(kept, w, x), run(fresh, w, x), 0);
    const g = jit(vg, { reuseOutputs: true });
    for (const x of [x1, x2, x1]) expectSame(run(g, w, x), run(valueAndGrad(function* (w: Value, x: Value) {
      return (yield* step(w, x)).loss;
    }), w, x));
  });

  it("overwrites the previous call's results (after the first calls size the buffers); inputs pass through", () => {
    const kept = jit(step, { reuseOutputs: true });
    run(kept, w, x1); // (sizes the results' buffer: the first call's results are fresh)
    const a = run(kept, w, x1) as Out;
    const aY = Array.from(a.y.data);
    const b = run(kept, w, x2) as Out;
    expect(b.y.buf.buffer).toBe(a.y.buf.buffer); // one buffer, reused
    expect(Array.from(a.y.data)).toEqual(Array.from(b.y.data)); // a's view now shows b's values
    expect(Array.from(a.y.data)).not.toEqual(aY);
    expect(b.x).toBe(x2); // an input is returned as it is, never copied into the kept buffers
    expect(b.two).toBe(2);
    // without the option every call's results are its own
    const fresh = jit(step);
    const c = run(fresh, w, x1) as Out;
    const cY = Array.from(c.y.data);
    run(fresh, w, x2);
    expect(Array.from(c.y.data)).toEqual(cY);
  });

  it("an error inside a call leaves the next call working", () => {
    const table = tensor([[1, 2], [3, 4]]);
    const f = jit(function* (t: Value, i: Value) {
      return yield* mul(yield* dynamicIndex(t, i), 2); // an index out of range fails at run time
    }, { reuseOutputs: true });
    expect(Array.from((run(f, table, 1) as Tensor).data)).toEqual([6, 8]);
    expect(() => run(f, table, 5)).toThrow(/dynamicIndex/);
    const p = run(f, table, 0) as Tensor;
    expect(Array.from(p.data)).toEqual([2, 4]);
    const q = run(f, table, 1) as Tensor;
    expect(Array.from(q.data)).toEqual([6, 8]);
    expect(q.buf.buffer).toBe(p.buf.buffer); // and the kept buffers are in use again
  });

  it("rejects options that are not { reuseOutputs: boolean }", () => {
    expect(() => jit(step, { reuseOutputs: "yes" as unknown as boolean })).toThrow(/jit: reuseOutputs must be true or false/);
    expect(() => jit(step, null as unknown as object)).toThrow(/jit: options must be an object/);
  });
});

describe("reuseOutputs when a call is fed its own results", () => {
  it("a step that returns new params, fed them again, computes as without the option", () => {
    // a JAX-style training step: params in, new params out
    const step = function* (w: Value, x: Value) {
      const g = yield* mul(yield* tanh(yield* matmul(x, w)), 0.1);
      return yield* add(w, yield* sum(g, 0, true)); // w [2, 3] + a [1, 3] row
    };
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    const kept = jit(step, { reuseOutputs: true });
    const fresh = jit(step);
    let a: Value = tensor([[0.5, -0.2, 0.1], [0.1, 0.3, -0.4]]);
    let b: Value = a;
    for (let i = 0; i < 5; i++) {
      a = run(kept, a, x) as Tensor;
      b = run(fresh, b, x) as Tensor;
      expectSame(a, b, 0);
    }
  });
});
