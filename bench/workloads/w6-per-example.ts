// W6-PEX: per-example gradients of W6's CNN (the same model, parameters and batch of 100):
// vmap of grad over the batch, each example's loss its own NLL, against one batched gradient
// of the mean loss. vmap's batching rules fold the batch into the convolutions' N and into
// batched matmuls, so the 100 gradients should cost about one batched gradient (target ≤ 1.4×).
import { grad, logSoftmax, maxPool2d, nllLoss, nn, relu, reshape, run, valueAndGrad, vmap, type Tensor, type Value } from "../../src/index.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";
import { oneHot, randomInts } from "./models.ts";
import { initParams, loss, type Params } from "./w6.ts";

const BATCH = 100;

/** One example: x [1, 28, 28], onehot [10]. */
export function* exampleLoss(p: Params, x: Value, onehot: Value) {
  let h = yield* relu(yield* maxPool2d(yield* nn.conv2d.apply(p.conv1, yield* reshape(x, [1, 1, 28, 28])), { size: 2 }));
  h = yield* relu(yield* maxPool2d(yield* nn.conv2d.apply(p.conv2, h), { size: 2 }));
  h = yield* relu(yield* nn.linear.apply(p.fc1, yield* reshape(h, [1, 320])));
  const z = yield* nn.linear.apply(p.fc2, h);
  return yield* nllLoss(yield* logSoftmax(z, -1), yield* reshape(onehot, [1, 10]));
}

export async function w6PerExample(): Promise<Row[]> {
  const x = nn.init.normal(1)(61, [BATCH, 1, 28, 28], "float32");
  const onehot = oneHot(randomInts(62, BATCH, 10), 10);
  const params = initParams(60);
  const batched = valueAndGrad(loss);
  const perExample = vmap(grad(exampleLoss), [null, 0, 0]);
  // Check: the mean of the per-example gradients is the batched gradient.
  const [, g] = run(batched, params, x, onehot) as [unknown, Params];
  const pex = run(perExample, params, x, onehot) as unknown as Params;
  for (const layer of ["conv1", "conv2"] as const)
    for (const k of ["w", "b"] as const) {
      const each = pex[layer][k] as Tensor;
      const want = (g[layer][k] as Tensor).buf;
      if (each.shape[0] !== BATCH) throw new Error("W6-PEX: one gradient per example expected");
      let diff = 0;
      for (let j = 0; j < want.length; j++) {
        let mean = 0;
        for (let b = 0; b < BATCH; b++) mean += each.buf[b * want.length + j]! / BATCH;
        diff = Math.max(diff, Math.abs(mean - want[j]!));
      }
      if (!(diff < 1e-5)) throw new Error(`W6-PEX: per-example gradients of ${layer}.${k} average to a value ${diff} away from the batched gradient`);
    }
  const t = await time({ batched: () => run(batched, params, x, onehot), perExample: () => run(perExample, params, x, onehot) }, { time: 1500 });
  const ratio = t.perExample!.median / t.batched!.median;
  return [
    { workload: "W6-PEX", system: "yieldiff eager, batched gradient", unit: "ms/step", ...t.batched!, note: "valueAndGrad(loss), batch 100" },
    { workload: "W6-PEX", system: "yieldiff eager, per-example gradients", unit: "ms/step", ...t.perExample!, note: `vmap(grad(exampleLoss)): ${ratio.toFixed(2)}× the batched gradient` },
  ];
}
