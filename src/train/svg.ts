// A loss curve as a standalone SVG file: axes with ticks and labels, the raw per-step losses
// as a faint polyline and their moving average as a bold one. No dependencies.
import { ValueError } from "../errors.ts";
import { checkOptions } from "../options.ts";

/** Options of `lossCurveSvg` (and yieldiff/node's `writeLossCurveSvg`). */
export interface LossCurveOptions {
  title?: string;
  /** Label of the x axis (default "step"). */
  xLabel?: string;
  /** Label of the y axis (default "loss"). */
  yLabel?: string;
  width?: number;
  height?: number;
  /** Window of the moving average (default: about 1/50 of the steps, at least 1; 1 draws no average). */
  smooth?: number;
  /** A logarithmic y axis (default false; needs positive losses). */
  logScale?: boolean;
}

const escapeXml = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

/** About `count` round tick values covering [lo, hi]. */
const niceTicks = (lo: number, hi: number, count: number): number[] => {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
};

const tickLabel = (v: number): string => {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
};

/** Keeps at most `max` points of a series (evenly spaced; a real SVG stays small). */
const thin = (xs: number[], ys: number[], max: number): [number[], number[]] => {
  if (xs.length <= max) return [xs, ys];
  const step = xs.length / max;
  const ox: number[] = [];
  const oy: number[] = [];
  for (let i = 0; i < max; i++) {
    const k = Math.floor(i * step);
    ox.push(xs[k]!);
    oy.push(ys[k]!);
  }
  ox.push(xs[xs.length - 1]!);
  oy.push(ys[ys.length - 1]!);
  return [ox, oy];
};

/** The SVG document (a string) of the loss curve of `losses` (one per step). */
export function lossCurveSvg(losses: readonly number[], options: LossCurveOptions = {}): string {
  if (!Array.isArray(losses) || losses.some((v) => typeof v !== "number"))
    throw new ValueError("lossCurveSvg: losses must be an array of numbers (one per step)");
  checkOptions("lossCurveSvg", options, {
    title: "string", xLabel: "string", yLabel: "string", width: "number", height: "number", smooth: "number", logScale: "boolean",
  });
  const { title = "Training loss", xLabel = "step", yLabel = "loss", width = 720, height = 420, logScale = false } = options;
  const smooth = options.smooth ?? Math.max(1, Math.round(losses.length / 50));
  const m = { left: 72, right: 24, top: 44, bottom: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;

  const finite = losses.map((v, i) => [i + 1, v] as const).filter(([, v]) => Number.isFinite(v) && (!logScale || v > 0));
  const f = (v: number): number => (logScale ? Math.log10(v) : v);
  const parts: string[] = [];
  parts.push(
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`,
  );
  if (finite.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#666">no data</text>`, `</svg>`, "");
    return parts.join("\n");
  }
  const xsAll = finite.map(([x]) => x);
  const ysAll = finite.map(([, y]) => f(y));
  const xMin = 1;
  const xMax = Math.max(2, losses.length);
  let yMin = Math.min(...ysAll);
  let yMax = Math.max(...ysAll);
  if (!logScale && yMin > 0 && yMin < yMax * 0.5) yMin = 0; // losses usually read best from zero
  if (yMax === yMin) {
    yMax += Math.abs(yMax) * 0.1 || 1;
    yMin -= Math.abs(yMin) * 0.1 || 1;
  }
  const pad = (yMax - yMin) * 0.04;
  yMax += pad;
  if (yMin !== 0 || logScale) yMin -= pad;
  const sx = (x: number): number => m.left + ((x - xMin) / (xMax - xMin)) * pw;
  const sy = (y: number): number => m.top + ph - ((y - yMin) / (yMax - yMin)) * ph;
  const r = (v: number): string => (Math.round(v * 10) / 10).toString();

  // grid, ticks and their labels
  parts.push(`<g stroke="#e5e5e5" stroke-width="1">`);
  const yTicks = logScale
    ? Array.from({ length: Math.floor(yMax) - Math.ceil(yMin) + 1 }, (_, i) => Math.ceil(yMin) + i)
    : niceTicks(yMin, yMax, 6);
  const xTicks = niceTicks(xMin, xMax, 8).filter((x) => x >= xMin);
  for (const y of yTicks) parts.push(`<line x1="${m.left}" y1="${r(sy(y))}" x2="${m.left + pw}" y2="${r(sy(y))}"/>`);
  for (const x of xTicks) parts.push(`<line x1="${r(sx(x))}" y1="${m.top}" x2="${r(sx(x))}" y2="${m.top + ph}"/>`);
  parts.push(`</g>`);
  parts.push(`<g fill="#333">`);
  for (const y of yTicks)
    parts.push(`<text x="${m.left - 8}" y="${r(sy(y) + 4)}" text-anchor="end">${escapeXml(logScale ? tickLabel(10 ** y) : tickLabel(y))}</text>`);
  for (const x of xTicks) parts.push(`<text x="${r(sx(x))}" y="${m.top + ph + 18}" text-anchor="middle">${escapeXml(tickLabel(x))}</text>`);
  parts.push(`</g>`);
  // axes and their labels
  parts.push(
    `<g stroke="#333" stroke-width="1.2">`,
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}"/>`,
    `</g>`,
    `<text x="${m.left + pw / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="18" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 18 ${m.top + ph / 2})">${escapeXml(yLabel + (logScale ? " (log scale)" : ""))}</text>`,
  );
  // the curves
  const points = (xs: number[], ys: number[]): string => xs.map((x, i) => `${r(sx(x))},${r(sy(ys[i]!))}`).join(" ");
  const [tx, ty] = thin(xsAll, ysAll, 2000);
  parts.push(
    `<polyline class="raw" fill="none" stroke="${smooth > 1 ? "#9ecae1" : "#1f77b4"}" stroke-width="1" points="${points(tx, ty)}"/>`,
  );
  if (smooth > 1 && finite.length > 1) {
    const avg: number[] = [];
    let acc = 0;
    for (let i = 0; i < ysAll.length; i++) {
      acc += ysAll[i]!;
      if (i >= smooth) acc -= ysAll[i - smooth]!;
      avg.push(acc / Math.min(i + 1, smooth));
    }
    const [ax, ay] = thin(xsAll, avg, 2000);
    parts.push(`<polyline class="smoothed" fill="none" stroke="#1f4e9c" stroke-width="2" points="${points(ax, ay)}"/>`);
    parts.push(
      `<text x="${m.left + pw}" y="${m.top - 8}" text-anchor="end" fill="#555">per step (light), moving average of ${smooth} (dark)</text>`,
    );
  }
  parts.push(`</svg>`, "");
  return parts.join("\n");
}
