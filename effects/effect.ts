// An operation used in a program is an Effect: a small object that is its own iterator.
// `yield* op` yields the object to the driver once (shift: the rest of the generator is the
// continuation) and returns whatever the driver resumes the generator with (k(y)).
// No generator is allocated per operation.
//
// Each `yield*` performs the operation exactly once, even when one object is `yield*`-ed by
// several sub-programs at the same time: the object serves one `yield*` at a time, and a
// `yield*` that finds it already in flight gets a small iterator of its own (the rare case).

/** An operation a program performs with `yield*`: its own iterator, so no generator is made per operation. */
export abstract class Effect<R = unknown> implements Iterator<Effect, R, unknown> {
  /** True while a `yield*` that got this object as its iterator waits for the result. */
  private inFlight = false;

  /** Performs the operation through the handler stack (`bind`). */
  abstract perform(): R;
  /** Names the operation in error messages. */
  abstract get name(): string;

  /** First yields the operation to the driver, then returns what the driver resumed with. */
  next(resumed?: unknown): IteratorResult<Effect, R> {
    if (!this.inFlight) {
      this.inFlight = true;
      return { done: false, value: this };
    }
    this.inFlight = false;
    return { done: true, value: resumed as R };
  }

  /**
   * The driver throws an operation's error into the program; `yield*` forwards it here, and
   * rethrowing makes it surface in the program at the `yield*`, where try/catch sees it.
   */
  throw(error?: unknown): IteratorResult<Effect, R> {
    this.inFlight = false;
    throw error;
  }

  /** A program abandoned while waiting here (`gen.return()`) frees the object for reuse. */
  return(value?: unknown): IteratorResult<Effect, R> {
    this.inFlight = false;
    return { done: true, value: value as R };
  }

  /** What `yield*` iterates: the operation itself (or a fresh iterator when it is already in flight). */
  [Symbol.iterator](): Iterator<Effect, R, unknown> {
    return this.inFlight ? new Performance(this) : this;
  }
}

/** One more `yield*` of an effect that another `yield*` is still waiting on. */
class Performance<R> implements Iterator<Effect, R, unknown> {
  private yielded = false;
  constructor(private readonly effect: Effect<R>) {}

  next(resumed?: unknown): IteratorResult<Effect, R> {
    if (!this.yielded) {
      this.yielded = true;
      return { done: false, value: this.effect };
    }
    return { done: true, value: resumed as R };
  }

  throw(error?: unknown): IteratorResult<Effect, R> {
    throw error;
  }

  return(value?: unknown): IteratorResult<Effect, R> {
    return { done: true, value: value as R };
  }
}
