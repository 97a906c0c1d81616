// STAGE: how long jit takes to stage and compile a program (its first call), and how much memory.
// Staging learns each output's shape from its primitive's abstract evaluation rule, never from a
// kernel: four 1024² float32 matmuls stage in the time of bookkeeping, not of the products.
// The W1 chain (3 scalar ops per step) under jit(valueAndGrad) at 100k and 1M operations:
// staging, reverse mode, analysis passes and code generation together. 100k runs first, in a
// fresh process (after a program of a million operations, V8's grown heap made the same call
// take about a quarter more CPU even once that program was collected); then 1M, whose peak resident
// memory dwarfs the 100k's (~0.2 GB, collected before it starts).
import { add, jit, makeIR, matmul, mul, randn, run, sin, valueAndGrad, type Value } from "../../src/index.ts";
import type { Row } from "../report.ts";
import { time } from "../measure.ts";

const chainOf = (steps: number) =>
  function* chain(x: number) {
    let y = x;
    for (let i = 0; i < steps; i++) y = yield* add(yield* sin(yield* mul(y, x)), x);
    return y;
  };

/** The chain's value and derivative, by hand, to check the compiled program against. */
const reference = (steps: number, x: number): [number, number] => {
  let y = x;
  let dy = 1;
  for (let i = 0; i < steps; i++) {
    const u = y * x;
    dy = Math.cos(u) * (dy * x + y) + 1;
    y = Math.sin(u) + x;
  }
  return [y, dy];
};

/** CPU seconds (user + system) this process has used: unlike wall time, not inflated by other processes on a loaded machine. */
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The first call of jit(valueAndGrad(chain)) over `ops` operations: wall and CPU seconds, checked. */
const firstCall = (ops: number): { seconds: number; cpu: number } => {
  const steps = Math.round(ops / 3);
  const f = jit(valueAndGrad(chainOf(steps)));
  const start = performance.now();
  const cpu0 = cpuSeconds();
  const [y, dy] = run(f, 0.5);
  const cpu = cpuSeconds() - cpu0;
  const seconds = (performance.now() - start) / 1000;
  const [ry, rdy] = reference(steps, 0.5);
  if (Math.abs(y - ry) > 1e-9 || Math.abs(dy - rdy) > 1e-6 * Math.abs(rdy)) throw new Error(`STAGE: jit gives (${y}, ${dy}), by hand (${ry}, ${rdy})`);
  return { seconds, cpu };
};

function* fourProducts(a: Value, b: Value) {
  let c = a;
  for (let i = 0; i < 4; i++) c = yield* matmul(c, b);
  return c;
}

export async function stage(): Promise<Row[]> {
  const hundredK = firstCall(100_000);
  // (the 100k-operation program is garbage now: collected before, not during, the next call)
  (globalThis as { gc?: () => void }).gc?.();
  const million = firstCall(1_000_000);
  const peak = process.resourceUsage().maxRSS * 1024;
  const a = randn([1024, 1024], { seed: 1, dtype: "float32" });
  const b = randn([1024, 1024], { seed: 2, dtype: "float32" });
  const staged = makeIR(fourProducts);
  const t = await time({ stage: () => staged(a, b) }, { time: 500, iterations: 10 });
  const cpu0 = cpuSeconds();
  for (let i = 0; i < 10; i++) staged(a, b);
  const stageCpu = ((cpuSeconds() - cpu0) / 10) * 1000;
  return [
    { workload: "STAGE", system: "makeIR: four 1024² float32 matmuls", unit: "ms", ...t.stage!, note: `staged and compiled, no product computed; ${stageCpu.toFixed(1)} ms of CPU` },
    { workload: "STAGE", system: "jit(valueAndGrad) first call, W1 chain of 100k ops", unit: "s", median: hundredK.seconds, note: `${hundredK.cpu.toFixed(2)} s of CPU: staging, reverse mode, compiling and one run` },
    { workload: "STAGE", system: "jit(valueAndGrad) first call, W1 chain of 1M ops", unit: "s", median: million.seconds, note: `${million.cpu.toFixed(1)} s of CPU; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB` },
  ];
}
