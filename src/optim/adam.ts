// Adam (Kingma & Ba), with bias correction, as torch.optim.Adam:
//   t = count + 1;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr·m̂ / (sqrt(v̂) + eps),  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
// AdamW (adamw.ts) adds decoupled weight decay: p ← p − lr·weightDecay·p before that step.
import {
  STEP_OPTIONS, checkClip, checkCount, checkLearningRate, checkNumber, learningRateAt, slotLike, stepLeaves,
  type StepOptions, type LearningRate, type Optimizer, type OptimizerState,
} from "./common.ts";
import { checkOptions, type OptionSpec } from "../options.ts";
import { add, div, mul, sqrt, sub } from "../ops.ts";

export interface AdamOptions extends StepOptions {
  lr: LearningRate;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** { count, mu, nu }: first and second moment estimates, shaped like the params. */
export interface AdamState extends OptimizerState {
  mu: unknown;
  nu: unknown;
}

/** The options adam accepts (adamw: these and weightDecay). */
export const ADAM_OPTIONS: OptionSpec = { ...STEP_OPTIONS, beta1: "number", beta2: "number", eps: "number" };

/** @internal Adam with decoupled weight decay `wd` (0 for plain Adam). */
export const adamLike = (op: string, options: AdamOptions, wd: number): Optimizer<AdamState> => {
  const lr = checkLearningRate(op, options?.lr);
  const b1 = checkNumber(op, "beta1", options.beta1 ?? 0.9, 0, 1, true);
  const b2 = checkNumber(op, "beta2", options.beta2 ?? 0.999, 0, 1, true);
  const eps = checkNumber(op, "eps", options.eps ?? 1e-8, 0);
  const clip = checkClip(op, options);
  return {
    init: (params) => ({ count: 0, mu: slotLike(`${op}.init`, params), nu: slotLike(`${op}.init`, params) }),
    update(grads, state, params) {
      const count = checkCount(`${op}.update`, state);
      const rate = learningRateAt(op, lr, count);
      const t = count + 1;
      const c1 = 1 - Math.pow(b1, t);
      const c2 = 1 - Math.pow(b2, t);
      const decay = 1 - rate * wd;
      const slots = [{ name: "mu", tree: state.mu }, { name: "nu", tree: state.nu }];
      const [p, [mu, nu]] = stepLeaves(`${op}.update`, params, grads, slots, clip, (p, g, [m, v], outP, [outM, outV]) => {
        for (let k = 0; k < p.length; k++) {
          const gk = g[k]!;
          const mk = b1 * m![k]! + (1 - b1) * gk;
          const vk = b2 * v![k]! + (1 - b2) * gk * gk;
          outM![k] = mk;
          outV![k] = vk;
          outP[k] = p[k]! * decay - (rate * (mk / c1)) / (Math.sqrt(vk / c2) + eps);
        }
      }, function* (p, g, [m, v]) {
        const mk = yield* add(yield* mul(b1, m!), yield* mul(1 - b1, g));
        const vk = yield* add(yield* mul(b2, v!), yield* mul(1 - b2, yield* mul(g, g)));
        const denom = yield* add(yield* sqrt(yield* mul(vk, 1 / c2)), eps);
        const q = yield* sub(yield* mul(p, decay), yield* div(yield* mul(mk, rate / c1), denom));
        return [q, [mk, vk]];
      });
      return [p, { count: count + 1, mu, nu }];
    },
  };
};

/** Adam (Kingma & Ba). */
export const adam = (options: AdamOptions): Optimizer<AdamState> => adamLike("adam", checkOptions("adam", options, ADAM_OPTIONS), 0);
