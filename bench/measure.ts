// Timing with tinybench: medians over repeated runs after warm-up.
import { Bench } from "tinybench";

export interface Timing {
  median: number;
  min: number;
  max: number;
}

/** Times each function (ms per call); all run in one Bench so they share conditions. */
export async function time(fns: Record<string, () => unknown>, options: { time?: number; iterations?: number } = {}): Promise<Record<string, Timing>> {
  // Two seconds of warm-up: V8 optimizes a function only after it has run hot for a while, and
  // generated code (jit here, compiled graphs in the peers) arrives cold at run time.
  const bench = new Bench({ time: options.time ?? 1500, iterations: options.iterations ?? 10, warmupTime: 2000, warmupIterations: 3 });
  for (const [name, fn] of Object.entries(fns)) bench.add(name, fn);
  await bench.run();
  const out: Record<string, Timing> = {};
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency?: { p50: number; min: number; max: number } };
    if (!r.latency) throw new Error(`benchmark ${task.name} failed: ${JSON.stringify(task.result)}`);
    out[task.name] = { median: r.latency.p50, min: r.latency.min, max: r.latency.max };
  }
  return out;
}

/** Median, minimum and maximum of samples. */
export const summarize = (samples: readonly number[]): Timing => {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[s.length >> 1]!, min: s[0]!, max: s[s.length - 1]! };
};

/** Scales a timing (e.g. ms per run → ns per op). */
export const scale = (t: Timing, k: number): Timing => ({ median: t.median * k, min: t.min * k, max: t.max * k });

/**
 * Times each function in a plain synchronous loop, as a user's training loop runs (no await
 * between samples: tinybench's awaits let Node grow its young generation, a loop does not).
 * The functions take turns by blocks of `block` samples of `reps` calls each (`rounds` samples
 * in all per function): a function's promoted garbage (the closure tape keeps every record alive
 * until its backward pass) is collected in steps taken by whatever code allocates next (V8 marks
 * the old generation incrementally), so sample by sample each function would pay for the one
 * before it; in blocks, only a block's first samples do. ms per call.
 */
export function loopTime(fns: Record<string, () => unknown>, rounds = 40, reps = 5, block = 10): Record<string, Timing> {
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(fns)) samples[name] = [];
  for (let r = 0; r < rounds; r += block)
    for (const [name, fn] of Object.entries(fns)) {
      for (let b = 0; b < block && r + b < rounds; b++) {
        const start = performance.now();
        for (let i = 0; i < reps; i++) fn();
        samples[name]!.push((performance.now() - start) / reps);
      }
    }
  const out: Record<string, Timing> = {};
  for (const [name, s] of Object.entries(samples)) {
    // The first quarter warms the engine up (V8 optimizes a function only after it ran hot).
    out[name] = summarize(s.slice(Math.floor(rounds / 4)));
  }
  return out;
}
