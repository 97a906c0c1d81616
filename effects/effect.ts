// An operation used in a program is an Effect: a small object that is its own iterator.
// `yield* op` yields the object to the driver once (shift: the rest of the generator is the
// continuation) and returns whatever the driver resumes the generator with (k(y)).
// No generator is allocated per operation.

export abstract class Effect<R = unknown> implements Iterator<Effect, R, unknown> {
  private started = false;

  /** Performs the operation through the handler stack (`bind`). */
  abstract perform(): R;
  /** Names the operation in error messages. */
  abstract get name(): string;

  next(resumed?: unknown): IteratorResult<Effect, R> {
    if (!this.started) {
      this.started = true;
      return { done: false, value: this };
    }
    this.started = false; // a second `yield*` of the same object re-runs the operation
    return { done: true, value: resumed as R };
  }

  /**
   * The driver throws an operation's error into the program; `yield*` forwards it here, and
   * rethrowing makes it surface in the program at the `yield*`, where try/catch sees it.
   */
  throw(error?: unknown): IteratorResult<Effect, R> {
    this.started = false;
    throw error;
  }

  [Symbol.iterator](): Iterator<Effect, R, unknown> {
    this.started = false;
    return this;
  }
}
