// The one iterative driver: resumes a program with the result of each effect it yields.
// Errors thrown while performing an effect are thrown into the program at its `yield`, so a
// program's own try/finally runs and it may even catch them.
import { EffectError } from "../src/errors.ts";
import { Effect } from "./effect.ts";
import { PrimitiveOp } from "./operation.ts";
import { bind } from "./trace.ts";

/** A generator program: yields effects, returns a result. */
export type Program<R = unknown> = Generator<Effect, R, unknown> | Iterator<Effect, R, unknown>;

export function drive<R>(gen: Program<R>): R {
  let r = gen.next(undefined);
  while (r.done !== true) {
    const e = r.value;
    let v: unknown;
    try {
      // Primitive operations, the common case, dispatch directly; other effects perform themselves.
      if (e instanceof PrimitiveOp) v = bind(e.prim, e.args, e.params);
      else if (e instanceof Effect) v = e.perform();
      else throw notAnEffect(e);
    } catch (err) {
      if (typeof gen.throw !== "function") throw err;
      r = gen.throw(err);
      continue;
    }
    r = gen.next(v);
  }
  return r.value;
}

const notAnEffect = (e: unknown): EffectError => {
  const what =
    e === undefined ? "undefined" : typeof e === "object" ? (e === null ? "null" : `an object (${Object.prototype.toString.call(e)})`) : `${typeof e} ${String(e)}`;
  return new EffectError(
    `a program yielded ${what}, which is not an effect. Operations are used with yield*: ` +
      "`const y = yield* mul(a, b)`; yield* a sub-program: `yield* g(x)`",
  );
};
