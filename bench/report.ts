// Collects benchmark rows, prints them as one table and keeps docs/benchmarks.md's results
// section up to date (rows of workloads not run this time are kept from bench/results.json).
// Each row keeps when and where it was measured: a row of an earlier run, or of another machine
// or Node, says so in its note, so the stamp above the table is never claimed for it.
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
  /** When the row was measured (ISO date-time; set by `record`). */
  date?: string;
  /** Where: CPU, cores, memory and Node version, as `machine()` (set by `record`). */
  machine?: string;
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

const day = (iso: string): string => iso.slice(0, 10);

/** The table; with `latest`, rows measured on another day or machine say when and where. */
export function table(rows: readonly Row[], latest?: { date: string; machine: string }): string {
  const lines = ["| workload | system | median | min – max | unit | note |", "|---|---|---:|---:|---|---|"];
  for (const r of rows) {
    const elsewhere = latest !== undefined && r.machine !== undefined && r.machine !== latest.machine ? ` on ${r.machine}` : "";
    const earlier = latest !== undefined && r.date !== undefined && (day(r.date) !== day(latest.date) || elsewhere) ? `measured ${day(r.date)}${elsewhere}` : "";
    const note = [earlier, r.note ?? ""].filter((x) => x !== "").join("; ");
    lines.push(`| ${r.workload} | ${r.system} | ${num(r.median)} | ${r.min === undefined ? "" : `${num(r.min)} – ${num(r.max)}`} | ${r.unit} | ${note} |`);
  }
  return lines.join("\n");
}

/** Records this run's rows over the kept ones; rows of workloads no longer in `known` are dropped. */
export function record(rows: readonly Row[], known: readonly string[]): void {
  const latest = { date: new Date().toISOString(), machine: machine() };
  const ran = new Set(rows.map((r) => r.workload));
  // (rows of files written before rows kept their date and machine: the file's)
  const file = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, "utf8")) as { date: string; machine: string; rows: Row[] }) : undefined;
  const old = (file?.rows ?? []).filter((r) => known.includes(r.workload)).map((r) => ({ date: file!.date, machine: file!.machine, ...r }));
  const merged = [...old.filter((r) => !ran.has(r.workload)), ...rows.map((r) => ({ ...r, ...latest }))].sort((a, b) =>
    a.workload.localeCompare(b.workload, "en", { numeric: true }),
  );
  const others = merged.some((r) => day(r.date) !== day(latest.date) || r.machine !== latest.machine);
  const stamp = `Measured ${day(latest.date)} on ${latest.machine}${others ? "; rows measured on another day or machine say so in their note" : ""}.`;
  writeFileSync(RESULTS, JSON.stringify({ ...latest, rows: merged }, null, 2) + "\n");
  const body = `${START}\n${stamp}\n\n${table(merged, latest)}\n${END}`;
  const doc = existsSync(DOC) ? readFileSync(DOC, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  const at = doc.indexOf(START);
  const to = doc.indexOf(END);
  writeFileSync(DOC, at >= 0 && to > at ? doc.slice(0, at) + body + doc.slice(to + END.length) : `${doc}\n${body}\n`);
}
