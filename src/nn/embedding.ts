// Embedding: integer indices → rows of a table [vocab, dim] (a gather, `take`).
import type { Value } from "../../effects/value.ts";
import { take } from "../ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { normal, type Initializer } from "./init.ts";
import { checkOptions } from "../options.ts";
import { INIT_OPTIONS, checkParam, checkSize, draw, type Gen, type InitOptions, type Seed } from "./util.ts";

/** The parameters of `embedding`: the table `[vocab, dim]`. */
export interface EmbeddingParams<T extends Value = Value> {
  table: T;
}

export interface EmbeddingInitOptions extends InitOptions {
  /** Initializer of the table (default normal(1)). */
  init?: Initializer;
}

/** { table [vocabSize, dim] }. */
function init(seed: Seed, vocabSize: number, dim: number, options: EmbeddingInitOptions = {}): EmbeddingParams<Tensor> {
  checkOptions("embedding.init", options, { ...INIT_OPTIONS, init: "function" });
  checkSize("embedding.init", "vocabSize", vocabSize);
  checkSize("embedding.init", "dim", dim);
  return { table: draw(options.init ?? normal(1), seed, 0, [vocabSize, dim], options.dtype) };
}

/**
 * indices of shape S (number[], Int32Array or an integer-valued tensor, traced ones included:
 * ids passed to a jitted program are data there) → [...S, dim].
 */
function* apply(params: EmbeddingParams, indices: readonly number[] | Int32Array | Value): Gen<Value> {
  const table = checkParam("embedding.apply", params, "table", [-1, -1]);
  return yield* take(table, indices, 0);
}

/** An embedding: integer indices → rows of a table `[vocab, dim]`. */
export const embedding = {
  /** A table of `vocabSize` rows of `dim` from an integer seed or a key (`random.key`). */
  init,
  /** The rows of the table at `indices`. */
  apply,
};
