// W2's model (bench/workloads/w2.ts: an MLP with relu, softmax cross-entropy on one-hot labels)
// trained eagerly with valueAndGrad on webgpu, against the same steps on the CPU: the losses
// and the parameters after each step agree to float32 tolerances.
import { describe, expect, it } from "vitest";
import {
  add, logSoftmax, matmul, maxPool2d, mul, nllLoss, nn, randn, relu, reshape, run, setBackend, softmaxCrossEntropy, sub, tensor, toDevice,
  valueAndGrad, type Tensor, type Value,
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

// W6's model (bench/workloads/w6.ts: Lantern's MNIST CNN), on a batch of 8.
type Cnn = { conv1: nn.Conv2dParams; conv2: nn.Conv2dParams; fc1: nn.LinearParams; fc2: nn.LinearParams };
function* cnnLoss(p: Cnn, x: Value, onehot: Value) {
  let h = yield* relu(yield* maxPool2d(yield* nn.conv2d.apply(p.conv1, x), { size: 2 })); // [8, 10, 12, 12]
  h = yield* relu(yield* maxPool2d(yield* nn.conv2d.apply(p.conv2, h), { size: 2 })); // [8, 20, 4, 4]
  h = yield* relu(yield* nn.linear.apply(p.fc1, yield* reshape(h, [8, 320])));
  return yield* nllLoss(yield* logSoftmax(yield* nn.linear.apply(p.fc2, h)), onehot);
}

describe("webgpu: W6's CNN", () => {
  it("the loss and every gradient of a step (conv, max pooling, linear, log-softmax) match the CPU's", async () => {
    const f32 = (shape: number[], seed: number, scale: number): Tensor =>
      tensor(Float32Array.from(randn(shape, { seed }).data, (v) => v * scale), { shape, dtype: "float32" });
    const params: Cnn = {
      conv1: { w: f32([10, 1, 5, 5], 1, 0.2), b: f32([10], 2, 0.1) },
      conv2: { w: f32([20, 10, 5, 5], 3, 0.06), b: f32([20], 4, 0.1) },
      fc1: { W: f32([320, 50], 5, 0.05), b: f32([50], 6, 0.1) },
      fc2: { W: f32([50, 10], 7, 0.14), b: f32([10], 8, 0.1) },
    };
    const x = f32([8, 1, 28, 28], 9, 1);
    const labels = new Float32Array(80);
    for (let i = 0; i < 8; i++) labels[i * 10 + ((i * 3) % 10)] = 1;
    const onehot = tensor(labels, { shape: [8, 10], dtype: "float32" });
    const readTree = async (t: unknown): Promise<unknown> =>
      t instanceof Object && "toArrayAsync" in t
        ? (t as Tensor).toArrayAsync()
        : Array.isArray(t)
          ? Promise.all(t.map(readTree))
          : Object.fromEntries(await Promise.all(Object.entries(t as object).map(async ([k, v]) => [k, await readTree(v)])));
    await setBackend("cpu");
    const want = await readTree(run(valueAndGrad(cnnLoss), params, x, onehot));
    await setBackend("webgpu");
    try {
      const moved = {
        conv1: { w: toDevice(params.conv1.w as Tensor), b: toDevice(params.conv1.b as Tensor) },
        conv2: { w: toDevice(params.conv2.w as Tensor), b: toDevice(params.conv2.b as Tensor) },
        fc1: { W: toDevice(params.fc1.W as Tensor), b: toDevice(params.fc1.b as Tensor) },
        fc2: { W: toDevice(params.fc2.W as Tensor), b: toDevice(params.fc2.b as Tensor) },
      };
      const got = await readTree(run(valueAndGrad(cnnLoss), moved, toDevice(x), toDevice(onehot)));
      expectClose(got, want, 1e-3, 1e-5, "[loss, grads]");
    } finally {
      await setBackend("cpu");
    }
  });
});
