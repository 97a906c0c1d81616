// W2-TORCH: W2's eager step against PyTorch's, on this machine at the same time. The W2 target
// is stated against PyTorch (2× its time per step), and this kind of machine changes speed by
// 1.5–2× between hours, so a figure measured on another day says little: here PyTorch's step
// (bench/pytorch/w2.py, one thread) and yieldiff's eager step take turns, ROUNDS times each, and
// the ratio is of figures taken minutes apart. Needs a Python with PyTorch (Debian's:
// `apt-get install python3-torch libopenblas0-serial`; another with YIELDIFF_TORCH_PYTHON);
// without one the workload says so and records nothing.
import { spawnSync } from "node:child_process";
import { loadMlp } from "../data.ts";
import type { Row } from "../report.ts";
import { summarize } from "../measure.ts";
import { eagerStep, w2Trainer } from "./w2.ts";

const ROUNDS = 5;
const STEPS = 400;
const SCRIPT = "bench/pytorch/w2.py";

/** The first Python that imports torch, or undefined. */
function torchPython(): string | undefined {
  const candidates = [process.env.YIELDIFF_TORCH_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string => !!p);
  return candidates.find((py) => spawnSync(py, ["-c", "import torch"], { stdio: "ignore" }).status === 0);
}

interface TorchRun {
  torch: string;
  initial: number;
  times: number[];
}

function torchSteps(python: string): TorchRun {
  const r = spawnSync(python, [SCRIPT, "--json", String(STEPS)], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
  if (r.status !== 0) throw new Error(`W2-TORCH: ${python} ${SCRIPT} failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as TorchRun;
}

export function w2Torch(): Row[] {
  const python = torchPython();
  if (python === undefined) {
    console.log("W2-TORCH: skipped, no Python with PyTorch (apt-get install python3-torch libopenblas0-serial, or set YIELDIFF_TORCH_PYTHON)");
    return [];
  }
  const d = loadMlp();
  const step = w2Trainer(d, eagerStep);
  for (let i = 0; i < 200; i++) step(); // warm-up, as the Python side's 200 steps
  const ours: number[] = [];
  const theirs: number[] = [];
  let version = "";
  for (let r = 0; r < ROUNDS; r++) {
    const t = torchSteps(python);
    if (Math.abs(t.initial - d.lossReference) > 1e-5 * Math.abs(d.lossReference))
      throw new Error(`W2-TORCH: PyTorch's initial loss ${t.initial} vs reference ${d.lossReference}`);
    version = t.torch;
    theirs.push(...t.times);
    for (let i = 0; i < STEPS; i++) {
      const start = performance.now();
      step();
      ours.push(performance.now() - start);
    }
  }
  const [y, p] = [summarize(ours), summarize(theirs)];
  const by = `${(y.median / p.median).toFixed(2)}× PyTorch by median, ${(y.min / p.min).toFixed(2)}× by minimum`;
  const how = `${ROUNDS} turns of ${STEPS} steps each with PyTorch's`;
  return [
    { workload: "W2-TORCH", system: "yieldiff eager", unit: "ms/step", ...y, note: `${by}; ${how}` },
    { workload: "W2-TORCH", system: `PyTorch ${version}, 1 thread`, unit: "ms/step", ...p, note: `${SCRIPT} (${python}), same data, same initial loss` },
  ];
}
