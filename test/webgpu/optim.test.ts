// The optimizers on webgpu tensors: their updates run as operations on the GPU (the CPU loops
// cannot reach a GPU buffer), and give the CPU's params and state. W2's MLP trains with
// optim.adam on both backends; sgd (momentum, Nesterov, weight decay, clipping), adagrad and
// adamw step a small tree, a number leaf included (clipGlobalNorm and inPlace: optim-options.test.ts).
import { describe, expect, it } from "vitest";
import { add, matmul, optim, randn, relu, run, setBackend, softmaxCrossEntropy, tensor, toDevice, valueAndGrad, type Tensor, type Value } from "../../src/index.ts";
import { expectClose } from "./compare.ts";
import { backendsOf, readTree, stepBoth } from "./optim-compare.ts";
import { expectTagged } from "../expect-tagged.ts";

type Params = { W1: Value; b1: Value; W2: Value; b2: Value };

function* loss(p: Params, x: Value, onehot: Value) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  return yield* softmaxCrossEntropy(yield* add(yield* matmul(h, p.W2), p.b2), onehot);
}

const f32 = (shape: number[], seed: number, scale: number): Tensor =>
  tensor(Float32Array.from(randn(shape, { seed }).data, (v) => v * scale), { shape, dtype: "float32" });

describe("webgpu: optimizers", () => {
  it("W2's MLP (784-256-10, batch 64) trains with optim.adam on webgpu, giving the CPU's losses, params and moments", async () => {
    const params: Params = { W1: f32([784, 256], 1, 0.05), b1: f32([256], 2, 0.01), W2: f32([256, 10], 3, 0.1), b2: f32([10], 4, 0.01) };
    const x = f32([64, 784], 5, 1);
    const labels = new Float32Array(64 * 10);
    for (let i = 0; i < 64; i++) labels[i * 10 + ((i * 7) % 10)] = 1;
    const onehot = tensor(labels, { shape: [64, 10], dtype: "float32" });
    const opt = optim.adam({ lr: 1e-3 });
    const train = async (p0: Params, xs: Value, ys: Value) => {
      let p = p0;
      let s = opt.init(p);
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const [l, g] = run(valueAndGrad(loss), p, xs, ys) as unknown as [Tensor, Params];
        losses.push((await l.toArrayAsync()) as number);
        [p, s] = opt.update(g, s, p);
      }
      return { losses, params: await readTree(p), mu: await readTree(s.mu), backends: backendsOf(p) };
    };
    await setBackend("cpu");
    const cpu = await train(params, x, onehot);
    await setBackend("webgpu");
    try {
      const moved = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, toDevice(v as Tensor)])) as Params;
      const gpu = await train(moved, toDevice(x), toDevice(onehot));
      expect(cpu.losses[4]!).toBeLessThan(cpu.losses[0]!); // it trains
      expect(gpu.backends).toEqual(["webgpu", "webgpu", "webgpu", "webgpu"]);
      expectClose(gpu.losses, cpu.losses, 1e-4, 1e-5, "losses");
      expectClose(gpu.params, cpu.params, 1e-3, 1e-5, "params");
      expectClose(gpu.mu, cpu.mu, 1e-3, 1e-6, "mu");
    } finally {
      await setBackend("cpu");
    }
  });

  const params = { w: f32([3, 4], 11, 1), b: f32([4], 12, 1), s: 0.5 };
  const gradList = [0, 1, 2, 3].map((k) => ({ w: f32([3, 4], 20 + k, 2), b: f32([4], 30 + k, 2), s: 0.25 - 0.5 * k }));
  const grads = (k: number) => gradList[k]!;

  it("sgd: plain, weight decay, heavy-ball and Nesterov momentum with dampening, clipValue, a schedule", async () => {
    await stepBoth(optim.sgd({ lr: 0.1 }), params, grads, 3);
    await stepBoth(optim.sgd({ lr: 0.1, weightDecay: 0.01, clipValue: 1 }), params, grads, 3);
    await stepBoth(optim.sgd({ lr: (t) => 0.1 / (t + 1), momentum: 0.9, dampening: 0.2, weightDecay: 0.05 }), params, grads, 3);
    await stepBoth(optim.sgd({ lr: 0.05, momentum: 0.8, nesterov: true }), params, grads, 3);
  });

  it("adam, adamw and adagrad (with clipValue inside its step) step like the CPU", async () => {
    await stepBoth(optim.adam({ lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-6, clipValue: 1.5 }), params, grads, 4);
    await stepBoth(optim.adamw({ lr: 0.01, weightDecay: 0.1 }), params, grads, 4);
    await stepBoth(optim.adagrad({ lr: 0.1, initialAccumulator: 0.1, clipValue: 1 }), params, grads, 4);
  });

  it("grads on the CPU for params on the GPU: a BackendError naming the backends", async () => {
    const w = f32([2, 2], 40, 1);
    const cpuGrads = { w: f32([2, 2], 41, 1) };
    await setBackend("webgpu");
    try {
      const p = { w: toDevice(w) };
      expectTagged(() => optim.sgd({ lr: 0.1 }).update(cpuGrads, { count: 0 }, p), "BackendError", /cpu|webgpu/);
    } finally {
      await setBackend("cpu");
    }
  });
});
