// runMain for Node: runs an Effect as the program's main fiber; SIGINT (Ctrl-C) and SIGTERM
// interrupt it, so its finalizers run (e.g. `fit` saves the last completed step) before the
// process exits. Built on effect's `Runtime.makeRunMain`, as `@effect/platform-node`'s
// `NodeRuntime.runMain` is, without depending on that package.
//
// Signals after the first are ignored until the fiber has finished: a Ctrl-C in a terminal
// often arrives twice (once from the terminal, once relayed by a parent such as `npm run` or
// `tsx`), and the second must not kill the process while it saves. (SIGKILL still stops it.)
import { Runtime } from "effect";

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
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  fiber.addObserver((exit) => {
    clearInterval(keepAlive);
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    teardown(exit, (code) => {
      if (receivedSignal || code !== 0) process.exit(code);
    });
  });
});
