// Small helpers the error tests share: run one operation as a program, and catch what a call throws.
import { run, type Effect } from "../src/index.ts";

/** Runs one operation as a program, `yield*`-ing it, and returns its result (or throws its error). */
export const perform = (op: () => Effect): unknown =>
  run(function* () {
    return yield* op();
  });

/** The error `f` throws; a test failure when it returns normally. */
export const caught = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the call to throw, but it returned normally");
};
