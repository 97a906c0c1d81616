// Adagrad as Lantern writes it: acc ← acc + g²;  p ← p − lr·g / sqrt(acc + eps).
import {
  STEP_OPTIONS, checkClip, checkCount, checkLearningRate, checkNumber, learningRateAt, slotLike, stepLeaves,
  type StepOptions, type LearningRate, type Optimizer, type OptimizerState,
} from "./common.ts";
import { checkOptions } from "../options.ts";
import { add, div, mul, sqrt, sub } from "../ops.ts";
import { clipOnDevice } from "./device-step.ts";
import { adagradStep } from "../kernels/vector.ts";

export interface AdagradOptions extends StepOptions {
  lr: LearningRate;
  /** Inside the square root (default 1e-8). */
  eps?: number;
  /** Starting value of the accumulator (default 0). */
  initialAccumulator?: number;
}

/** { count, accum } (accum shaped like the params: the running sum of g²). */
export interface AdagradState extends OptimizerState {
  accum: unknown;
}

/** Adagrad: each parameter's step scaled by the root of its summed squared gradients. */
export const adagrad = (options: AdagradOptions): Optimizer<AdagradState> => {
  const op = "adagrad";
  checkOptions(op, options, { ...STEP_OPTIONS, eps: "number", initialAccumulator: "number" });
  const lr = checkLearningRate(op, options?.lr);
  const eps = checkNumber(op, "eps", options.eps ?? 1e-8, 0);
  const initial = checkNumber(op, "initialAccumulator", options.initialAccumulator ?? 0, 0);
  const clip = checkClip(op, options);
  return {
    init: (params) => ({ count: 0, accum: slotLike("adagrad.init", params, initial) }),
    update(grads, state, params) {
      const count = checkCount("adagrad.update", state);
      const rate = learningRateAt(op, lr, count);
      // An elementwise clip (without a global-norm clip, which must come first) is done inside
      // the step: one pass over the gradient instead of two.
      const inStep = clip.clipValue !== undefined && clip.clipGlobalNorm === undefined;
      const hi = inStep ? clip.clipValue! : Infinity;
      const lo = -hi;
      const before = inStep ? { ...clip, clipValue: undefined } : clip;
      const [p, [accum]] = stepLeaves("adagrad.update", params, grads, [{ name: "accum", tree: state.accum }], before, (p, g, [a], outP, [outA]) => {
        if (adagradStep(p, g, a!, outP, outA!, rate, eps, lo, hi)) return;
        for (let k = 0; k < p.length; k++) {
          const g0 = g[k]!;
          const gk = g0 < lo ? lo : g0 > hi ? hi : g0;
          const ak = a![k]! + gk * gk;
          outA![k] = ak;
          outP[k] = p[k]! - (rate * gk) / Math.sqrt(ak + eps);
        }
      }, function* (p, g0, [a]) {
        const gk = inStep ? yield* clipOnDevice(g0, lo, hi) : g0;
        const ak = yield* add(a!, yield* mul(gk, gk));
        return [yield* sub(p, yield* div(yield* mul(rate, gk), yield* sqrt(yield* add(ak, eps)))), [ak]];
      });
      return [p, { count: count + 1, accum }];
    },
  };
};
