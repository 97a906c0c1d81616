// yieldiff: differentiable programming with generator programs and effect handlers.
export { Tensor, type DType, type NestedArray, type BackendName } from "./tensor/tensor.ts";
export { setBackend, backend, backendInfo, toDevice, toCpu, type BackendOptions, type BackendInfo } from "./backend/backend.ts";
export type { DeviceMemory } from "./backend/device.ts";
export { tensor, zeros, ones, full, arange, eye, randn, rand, type TensorInput, type RandomOptions } from "./tensor/create.ts";
export { Random } from "./tensor/random.ts";
export { run, type ProgramFn } from "./run.ts";
export { primal, Traced, type Value } from "../effects/value.ts";
export { Effect } from "../effects/effect.ts";
export { call, type Call } from "../effects/call.ts";
export * from "./ops.ts";
export type { VarianceOptions } from "./reductions-extra.ts";
export type { IndexArgument } from "./indexing.ts";
export type { Conv2dOptions, ConvTranspose2dOptions, Padding, Pool2dOptions } from "./lax.ts";
export { grad, valueAndGrad, type GradOptions } from "./transforms/grad.ts";
export { vjp, vjpWithAux, type Pullback } from "./transforms/vjp.ts";
export { jvp } from "./transforms/forward.ts";
export { jacfwd, jacrev, hessian, type JacobianOptions } from "./transforms/jacobian.ts";
export { customVjp, checkpoint } from "./transforms/custom.ts";
export { customJvp } from "./transforms/custom-jvp.ts";
export { vmap, type InAxes, type AxisTree, type Stacked } from "./transforms/vmap.ts";
export { jit, makeIR, type Jitted, type JitInfo, type JitOptions } from "./staging/jit.ts";
export { cond, switchCase } from "./primitives/control/switch.ts";
export { whileLoop } from "./primitives/control/while.ts";
export { scan } from "./primitives/control/scan.ts";
export { fixpoint, type Recursive } from "./primitives/control/fixpoint.ts";
export type { PyTree } from "./pytree.ts";
export {
  YieldiffError,
  ShapeError,
  DTypeError,
  IndexError,
  EffectError,
  ValueError,
  EscapeError,
  TransformError,
  BackendError,
  type AnyYieldiffError,
} from "./errors.ts";
export { encodeCheckpoint, decodeCheckpoint, CheckpointError, type CheckpointErrorReason, type LoadOptions } from "./checkpoint.ts";
export * from "./train/index.ts";
/** Neural network layers (init/apply pairs over parameter pytrees), initializers and dropout. */
export * as nn from "./nn/index.ts";
/** Optimizers as pure init/update functions over pytrees (optax-style): SGD, Adagrad, Adam, AdamW. */
export * as optim from "./optim/index.ts";
/** Random numbers from counter-based keys, bit-identical to JAX's default Threefry-2x32 generator: `random.key(seed)`, then `split`, `foldIn`, `uniform`, `normal`, `bernoulli`, `categorical`, `permutation` (used with `yield*`). */
export * as random from "./random/index.ts";
/** Linear algebra on stacks of matrices `[..., m, n]`: cholesky, triangularSolve, solve, inv, det, slogdet, qr, eigh, svd — each differentiable at every order, batched, and staged by jit. */
export * as linalg from "./linalg.ts";
export { softmaxCrossEntropy, nllLoss, mseLoss, binaryCrossEntropyWithLogits, softplus, accuracy, type Reduction, type LossOptions, type Labels } from "./losses.ts";
/** CTC loss (log-space forward algorithm over [T, N, C] log-probabilities, PyTorch's conventions), as Lantern's DeepSpeech2 trains with. */
export { ctcLoss, type CtcLossOptions, type IntegerList } from "./losses/ctc.ts";
export { treeMap, treeZerosLike, treeAdd, treeSub, treeScale, treeDot, treeGlobalNorm, treeSize } from "./tree-math.ts";
export { setWasmEnabled, wasmUnavailableReason } from "./kernels/wasm/gemm.ts";
export { setMatmulThreads, matmulThreads, matmulThreadsUnavailableReason } from "./kernels/wasm/threads.ts";
