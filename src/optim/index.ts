// Optimizers: pure functions over pytrees of concrete tensors, like optax.
//   const opt = optim.adam({ lr: 1e-3 });
//   let state = opt.init(params);
//   [params, state] = opt.update(grads, state, params);
export { sgd, type SgdOptions, type SgdState } from "./sgd.ts";
export { adagrad, type AdagradOptions, type AdagradState } from "./adagrad.ts";
export { adam, type AdamOptions, type AdamState } from "./adam.ts";
export { adamw, type AdamwOptions } from "./adamw.ts";
export { clipByValue, clipByGlobalNorm, globalNorm } from "./clip.ts";
export type { Optimizer, OptimizerState, ClipOptions, StepOptions, LearningRate, Schedule } from "./common.ts";
