import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Tensor, ValueError, IndexError, add, matmul, mean, square, sub, tensor, randn, type Value } from "../src/index.ts";
import { batchCount, batches, lossCurveSvg, permutation, takeRows, trainLoop, type Optimizer } from "../src/train/index.ts";
import { writeLossCurveSvg } from "../src/node/index.ts";

describe("batches", () => {
  it("covers every index exactly once, in batches of the given size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 16 }), fc.integer(), fc.boolean(), (n, b, seed, shuffle) => {
        const bs = [...batches(n, b, { seed, shuffle })];
        expect(bs.length).toBe(batchCount(n, b));
        bs.slice(0, -1).forEach((batch) => expect(batch.length).toBe(b));
        const all = bs.flat();
        expect(all.slice().sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
        if (!shuffle) expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
      { numRuns: 200 },
    );
  });

  it("dropLast leaves out the short last batch only", () => {
    expect([...batches(10, 4, { shuffle: false, dropLast: true })]).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect([...batches(8, 4, { shuffle: false, dropLast: true })].length).toBe(2);
    expect([...batches(3, 4, { dropLast: true })]).toEqual([]);
    expect(batchCount(10, 4, true)).toBe(2);
    expect([...batches(10, 4, { shuffle: false })].at(-1)).toEqual([8, 9]);
  });

  it("a seed gives the same shuffle every time; different seeds give different ones", () => {
    const a = [...batches(100, 7, { seed: 42 })];
    const b = [...batches(100, 7, { seed: 42 })];
    const c = [...batches(100, 7, { seed: 43 })];
    expect(a).toEqual(b);
    expect(a.flat()).not.toEqual(c.flat());
    expect(a.flat()).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    // pinned: the order is a function of the seed only (same on every platform and run)
    expect(permutation(10, 1)).toEqual(permutation(10, 1));
    expect(permutation(8, 7)).toEqual([4, 0, 7, 5, 2, 6, 3, 1]);
  });

  it("shuffles roughly uniformly (each position sees each index)", () => {
    const counts = Array.from({ length: 5 }, () => new Array<number>(5).fill(0));
    for (let seed = 0; seed < 2000; seed++) permutation(5, seed).forEach((v, pos) => counts[pos]![v]!++);
    for (const row of counts) for (const c of row) expect(c).toBeGreaterThan(300); // expected 400 each
  });

  it("rejects bad arguments", () => {
    expect(() => [...batches(10, 0)]).toThrow(ValueError);
    expect(() => [...batches(-1, 2)]).toThrow(ValueError);
    expect(() => [...batches(2.5, 2)]).toThrow(/n must be an integer/);
  });

  it("takeRows gathers rows of a data set", () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float32" });
    const t = takeRows(x, [2, 0, 2]);
    expect(t.shape).toEqual([3, 2]);
    expect(t.dtype).toBe("float32");
    expect(t.toArray()).toEqual([[5, 6], [1, 2], [5, 6]]);
    expect(takeRows(tensor([7, 8, 9]), [1]).toArray()).toEqual([8]);
    expect(() => takeRows(x, [3])).toThrow(IndexError);
    expect(() => takeRows(x, [-1])).toThrow(IndexError);
  });
});

// A tiny problem: linear regression y = X w* + b*, plain SGD written here (the loop only needs init/update).
const sgd = (lr: number): Optimizer<{ w: Tensor; b: Tensor }, { count: number }> => ({
  init: () => ({ count: 0 }),
  update: (grads, state, params) => {
    const step = (p: Tensor, g: Tensor): Tensor => tensor(p.data.map((v, i) => v - lr * g.data[i]!), { shape: p.shape as number[], dtype: p.dtype });
    return [{ w: step(params.w, grads.w), b: step(params.b, grads.b) }, { count: state.count + 1 }];
  },
});

const N = 64;
const X = randn([N, 3], { seed: 1 });
// Y = X [1.5, -2, 0.5] + 0.3
const Y = (() => {
  const xd = X.data;
  const yd = new Float64Array(N);
  for (let i = 0; i < N; i++) yd[i] = 1.5 * xd[3 * i]! - 2 * xd[3 * i + 1]! + 0.5 * xd[3 * i + 2]! + 0.3;
  return tensor(yd, { shape: [N, 1] });
})();
type Batch = { x: Tensor; y: Tensor };
function* mse(params: { w: Value; b: Value }, batch: Batch) {
  const pred = yield* add(yield* matmul(batch.x, params.w), params.b);
  return yield* mean(yield* square(yield* sub(pred, batch.y)));
}
const initParams = () => ({ w: tensor([[0], [0], [0]]), b: tensor([0]) });
const dataFor = (epoch: number): Batch[] => [...batches(N, 16, { seed: epoch })].map((idx) => ({ x: takeRows(X, idx), y: takeRows(Y, idx) }));

const capture = (isTTY = false) => {
  let text = "";
  return { stream: { isTTY, write: (s: string) => ((text += s), true) }, text: () => text };
};

describe("trainLoop", () => {
  it("lowers the loss on a tiny regression, records every step, and leaves the initial params alone", () => {
    const params = initParams();
    const out = capture();
    const result = trainLoop({ params, lossFn: mse, optimizer: sgd(0.1), data: dataFor, epochs: 6, stream: out.stream, stepsPerEpoch: 4 });
    expect(result.losses.length).toBe(24);
    expect(result.steps).toBe(24);
    expect(result.epochLosses.length).toBe(6);
    expect(result.state.count).toBe(24);
    expect(result.epochLosses.at(-1)!).toBeLessThan(result.epochLosses[0]! / 10);
    expect(result.losses.at(-1)!).toBeLessThan(0.05);
    expect(result.params.w.toArray()).not.toEqual([[0], [0], [0]]);
    expect((result.params.w.toArray() as number[][])[0]![0]).toBeCloseTo(1.5, 0);
    expect(params.w.toArray()).toEqual([[0], [0], [0]]); // the input pytree is untouched
    expect(result.stopped).toBe(false);
    // epoch means are the means of the recorded steps
    expect(result.epochLosses[0]).toBeCloseTo(result.losses.slice(0, 4).reduce((a, b) => a + b) / 4, 12);
  });

  it("jit: true compiles the step; the losses and parameters are those of the eager loop", () => {
    const run = (jit: boolean) =>
      trainLoop({ params: initParams(), lossFn: mse, optimizer: sgd(0.1), data: dataFor, epochs: 3, stream: capture().stream, stepsPerEpoch: 4, jit });
    const eager = run(false);
    const compiled = run(true);
    compiled.losses.forEach((l, i) => expect(l).toBeCloseTo(eager.losses[i]!, 12));
    expect(compiled.params.w.toArray()).toEqual(eager.params.w.toArray());
  });

  it("writes plain log lines when the stream is not a terminal", () => {
    const out = capture(false);
    trainLoop({ params: initParams(), lossFn: mse, optimizer: sgd(0.1), data: dataFor(0), epochs: 2, stream: out.stream, logEvery: 1 });
    const lines = out.text().trim().split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^epoch 1\/2 step 1\/4 loss \d+\.\d{4} \(\d+\.\d steps\/s\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^epoch 2\/2: loss \d+\.\d{4} \(4 steps, \d+\.\d s\)$/));
    expect(out.text()).not.toMatch(/\u001b\[/); // no terminal escape codes
  });

  it("by default writes step lines only every logSeconds, and always the epoch summaries", () => {
    const slow = capture(false);
    trainLoop({ params: initParams(), lossFn: mse, optimizer: sgd(0.1), data: dataFor(0), epochs: 2, stream: slow.stream });
    expect(slow.text().trim().split("\n")).toEqual([
      expect.stringMatching(/^epoch 1\/2: loss /),
      expect.stringMatching(/^epoch 2\/2: loss /),
    ]);
    const fast = capture(false);
    trainLoop({ params: initParams(), lossFn: mse, optimizer: sgd(0.1), data: dataFor(0), epochs: 1, stream: fast.stream, logSeconds: 0 });
    const lines = fast.text().trim().split("\n");
    expect(lines.length).toBe(4);
    lines.slice(0, 3).forEach((l, k) => expect(l).toMatch(new RegExp(`^epoch 1/1 step ${k + 1}/4 loss `)));
    expect(lines[3]).toMatch(/^epoch 1\/1: loss /);
  });

  it("shows a cli-progress bar on a terminal", () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 40, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    let text = "";
    stream.on("data", (d) => (text += String(d)));
    trainLoop({ params: initParams(), lossFn: mse, optimizer: sgd(0.1), data: dataFor(0), epochs: 2, stream });
    expect(text).toMatch(/epoch 2\/2: loss \d+\.\d{4} \(4 steps/);
    expect(text).toMatch(/epoch 1\/2 [\u2588\u2591]+ \d\/4 \| loss/); // the bar itself
  });

  it("calls back: onStep can stop, onEpochEnd metrics are printed", () => {
    const out = capture();
    const seen: number[] = [];
    const r = trainLoop({
      params: initParams(),
      lossFn: mse,
      optimizer: sgd(0.1),
      data: dataFor(0),
      epochs: 5,
      stream: out.stream,
      onStep: ({ step, loss }) => {
        seen.push(loss);
        return step < 6 ? undefined : false;
      },
      onEpochEnd: ({ epoch }) => ({ "test mse": 0.5 / (epoch + 1), note: "ok" }),
    });
    expect(r.steps).toBe(6);
    expect(r.stopped).toBe(true);
    expect(seen).toEqual(r.losses);
    expect(out.text()).toMatch(/epoch 1\/5: loss .*, test mse 0\.5000, note ok/);
    expect(out.text()).toMatch(/epoch 2\/5: loss .* \(2 steps/);
    expect(out.text()).not.toMatch(/epoch 3\/5/);
  });

  it("continues from a given optimizer state, and progress 'none' prints nothing", () => {
    const out = capture();
    const r = trainLoop({ params: initParams(), lossFn: mse, optimizer: sgd(0.1), data: dataFor(0), state: { count: 100 }, progress: "none", stream: out.stream });
    expect(r.state.count).toBe(104);
    expect(out.text()).toBe("");
  });

  it("stops with a clear error when the loss diverges, and on a non-scalar loss", () => {
    const out = capture();
    expect(() => trainLoop({ params: initParams(), lossFn: mse, optimizer: sgd(1e6), data: dataFor(0), epochs: 50, stream: out.stream })).toThrow(
      /trainLoop: the loss is (NaN|Infinity) at step \d+/,
    );
    function* vectorLoss(params: { w: Value; b: Value }, batch: Batch) {
      return yield* matmul(batch.x, params.w);
    }
    expect(() => trainLoop({ params: initParams(), lossFn: vectorLoss, optimizer: sgd(0.1), data: dataFor(0), stream: out.stream })).toThrow();
  });
});

describe("loss curve SVG", () => {
  const dir = mkdtempSync(join(tmpdir(), "yieldiff-svg-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Checks that tags nest properly (a small well-formedness check) and returns the tag names. */
  const tags = (svg: string): string[] => {
    const names: string[] = [];
    const stack: string[] = [];
    for (const m of svg.matchAll(/<(\/?)([a-zA-Z?][\w:-]*)[^>]*?(\/?)>/g)) {
      const [, close, name, selfClose] = m;
      if (name!.startsWith("?")) continue;
      if (close) expect(stack.pop()).toBe(name);
      else if (!selfClose) stack.push(name!);
      names.push(name!);
    }
    expect(stack).toEqual([]);
    return names;
  };

  it("writes a standalone SVG with axes, labels and a polyline through every step", () => {
    const losses = Array.from({ length: 120 }, (_, i) => 2.3 * Math.exp(-i / 30) + 0.05 * Math.sin(i));
    const path = writeLossCurveSvg(join(dir, "sub", "loss.svg"), losses, { title: "MNIST <CNN> & friends" });
    const svg = readFileSync(path, "utf8");
    expect(svg.startsWith('<?xml version="1.0"')).toBe(true);
    expect(svg).toMatch(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="720" height="420"/);
    const names = tags(svg);
    expect(names.filter((n) => n === "polyline").length).toBe(2);
    expect(svg).toContain("MNIST &lt;CNN&gt; &amp; friends");
    expect(svg).toMatch(/>step</);
    expect(svg).toMatch(/>loss</);
    const raw = svg.match(/class="raw"[^>]*points="([^"]*)"/)![1]!.split(" ");
    expect(raw.length).toBe(120);
    // the first point is at the top-left (largest loss), the last lower
    const pts = raw.map((p) => p.split(",").map(Number));
    expect(pts[0]![1]).toBeLessThan(pts.at(-1)![1]!);
    expect(pts[0]![0]).toBeLessThan(pts.at(-1)![0]!);
    expect(pts.every(([x, y]) => x! >= 72 && x! <= 720 - 24 && y! >= 44 && y! <= 420 - 56)).toBe(true);
  });

  it("copes with empty, constant, non-finite and long series", () => {
    expect(tags(lossCurveSvg([]))).toContain("svg");
    expect(lossCurveSvg([])).toContain("no data");
    const flat = lossCurveSvg([1, 1, 1]);
    expect(flat).not.toMatch(/NaN|Infinity/);
    const gaps = lossCurveSvg([3, NaN, 2, Infinity, 1]);
    expect(gaps).not.toMatch(/NaN|Infinity/);
    expect(gaps.match(/class="raw"[^>]*points="([^"]*)"/)![1]!.split(" ").length).toBe(3);
    const long = lossCurveSvg(Array.from({ length: 50_000 }, (_, i) => 1 / (i + 1)), { logScale: true });
    expect(long.match(/class="raw"[^>]*points="([^"]*)"/)![1]!.split(" ").length).toBeLessThanOrEqual(2001);
    expect(long).toContain("loss (log scale)");
    expect(() => lossCurveSvg(["1" as unknown as number])).toThrow(ValueError);
  });
});
