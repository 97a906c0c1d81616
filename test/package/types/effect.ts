// A TypeScript user of yieldiff/effect and yieldiff/effect/node (see core.ts).
import { Effect } from "effect";
import { grad, mul, optim, randn, sin, sum, type Tensor } from "yieldiff";
import { Checkpoint, CheckpointError, fit, runEffect, type AnyYieldiffError, type FitResult, type YieldiffFailure } from "yieldiff/effect";
import { NodeCheckpointFiles, runMain } from "yieldiff/effect/node";
import type { Equal, Expect } from "./assert.ts";

function* f(x: number) {
  return yield* mul(x, yield* sin(x));
}
const derivative = runEffect(grad(f), 1.5);

type Params = { w: Tensor };
function* loss(p: Params, batch: Tensor) {
  return yield* sum(yield* mul(p.w, batch));
}
const training = fit({ params: { w: randn([3]) }, loss, optimizer: optim.sgd({ lr: 0.1 }), data: [randn([3])], checkpoint: { path: "run.ckpt" } });
const saved = Checkpoint.save("p.ckpt", { w: randn([3]) }).pipe(Effect.provide(NodeCheckpointFiles));

export type Checks = [
  Expect<Equal<typeof derivative, Effect.Effect<number, AnyYieldiffError>>>,
  Expect<Equal<typeof training, Effect.Effect<FitResult<Params, optim.SgdState>, YieldiffFailure>>>,
  Expect<Equal<typeof saved, Effect.Effect<void, CheckpointError>>>,
];
export const main = (): void => runMain(training);
