// W2, W6 and W7 on the webgpu backend, eagerly and under jit, wherever a WebGPU entry point
// exists (a browser page's navigator.gpu, or a Node binding's). Platform-neutral: no Node
// modules here, the data comes in as bytes. Before timing, each workload's result on the GPU is
// checked against the CPU backend's (agree.ts); a disagreement stops the run.
//
// Timing GPU work: operations return as soon as their dispatch is queued, so a step is timed up
// to an awaited read of its loss (W7: of the product). The queue runs in order, and the read is
// queued after the step's last dispatch (the optimizer's update), so the await returns when the
// whole step has run on the device. Warm-up runs first (it includes compiling the shaders).
import {
  BackendError, Tensor, abs, add, backendInfo, jit, matmul, nn, optim, randn, relu, run, setBackend, softmaxCrossEntropy, tensor, toDevice,
  valueAndGrad, type Effect, type Value,
} from "../../src/index.ts";
import { time, type Timing } from "../measure.ts";
import { oneHot, randomInts } from "../workloads/models.ts";
import { initParams, loss as cnnLoss } from "../workloads/w6.ts";
import { checkAgreement, checkProduct, isCpuEmulation, adapterLabel, type AdapterInfo, type Arrays } from "./agree.ts";

/** One row of the report: a figure, or the reason it is missing (never a made-up number). */
export interface GpuRow {
  readonly workload: "W2" | "W6" | "W7";
  readonly mode: "eager" | "jit";
  readonly unit: "ms/step" | "GFLOP/s";
  readonly timing?: Timing;
  /** Why there is no figure (e.g. the BackendError of a jit the GPU does not have yet). */
  readonly missing?: string;
  readonly note: string;
}

export interface GpuReport {
  /** The adapter's name (backendInfo().adapter) and what its info says. */
  readonly adapter: string;
  readonly adapterInfo: AdapterInfo;
  /** Whether the adapter is CPU emulation (SwiftShader): then no row is a GPU figure. */
  readonly cpuEmulation: boolean;
  /** What to print beside every figure. */
  readonly label: string;
  readonly rows: GpuRow[];
}

/** mlp.json's fields this harness reads, and mlp.bin's floats. */
export interface MlpBytes {
  readonly meta: { readonly order: readonly string[]; readonly shapes: Readonly<Record<string, readonly number[]>>; readonly loss: number };
  readonly floats: Float32Array;
}

export interface GpuBenchOptions {
  /** The WebGPU entry point (navigator.gpu, or a Node binding's). */
  readonly gpu: unknown;
  readonly mlp: MlpBytes;
  /** Which of W2, W6, W7 to run (all when empty). */
  readonly workloads: readonly string[];
  /** ms of timed runs per row (after warm-up). */
  readonly time?: number;
  readonly log: (line: string) => void;
}

type Mlp = { W1: Value; b1: Value; W2: Value; b2: Value };

/** W2's loss (bench/workloads/w2.ts): MLP 784-256-10, relu, mean softmax cross-entropy. */
function* mlpLoss(p: Mlp, x: Value, onehot: Value) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  const z = yield* add(yield* matmul(h, p.W2), p.b2);
  return yield* softmaxCrossEntropy(z, onehot);
}

function* product(a: Value, b: Value) {
  return yield* matmul(a, b);
}

/** The first six arrays of mlp.bin: x, one-hot labels, W1, b1, W2, b2 (CPU float32 tensors). */
const parseMlp = ({ meta, floats }: MlpBytes): { x: Tensor; onehot: Tensor; params: Mlp } => {
  const arrays: Record<string, Tensor> = {};
  let offset = 0;
  for (const name of meta.order.slice(0, 6)) {
    const shape = meta.shapes[name];
    if (shape === undefined) throw new Error(`mlp.json gives no shape for ${name}`);
    const n = shape.reduce((a, b) => a * b, 1);
    arrays[name] = tensor(floats.slice(offset, offset + n), { shape: [...shape], dtype: "float32" });
    offset += n;
  }
  const { x, yoh, W1, b1, W2, b2 } = arrays;
  return { x: x!, onehot: yoh!, params: { W1: W1!, b1: b1!, W2: W2!, b2: b2! } };
};

/** A tree's tensors read back, flattened by path ("loss", "W1", "conv1.w", ...). */
const readTree = async (tree: unknown, prefix: string, out: Record<string, Float32Array> = {}): Promise<Record<string, Float32Array>> => {
  if (tree instanceof Tensor) out[prefix] = Float32Array.from(await tree.dataAsync());
  else if (typeof tree === "number") out[prefix] = Float32Array.of(tree);
  else if (typeof tree === "object" && tree !== null)
    for (const [k, v] of Object.entries(tree)) await readTree(v, prefix === "" ? k : `${prefix}.${k}`, out);
  return out;
};

/** A copy of a tree of CPU tensors on the GPU. */
const onDevice = <T>(tree: T): T =>
  (tree instanceof Tensor
    ? toDevice(tree)
    : Object.fromEntries(Object.entries(tree as Record<string, unknown>).map(([k, v]) => [k, onDevice(v)]))) as T;

const isBackendError = (e: unknown): e is BackendError => e instanceof BackendError || (e as { _tag?: unknown })?._tag === "BackendError";

/** A difference as a share of its bound. */
const pct = (r: number): string => (r === 0 ? "0 (bit for bit)" : `${(r * 100).toPrecision(2)}%`);

/**
 * Timed runs per row at least (tinybench runs until both these and `time` ms are done): a GPU's
 * step takes milliseconds, so `time` decides; SwiftShader's W6 step takes seconds.
 */
const ITERATIONS = 5;

/** ms per product → GFLOP/s (the fastest run gives the max). */
const gflops = (t: Timing, flops: number): Timing => ({ median: flops / (t.median * 1e6), min: flops / (t.max * 1e6), max: flops / (t.min * 1e6) });

/** A training workload (W2, W6): one SGD step = valueAndGrad of `loss` + the optimizer's update. */
interface Training<P> {
  readonly id: "W2" | "W6";
  readonly loss: (p: P, x: Value, onehot: Value) => Generator<Effect, Value, unknown>;
  readonly params: () => P;
  readonly x: Tensor;
  readonly onehot: Tensor;
  readonly lr: number;
}

async function training<P>(w: Training<P>, opts: GpuBenchOptions): Promise<GpuRow[]> {
  const opt = optim.sgd({ lr: w.lr });
  type State = ReturnType<typeof opt.init>;
  type VG = (p: P, x: Value, onehot: Value) => Generator<Effect, [Value, P], unknown>;
  const eager = valueAndGrad(w.loss) as unknown as VG;
  const jitted = jit(valueAndGrad(w.loss)) as unknown as VG;
  /** One step from `params`: its loss, and the updated parameters and state. */
  const step = (vg: VG, params: P, state: State, x: Value, onehot: Value): [Value, P, State] => {
    const [l, g] = run(vg, params, x, onehot);
    const [next, nextState] = opt.update(g, state, params);
    return [l, next, nextState];
  };
  /** The loss and the updated parameters, read back and flattened. */
  const readStep = async ([l, next]: [Value, P, State]): Promise<Arrays> => ({ loss: (await readTree(l, "loss")).loss!, ...(await readTree(next, "")) });

  // The CPU backend's step, from the same float32 parameters and data.
  await setBackend("cpu");
  const want = await readStep(step(eager, w.params(), opt.init(w.params()), w.x, w.onehot));

  await setBackend("webgpu");
  const x = toDevice(w.x);
  const onehot = toDevice(w.onehot);
  const rows: GpuRow[] = [];
  for (const [mode, vg] of [["eager", eager], ["jit", jitted]] as const) {
    let got: Arrays;
    try {
      const p0 = onDevice(w.params());
      got = await readStep(step(vg, p0, opt.init(p0), x, onehot));
    } catch (e) {
      if (mode === "jit" && isBackendError(e)) {
        rows.push({ workload: w.id, mode, unit: "ms/step", missing: (e as Error).message, note: "" });
        continue;
      }
      throw e;
    }
    const worst = checkAgreement(w.id, `${mode} on webgpu (the loss and the parameters after one SGD step)`, got, want);
    opts.log(
      `${w.id} ${mode}: the loss and the ${Object.keys(want).length - 1} updated parameters agree with the CPU's ` +
        `(the largest difference is ${pct(worst)} of the float32 tolerance)`,
    );
    // A training loop: each call does one step from the current params and awaits its loss.
    let params = onDevice(w.params());
    let state = opt.init(params);
    const train = async (): Promise<void> => {
      const [l, next, nextState] = step(vg, params, state, x, onehot);
      [params, state] = [next, nextState];
      await (l as Tensor).dataAsync();
    };
    const t = (await time({ [mode]: train }, { time: opts.time, iterations: ITERATIONS }))[mode]!;
    rows.push({
      workload: w.id, mode, unit: "ms/step", timing: t,
      note: `${mode === "jit" ? "jit(valueAndGrad(loss))" : "valueAndGrad(loss)"} + optim.sgd's update, timed to the loss read back`,
    });
  }
  await setBackend("cpu");
  return rows;
}

async function w2(opts: GpuBenchOptions): Promise<GpuRow[]> {
  await setBackend("cpu");
  const d = parseMlp(opts.mlp);
  const initial = (run(mlpLoss, d.params, d.x, d.onehot) as Tensor).item();
  if (Math.abs(initial - opts.mlp.meta.loss) > 1e-5 * Math.abs(opts.mlp.meta.loss))
    throw new Error(`W2: the CPU's initial loss ${initial} is not mlp.json's reference ${opts.mlp.meta.loss}`);
  return training({ id: "W2", loss: mlpLoss, params: () => d.params, x: d.x, onehot: d.onehot, lr: 0.01 }, opts);
}

async function w6(opts: GpuBenchOptions): Promise<GpuRow[]> {
  await setBackend("cpu"); // the seeded data and weights are made on the CPU, then moved
  const x = nn.init.normal(1)(61, [100, 1, 28, 28], "float32");
  const onehot = oneHot(randomInts(62, 100, 10), 10);
  const params = initParams(60);
  return training({ id: "W6", loss: cnnLoss, params: () => params, x, onehot, lr: 0.05 }, opts);
}

async function w7(opts: GpuBenchOptions): Promise<GpuRow[]> {
  const N = 512;
  const FLOPS = 2 * N * N * N;
  await setBackend("cpu");
  const a = randn([N, N], { seed: 7, dtype: "float32" });
  const b = randn([N, N], { seed: 8, dtype: "float32" });
  const want = Float32Array.from((run(product, a, b) as Tensor).data);
  // |A| |B|: each element's rounding bound (agree.ts's checkProduct).
  const scale = (run(function* () {
    return yield* matmul(yield* abs(a), yield* abs(b));
  }) as Tensor).data;
  await setBackend("webgpu");
  const ga = toDevice(a);
  const gb = toDevice(b);
  const rows: GpuRow[] = [];
  const jitted = jit(product);
  for (const [mode, f] of [["eager", product], ["jit", jitted]] as const) {
    /** One product, read back into a Float32Array (W7 includes the readback). */
    const multiply = async (): Promise<Float32Array> => {
      const c = run(f, ga, gb) as Tensor;
      const out = (await c.dataAsync()) as Float32Array;
      c.dispose();
      return out;
    };
    let got: Float32Array;
    try {
      got = await multiply();
    } catch (e) {
      if (mode === "jit" && isBackendError(e)) {
        rows.push({ workload: "W7", mode, unit: "GFLOP/s", missing: (e as Error).message, note: "" });
        continue;
      }
      throw e;
    }
    const worst = checkProduct("W7", `${mode} on webgpu`, got, want, scale, N);
    opts.log(`W7 ${mode}: the 512×512 product agrees with the CPU's (the largest difference is ${pct(worst)} of the float32 rounding bound)`);
    const t = (await time({ [mode]: multiply }, { time: opts.time, iterations: ITERATIONS }))[mode]!;
    rows.push({ workload: "W7", mode, unit: "GFLOP/s", timing: gflops(t, FLOPS), note: `512×512×512 float32, with the read back (dataAsync); ${t.median.toFixed(1)} ms per product` });
  }
  await setBackend("cpu");
  return rows;
}

const WORKLOADS: Record<string, (opts: GpuBenchOptions) => Promise<GpuRow[]>> = { W2: w2, W6: w6, W7: w7 };

/** The workloads this harness runs. */
export const GPU_WORKLOADS = Object.keys(WORKLOADS);

/** Opens webgpu on `opts.gpu`, runs the chosen workloads and reports their rows and the adapter. */
export async function runGpuBenchmarks(opts: GpuBenchOptions): Promise<GpuReport> {
  await setBackend("webgpu", { gpu: opts.gpu });
  await setBackend("cpu");
  const entry = opts.gpu as { requestAdapter(o?: object): Promise<{ info?: AdapterInfo; isFallbackAdapter?: boolean } | null> };
  const adapter = await entry.requestAdapter({ powerPreference: "high-performance" });
  const info: AdapterInfo = {
    vendor: adapter?.info?.vendor,
    architecture: adapter?.info?.architecture,
    device: adapter?.info?.device,
    description: adapter?.info?.description,
    isFallbackAdapter: adapter?.info?.isFallbackAdapter ?? adapter?.isFallbackAdapter,
  };
  const report: GpuReport = {
    adapter: backendInfo().adapter ?? "unknown adapter",
    adapterInfo: info,
    cpuEmulation: isCpuEmulation(info),
    label: adapterLabel(info),
    rows: [],
  };
  opts.log(`adapter: ${report.adapter}${report.cpuEmulation ? " — CPU emulation: its times are not GPU figures" : ""}`);
  for (const id of GPU_WORKLOADS) {
    if (opts.workloads.length > 0 && !opts.workloads.includes(id)) continue;
    opts.log(`running ${id} on webgpu ...`);
    report.rows.push(...(await WORKLOADS[id]!(opts)));
  }
  return report;
}
