// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, as torch.optim.AdamW:
//   p ← p·(1 − lr·weightDecay), then the Adam step (adam.ts).
import { adamLike, type AdamOptions, type AdamState } from "./adam.ts";
import { checkNumber, type Optimizer } from "./common.ts";

export interface AdamwOptions extends AdamOptions {
  /** Decoupled weight decay (default 0.01, PyTorch's). */
  weightDecay?: number;
}

/** AdamW: Adam with decoupled weight decay. */
export const adamw = (options: AdamwOptions): Optimizer<AdamState> =>
  adamLike("adamw", options, checkNumber("adamw", "weightDecay", options?.weightDecay ?? 0.01, 0));
