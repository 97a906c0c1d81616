// The benchmark runner: `npm run bench` runs every workload, `npm run bench -- W1 W8` some.
// Prints one table and records it in docs/benchmarks.md with the date and the machine.
import { record, table, machine, type Row } from "./report.ts";
import { checkpointMemory } from "./workloads/checkpoint-memory.ts";
import { stack10m } from "./workloads/stack.ts";
import { w1 } from "./workloads/w1.ts";
import { w2 } from "./workloads/w2.ts";
import { w3 } from "./workloads/w3.ts";
import { w4 } from "./workloads/w4.ts";
import { w5 } from "./workloads/w5.ts";
import { w6 } from "./workloads/w6.ts";
import { w7 } from "./workloads/w7.ts";
import { w8 } from "./workloads/w8.ts";
import { w1Peers, w2Peers, w3Peers, w4Peers, w5Peers, w6Peers, w7Peers, w8Peers } from "./workloads/peers.ts";

const workloads: Record<string, () => Promise<Row[]>> = {
  W1: w1,
  W2: w2,
  W3: w3,
  W4: w4,
  W5: w5,
  W6: w6,
  W7: w7,
  W8: w8,
  S10M: stack10m,
  CKPT: checkpointMemory,
  "W1-PEERS": w1Peers,
  "W2-PEERS": w2Peers,
  "W3-PEERS": w3Peers,
  "W4-PEERS": w4Peers,
  "W5-PEERS": w5Peers,
  "W6-PEERS": w6Peers,
  "W7-PEERS": w7Peers,
  "W8-PEERS": w8Peers,
};

const wanted = process.argv.slice(2).map((a) => a.toUpperCase());
const unknown = wanted.filter((w) => !(w in workloads));
if (unknown.length > 0) {
  console.error(`unknown workload(s) ${unknown.join(", ")}; choose from ${Object.keys(workloads).join(", ")}`);
  process.exit(2);
}
console.log(`yieldiff benchmarks on ${machine()}`);
const rows: Row[] = [];
for (const [id, run] of Object.entries(workloads)) {
  if (wanted.length > 0 && !wanted.includes(id)) continue;
  console.log(`running ${id} ...`);
  rows.push(...(await run()));
}
console.log(table(rows));
record(rows);
