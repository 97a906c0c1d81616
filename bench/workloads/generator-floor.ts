// Two floors of generator programs, without any library. The first suspends once per operation:
// W1's chain as a generator that yield*s a minimal effect (its own iterator and iterator result)
// to a three-line driver loop that applies it — no handler, no dispatch, no checks. yieldiff
// performs operations in place without suspending (effects/effect.ts), so its `run` can go below
// that floor; the second (at the end) is the floor of doing so.
class Op {
  inFlight = false;
  done = false;
  value: unknown = undefined;
  constructor(
    readonly f: (a: number, b: number) => number,
    readonly a: number,
    readonly b: number,
  ) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(v?: unknown): IteratorResult<Op, number> {
    if (!this.inFlight) {
      this.inFlight = true;
      this.done = false;
      this.value = this;
    } else {
      this.inFlight = false;
      this.done = true;
      this.value = v;
    }
    return this as unknown as IteratorResult<Op, number>;
  }
}

const MUL = (a: number, b: number): number => a * b;
const ADD = (a: number, b: number): number => a + b;
const SIN = (a: number): number => Math.sin(a);

function* chain(x: number, steps: number): Generator<Op, number, unknown> {
  let y = x;
  for (let i = 0; i < steps; i++) y = yield* new Op(ADD, yield* new Op(SIN, yield* new Op(MUL, y, x), 0), x);
  return y;
}

/** W1's value through the minimal generator protocol. */
export function generatorFloorW1(x: number, steps: number): number {
  const g = chain(x, steps);
  let r = g.next();
  while (r.done !== true) r = g.next(r.value.f(r.value.a, r.value.b));
  return r.value;
}

// The floor of a program whose operations complete where they are made, as yieldiff's do under a
// driver: each operation is one object that is already its own finished iterator result, so
// `yield*` reads its value without suspending. What remains is the language's `yield*` protocol
// and one allocation per operation — the least a generator program can cost per operation.
class Done {
  readonly done = true;
  constructor(readonly value: number) {}
  [Symbol.iterator](): this {
    return this;
  }
  next(): IteratorResult<never, number> {
    return this as IteratorReturnResult<number>;
  }
}

function* chainInPlace(x: number, steps: number): Generator<never, number, unknown> {
  let y = x;
  for (let i = 0; i < steps; i++) y = yield* new Done((yield* new Done(Math.sin(yield* new Done(y * x)))) + x);
  return y;
}

/** W1's value through generators whose operations complete in place. */
export function inPlaceFloorW1(x: number, steps: number): number {
  const r = chainInPlace(x, steps).next();
  if (r.done !== true) throw new Error("inPlaceFloorW1: the chain suspended");
  return r.value;
}
