// REC: a program recursing n levels deep (y ← sin(y·x) + x once per level, on the way back up),
// through `yield* call(f, ...args)` — a frame per level on the driver's heap stack — and through
// plain `yield*`, a generator per level on the native stack. Operations are performed in place,
// so neither resumes the levels above per operation: time per level is constant in n for both
// (linear time); yield* overflows the stack at a few thousand levels, so its rows stop at 2,000.
import { add, call, grad, mul, run, sin, type Effect, type Value } from "../../src/index.ts";
import type { Row } from "../report.ts";
import { scale, time } from "../measure.ts";

type Gen<R> = Generator<Effect, R, unknown>;

function* viaCall(x: Value, n: number): Gen<Value> {
  if (n === 0) return x;
  const y = yield* call(viaCall, x, n - 1);
  return yield* add(yield* sin(yield* mul(y, x)), x);
}

function* viaYield(x: Value, n: number): Gen<Value> {
  if (n === 0) return x;
  const y = yield* viaYield(x, n - 1);
  return yield* add(yield* sin(yield* mul(y, x)), x);
}

const gradCall = grad(viaCall);

export async function recursion(): Promise<Row[]> {
  if (run(viaCall, 0.5, 1000) !== run(viaYield, 0.5, 1000)) throw new Error("REC: call and yield* recursion disagree");
  const cases: [string, string, number, () => unknown][] = [
    ["call1k", "run, yield* call recursion, 1,000 levels", 1000, () => run(viaCall, 0.5, 1000)],
    ["call10k", "run, yield* call recursion, 10,000 levels", 10_000, () => run(viaCall, 0.5, 10_000)],
    ["call100k", "run, yield* call recursion, 100,000 levels", 100_000, () => run(viaCall, 0.5, 100_000)],
    ["grad10k", "grad, yield* call recursion, 10,000 levels", 10_000, () => run(gradCall, 0.5, 10_000)],
    ["grad100k", "grad, yield* call recursion, 100,000 levels", 100_000, () => run(gradCall, 0.5, 100_000)],
    ["yield1k", "run, plain yield* recursion, 1,000 levels", 1000, () => run(viaYield, 0.5, 1000)],
    ["yield2k", "run, plain yield* recursion, 2,000 levels", 2000, () => run(viaYield, 0.5, 2000)],
  ];
  const t = await time(Object.fromEntries(cases.map(([k, , , f]) => [k, f])), { time: 1000, iterations: 5 });
  const perLevel = (k: string, n: number): number => (t[k]!.median * 1e6) / n;
  const notes: Record<string, string> = {
    call100k: "100,000 generators alive at the bottom (~290 bytes each): the garbage collector copies them",
    yield1k: `${(perLevel("yield1k", 1000) / perLevel("call1k", 1000)).toFixed(2)}× call's time per level`,
    yield2k: `${(perLevel("yield2k", 2000) / perLevel("yield1k", 1000)).toFixed(2)}× the time per level at 1,000 levels`,
  };
  return cases.map(([k, label, n]) => ({
    workload: "REC",
    system: `yieldiff ${label}`,
    unit: "ns/level",
    ...scale(t[k]!, 1e6 / n),
    ...(notes[k] ? { note: notes[k] } : {}),
  }));
}
