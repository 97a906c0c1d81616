// runMain for Node: runs an Effect as the program's main fiber; SIGINT (Ctrl-C) and SIGTERM
// interrupt it, so its finalizers run (e.g. `fit` saves the last completed step) before the
// process exits. Built on effect's `Runtime.makeRunMain`, as `@effect/platform-node`'s
// `NodeRuntime.runMain` is, without depending on that package.
//
// Signals after the first are ignored until the fiber has finished: a Ctrl-C in a terminal
// often arrives twice (once from the terminal, once relayed by a parent such as `npm run` or
// `tsx`), and the second must not kill the process while it saves. (SIGKILL still stops it.)
import { Runtime } from "effect";

interface SignalProcess {
  on(signal: string, listener: () => void): unknown;
  removeListener(signal: string, listener: () => void): unknown;
  exit(code: number): void;
}
/** The host's process (Node, Deno, Bun); none in a browser, where there are no signals to catch. */
const host = (globalThis as { process?: Partial<SignalProcess> }).process;
const signals: SignalProcess | undefined =
  typeof host?.on === "function" && typeof host.removeListener === "function" && typeof host.exit === "function" ? (host as SignalProcess) : undefined;

/**
 * Runs `effect` as the main program. Exit code: 0 on success, 130 when interrupted by a signal,
 * 1 (or the error's `Runtime.errorExitCode`) on failure, which is logged.
 */
export const runMain = Runtime.makeRunMain(({ fiber, teardown }) => {
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1);
  let receivedSignal = false;
  const onSignal = (): void => {
    if (receivedSignal) return; // already interrupting: let the finalizers finish
    receivedSignal = true;
    fiber.interruptUnsafe();
  };
  signals?.on("SIGINT", onSignal);
  signals?.on("SIGTERM", onSignal);
  fiber.addObserver((exit) => {
    clearInterval(keepAlive);
    signals?.removeListener("SIGINT", onSignal);
    signals?.removeListener("SIGTERM", onSignal);
    teardown(exit, (code) => {
      if (receivedSignal || code !== 0) signals?.exit(code);
    });
  });
});
