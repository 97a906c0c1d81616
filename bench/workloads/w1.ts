// W1 scalar-chain: y0 = x; y(i+1) = sin(y(i)·x) + x, 10,000 steps (30,000 ops), float64
// scalars; value and dy/dx at x = 0.5. Also the top-level dispatch cost of one effect.
import { add, mul, run, sin, valueAndGrad } from "../../src/index.ts";
import type { Row } from "../report.ts";
import { scale, time } from "../measure.ts";
import { closureTapeW1, primalW1 } from "./closure-tape.ts";

const STEPS = 10_000;
const OPS = 3 * STEPS;

function* chain(x: number) {
  let y = x;
  for (let i = 0; i < STEPS; i++) y = yield* add(yield* sin(yield* mul(y, x)), x);
  return y;
}
const chainValueAndGrad = valueAndGrad(chain);

export async function w1(): Promise<Row[]> {
  const [value, slope] = run(chainValueAndGrad, 0.5);
  const [refValue, refSlope] = closureTapeW1(0.5, STEPS);
  if (Math.abs(value - refValue) > 1e-12 || Math.abs(slope - refSlope) > 1e-9 * Math.abs(refSlope))
    throw new Error(`W1: yieldiff gives (${value}, ${slope}), the closure tape (${refValue}, ${refSlope})`);
  const t = await time({
    yieldiff: () => run(chainValueAndGrad, 0.5),
    tape: () => closureTapeW1(0.5, STEPS),
    evaluate: () => run(chain, 0.5),
    primal: () => primalW1(0.5, STEPS),
  });
  const perOp = (k: string) => scale(t[k]!, 1e6 / OPS);
  const ratio = t.yieldiff!.median / t.tape!.median;
  return [
    { workload: "W1", system: "yieldiff valueAndGrad", unit: "ns/op", ...perOp("yieldiff"), note: `${ratio.toFixed(2)}× the closure tape` },
    { workload: "W1", system: "plain-JS closure tape", unit: "ns/op", ...perOp("tape") },
    { workload: "W1", system: "yieldiff run (evaluate only)", unit: "ns/op", ...perOp("evaluate"), note: "per-effect dispatch at top level" },
    { workload: "W1", system: "plain-JS primal loop", unit: "ns/op", ...perOp("primal") },
  ];
}
