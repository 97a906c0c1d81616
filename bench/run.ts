// The benchmark runner: `npm run bench` runs every workload, `npm run bench -- W1 W8` some.
// Each workload runs in a process of its own (a fresh heap, and no other system's libraries
// loaded), then one table is printed and recorded in docs/benchmarks.md with the date and the
// machine. Workload modules are imported on demand (esbuild splits them into chunks).
// W2-NOFMA, W2-TORCH-NOFMA and W7-NOFMA time W2, W2-TORCH and W7 again without WebAssembly's
// relaxed SIMD (their process gets YIELDIFF_NO_FMA=1: the float32 gemm multiplies and adds
// apart), as an engine without it runs them (Node before 22, browsers that have not shipped it).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { record, table, machine, type Row } from "./report.ts";
import { gemmFma } from "../src/kernels/wasm/gemm-module.ts";

/** A workload's rows again without relaxed SIMD, as workload `id`; fails if the gemm is fused. */
const withoutFma = async (id: string, rows: Row[] | Promise<Row[]>, keep: (r: Row) => boolean = () => true): Promise<Row[]> => {
  if (gemmFma()) throw new Error(`${id}: the gemm uses relaxed SIMD although YIELDIFF_NO_FMA is set`);
  return (await rows).filter(keep).map((r) => ({ ...r, workload: id }));
};
const NO_FMA = "-NOFMA";

const workloads: Record<string, () => Promise<Row[]>> = {
  W1: async () => (await import("./workloads/w1.ts")).w1(),
  "W1-LOOP": async () => (await import("./workloads/w1.ts")).w1Loop(),
  W2: async () => (await import("./workloads/w2.ts")).w2(),
  "W2-TORCH": async () => (await import("./workloads/w2-torch.ts")).w2Torch(),
  W3: async () => (await import("./workloads/w3.ts")).w3(),
  W4: async () => (await import("./workloads/w4.ts")).w4(),
  W5: async () => (await import("./workloads/w5.ts")).w5(),
  W6: async () => (await import("./workloads/w6.ts")).w6(),
  "W6-PEX": async () => (await import("./workloads/w6-per-example.ts")).w6PerExample(),
  W7: async () => (await import("./workloads/w7.ts")).w7(),
  W8: async () => (await import("./workloads/w8.ts")).w8(),
  S10M: async () => (await import("./workloads/stack.ts")).stack10m(),
  CKPT: async () => (await import("./workloads/checkpoint-memory.ts")).checkpointMemory(),
  REC: async () => (await import("./workloads/recursion.ts")).recursion(),
  STAGE: async () => (await import("./workloads/stage.ts")).stage(),
  "W2-NOFMA": async () => withoutFma("W2-NOFMA", (await import("./workloads/w2.ts")).w2()),
  "W2-TORCH-NOFMA": async () => withoutFma("W2-TORCH-NOFMA", (await import("./workloads/w2-torch.ts")).w2Torch()),
  "W7-NOFMA": async () => withoutFma("W7-NOFMA", (await import("./workloads/w7.ts")).w7(), (r) => r.system.includes("WASM SIMD")),
  "W1-PEERS": async () => (await import("./workloads/peers.ts")).w1Peers(),
  "W2-PEERS": async () => (await import("./workloads/peers.ts")).w2Peers(),
  "W3-PEERS": async () => (await import("./workloads/peers.ts")).w3Peers(),
  "W4-PEERS": async () => (await import("./workloads/peers.ts")).w4Peers(),
  "W5-PEERS": async () => (await import("./workloads/peers.ts")).w5Peers(),
  "W6-PEERS": async () => (await import("./workloads/peers.ts")).w6Peers(),
  "W7-PEERS": async () => (await import("./workloads/peers.ts")).w7Peers(),
  "W8-PEERS": async () => (await import("./workloads/peers.ts")).w8Peers(),
};

/**
 * Ratios between rows of different processes of this run: W7's product against TF.js wasm's
 * (W7-PEERS; the target is 1.2× it), when both ran. Figures of other runs do not compare: this
 * machine's speed moves by 1.5–2× between hours.
 */
function relate(rows: Row[]): void {
  const tfjs = rows.find((r) => r.workload === "W7-PEERS" && r.system === "TF.js wasm" && r.median > 0);
  for (const r of rows)
    if ((r.workload === "W7" || r.workload === "W7-NOFMA") && r.system === "yieldiff matmul (WASM SIMD)" && !r.note?.startsWith("WebAssembly unavailable"))
      r.note = tfjs
        ? `${(r.median / tfjs.median).toFixed(2)}× TF.js wasm in this run (target 1.2×); ${r.note}`
        : `${r.note}; against TF.js wasm: run W7-PEERS with it (target 1.2×)`;
}

const args = process.argv.slice(2);
if (args[0] === "--child") {
  // One workload, in this process; its rows go to the file the parent named.
  const rows = await workloads[args[1]!]!();
  writeFileSync(args[2]!, JSON.stringify(rows));
  process.exit(0);
}

const wanted = args.map((a) => a.toUpperCase());
const unknown = wanted.filter((w) => !(w in workloads));
if (unknown.length > 0) {
  console.error(`unknown workload(s) ${unknown.join(", ")}; choose from ${Object.keys(workloads).join(", ")}`);
  process.exit(2);
}
console.log(`yieldiff benchmarks on ${machine()}`);
const dir = mkdtempSync(join(tmpdir(), "yieldiff-bench-"));
const self = fileURLToPath(import.meta.url);
const rows: Row[] = [];
let failed = false;
for (const id of Object.keys(workloads)) {
  if (wanted.length > 0 && !wanted.includes(id)) continue;
  console.log(`running ${id} ...`);
  const out = join(dir, `${id}.json`);
  const env = id.endsWith(NO_FMA) ? { ...process.env, YIELDIFF_NO_FMA: "1" } : process.env;
  const child = spawnSync(process.execPath, [...process.execArgv, self, "--child", id, out], { stdio: "inherit", env });
  if (child.status !== 0) {
    console.error(`${id} failed (exit ${child.status ?? child.signal}); its rows are not recorded`);
    failed = true;
    continue;
  }
  rows.push(...(JSON.parse(readFileSync(out, "utf8")) as Row[]));
}
relate(rows);
console.log(table(rows));
record(rows, Object.keys(workloads));
process.exit(failed ? 1 : 0);
