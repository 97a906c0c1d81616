// Stochastic gradient descent with optional momentum, Nesterov momentum, dampening and (L2)
// weight decay, as torch.optim.SGD:
//   g ← g + weightDecay·p
//   v ← g on the first step, then v ← momentum·v + (1 − dampening)·g
//   d = nesterov ? g + momentum·v : v;  p ← p − lr·d
// Without momentum: p ← p − lr·g.
import { ValueError } from "../errors.ts";
import {
  STEP_OPTIONS, checkClip, checkCount, checkLearningRate, checkNumber, learningRateAt, slotLike, stepLeaves,
  type StepOptions, type LearningRate, type Optimizer, type OptimizerState,
} from "./common.ts";
import { sgdStep } from "../kernels/vector.ts";
import { checkOptions } from "../options.ts";
import { add, mul, sub } from "../ops.ts";

export interface SgdOptions extends StepOptions {
  lr: LearningRate;
  /** Momentum factor μ (default 0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0, as PyTorch). */
  nesterov?: boolean;
  /** Dampening of the gradient in the velocity after the first step (default 0). */
  dampening?: number;
  weightDecay?: number;
}

/** { count } or, with momentum, { count, velocity } (velocity shaped like the params). */
export interface SgdState extends OptimizerState {
  velocity?: unknown;
}

/** Stochastic gradient descent, with optional momentum (heavy ball or Nesterov) and weight decay. */
export const sgd = (options: SgdOptions): Optimizer<SgdState> => {
  const op = "sgd";
  checkOptions(op, options, { ...STEP_OPTIONS, momentum: "number", nesterov: "boolean", dampening: "number", weightDecay: "number" });
  const lr = checkLearningRate(op, options?.lr);
  const momentum = checkNumber(op, "momentum", options.momentum ?? 0, 0);
  const nesterov = options.nesterov ?? false;
  const dampening = checkNumber(op, "dampening", options.dampening ?? 0, 0, 1);
  const wd = checkNumber(op, "weightDecay", options.weightDecay ?? 0, 0);
  const clip = checkClip(op, options);
  if (nesterov && (momentum === 0 || dampening !== 0)) throw new ValueError("sgd: nesterov needs momentum > 0 and dampening 0 (as PyTorch)");
  return {
    init: (params) => (momentum > 0 ? { count: 0, velocity: slotLike("sgd.init", params) } : { count: 0 }),
    update(grads, state, params) {
      const count = checkCount("sgd.update", state);
      const rate = learningRateAt(op, lr, count);
      if (momentum === 0) {
        const [p] = stepLeaves("sgd.update", params, grads, [], clip, (p, g, _s, outP) => {
          if (sgdStep(p, g, outP, rate, wd)) return;
          for (let k = 0; k < p.length; k++) outP[k] = p[k]! - rate * (g[k]! + wd * p[k]!);
        }, function* (p, g) {
          const d = wd === 0 ? g : yield* add(g, yield* mul(wd, p));
          return [yield* sub(p, yield* mul(rate, d)), []];
        });
        return [p, { count: count + 1 }];
      }
      // PyTorch starts the velocity at the first gradient (undampened)
      const first = count === 0;
      const [p, [velocity]] = stepLeaves("sgd.update", params, grads, [{ name: "velocity", tree: state.velocity }], clip, (p, g, [v], outP, [outV]) => {
        for (let k = 0; k < p.length; k++) {
          const gk = g[k]! + wd * p[k]!;
          const vk = first ? gk : momentum * v![k]! + (1 - dampening) * gk;
          outV![k] = vk;
          outP[k] = p[k]! - rate * (nesterov ? gk + momentum * vk : vk);
        }
      }, function* (p, g, [v]) {
        const gk = wd === 0 ? g : yield* add(g, yield* mul(wd, p));
        const vk = first ? gk : yield* add(yield* mul(momentum, v!), yield* mul(1 - dampening, gk));
        const d = nesterov ? yield* add(gk, yield* mul(momentum, vk)) : vk;
        return [yield* sub(p, yield* mul(rate, d)), [vk]];
      });
      return [p, { count: count + 1, velocity }];
    },
  };
};
