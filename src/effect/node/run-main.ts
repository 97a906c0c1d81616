// runMain with checkpoint files: yieldiff/effect's runMain (signals interrupt the program) for a
// program that reads and writes its checkpoints on the local file system.
import { Effect, type Runtime } from "effect";
import { runMain as runMainCore } from "../runtime.ts";
import { NodeCheckpointFiles } from "./files.ts";

/** runMain's options, as effect's `Runtime.makeRunMain` takes them. */
export interface RunMainOptions {
  readonly disableErrorReporting?: boolean | undefined;
  readonly teardown?: Runtime.Teardown | undefined;
}

/**
 * Runs `effect` as the main program with NodeCheckpointFiles provided: SIGINT and SIGTERM
 * interrupt it (so `fit` saves its last completed step), and the exit code says how it ended.
 */
export function runMain(options?: RunMainOptions): <E, A>(effect: Effect.Effect<A, E>) => void;
export function runMain<E, A>(effect: Effect.Effect<A, E>, options?: RunMainOptions): void;
export function runMain<E, A>(
  first?: Effect.Effect<A, E> | RunMainOptions,
  options?: RunMainOptions,
): void | (<E2, A2>(effect: Effect.Effect<A2, E2>) => void) {
  if (Effect.isEffect(first)) return runMainCore(Effect.provide(first, NodeCheckpointFiles), options);
  return (effect) => runMainCore(Effect.provide(effect, NodeCheckpointFiles), first);
}
