// An operation used in a program is an Effect: a small object that is its own iterator.
// While a driver runs the program (`inPlace.on`), `yield* op` performs the operation through the
// handler stack at once and gives its result: the program does not suspend (suspending and
// resuming a generator costs as much as evaluating a scalar operation). Outside any driver — a
// program stepped by hand — `yield* op` yields the object once and returns whatever the stepper
// resumes the generator with. No generator is allocated per operation.
//
// Each `yield*` performs the operation exactly once, even when one object is `yield*`-ed by
// several sub-programs at the same time: the object serves one `yield*` at a time, and a
// `yield*` that finds it already in flight gets a small iterator of its own (the rare case).

/**
 * An operation a program performs with `yield*`: its own iterator, so no generator is made per
 * operation, and its own iterator result, so none is made per step either: `yield*` reads a
 * result's `done` and `value` at once, and the driver the yielded effect before performing it.
 */
export abstract class Effect<R = unknown> implements Iterator<Effect, R, unknown> {
  // Fields are declared and set in the constructor, not defined: V8 builds an instance of a
  // derived class several times faster so (an effect is made per operation).
  /** True while a `yield*` that got this object as its iterator waits for the result. */
  private declare inFlight: boolean;
  /** @internal The iterator result `next` last gave: false, this (yielded), or true, the result. */
  declare done: boolean;
  /** @internal */
  declare value: unknown;

  constructor() {
    this.inFlight = false;
    this.done = false;
    this.value = undefined;
  }

  /** Whether a driver may perform it inside `next` (a call needs the driver's frames). */
  get performsInPlace(): boolean {
    return true;
  }
  /** Performs the operation through the handler stack (`bind`). */
  abstract perform(): R;
  /** Names the operation in error messages. */
  abstract get name(): string;

  /**
   * While a driver runs: performs the operation and gives its result. Otherwise first yields the
   * operation to whoever steps the program, then returns what they resumed with.
   */
  next(resumed?: unknown): IteratorResult<Effect, R> {
    if (!this.inFlight) {
      if (inPlace.on && this.performsInPlace) {
        try {
          this.value = this.perform();
        } catch (error) {
          throw atProgramLine(error);
        }
        this.done = true;
        return this as unknown as IteratorResult<Effect, R>;
      }
      this.inFlight = true;
      this.done = false;
      this.value = this;
    } else {
      this.inFlight = false;
      this.done = true;
      this.value = resumed;
    }
    return this as unknown as IteratorResult<Effect, R>;
  }

  /**
   * The driver throws an operation's error into the program; `yield*` forwards it here, and
   * rethrowing makes it surface in the program at the `yield*`, where try/catch sees it.
   */
  throw(error?: unknown): IteratorResult<Effect, R> {
    this.inFlight = false;
    throw atProgramLine(error);
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

/** On while a driver runs a program: operations are performed where the program yield*s them. */
export const inPlace = { on: false };

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
    throw atProgramLine(error);
  }

  return(value?: unknown): IteratorResult<Effect, R> {
    return { done: true, value: value as R };
  }
}

const AT_PROGRAM_LINE = Symbol("atProgramLine");

/**
 * Puts the program's frames on top of an error's stack. An operation's error is made inside the
 * library, so its stack shows only library frames; here, called by `yield*` while it forwards
 * the error into the program, the program's generator is on the stack at the failing `yield*`:
 * its frames come first, so the error points at the user's line. Runs only when an error is thrown.
 * `libraryFrames`: how many frames of the library lie between this function and the program.
 */
export function atProgramLine(error: unknown, libraryFrames = 1): unknown {
  if (!(error instanceof Error) || AT_PROGRAM_LINE in error || typeof error.stack !== "string") return error;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const here = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  // Frames of `here` after this function and the library's that called it (Effect.throw or
  // next, or an operation performed where the program made it): the program's, then the driver's.
  const ours = here.split("\n").slice(2 + libraryFrames);
  const lines = error.stack.split("\n");
  const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
  if (firstFrame < 0) return error;
  const theirs = lines.slice(firstFrame);
  const shared = new Set(theirs);
  const programFrames = ours.slice(0, Math.max(1, ours.findIndex((l) => shared.has(l))));
  try {
    Object.defineProperty(error, AT_PROGRAM_LINE, { value: true });
    error.stack = [...lines.slice(0, firstFrame), ...programFrames, ...theirs].join("\n");
  } catch {
    // a frozen error keeps its stack
  }
  return error;
}
