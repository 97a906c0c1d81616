// yieldiff/effect: yieldiff for Effect (the `effect` package, version 4) users.
//
//   runEffect(program, ...args)   a program as an Effect; yieldiff's tagged errors are typed failures
//   fit / makeTrainer             training as an interruptible Effect, metrics as a Stream,
//                                 evaluation and checkpoints on a Schedule
//   Checkpoint                    checkpoints whose header is a Schema; atomic saves; CheckpointError
//   runMain                       a main program; Ctrl-C (where there are signals) interrupts it
//   CheckpointFiles               where checkpoints are stored: provide yieldiff/effect/node's
//                                 NodeCheckpointFiles (or a store of your own)
//
// This is the only part of yieldiff that imports `effect`; the core does not depend on it.
export { runEffect, attempt, isOperationError, isYieldiffFailure, type YieldiffFailure, type AnyYieldiffError } from "./errors.ts";
export {
  fit,
  makeTrainer,
  type Batches,
  type Cadence,
  type CheckpointOptions,
  type EpochMetrics,
  type EvalMetrics,
  type EvaluateOptions,
  type FitOptions,
  type FitResult,
  type Optimizer,
  type Snapshot,
  type StepMetrics,
  type Trainer,
} from "./train.ts";
/** Checkpoints as Effects: a Schema for the header, typed CheckpointErrors, atomic saves through CheckpointFiles. */
export * as Checkpoint from "./checkpoint.ts";
export { CheckpointError, type CheckpointErrorReason, type TrainingCheckpoint } from "./checkpoint.ts";
export { runMain } from "./runtime.ts";
export { CheckpointFiles, noCheckpointFiles, type CheckpointFilesShape } from "./files.ts";
export {
  YieldiffError,
  ShapeError,
  DTypeError,
  IndexError,
  EffectError,
  ValueError,
  EscapeError,
  TransformError,
} from "../errors.ts";
