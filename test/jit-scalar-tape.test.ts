// Long runs of scalar arithmetic compile to a tape of instructions that one generated loop
// interprets (src/staging/scalar-tape.ts): every scalar operation, constants (NaN, -0, ±∞
// included), values read after the run, tapes in loop bodies and in reverse mode must give what
// eager evaluation gives, bit for bit.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  abs,
  add,
  cos,
  div,
  equal,
  exp,
  expm1,
  grad,
  greater,
  greaterEqual,
  jit,
  less,
  lessEqual,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  run,
  scan,
  sign,
  sigmoid,
  sin,
  sqrt,
  square,
  stopGradient,
  sub,
  tan,
  tanh,
  valueAndGrad,
  where,
  type Effect,
} from "../src/index.ts";
import { TAPE_MIN } from "../src/staging/scalar-tape.ts";

type Gen<R> = Generator<Effect, R, unknown>;

/** One step through every scalar operation jit emits inline; bounded for any start in (-2, 2). */
function* step(y: number, x: number): Gen<number> {
  const a = yield* sin(yield* add(yield* mul(y, x), x));
  const b = yield* tanh(yield* div(yield* sub(a, 0.25), 1.5));
  const c = yield* exp(yield* neg(yield* square(b)));
  const d = yield* expm1(yield* mul(yield* log1p(c), 0.5));
  const e = yield* log(yield* sqrt(yield* add(yield* abs(d), 1)));
  const f = yield* sigmoid(yield* tan(yield* mul(yield* cos(e), 0.5)));
  const g = yield* sub(f, 0.5);
  const h = yield* maximum(yield* pow(f, 1.5), yield* relu(g));
  const k = yield* minimum(h, 0.9);
  const flags = yield* add(
    yield* add(yield* less(k, 0.3), yield* equal(k, 0.9)),
    yield* add(yield* greaterEqual(k, 0.2), yield* lessEqual(g, 0)),
  );
  const w = yield* where(yield* greater(k, 0.3), k, yield* neg(k));
  return yield* add(yield* add(w, yield* mul(yield* sign(g), 0.01)), yield* mul(yield* stopGradient(flags), 0.001));
}

/** Operations per step (each yield* above is one). */
const OPS_PER_STEP = 36;
const STEPS = Math.ceil((2 * TAPE_MIN) / OPS_PER_STEP);

function* chain(x: number): Gen<[number, number, number]> {
  let y = x;
  let middle = 0;
  for (let i = 0; i < STEPS; i++) {
    y = yield* step(y, x);
    if (i === STEPS >> 1) middle = y; // a value of the run read after it
  }
  return [y, middle, yield* add(y, middle)];
}

describe("scalar tapes", () => {
  it("a long chain of every scalar operation runs as a tape and equals eager bit for bit", () => {
    const f = jit(chain);
    fc.assert(
      fc.property(fc.double({ min: -1.9, max: 1.9, noNaN: true }), (x) => {
        expect(run(f, x)).toEqual(run(chain, x));
      }),
      { numRuns: 20 },
    );
    const source = f.info.sources()[0]!;
    expect(source).toContain("runTape(");
    expect(source.length).toBeLessThan(5000); // the run is data, not source
  });

  it("constants NaN, -0 and ±Infinity in a tape keep their bits", () => {
    function* consts(x: number): Gen<number[]> {
      let y = x;
      const seen: number[] = [];
      for (let i = 0; i < TAPE_MIN; i++) y = yield* add(yield* mul(y, 0.5), 0.25);
      seen.push(yield* mul(y, -0), yield* add(y, NaN), yield* maximum(y, Infinity), yield* minimum(y, -Infinity), yield* div(-0, yield* add(y, 1)));
      for (let i = 0; i < TAPE_MIN; i++) y = yield* sub(yield* mul(y, 0.5), 0.125);
      seen.push(y);
      return seen;
    }
    const f = jit(consts);
    const got = run(f, 0.3);
    const want = run(consts, 0.3);
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expect(Object.is(g, want[i])).toBe(true));
    expect(Object.is(got[0], -0)).toBe(true);
    expect(f.info.sources()[0]).toContain("runTape(");
  });

  it("reverse mode through a tape: value, first and second derivatives equal eager", () => {
    function* last(x: number): Gen<number> {
      return (yield* chain(x))[2];
    }
    const vg = valueAndGrad(last);
    const jvg = jit(vg);
    const g2 = grad(grad(last));
    const jg2 = jit(g2);
    for (const x of [-1.3, 0.2, 0.7]) {
      expect(run(jvg, x)).toEqual(run(vg, x));
      expect(run(jg2, x)).toEqual(run(g2, x));
    }
    expect(jvg.info.sources()[0]).toContain("runTape(");
  });

  it("a tape in a loop body runs once per step", () => {
    function* loop(x: number): Gen<number> {
      const [y] = yield* scan(
        function* (y: number) {
          let z = y;
          for (let i = 0; i < STEPS; i++) z = yield* step(z, x);
          return [z, 0] as [number, number];
        },
        x,
        null,
        { length: 3 },
      );
      return y;
    }
    const f = jit(loop);
    expect(run(f, 0.4)).toBe(run(loop, 0.4));
    expect(f.info.sources()[0]).toContain("runTape(");
  });

  it("a short run stays inline JS", () => {
    function* short(x: number): Gen<number> {
      let y = x;
      for (let i = 0; i < 10; i++) y = yield* sin(yield* mul(y, x));
      return y;
    }
    const f = jit(short);
    expect(run(f, 0.5)).toBe(run(short, 0.5));
    expect(f.info.sources()[0]).not.toContain("runTape(");
    expect(f.info.sources()[0]).toContain("Math.sin(");
  });
});
