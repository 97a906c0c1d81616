// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, as torch.optim.AdamW:
//   p ← p·(1 − lr·weightDecay), then the Adam step (adam.ts).
import { ADAM_OPTIONS, adamLike, type AdamOptions, type AdamState } from "./adam.ts";
import { checkOptions } from "../options.ts";
import { checkNumber, type Optimizer } from "./common.ts";

export interface AdamwOptions extends AdamOptions {
  /** Decoupled weight decay (default 0.01, PyTorch's). */
  weightDecay?: number;
}

/** AdamW: Adam with decoupled weight decay. */
export const adamw = (options: AdamwOptions): Optimizer<AdamState> =>
  adamLike(
    "adamw",
    checkOptions("adamw", options, { ...ADAM_OPTIONS, weightDecay: "number" }),
    checkNumber("adamw", "weightDecay", options?.weightDecay ?? 0.01, 0),
  );
