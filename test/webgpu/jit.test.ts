// jit of programs whose arguments are GPU tensors: the staged program runs on webgpu, runs of
// elementwise operations fused into one shader each, every call one command buffer. Each case is
// compared with the same program run eagerly on the CPU (float32 tolerances).
import { describe, expect, it } from "vitest";
import {
  add, backendInfo, cond, eye, less, random, exp, jit, logSoftmax, matmul, maxPool2d, mul, neg, nllLoss, nn, randn, relu, reshape, run, scan, setBackend, sigmoid,
  softmaxCrossEntropy, stopGradient, sub, sum, tanh, tensor, toDevice, valueAndGrad, whileLoop, grad, type Tensor, type Value,
} from "../../src/index.ts";
import { expectClose } from "./compare.ts";

const f32 = (shape: number[], seed: number, scale = 1): Tensor =>
  tensor(Float32Array.from(randn(shape, { seed }).data, (v) => v * scale), { shape, dtype: "float32" });

const read = async (t: unknown): Promise<unknown> =>
  t instanceof Object && "toArrayAsync" in t
    ? (t as Tensor).toArrayAsync()
    : Array.isArray(t)
      ? Promise.all(t.map(read))
      : typeof t === "object" && t !== null
        ? Object.fromEntries(await Promise.all(Object.entries(t).map(async ([k, v]) => [k, await read(v)])))
        : t;

const onGpu = async <T>(f: () => Promise<T>): Promise<T> => {
  await setBackend("webgpu");
  try {
    return await f();
  } finally {
    await setBackend("cpu");
  }
};

function* chain(x: Value, y: Value) {
  const a = yield* tanh(yield* add(yield* mul(x, y), 1));
  const b = yield* mul(a, yield* sigmoid(x));
  return yield* sub(b, yield* exp(yield* neg(y)));
}

describe("webgpu: jit compiles staged programs to GPU shaders", () => {
  it("a chain of elementwise operations is one fused shader, and agrees with the CPU", async () => {
    const x = f32([37, 29], 1);
    const y = f32([37, 29], 2);
    const want = await read(run(chain, x, y));
    await onGpu(async () => {
      const f = jit(chain);
      const out = run(f, toDevice(x), toDevice(y)) as Tensor;
      expect(out.backend).toBe("webgpu");
      expectClose(await out.toArrayAsync(), want, 1e-5, 1e-6);
      const source = f.info.sources()[0]!;
      // seven operations, one shader, one output written
      expect(source.match(/@compute/g)?.length).toBe(1);
      expect(source).toContain("fused[0] mul add tanh sigmoid mul neg exp sub");
      expect(source.match(/out\d+\[i\] =/g)?.length).toBe(1);
      run(f, toDevice(x), toDevice(y));
      expect([f.info.compiles, f.info.hits]).toEqual([1, 1]);
    });
  });

  it("broadcast operands, one-element tensors and number arguments are read in the fused shader", async () => {
    function* f(x: Value, b: Value, c: Value, s: number) {
      return yield* mul(yield* relu(yield* add(yield* add(x, b), c)), s);
    }
    const [x, b, c] = [f32([4, 3, 5], 3), f32([3, 1], 4), f32([1], 5)];
    const want = await read(run(f, x, b, c, 0.5));
    const wantOther = await read(run(f, x, b, c, -2));
    await onGpu(async () => {
      const g = jit(f);
      const args = [toDevice(x), toDevice(b), toDevice(c)] as const;
      expectClose(await read(run(g, ...args, 0.5)), want, 1e-5, 1e-6);
      expectClose(await read(run(g, ...args, -2)), wantOther, 1e-5, 1e-6); // the same shader, another number
      expect(g.info.compiles).toBe(1);
    });
  });

  it("the same jitted function compiles for each backend: CPU arguments still run the JS code", async () => {
    const x = f32([8], 6);
    const y = f32([8], 7);
    const f = jit(chain);
    const want = await read(run(f, x, y));
    await onGpu(async () => {
      expectClose(await read(run(f, toDevice(x), toDevice(y))), want, 1e-5, 1e-6);
    });
    expect(f.info.compiles).toBe(2);
  });

  it("arguments and captured GPU constants are never disposed, even when returned", async () => {
    const [w0, x0] = [f32([6], 8), f32([6], 9)];
    await onGpu(async () => {
      const w = toDevice(w0);
      const f = jit(function* (x: Value) {
        const s = yield* stopGradient(x); // the argument itself
        return [s, yield* add(yield* mul(x, w), w)];
      });
      const x = toDevice(x0);
      for (let i = 0; i < 3; i++) run(f, x);
      const [s] = run(f, x) as unknown as Tensor[];
      expect(await s!.toArrayAsync()).toEqual(await x.toArrayAsync());
      expect((await w.toArrayAsync()) as number[]).toHaveLength(6);
    });
  });
});

type Params = { W1: Value; b1: Value; W2: Value; b2: Value };
function* mlpLoss(p: Params, x: Value, onehot: Value) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  return yield* softmaxCrossEntropy(yield* add(yield* matmul(h, p.W2), p.b2), onehot);
}
function* sgdStep(p: Params, x: Value, onehot: Value, lr: number) {
  const [l, g] = yield* valueAndGrad(mlpLoss)(p, x, onehot);
  const q = {} as Params;
  for (const k of ["W1", "b1", "W2", "b2"] as const) q[k] = yield* sub(p[k], yield* mul(lr, g[k]));
  return [l, q] as const;
}

describe("webgpu: jit while webgpu is chosen", () => {
  it("a program with only CPU arguments (a key, a number) compiles for the GPU: the tensors it makes are GPU tensors", async () => {
    await onGpu(async () => {
      const f = jit(function* (key: Value, scale: number) {
        const noise = yield* random.normal(key, [3, 4], { dtype: "float32" }); // made on the GPU
        const I = eye(4, "float32");
        return yield* sum(yield* mul(yield* matmul(noise, I), scale));
      });
      const key = random.key(7);
      const got = (await (run(f, key, 2) as Tensor).toArrayAsync()) as number;
      const want = (await (run(function* () { return yield* sum(yield* mul(yield* random.normal(key, [3, 4], { dtype: "float32" }), 2)); }) as Tensor).toArrayAsync()) as number;
      expect(got).toBeCloseTo(want, 4);
      expect(f.info.sources()[0]).toContain("= matmul"); // the GPU program's listing, not JS
      await setBackend("cpu");
      run(f, key, 2); // the CPU backend: compiled again, for the CPU
      expect(f.info.compiles).toBe(2);
    });
  });
});

describe("webgpu: jitted training steps", () => {
  const data = () => {
    const params: Params = { W1: f32([784, 256], 1, 0.05), b1: f32([256], 2, 0.01), W2: f32([256, 10], 3, 0.1), b2: f32([10], 4, 0.01) };
    const labels = new Float32Array(64 * 10);
    for (let i = 0; i < 64; i++) labels[i * 10 + ((i * 7) % 10)] = 1;
    return { params, x: f32([64, 784], 5), onehot: tensor(labels, { shape: [64, 10], dtype: "float32" }) };
  };
  const move = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, toDevice(v as Tensor)])) as Params;

  it("W2's MLP: five jitted SGD steps on webgpu give the CPU's losses and parameters", async () => {
    const { params, x, onehot } = data();
    const train = async (step: typeof sgdStep, p0: Params, xs: Value, ys: Value) => {
      let p = p0;
      const losses: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        const [l, q] = run(step, p, xs, ys, 0.1) as unknown as [Tensor, Params];
        losses.push(await read(l));
        p = q;
      }
      return { losses, params: await read(p) };
    };
    const cpu = await train(sgdStep, params, x, onehot);
    await onGpu(async () => {
      const step = jit(sgdStep);
      const gpu = await train(step, move(params), toDevice(x), toDevice(onehot));
      expectClose(gpu.losses, cpu.losses, 1e-4, 1e-5, "losses");
      expectClose(gpu.params, cpu.params, 1e-3, 1e-5, "params");
      expect(step.info.compiles).toBe(1);
      expect(step.info.sources()[0]).toMatch(/fused\[0\]/); // the backward pass has fused runs
    });
  });

  it("W6's CNN: a jitted step's loss and gradients match the CPU's", async () => {
    type Cnn = { conv1: nn.Conv2dParams; conv2: nn.Conv2dParams; fc1: nn.LinearParams; fc2: nn.LinearParams };
    function* cnnLoss(p: Cnn, x: Value, onehot: Value) {
      let h = yield* relu(yield* maxPool2d(yield* nn.conv2d.apply(p.conv1, x), { size: 2 }));
      h = yield* relu(yield* maxPool2d(yield* nn.conv2d.apply(p.conv2, h), { size: 2 }));
      h = yield* relu(yield* nn.linear.apply(p.fc1, yield* reshape(h, [4, 320])));
      return yield* nllLoss(yield* logSoftmax(yield* nn.linear.apply(p.fc2, h)), onehot);
    }
    const params: Cnn = {
      conv1: { w: f32([10, 1, 5, 5], 1, 0.2), b: f32([10], 2, 0.1) },
      conv2: { w: f32([20, 10, 5, 5], 3, 0.06), b: f32([20], 4, 0.1) },
      fc1: { W: f32([320, 50], 5, 0.05), b: f32([50], 6, 0.1) },
      fc2: { W: f32([50, 10], 7, 0.14), b: f32([10], 8, 0.1) },
    };
    const x = f32([4, 1, 28, 28], 9);
    const labels = new Float32Array(40);
    for (let i = 0; i < 4; i++) labels[i * 10 + ((i * 3) % 10)] = 1;
    const onehot = tensor(labels, { shape: [4, 10], dtype: "float32" });
    const want = await read(run(valueAndGrad(cnnLoss), params, x, onehot));
    await onGpu(async () => {
      const moved = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, move(v as unknown as Params)])) as unknown as Cnn;
      const got = await read(run(jit(valueAndGrad(cnnLoss)), moved, toDevice(x), toDevice(onehot)));
      expectClose(got, want, 1e-3, 1e-5, "[loss, grads]");
    });
  });

  it("a jitted training step reuses its buffers: 1,000 steps hold what the first 100 needed", async () => {
    const [w0, x0] = [f32([32, 16], 1, 0.1), f32([8, 32], 2)];
    await onGpu(async () => {
      const step = jit(function* (w: Value, x: Value) {
        const g = yield* grad(function* (w: Value) {
          return yield* sum(yield* tanh(yield* matmul(x, w)));
        })(w);
        return yield* sub(w, yield* mul(0.01, g));
      });
      const x = toDevice(x0);
      let w = toDevice(w0);
      // the tests before leave garbage: collect it first, so that its buffers do not come back mid-loop
      for (let k = 0; k < 2; k++) {
        (globalThis as unknown as { gc: () => void }).gc();
        await new Promise((r) => setTimeout(r, 50));
      }
      const held: number[] = [];
      for (let i = 0; i < 1000; i++) {
        const next = run(step, w, x) as Tensor;
        w.dispose(); // the loop owns its parameters
        w = next;
        if (i % 100 === 99) await w.dataAsync(); // as a loop that reads its loss now and then
        if (i === 99 || i === 999) held.push(backendInfo().memory!.heldBytes, backendInfo().memory!.inUseBytes);
      }
      expect(await read(run(function* () { return yield* sum(w); }))).not.toBeNaN();
      // no growth after the first steps, without the garbage collector's help: every
      // intermediate's buffer went back to the pool at its last read
      expect(held[2]).toBe(held[0]); // no buffer made after step 100
      expect(held[3]).toBeLessThanOrEqual(held[1]!); // (a tensor of an earlier test may be collected meanwhile)
      console.log(`jit on webgpu: pool held ${(held[2]! / 2 ** 20).toFixed(2)} MiB after 1,000 steps, peak ${(backendInfo().memory!.peakBytes / 2 ** 20).toFixed(2)} MiB`);
    });
  });

  it("10,000 jitted steps of gradient descent run in bounded GPU memory (one fused shader per step)", async () => {
    const [w0, x0] = [f32([64, 64], 3, 0.1), f32([64, 64], 4)];
    await onGpu(async () => {
      const step = jit(function* (w: Value, x: Value) {
        const g = yield* grad(function* (w: Value) { return yield* sum(yield* tanh(yield* mul(w, x))); })(w);
        return yield* sub(w, yield* mul(0.01, g));
      });
      const x = toDevice(x0);
      let w = toDevice(w0);
      const held: number[] = [];
      for (let i = 0; i < 10_000; i++) {
        const next = run(step, w, x) as Tensor;
        w.dispose();
        w = next;
        if (i % 1000 === 999) {
          await w.dataAsync();
          held.push(backendInfo().memory!.heldBytes);
        }
      }
      expect(step.info.sources()[0]!.match(/@compute/g)?.length).toBe(1); // forward, backward and update fused
      expect(new Set(held.slice(1)).size).toBe(1); // the pool stopped growing after the first steps
      console.log(`10,000 jitted steps on webgpu: pool held ${(held[9]! / 1024).toFixed(0)} KiB, peak ${(backendInfo().memory!.peakBytes / 1024).toFixed(0)} KiB`);
    });
  });
});

describe("webgpu: branches and loops under jit", () => {
  it("scan over the rows of a GPU tensor, and its gradient, agree with the CPU", async () => {
    function* f(h0: Value, xs: Value, w: Value) {
      const [h] = yield* scan(function* (h: Value, x: Value) {
        const next = yield* tanh(yield* add(yield* matmul(h, w), x));
        return [next, next] as [Value, Value];
      }, h0, xs);
      return yield* sum(h);
    }
    const [h0, xs, w] = [f32([1, 4], 1), f32([6, 1, 4], 2), f32([4, 4], 3, 0.5)];
    const want = await read(run(valueAndGrad(f, { argnums: [0, 2] }), h0, xs, w));
    await onGpu(async () => {
      const got = await read(run(jit(valueAndGrad(f, { argnums: [0, 2] })), toDevice(h0), toDevice(xs), toDevice(w)));
      expectClose(got, want, 1e-4, 1e-5);
    });
  });

  it("a 300-step RNN scan under jit: the CPU's values, and a second call makes no new buffer", async () => {
    function* rnn(h0: Value, xs: Value, w: Value) {
      const [h, hs] = yield* scan(function* (h: Value, x: Value) {
        const next = yield* tanh(yield* add(yield* matmul(h, w), x));
        return [next, yield* mul(next, 2)] as [Value, Value];
      }, h0, xs);
      return [h, hs];
    }
    const [h0, xs, w] = [f32([1, 64], 1), f32([300, 1, 64], 2), f32([64, 64], 3, 0.1)];
    const want = await read(run(rnn, h0, xs, w));
    await onGpu(async () => {
      const f = jit(rnn);
      const args = [toDevice(h0), toDevice(xs), toDevice(w)] as const;
      const first = run(f, ...args) as unknown as Tensor[];
      expectClose(await read(first), want, 1e-4, 1e-5);
      first.forEach((t) => t.dispose());
      // every step's carry, rows and intermediates went back to the pool (none waits for the
      // collector), and the results were disposed: the second call finds all it needs there
      const held = backendInfo().memory!.heldBytes;
      const second = run(f, ...args) as unknown as Tensor[];
      expect(backendInfo().memory!.heldBytes).toBe(held);
      expectClose(await read(second), want, 1e-4, 1e-5);
    });
  });

  it("a loop decided by numbers runs; a branch decided on the GPU is a BackendError, and the next call works", async () => {
    function* power(x: Value, n: number) {
      const [, y] = yield* whileLoop(function* ([i]: [Value, Value]) {
        return yield* less(i, n);
      }, function* ([i, y]: [Value, Value]) {
        return [yield* add(i, 1), yield* mul(y, x)] as [Value, Value];
      }, [0, x] as [Value, Value]);
      return y;
    }
    const x = f32([5], 4);
    const want = await read(run(power, x, 3));
    await onGpu(async () => {
      const f = jit(power);
      expectClose(await read(run(f, toDevice(x), 3)), want, 1e-5, 1e-6);
      const branchy = jit(function* (x: Value) {
        return yield* cond(yield* sum(x), function* (x: Value) { return yield* exp(x); }, function* (x: Value) { return yield* neg(x); }, x);
      });
      expect(() => run(branchy, toDevice(x))).toThrow(/BackendError|decided by a value computed on the GPU/);
      expectClose(await read(run(f, toDevice(x), 3)), want, 1e-5, 1e-6);
    });
  });
});
