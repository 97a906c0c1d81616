// W1 scalar-chain: y0 = x; y(i+1) = sin(y(i)·x) + x, 10,000 steps (30,000 ops), float64
// scalars; value and dy/dx at x = 0.5. Also the top-level dispatch cost of one effect.
import { add, jit, mul, run, scan, sin, valueAndGrad } from "../../src/index.ts";
import type { Row } from "../report.ts";
import { loopTime, scale, time } from "../measure.ts";
import { closureTapeW1, primalW1 } from "./closure-tape.ts";
import { generatorFloorW1, inPlaceFloorW1 } from "./generator-floor.ts";

const STEPS = 10_000;
const OPS = 3 * STEPS;

function* chain(x: number) {
  let y = x;
  for (let i = 0; i < STEPS; i++) y = yield* add(yield* sin(yield* mul(y, x)), x);
  return y;
}
const chainValueAndGrad = valueAndGrad(chain);

/** The same chain as a staged loop: scan over 10,000 steps with a scalar carry. */
function* chainScan(x: number) {
  const [y] = yield* scan(
    function* (y: number) {
      return [yield* add(yield* sin(yield* mul(y, x)), x), 0] as [number, number];
    },
    x,
    null,
    { length: STEPS },
  );
  return y;
}

const REPEAT = 5;
const repeat = (f: () => unknown) => () => {
  for (let i = 0; i < REPEAT; i++) f();
};

/** How long a first call (staging + compiling) takes, in ms. */
const compileTime = (firstCall: () => unknown): number => {
  const start = performance.now();
  firstCall();
  return performance.now() - start;
};

export async function w1(): Promise<Row[]> {
  const [value, slope] = run(chainValueAndGrad, 0.5);
  const [refValue, refSlope] = closureTapeW1(0.5, STEPS);
  if (Math.abs(value - refValue) > 1e-12 || Math.abs(slope - refSlope) > 1e-9 * Math.abs(refSlope))
    throw new Error(`W1: yieldiff gives (${value}, ${slope}), the closure tape (${refValue}, ${refSlope})`);
  // Eager rows first, before any compiled code and its cache enlarge the heap. A sample is
  // REPEAT runs, so that one sample spans several young-generation collections for both
  // reverse modes (one run each is bimodal: a sample with a collection vs one without).
  const t = await time({
    yieldiff: repeat(() => run(chainValueAndGrad, 0.5)),
    tape: repeat(() => closureTapeW1(0.5, STEPS)),
    evaluate: repeat(() => run(chain, 0.5)),
    primal: repeat(() => primalW1(0.5, STEPS)),
  });
  for (const k of Object.keys(t)) t[k] = scale(t[k]!, 1 / REPEAT);
  const jitValueAndGrad = jit(chainValueAndGrad);
  const jitScan = jit(chainScan);
  const compileGrad = compileTime(() => run(jitValueAndGrad, 0.5));
  const compileScan = compileTime(() => run(jitScan, 0.5));
  const [jv, jd] = run(jitValueAndGrad, 0.5);
  if (jv !== value || Math.abs(jd - slope) > 1e-12 * Math.abs(slope) || run(jitScan, 0.5) !== value)
    throw new Error(`W1: jit gives (${jv}, ${jd}), eager (${value}, ${slope})`);
  Object.assign(
    t,
    await time({
      jitGrad: () => run(jitValueAndGrad, 0.5),
      jitScan: () => run(jitScan, 0.5),
      primal: () => primalW1(0.5, STEPS),
    }),
  );
  const perOp = (k: string) => scale(t[k]!, 1e6 / OPS);
  const ratio = t.yieldiff!.median / t.tape!.median;
  return [
    { workload: "W1", system: "yieldiff valueAndGrad", unit: "ns/op", ...perOp("yieldiff"), note: `${ratio.toFixed(2)}× the closure tape` },
    { workload: "W1", system: "plain-JS closure tape", unit: "ns/op", ...perOp("tape") },
    { workload: "W1", system: "yieldiff jit(valueAndGrad), unrolled", unit: "ns/op", ...perOp("jitGrad"), note: `compiles in ${compileGrad.toFixed(0)} ms; ${(t.tape!.median / t.jitGrad!.median).toFixed(1)}× faster than the closure tape` },
    { workload: "W1", system: "yieldiff jit(scan), value only", unit: "ns/op", ...perOp("jitScan"), note: `compiles in ${compileScan.toFixed(0)} ms; ${(t.jitScan!.median / t.primal!.median).toFixed(1)}× the plain-JS primal loop` },
    { workload: "W1", system: "yieldiff run (evaluate only)", unit: "ns/op", ...perOp("evaluate"), note: "per-effect dispatch at top level" },
    { workload: "W1", system: "plain-JS primal loop", unit: "ns/op", ...perOp("primal") },
  ];
}

/**
 * W1's eager rows in a plain synchronous loop (how a user's training loop runs): yieldiff and
 * the closure tape take turns in one process; the ratio is of minimum times, the figure least
 * disturbed by other processes.
 */
export function w1Loop(): Row[] {
  const [value, slope] = run(chainValueAndGrad, 0.5);
  const [refValue, refSlope] = closureTapeW1(0.5, STEPS);
  if (Math.abs(value - refValue) > 1e-12 || Math.abs(slope - refSlope) > 1e-9 * Math.abs(refSlope))
    throw new Error(`W1-LOOP: yieldiff gives (${value}, ${slope}), the closure tape (${refValue}, ${refSlope})`);
  const t = loopTime({
    yieldiff: () => run(chainValueAndGrad, 0.5),
    tape: () => closureTapeW1(0.5, STEPS),
    evaluate: () => run(chain, 0.5),
    floor: () => generatorFloorW1(0.5, STEPS),
    inPlaceFloor: () => inPlaceFloorW1(0.5, STEPS),
  });
  for (const [name, f] of [["generator floor", generatorFloorW1], ["in-place floor", inPlaceFloorW1]] as const)
    if (f(0.5, STEPS) !== primalW1(0.5, STEPS)) throw new Error(`W1-LOOP: the ${name} computes another value`);
  const perOp = (k: string) => scale(t[k]!, 1e6 / OPS);
  const ratio = (a: string, b: string, by: "min" | "median") => (t[a]![by] / t[b]![by]).toFixed(2);
  return [
    { workload: "W1-LOOP", system: "yieldiff valueAndGrad, plain loop", unit: "ns/op", ...perOp("yieldiff"), note: `${ratio("yieldiff", "tape", "min")}× the closure tape by minimum, ${ratio("yieldiff", "tape", "median")}× by median` },
    { workload: "W1-LOOP", system: "plain-JS closure tape, plain loop", unit: "ns/op", ...perOp("tape") },
    { workload: "W1-LOOP", system: "yieldiff run (evaluate only), plain loop", unit: "ns/op", ...perOp("evaluate"), note: `${ratio("evaluate", "inPlaceFloor", "min")}× the in-place floor by minimum, ${ratio("evaluate", "inPlaceFloor", "median")}× by median; ${ratio("evaluate", "floor", "min")}× the generator floor by minimum` },
    { workload: "W1-LOOP", system: "plain-JS generator floor, plain loop", unit: "ns/op", ...perOp("floor"), note: "W1's chain yield*-ing a minimal effect to a bare driver loop (bench/workloads/generator-floor.ts)" },
    { workload: "W1-LOOP", system: "plain-JS in-place floor, plain loop", unit: "ns/op", ...perOp("inPlaceFloor"), note: "W1's chain yield*-ing objects that are their own finished result: one allocation and the yield* protocol per operation (bench/workloads/generator-floor.ts)" },
  ];
}
