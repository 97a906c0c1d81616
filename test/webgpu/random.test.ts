// The random samplers on webgpu: the bits are made on the CPU from the key (Threefry in JS) and
// the sample goes to the current backend, so on webgpu it is a float32 GPU tensor equal to the
// CPU backend's float32 sample. Keys stay CPU data; categorical with GPU logits adds the CPU's
// Gumbel noise (uploaded) on the GPU and takes the argmax there, bernoulli with a GPU p compares
// the uploaded uniforms with p on the GPU. A float64 sample on webgpu is the constructors'
// DTypeError.
import { describe, expect, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jit, nn, random, run, setBackend, sum, tensor, toDevice, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectTagged } from "../expect-tagged.ts";
import { expectSameOnGpu } from "./compare.ts";

const exact = { rtol: 0, atol: 0 };
const key = random.key(42);
const f32 = (values: number[], shape: number[]): Tensor => tensor(Float32Array.from(values), { shape });

/** Runs `body` with the webgpu backend chosen, going back to the CPU after. */
const onGpu = async <T>(body: () => T | Promise<T>): Promise<T> => {
  await setBackend("webgpu");
  try {
    return await body();
  } finally {
    await setBackend("cpu");
  }
};

describe("webgpu: samplers give the CPU backend's float32 samples", () => {
  it("uniform (default range and [−3, 5)) and normal, as GPU tensors", async () => {
    await expectSameOnGpu(function* () {
      return [
        yield* random.uniform(key, [7, 5], { dtype: "float32" }),
        yield* random.uniform(key, [300], { dtype: "float32", minval: -3, maxval: 5 }),
        yield* random.normal(key, [4, 6], { dtype: "float32" }),
      ];
    }, [], exact);
  });
  it("split, foldIn and the samples of the derived keys", async () => {
    await expectSameOnGpu(function* () {
      const [a, b] = yield* random.splitKeys(key);
      const c = yield* random.foldIn(a!, 7);
      return [yield* random.uniform(b!, [9], { dtype: "float32" }), yield* random.normal(c, [3, 3], { dtype: "float32" })];
    }, [], exact);
  });
  it("permutation: positions as float32 on the GPU, the CPU's permutation", async () => {
    const { got } = await expectSameOnGpu(function* () { return yield* random.permutation(key, 50); }, [], exact);
    expect([...(got as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await onGpu(() => {
      const p = run(function* () { return yield* random.permutation(key, 5); }) as Tensor;
      expect([p.backend, p.dtype]).toEqual(["webgpu", "float32"]);
    });
  });
  it("bernoulli with a GPU p (and p broadcast to a shape)", async () => {
    const p = f32([0.1, 0.5, 0.9], [3]);
    await expectSameOnGpu(function* (p: Value) {
      return [yield* random.bernoulli(key, p), yield* random.bernoulli(key, p, [40, 3])];
    }, [p], exact);
  });
  it("categorical with GPU logits: the CPU's samples, along the last axis, axis 0, and with a samples' shape", async () => {
    const logits = f32(Array.from({ length: 24 }, (_, i) => Math.sin(i) * 2), [4, 6]);
    await expectSameOnGpu(function* (l: Value) {
      return [
        yield* random.categorical(key, l),
        yield* random.categorical(key, l, { axis: 0 }),
        yield* random.categorical(key, l, { shape: [100, 4] }),
      ];
    }, [logits], exact);
  });
  it("categorical's frequencies follow softmax(logits) on the GPU", async () => {
    const logits = f32([Math.log(0.2), Math.log(0.3), Math.log(0.5)], [3]);
    const counts = await onGpu(async () => {
      const s = run(function* (l: Value) { return yield* random.categorical(key, l, { shape: [6000] }); }, toDevice(logits)) as Tensor;
      expect([s.backend, s.dtype]).toEqual(["webgpu", "float32"]);
      const values = (await s.toArrayAsync()) as number[];
      return [0, 1, 2].map((c) => values.filter((v) => v === c).length / values.length);
    });
    counts.forEach((f, c) => expect(Math.abs(f - [0.2, 0.3, 0.5][c]!)).toBeLessThan(0.025));
  });
  it("categorical with GPU logits under vmap over keys and over logits", async () => {
    const keys = run(function* () { return yield* random.split(key, 3); }) as Tensor;
    const logits = f32(Array.from({ length: 15 }, (_, i) => Math.cos(i)), [3, 5]);
    await expectSameOnGpu(function* (l: Value) {
      const overKeys = yield* vmap(function* (k: Value) { return yield* random.categorical(k, l, { axis: 1 }); })(keys);
      const overLogits = yield* vmap(function* (row: Value) { return yield* random.categorical(key, row); })(l);
      return [overKeys, overLogits];
    }, [logits], exact);
  });
  it("a sample combined with GPU tensors, and inside a gradient", async () => {
    const x = f32([1, -2, 3, 0.5], [4]);
    await expectSameOnGpu(function* (x: Value) {
      const noise = yield* random.normal(key, [4], { dtype: "float32" });
      const loss = function* (x: Value) { return yield* sum(yield* Y.mul(yield* Y.square(x), noise)); };
      return [yield* Y.add(x, noise), yield* grad(loss)(x)];
    }, [x]);
  });
});

describe("webgpu: dropout and initializers with keys", () => {
  it("dropout with a key on a GPU tensor: the CPU's mask and values", async () => {
    const x = f32(Array.from({ length: 60 }, (_, i) => i / 10 - 3), [6, 10]);
    // the kept values are x / 0.7, a GPU division (within float32's last bits of the CPU's)
    const { got, want } = await expectSameOnGpu(function* (x: Value) { return yield* nn.dropout(x, { rate: 0.3, key, training: true }); }, [x], { rtol: 1e-6, atol: 0 });
    const dropped = (t: unknown): boolean[] => (t as number[][]).flat().map((v) => v === 0);
    expect(dropped(got)).toEqual(dropped(want)); // the same mask
    expect(dropped(got).filter((d) => d).length).toBeGreaterThan(5);
  });
  it("initializers from a key make GPU tensors with the CPU's values", async () => {
    const inits = [nn.init.glorotUniform(), nn.init.heNormal(), nn.init.normal(0.1, 1), nn.init.uniform(-1, 2)];
    const want = await Promise.all(inits.map((init) => init(key, [5, 4], "float32").toArrayAsync()));
    await onGpu(async () => {
      for (let i = 0; i < inits.length; i++) {
        const w = inits[i]!(key, [5, 4], "float32");
        expect(w.backend).toBe("webgpu");
        expect(await w.toArrayAsync()).toEqual(want[i]);
      }
    });
  });
  it("a gated cell's init from a key (its gates' blocks joined on the GPU): the CPU's parameters", async () => {
    const read = async (p: Record<string, Tensor>) => Object.fromEntries(await Promise.all(Object.entries(p).map(async ([k, t]) => [k, [t.backend, await t.toArrayAsync()]] as const)));
    const want = await read(nn.lstmCell.init(key, 3, 2, { dtype: "float32" }) as unknown as Record<string, Tensor>);
    const got = await onGpu(() => read(nn.lstmCell.init(key, 3, 2, { dtype: "float32" }) as unknown as Record<string, Tensor>));
    for (const k of Object.keys(want)) {
      expect(got[k][0], k).toBe("webgpu");
      expect(got[k][1], k).toEqual(want[k][1]);
    }
  });
});

describe("webgpu: jit with keys as arguments", () => {
  it("a jitted GPU training step with dropout: the CPU's loss and parameters, a new key per call", async () => {
    function* loss(w: Value, x: Value, y: Value, k: Value) {
      const h = yield* nn.dropout(yield* Y.tanh(yield* Y.matmul(x, w)), { rate: 0.25, key: k, training: true });
      return yield* Y.mean(yield* Y.square(yield* Y.sub(h, y)));
    }
    const step = jit(function* (w: Value, x: Value, y: Value, k: Value) {
      const [l, g] = yield* Y.valueAndGrad(loss)(w, x, y, k);
      return [l, yield* Y.sub(w, yield* Y.mul(0.5, g))] as const;
    });
    const w0 = f32(Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) / 2), [4, 3]);
    const x = f32(Array.from({ length: 20 }, (_, i) => Math.cos(i)), [5, 4]);
    const y = f32(Array.from({ length: 15 }, (_, i) => (i % 3) / 3), [5, 3]);
    const train = async (move: (t: Tensor) => Tensor): Promise<unknown[]> => {
      let w = move(w0);
      const losses: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const k = run(function* () { return yield* random.foldIn(key, i); }) as Tensor; // a new key per call, the same code
        const [l, next] = run(step, w, move(x), move(y), k) as [Tensor, Tensor];
        w = next;
        losses.push(await l.toArrayAsync());
      }
      expect(w.backend).toBe(move === toDevice ? "webgpu" : "cpu");
      return [losses, await w.toArrayAsync()];
    };
    const want = await train((t) => t);
    const got = await onGpu(() => train(toDevice));
    const [gl, gw] = got as [number[], number[][]];
    const [wl, ww] = want as [number[], number[][]];
    gl.forEach((l, i) => expect(Math.abs(l - wl[i]!)).toBeLessThan(1e-5 + 1e-4 * Math.abs(wl[i]!)));
    gw.flat().forEach((v, i) => expect(Math.abs(v - ww.flat()[i]!)).toBeLessThan(1e-5 + 1e-4 * Math.abs(ww.flat()[i]!)));
  });
  it("jitted categorical and bernoulli with GPU operands and a key argument", async () => {
    const f = jit(function* (l: Value, p: Value, k: Value) {
      return [yield* random.categorical(k, l, { shape: [8, 2] }), yield* random.bernoulli(k, p, [6, 2])];
    });
    const logits = f32([0, 1, 2, 2, 1, 0], [2, 3]);
    const p = f32([0.3, 0.8], [2]);
    const want = await Promise.all((run(f, logits, p, key) as Tensor[]).map((t) => t.toArrayAsync()));
    const got = await onGpu(async () => {
      const out = run(f, toDevice(logits), toDevice(p), key) as Tensor[];
      expect(out.map((t) => t.backend)).toEqual(["webgpu", "webgpu"]);
      return Promise.all(out.map((t) => t.toArrayAsync()));
    });
    expect(got).toEqual(want);
  });
});

describe("webgpu: float64 samples stay CPU-only", () => {
  it("a float64 sample (the default dtype) on webgpu is the DTypeError randn gives", async () => {
    await onGpu(() => {
      expectTagged(() => Y.randn([2]), "DTypeError", /randn: float64 tensors stay CPU-only/);
      expectTagged(() => run(function* () { return yield* random.uniform(key, [2]); }), "DTypeError", /random\.uniform: float64 tensors stay CPU-only \(WebGPU computes in float32\); pass \{ dtype: "float32" \}/);
      expectTagged(() => run(function* () { return yield* random.normal(key, [2], { dtype: "float64" }); }), "DTypeError", /random\.normal: float64 tensors stay CPU-only/);
      expectTagged(() => run(function* () { return yield* random.bernoulli(key, 0.5, [3]); }), "DTypeError", /random\.bernoulli: float64 tensors stay CPU-only/);
      expectTagged(() => nn.init.glorotUniform()(key, [2, 2]), "DTypeError", /init\.varianceScaling: float64 tensors stay CPU-only/);
    });
  });
  it("keys stay CPU float64 tensors on webgpu", async () => {
    await onGpu(() => {
      const k = run(function* () { return yield* random.split(key, 2); }) as Tensor;
      expect([k.backend, k.dtype, random.key(1).backend]).toEqual(["cpu", "float64", "cpu"]);
    });
  });
});
