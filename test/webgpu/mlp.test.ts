// W2's model (bench/workloads/w2.ts: an MLP with relu, softmax cross-entropy on one-hot labels)
// trained eagerly with valueAndGrad on webgpu, against the same steps on the CPU: the losses
// and the parameters after each step agree to float32 tolerances.
import { describe, expect, it } from "vitest";
import {
  add, matmul, mul, randn, relu, run, setBackend, softmaxCrossEntropy, sub, tensor, toDevice, valueAndGrad,
  type Tensor, type Value,
} from "../../src/index.ts";
import { expectClose } from "./compare.ts";

type Params = { W1: Value; b1: Value; W2: Value; b2: Value };

function* loss(p: Params, x: Value, onehot: Value) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  const z = yield* add(yield* matmul(h, p.W2), p.b2);
  return yield* softmaxCrossEntropy(z, onehot);
}

/** One SGD step written with operations (the optimizers step CPU buffers). */
function* step(p: Params, x: Value, onehot: Value, lr: number) {
  const [l, g] = yield* valueAndGrad(loss)(p, x, onehot);
  const q = {} as Params;
  for (const k of ["W1", "b1", "W2", "b2"] as const) q[k] = yield* sub(p[k], yield* mul(lr, g[k]));
  return [l, q] as const;
}

const read = async (p: Params): Promise<Record<string, unknown>> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) out[k] = await (v as Tensor).toArrayAsync();
  return out;
};

describe("webgpu: W2's MLP trains eagerly", () => {
  it("five SGD steps of a 784-256-10 MLP on a batch of 64 give the CPU's losses and parameters", async () => {
    const f32 = (shape: number[], seed: number, scale: number): Tensor =>
      tensor(Float32Array.from(randn(shape, { seed }).data, (v) => v * scale), { shape, dtype: "float32" });
    const params: Params = { W1: f32([784, 256], 1, 0.05), b1: f32([256], 2, 0.01), W2: f32([256, 10], 3, 0.1), b2: f32([10], 4, 0.01) };
    const x = f32([64, 784], 5, 1);
    const labels = new Float32Array(64 * 10);
    for (let i = 0; i < 64; i++) labels[i * 10 + ((i * 7) % 10)] = 1;
    const onehot = tensor(labels, { shape: [64, 10], dtype: "float32" });

    const train = async (p0: Params, xs: Value, ys: Value): Promise<{ losses: number[]; params: Record<string, unknown> }> => {
      let p = p0;
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const [l, q] = run(step, p, xs, ys, 0.1) as unknown as [Tensor, Params];
        losses.push((await l.toArrayAsync()) as number);
        p = q;
      }
      return { losses, params: await read(p) };
    };
    await setBackend("cpu");
    const cpu = await train(params, x, onehot);
    await setBackend("webgpu");
    try {
      const gpuParams = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, toDevice(v as Tensor)])) as Params;
      const gpu = await train(gpuParams, toDevice(x), toDevice(onehot));
      expect(cpu.losses[4]!).toBeLessThan(cpu.losses[0]!); // it trains
      expectClose(gpu.losses, cpu.losses, 1e-4, 1e-5, "losses");
      expectClose(gpu.params, cpu.params, 1e-3, 1e-5, "params");
    } finally {
      await setBackend("cpu");
    }
  });
});
