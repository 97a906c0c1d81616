// One operation object shared between `yield*`s: each `yield*` performs it exactly once —
// when two sub-programs stepped by hand wait on the same object at once, in sequence, and after
// an error was thrown into one of them. The object stays its own iterator whenever it is not in
// flight (the common case allocates nothing more). Inside a program that a driver runs,
// operations are performed where the program yield*s them (or makes them): a sub-program stepped
// by hand there yields nothing to its stepper.
import { describe, expect, it } from "vitest";
import { CompositeOp } from "../effects/operation.ts";
import { grad, mul, add, run, type Effect, type Value } from "../src/index.ts";

type Gen<R> = Generator<Effect, R, unknown>;

/** An operation that counts how often it is performed and gives 10, 20, 30, ... */
const counted = (): { op: CompositeOp<number>; performs: () => number } => {
  let n = 0;
  return { op: new CompositeOp("counted", () => 10 * ++n), performs: () => n };
};

function* use<R>(op: Effect<R>): Gen<R> {
  return yield* op;
}

/** Performs an effect that a sub-program stepped by hand yielded: a program that yields it to the driver. */
const performYielded = (e: Effect): unknown =>
  run(function* () {
    return yield e;
  });

/**
 * Runs two sub-programs in lockstep, by hand: both are started (each now waits inside its
 * `yield*` when it is stepped outside any driver) before either is resumed, and each effect
 * either yields is performed by `perform`.
 */
function lockstep<A, B>(ga: Gen<A>, gb: Gen<B>, perform: (e: Effect) => unknown): { results: [A, B]; yields: number } {
  let ra = ga.next();
  let rb = gb.next();
  let yields = 0;
  while (ra.done !== true || rb.done !== true) {
    const va = ra.done === true ? undefined : (yields++, perform(ra.value));
    const vb = rb.done === true ? undefined : (yields++, perform(rb.value));
    if (ra.done !== true) ra = ga.next(va);
    if (rb.done !== true) rb = gb.next(vb);
  }
  return { results: [ra.value, rb.value], yields };
}

describe("an operation object shared between yield*s", () => {
  it("is performed once per yield* by two interleaved sub-programs stepped by hand", () => {
    const { op, performs } = counted();
    expect(lockstep(use(op), use(op), performYielded)).toEqual({ results: [10, 20], yields: 2 }); // not a third performance
    expect(performs()).toBe(2);
    // a primitive operation made outside any driver is an effect object too
    const square = mul(3, 3);
    expect(lockstep(use(square), use(square), performYielded)).toEqual({ results: [9, 9], yields: 2 });
  });

  it("inside a running program, a sub-program stepped by hand performs its operations where it makes them, under the enclosing handlers", () => {
    function* f(x: Value) {
      const op = mul(x, x);
      const { results, yields } = lockstep(use(op), use(op), () => {
        throw new Error("nothing is yielded to the stepper");
      });
      if (yields !== 0) throw new Error(`the shared operation was yielded ${yields} times`);
      return yield* add(results[0], results[1]); // 2x²
    }
    expect(run(f, 3)).toBe(18);
    expect(run(grad(f), 3)).toBe(12);
    const { op, performs } = counted();
    expect(run(function* () {
      return lockstep(use(op), use(op), performYielded);
    })).toEqual({ results: [10, 20], yields: 0 });
    expect(performs()).toBe(2);
  });

  it("is performed once per yield* when yield*-ed twice in sequence", () => {
    const { op, performs } = counted();
    const out = run(function* () {
      const a = yield* op;
      const b = yield* op;
      return [a, b];
    });
    expect(out).toEqual([10, 20]);
    expect(performs()).toBe(2);
  });

  it("works again after an error was thrown into the program waiting on it", () => {
    const { op, performs } = counted();
    const g = use(op);
    g.next(); // g now waits inside `yield* op` (stepped by hand, outside any driver)
    let caught: unknown;
    try {
      g.throw(new Error("interrupted"));
    } catch (e) {
      caught = e;
    }
    // The error surfaced through the yield*, and the object is free again.
    const again = run(use, op);
    expect([(caught as Error).message, again, op[Symbol.iterator]() === op]).toEqual(["interrupted", 10, true]);
    expect(performs()).toBe(1);
  });

  it("works again after an error was thrown into one of two sub-programs waiting on it", () => {
    const { op, performs } = counted();
    const ga = use(op);
    const gb = use(op);
    ga.next();
    gb.next(); // both wait inside `yield* op`
    let caught = "";
    try {
      ga.throw(new Error("only a"));
    } catch (e) {
      caught = (e as Error).message;
    }
    const reused = run(use, op); // the object again, while b still waits
    const b = gb.next(performYielded(op)); // b completes with the one result it is given
    expect([caught, reused, b]).toEqual(["only a", 10, { done: true, value: 20 }]);
    expect(performs()).toBe(2);
  });

  it("works again after its own performance threw and the program caught the error", () => {
    let n = 0;
    const op = new CompositeOp("flaky", () => {
      if (++n === 1) throw new Error("first time fails");
      return n;
    });
    const out = run(function* () {
      let message = "";
      try {
        yield* op;
      } catch (e) {
        message = (e as Error).message;
      }
      return [message, yield* op];
    });
    expect(out).toEqual(["first time fails", 2]);
    expect(n).toBe(2);
  });

  it("throws into the right waiting sub-program when both wait on it", () => {
    const { op, performs } = counted();
    const ga = use(op);
    const gb = use(op);
    ga.next();
    gb.next(); // both wait inside `yield* op`; gb holds an iterator of its own
    let caught = "";
    try {
      gb.throw(new Error("only b"));
    } catch (e) {
      caught = (e as Error).message;
    }
    const a = ga.next(performYielded(op)); // a still completes with one performance
    expect([caught, a, run(use, op)]).toEqual(["only b", { done: true, value: 10 }, 20]);
    expect(performs()).toBe(2);
  });

  it("is freed by a sub-program abandoned with return()", () => {
    const { op, performs } = counted();
    const g = use(op);
    g.next();
    expect(op[Symbol.iterator]()).not.toBe(op); // in flight: another yield* gets its own iterator
    g.return(0);
    expect(op[Symbol.iterator]()).toBe(op); // free again: the object is its own iterator
    expect(run(use, op)).toBe(10);
    expect(performs()).toBe(1);
  });
});
