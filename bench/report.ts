// Collects benchmark rows, prints them as one table and keeps docs/benchmarks.md's results
// section up to date (rows of workloads not run this time are kept from bench/results.json).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

export interface Row {
  /** Workload id, e.g. "W1". */
  workload: string;
  system: string;
  /** The unit of the figure, e.g. "ns/op". */
  unit: string;
  median: number;
  min?: number;
  max?: number;
  note?: string;
}

const RESULTS = "bench/results.json";
const DOC = "docs/benchmarks.md";
const START = "<!-- results:start -->";
const END = "<!-- results:end -->";

const num = (x: number | undefined): string =>
  x === undefined ? "" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);

export const machine = (): string => {
  const c = cpus();
  return `${c[0]?.model ?? "unknown CPU"}, ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
};

export function table(rows: readonly Row[]): string {
  const lines = ["| workload | system | median | min – max | unit | note |", "|---|---|---:|---:|---|---|"];
  for (const r of rows)
    lines.push(`| ${r.workload} | ${r.system} | ${num(r.median)} | ${r.min === undefined ? "" : `${num(r.min)} – ${num(r.max)}`} | ${r.unit} | ${r.note ?? ""} |`);
  return lines.join("\n");
}

export function record(rows: readonly Row[]): void {
  const ran = new Set(rows.map((r) => r.workload));
  const old: Row[] = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")).rows : [];
  const merged = [...old.filter((r) => !ran.has(r.workload)), ...rows].sort((a, b) =>
    a.workload.localeCompare(b.workload, "en", { numeric: true }),
  );
  const stamp = `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}.`;
  writeFileSync(RESULTS, JSON.stringify({ machine: machine(), date: new Date().toISOString(), rows: merged }, null, 2) + "\n");
  const body = `${START}\n${stamp}\n\n${table(merged)}\n${END}`;
  const doc = existsSync(DOC) ? readFileSync(DOC, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  const at = doc.indexOf(START);
  const to = doc.indexOf(END);
  writeFileSync(DOC, at >= 0 && to > at ? doc.slice(0, at) + body + doc.slice(to + END.length) : `${doc}\n${body}\n`);
}
