// What checkpoint saves: the memory a reverse pass holds for a deep MLP (16 tanh layers of
// width 512, batch 128), measured as the heap a live vjp pullback keeps, with and without
// checkpointing each layer; and what it costs in time.
import { add, checkpoint, matmul, randn, run, sum, tanh, tensor, vjp, type Tensor } from "../../src/index.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";

const LAYERS = 16;
const WIDTH = 512;
const BATCH = 128;

type Layer = { W: Tensor; b: Tensor };

function* layer(x: Tensor, W: Tensor, b: Tensor) {
  return yield* tanh(yield* add(yield* matmul(x, W), b));
}
const checkpointed = checkpoint(layer);

const net = (useCheckpoint: boolean) =>
  function* (params: Layer[], x: Tensor) {
    let h = x;
    for (const p of params) h = (yield* (useCheckpoint ? checkpointed : layer)(h, p.W, p.b)) as Tensor;
    return yield* sum(h);
  };

/** Collects garbage until typed-array storage, which V8 frees in the background, is settled. */
const gc = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 30));
  }
};

/** JS heap plus typed-array storage (which lives outside the JS heap). */
const used = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Bytes kept alive by the pullback of one vjp. */
const retained = async (params: Layer[], x: Tensor, useCheckpoint: boolean): Promise<number> => {
  await gc();
  const before = used();
  const [, pullback] = run(function* () {
    return yield* vjp(net(useCheckpoint), params, x);
  });
  await gc();
  const held = used() - before;
  run(function* () {
    return yield* pullback(1); // keeps the pullback alive until after the measurement
  });
  return held;
};

export async function checkpointMemory(): Promise<Row[]> {
  if (!(globalThis as { gc?: unknown }).gc) throw new Error("checkpoint memory needs node --expose-gc (npm run bench passes it)");
  // Weights scaled by 1/sqrt(width) so tanh does not saturate.
  const params = Array.from({ length: LAYERS }, (_, i) => ({
    W: tensor(randn([WIDTH, WIDTH], { seed: i }).data.map((v) => v / Math.sqrt(WIDTH)), { shape: [WIDTH, WIDTH], dtype: "float32" }),
    b: randn([WIDTH], { seed: 100 + i, dtype: "float32" }),
  }));
  const x = randn([BATCH, WIDTH], { seed: 7, dtype: "float32" });
  await retained(params, x, false); // warm-up: kernels' scratch memory, compiled code
  await retained(params, x, true);
  const plain = await retained(params, x, false);
  const withCheckpoint = await retained(params, x, true);
  const gradient = (useCheckpoint: boolean) => () =>
    run(function* () {
      const [, pb] = yield* vjp(net(useCheckpoint), params, x);
      return yield* pb(1);
    });
  const t = await time({ plain: gradient(false), checkpoint: gradient(true) }, { time: 1000, iterations: 5 });
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return [
    { workload: "CKPT", system: "deep MLP gradient, no checkpoint", unit: "ms", ...t.plain!, note: `reverse pass holds ${mib(plain)}` },
    { workload: "CKPT", system: "deep MLP gradient, checkpoint per layer", unit: "ms", ...t.checkpoint!, note: `reverse pass holds ${mib(withCheckpoint)} (${((1 - withCheckpoint / plain) * 100).toFixed(0)}% less)` },
  ];
}
