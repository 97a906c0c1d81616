// The one iterative driver: runs a program to its end. While it runs (inPlace.on), operations are
// performed where the program makes or yield*s them, without suspending it (effects/effect.ts);
// what still comes here is a `call`, or an effect yielded with a plain `yield`: the driver
// performs it and resumes the program with the result. Errors thrown while performing an effect
// are thrown into the program at its `yield`, so a program's own try/finally runs and it may
// even catch them.
//
// A sub-program started by `yield* call(f, ...args)` runs in a frame of its own: the caller
// waits on `callers`, a stack on the heap, and the driver resumes the running frame directly.
// When the frame returns, its caller resumes with the result; when it throws, the error is
// thrown into its caller at the `yield*`. So recursion of any depth costs constant native stack
// and constant time per resume (see effects/call.ts).
import { EffectError } from "../src/errors.ts";
import { Call } from "./call.ts";
import { Effect, inPlace } from "./effect.ts";
import { PrimitiveOp } from "./operation.ts";
import { bind } from "./trace.ts";

/** A generator program: yields effects, returns a result. */
export type Program<R = unknown> = Generator<Effect, R, unknown> | Iterator<Effect, R, unknown>;

type Frame = Iterator<unknown, unknown, unknown>;

export function drive<R>(program: Program<R>): R {
  synchronous(program);
  // Operations are performed in place while this driver runs; an enclosing driver's setting
  // comes back when it returns or throws.
  const was = inPlace.on;
  inPlace.on = true;
  try {
    return driveFrames(program);
  } finally {
    inPlace.on = was;
  }
}

function driveFrames<R>(program: Program<R>): R {
  let gen: Frame = program;
  let refused: EffectError | null = null; // set when a non-effect was thrown back into `gen`
  let callers: Frame[] | null = null; // frames waiting at a `call`, innermost last; made on the first call
  let input: unknown = undefined; // what `gen` resumes with
  let failure: unknown = undefined; // or the error thrown into it, when `failed`
  let failed = false;
  for (;;) {
    let r: IteratorResult<unknown, unknown>;
    try {
      if (failed) {
        failed = false;
        if (typeof gen.throw !== "function") throw failure;
        r = gen.throw(failure);
      } else r = gen.next(input);
      while (r.done !== true) {
        const e = r.value;
        // Told that it yielded a non-effect, the program yielded another: it makes no progress,
        // so it ends with the error instead of looping.
        if (refused !== null && !(e instanceof Effect)) {
          gen.return?.(undefined);
          throw refused;
        }
        refused = null;
        let v: unknown;
        try {
          // Primitive operations, the common case, dispatch directly; other effects perform themselves.
          if (e instanceof PrimitiveOp) v = bind(e.prim, e.args, e.params);
          else if (e instanceof Call) {
            const callee = synchronous(e.start());
            (callers ??= []).push(gen);
            gen = callee; // started below, with v = undefined
          } else if (e instanceof Effect) v = e.perform();
          else throw (refused = notAnEffect(e));
        } catch (err) {
          if (typeof gen.throw !== "function") throw err;
          r = gen.throw(err);
          continue;
        }
        r = gen.next(v);
      }
    } catch (err) {
      // The running frame ended with an error: its caller gets it at its `yield* call(...)`.
      const error = err instanceof RangeError && STACK_OVERFLOW.test(err.message) ? tooDeep(err) : err;
      if (callers === null || callers.length === 0) throw error;
      gen = callers.pop()!;
      failure = error;
      failed = true;
      continue;
    }
    if (callers === null || callers.length === 0) return r.value as R;
    gen = callers.pop()!;
    input = r.value;
  }
}

/**
 * Programs are synchronous generators. An async generator's `next` gives promises, which would
 * never be effects: refuse it at once rather than throw errors into it forever.
 */
const synchronous = <G extends object>(gen: G): G => {
  if (Symbol.asyncIterator in gen)
    throw new EffectError(
      "the program is an async generator (async function*); programs are synchronous generators (function*): " +
        "an operation's result is ready when yield* returns. Await data before calling run, and pass it in",
    );
  return gen;
};

const notAnEffect = (e: unknown): EffectError => {
  const what =
    e === undefined ? "undefined" : typeof e === "object" ? (e === null ? "null" : `an object (${Object.prototype.toString.call(e)})`) : `${typeof e} ${String(e)}`;
  return new EffectError(
    `a program yielded ${what}, which is not an effect. Operations are used with yield*: ` +
      "`const y = yield* mul(a, b)`; yield* a sub-program: `yield* g(x)`",
  );
};

const STACK_OVERFLOW = /call stack/i;

/** The engine's stack overflow, told in terms of the program: usually recursion through yield*. */
const tooDeep = (err: RangeError): EffectError =>
  new EffectError(
    "the program nested deeper than the JavaScript stack allows (Maximum call stack size exceeded). " +
      "A sub-program called with `yield* g(x)` keeps every caller on the native stack: recursion through " +
      "yield* fails at a few thousand levels (and each wait for the driver resumes every level). " +
      "Write the recursive call as `yield* call(g, x)` (`yield* call(f, ...args)`): " +
      "the driver runs it in a frame on its heap stack, at any depth in linear time",
    { cause: err },
  );
