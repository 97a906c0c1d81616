// f, f′ and f″ on one set of axes. The vertical range covers all three curves, or only the middle
// of their values (the 2nd to the 98th percentile) where a pole (1/x, tan) would flatten the
// rest; a curve breaks where it is not finite or jumps off the chart. Where f itself is
// undefined (log of a negative number), its derivatives are not drawn either.
import type { Curves } from "../expression/derivatives.ts";
import { surface, tick, ticks } from "./canvas.ts";

export const CURVE_COLORS = { f: "#111827", df: "#2563eb", d2f: "#dc2626" } as const;
const PAD = { left: 40, right: 12, top: 10, bottom: 24 };

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/** The vertical range to show: all of the values, unless a few of them stretch it more than threefold. */
function range(values: readonly number[]): [number, number] {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return [-1, 1];
  let lo = percentile(finite, 0.02), hi = percentile(finite, 0.98);
  const min = finite[0]!, max = finite[finite.length - 1]!;
  if (max - min <= 3 * (hi - lo)) [lo, hi] = [min, max];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.1;
  return [lo - pad, hi + pad];
}

export function drawFunctionPlot(canvas: HTMLCanvasElement, c: Curves): void {
  const { ctx, width, height } = surface(canvas);
  const w = width - PAD.left - PAD.right, h = height - PAD.top - PAD.bottom;
  const defined = (i: number): boolean => Number.isFinite(c.f[i]!);
  const all = [...c.f, ...c.df.filter((_, i) => defined(i)), ...c.d2f.filter((_, i) => defined(i))];
  const [lo, hi] = range(all);
  const x0 = c.xs[0]!, x1 = c.xs[c.xs.length - 1]!;
  const X = (x: number): number => PAD.left + (w * (x - x0)) / (x1 - x0);
  const Y = (y: number): number => PAD.top + (h * (hi - y)) / (hi - lo);

  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#6b7280";
  for (const v of ticks(lo, hi, 5)) {
    ctx.strokeStyle = v === 0 ? "#9ca3af" : "#e5e7eb";
    ctx.beginPath();
    ctx.moveTo(PAD.left, Y(v));
    ctx.lineTo(PAD.left + w, Y(v));
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillText(tick(v), PAD.left - 5, Y(v));
  }
  for (const v of ticks(x0, x1, 8)) {
    ctx.strokeStyle = v === 0 ? "#9ca3af" : "#f3f4f6";
    ctx.beginPath();
    ctx.moveTo(X(v), PAD.top);
    ctx.lineTo(X(v), PAD.top + h);
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(tick(v), X(v), PAD.top + h + 6);
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(PAD.left, PAD.top, w, h);
  ctx.clip();
  const span = hi - lo;
  for (const [key, ys, width] of [["d2f", c.d2f, 1.5], ["df", c.df, 1.5], ["f", c.f, 2.5]] as const) {
    ctx.strokeStyle = CURVE_COLORS[key];
    ctx.lineWidth = width;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < c.xs.length; i++) {
      const y = ys[i]!;
      const ok = defined(i) && Number.isFinite(y) && Math.abs(y - (lo + hi) / 2) < 20 * span;
      const jump = pen && Math.abs(y - ys[i - 1]!) > 4 * span; // a pole between two points
      if (!ok || jump) pen = false;
      if (!ok) continue;
      if (pen) ctx.lineTo(X(c.xs[i]!), Y(y));
      else ctx.moveTo(X(c.xs[i]!), Y(y));
      pen = true;
    }
    ctx.stroke();
  }
  ctx.restore();
}
