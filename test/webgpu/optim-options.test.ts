// The optimizers' clipGlobalNorm and inPlace on webgpu params, and optim.clipByValue and
// clipByGlobalNorm on webgpu trees, against the CPU. The global norm's scale is computed on the
// device (no number read back) with the CPU's rule — scaled only when the norm is over the
// bound, never for a NaN norm, without float32 overflow of the squares — and inPlace writes the
// new values into the params' and state's own buffers.
import { describe, expect, it } from "vitest";
import { add, optim, randn, reshape, run, setBackend, sum, tensor, toDevice, type Tensor, type Value } from "../../src/index.ts";
import { expectClose } from "./compare.ts";
import { readTree, stepBoth } from "./optim-compare.ts";
import { expectTagged } from "../expect-tagged.ts";

/** A view of `t` under another shape (a GPU reshape shares the buffer). */
const viewAs = (t: Tensor, shape: number[]): Tensor => run(function* (x: Value) { return yield* reshape(x, shape); }, t) as Tensor;

const f32 = (shape: number[], seed: number, scale: number): Tensor =>
  tensor(Float32Array.from(randn(shape, { seed }).data, (v) => v * scale), { shape, dtype: "float32" });

const params = { w: f32([3, 4], 1, 1), b: f32([4], 2, 1) };
const gradList = [0, 1, 2, 3].map((k) => ({ w: f32([3, 4], 10 + k, 2), b: f32([4], 20 + k, 2) }));
const grads = (k: number) => gradList[k]!;

describe("webgpu: clipGlobalNorm", () => {
  it("sgd, adam, adamw and adagrad with clipGlobalNorm (the norm over the bound, and under it) step like the CPU", async () => {
    await stepBoth(optim.sgd({ lr: 0.1, clipGlobalNorm: 1 }), params, grads, 3);
    await stepBoth(optim.sgd({ lr: 0.1, momentum: 0.9, clipGlobalNorm: 100 }), params, grads, 3); // never clipped
    await stepBoth(optim.adam({ lr: 0.01, clipGlobalNorm: 0.5 }), params, grads, 4);
    await stepBoth(optim.adamw({ lr: 0.01, weightDecay: 0.1, clipGlobalNorm: 2, clipValue: 1 }), params, grads, 4);
    await stepBoth(optim.adagrad({ lr: 0.1, clipGlobalNorm: 1, clipValue: 0.5 }), params, grads, 4);
  });

  it("huge gradients (their float32 squares overflow), zero gradients, a bound of 0, and NaN (left unscaled, as on the CPU)", async () => {
    const huge = [0, 1].map((k) => ({ w: f32([3, 4], 30 + k, 1e30), b: f32([4], 40 + k, 1e25) }));
    await stepBoth(optim.sgd({ lr: 1, clipGlobalNorm: 1 }), params, (k) => huge[k]!, 2); // each step moves by g / ‖g‖: no overflow to a zero scale
    const zero = { w: tensor(new Float32Array(12), { shape: [3, 4], dtype: "float32" }), b: tensor(new Float32Array(4), { shape: [4], dtype: "float32" }) };
    await stepBoth(optim.sgd({ lr: 0.1, clipGlobalNorm: 1 }), params, () => zero, 2);
    await stepBoth(optim.sgd({ lr: 0.1, clipGlobalNorm: 0 }), params, grads, 2);
    const withNaN = { w: tensor(Float32Array.from({ length: 12 }, (_, i) => (i === 5 ? NaN : i)), { shape: [3, 4], dtype: "float32" }), b: f32([4], 50, 1) };
    await stepBoth(optim.sgd({ lr: 0.1, clipGlobalNorm: 1 }), params, () => withNaN, 1);
  });

  it("a number leaf among webgpu params: a BackendError (its scale would be read synchronously)", async () => {
    const w = f32([2, 2], 60, 1);
    await setBackend("webgpu");
    try {
      const p = { w: toDevice(w), s: 0.5 };
      const opt = optim.adam({ lr: 0.1, clipGlobalNorm: 1 });
      expectTagged(() => opt.update({ w: toDevice(w), s: 0.1 }, opt.init(p), p), "BackendError", /adam\.update: clipGlobalNorm on webgpu params needs every leaf on webgpu, but leaf .*s is a number/);
    } finally {
      await setBackend("cpu");
    }
  });
});

describe("webgpu: inPlace", () => {
  it("sgd with momentum, adam and adagrad inPlace give the CPU's params and state", async () => {
    const withNumber = gradList.map((g, k) => ({ ...g, s: 0.25 - 0.5 * k }));
    await stepBoth(optim.sgd({ lr: 0.1, momentum: 0.9, inPlace: true }), { ...params, s: 0.5 }, (k) => withNumber[k]!, 3);
    await stepBoth(optim.adam({ lr: 0.01, inPlace: true, clipGlobalNorm: 1 }), params, grads, 4);
    await stepBoth(optim.adagrad({ lr: 0.1, inPlace: true, clipValue: 1 }), params, grads, 3);
  });

  it("the same tensor objects come back, rewritten: views see the new values, results computed before keep the old ones", async () => {
    const w = f32([2, 3], 70, 1);
    const g = f32([2, 3], 71, 1);
    await setBackend("webgpu");
    try {
      const p = { w: toDevice(w) };
      const opt = optim.adam({ lr: 0.1, inPlace: true });
      const s = opt.init(p);
      const mu = (s.mu as { w: Tensor }).w;
      const before = run(function* (x: Value) { return yield* add(x, 0); }, p.w) as Tensor; // queued before the update
      const total = run(function* (x: Value) { return yield* sum(x); }, p.w) as Tensor;
      const [p2, s2] = opt.update({ w: toDevice(g) }, s, p);
      expect(p2.w).toBe(p.w);
      expect((s2.mu as { w: Tensor }).w).toBe(mu);
      await setBackend("cpu");
      const want = optim.adam({ lr: 0.1 }).update({ w: g }, optim.adam({ lr: 0.1 }).init({ w }), { w })[0].w;
      expectClose(await p.w.toArrayAsync(), want.toArray(), 1e-5, 1e-6, "the param's own tensor");
      expectClose(await before.toArrayAsync(), w.toArray(), 0, 0, "a result computed before the update");
      expectClose(await total.toArrayAsync(), (w.toArray() as number[][]).flat().reduce((a, b) => a + b, 0), 1e-5, 1e-6, "a reduction queued before");
    } finally {
      await setBackend("cpu");
    }
  });

  it("a reshape view of a param sees the update (it shares the buffer)", async () => {
    const w = f32([2, 2], 80, 1);
    await setBackend("webgpu");
    try {
      const wd = toDevice(w);
      const flat = viewAs(wd, [4]);
      const opt = optim.sgd({ lr: 0.5, inPlace: true });
      opt.update({ w: toDevice(tensor(Float32Array.of(1, 2, 3, 4), { shape: [2, 2] })) }, opt.init({ w: wd }), { w: wd });
      const want = Array.from(w.data as Float32Array, (v, i) => Math.fround(v - 0.5 * (i + 1)));
      expectClose(await flat.toArrayAsync(), want, 1e-6, 1e-6, "the view");
    } finally {
      await setBackend("cpu");
    }
  });

  it("params sharing a buffer are refused with inPlace, as on the CPU (a ValueError)", async () => {
    const w = f32([2, 2], 90, 1);
    await setBackend("webgpu");
    try {
      const wd = toDevice(w);
      const p = { a: wd, b: viewAs(wd, [4]) };
      const opt = optim.sgd({ lr: 0.1, inPlace: true });
      expectTagged(() => opt.update({ a: wd, b: viewAs(wd, [4]) }, opt.init(p), p), "ValueError", /with inPlace, every param and state leaf needs memory of its own, but params leaf .*b shares memory with params leaf .*a/);
      expect(await readTree(p)).toEqual({ a: w.toArray(), b: (w.toArray() as number[][]).flat() }); // untouched
    } finally {
      await setBackend("cpu");
    }
  });
});

describe("webgpu: optim.clipByValue and optim.clipByGlobalNorm on GPU trees", () => {
  const tree = { w: f32([3, 4], 100, 2), b: f32([4], 101, 2) };
  const huge = { w: f32([3, 4], 102, 1e30), b: f32([4], 103, 1e30) };
  const onBoth = async (f: (t: typeof tree) => unknown, t: typeof tree) => {
    await setBackend("cpu");
    const want = await readTree(f(t));
    await setBackend("webgpu");
    try {
      const got = f({ w: toDevice(t.w), b: toDevice(t.b) }) as typeof tree;
      expect([got.w.backend, got.b.backend]).toEqual(["webgpu", "webgpu"]);
      expectClose(await readTree(got), want, 1e-5, 1e-6, "clipped");
    } finally {
      await setBackend("cpu");
    }
  };
  it("the same values as on the CPU, scaled or not, with float32-overflowing squares", async () => {
    await onBoth((t) => optim.clipByValue(t, -0.5, 1), tree);
    for (const maxNorm of [0, 1, 1e6]) await onBoth((t) => optim.clipByGlobalNorm(t, maxNorm), tree);
    await onBoth((t) => optim.clipByGlobalNorm(t, 1), huge);
  });
  it("globalNorm of a GPU tree, and clipByGlobalNorm with a number leaf, say why they cannot", async () => {
    const w = f32([2], 104, 1);
    await setBackend("webgpu");
    try {
      const g = { w: toDevice(w) };
      expectTagged(() => optim.globalNorm(g), "BackendError", /globalNorm: the tree has webgpu tensors, whose norm the host reads only asynchronously/);
      expectTagged(() => optim.clipByGlobalNorm({ ...g, s: 2 }, 1), "BackendError", /clipByGlobalNorm: .* leaf s is a number/);
    } finally {
      await setBackend("cpu");
    }
  });
});
