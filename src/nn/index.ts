// nn: parameters are pytrees (plain objects of tensors); each layer is a pair of a seeded
// `init(seed, ...sizes, options?) → params` and a program `apply(params, x, ...)` used with
// `yield*`. `nn.init` holds the initializers.
/** Initializers: each makes a tensor of a shape from an integer seed. */
export * as init from "./init.ts";
export type { Initializer, FanMode, Distribution } from "./init.ts";
export { linear, type LinearParams, type LinearInitOptions } from "./linear.ts";
export { conv2d, type Conv2dParams, type Conv2dInitOptions } from "./conv2d.ts";
export { embedding, type EmbeddingParams, type EmbeddingInitOptions } from "./embedding.ts";
export { rnnCell, type RnnCellParams, type RnnCellInitOptions } from "./rnn-cell.ts";
export { lstmCell, type LstmCellParams, type LstmCellInitOptions } from "./lstm-cell.ts";
export { treeLstmCell, type TreeLstmCellParams, type TreeLstmCellInitOptions, type TreeState } from "./tree-lstm-cell.ts";
export { dropout, dropoutMask, type DropoutOptions } from "./dropout.ts";
export { layerNorm, type LayerNormParams, type LayerNormOptions } from "./layer-norm.ts";
export { batchNorm, type BatchNormParams, type BatchNormState, type BatchNormOptions } from "./batch-norm.ts";
export type { InitOptions, Seed } from "./util.ts";
