// Stack safety at scale: 10 million scalar effects differentiated in one valueAndGrad.
import { add, mul, run, sin, valueAndGrad } from "../../src/index.ts";
import type { Row } from "../report.ts";

const STEPS = 3_333_334; // 3 ops each: 10,000,002 effects

function* chain(x: number) {
  let y = x;
  for (let i = 0; i < STEPS; i++) y = yield* add(yield* sin(yield* mul(y, x)), x);
  return y;
}

export async function stack10m(): Promise<Row[]> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const [y, dy] = run(valueAndGrad(chain), 0.5);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6; // other processes on a loaded machine do not inflate it
  const peak = process.resourceUsage().maxRSS * 1024; // the process's peak resident memory
  // The same recurrence differentiated by hand.
  let ry = 0.5;
  let rdy = 1;
  for (let i = 0; i < STEPS; i++) {
    const u = ry * 0.5;
    rdy = Math.cos(u) * (rdy * 0.5 + ry) + 1;
    ry = Math.sin(u) + 0.5;
  }
  if (Math.abs(y - ry) > 1e-9 || Math.abs(dy - rdy) > 1e-6 * Math.abs(rdy)) throw new Error(`stack10m: (${y}, ${dy}) vs (${ry}, ${rdy})`);
  return [
    { workload: "S10M", system: "yieldiff valueAndGrad, 10M effects", unit: "s", median: seconds, note: `${cpuSeconds.toFixed(1)} s of CPU; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (${(peak / 10_000_002).toFixed(0)} bytes per effect); no stack overflow` },
  ];
}
