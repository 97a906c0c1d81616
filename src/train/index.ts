// Training utilities: mini-batches, the training loop, the loss curve.
export { batches, batchCount, permutation, takeRows, type BatchOptions } from "./batches.ts";
export {
  trainLoop,
  fit,
  type Optimizer,
  type TrainLoopOptions,
  type TrainResult,
  type StepInfo,
  type EpochInfo,
  type EpochResult,
  type ProgressStream,
} from "./fit.ts";
export { lossCurveSvg, type LossCurveOptions } from "./svg.ts";
