// The GPU benchmark's printed table: every row carries the adapter's label (on SwiftShader, that
// it is CPU emulation and not a GPU figure), and a missing row says why instead of a number.
import type { GpuReport } from "./workloads.ts";

const num = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(3));

/** The report as a Markdown table: workload, mode, median, min – max, unit, adapter, note. */
export function gpuTable(report: Pick<GpuReport, "rows" | "label">): string {
  const lines = ["| workload | mode | median | min – max | unit | adapter | note |", "|---|---|---:|---:|---|---|---|"];
  for (const r of report.rows) {
    const t = r.timing;
    const figures = t === undefined ? "— | —" : `${num(t.median)} | ${num(t.min)} – ${num(t.max)}`;
    const note = r.missing === undefined ? r.note : `not measured: ${r.missing}`;
    lines.push(`| ${r.workload} | ${r.mode} | ${figures} | ${r.unit} | ${report.label} | ${note.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`);
  }
  return lines.join("\n");
}
