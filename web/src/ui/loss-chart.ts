// The live training chart: the loss of every step (faint), its running mean over 10 steps, and
// the test accuracy at each evaluation (dots, on the right-hand scale).
import { surface, tick, ticks } from "./canvas.ts";

export interface ChartData {
  losses: readonly number[];
  accuracies: readonly { step: number; accuracy: number }[];
  totalSteps: number;
}

const PAD = { left: 44, right: 44, top: 12, bottom: 28 };
const LOSS = "#2563eb";
const ACC = "#16a34a";

export function drawLossChart(canvas: HTMLCanvasElement, data: ChartData): void {
  const { ctx, width, height } = surface(canvas);
  const w = width - PAD.left - PAD.right, h = height - PAD.top - PAD.bottom;
  const steps = Math.max(data.totalSteps, data.losses.length, 1);
  const top = Math.max(0.5, ...data.losses.slice(0, 20).filter(Number.isFinite));
  const X = (step: number): number => PAD.left + (w * step) / steps;
  const Y = (loss: number): number => PAD.top + h * (1 - Math.min(loss, top) / top);
  const A = (acc: number): number => PAD.top + h * (1 - acc);

  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#e5e7eb";
  ctx.fillStyle = "#6b7280";
  ctx.textBaseline = "middle";
  for (const v of ticks(0, top, 4)) {
    ctx.beginPath();
    ctx.moveTo(PAD.left, Y(v));
    ctx.lineTo(PAD.left + w, Y(v));
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillText(tick(v), PAD.left - 6, Y(v));
  }
  ctx.textAlign = "left";
  ctx.fillStyle = ACC;
  for (const a of [0, 0.5, 1]) ctx.fillText(`${a * 100}%`, PAD.left + w + 6, A(a));
  ctx.fillStyle = "#6b7280";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const s of ticks(0, steps, 5)) ctx.fillText(tick(s), X(s), PAD.top + h + 6);
  ctx.fillText("step", PAD.left + w / 2, PAD.top + h + 16);

  const line = (values: readonly number[], color: string, width: number): void => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    values.forEach((v, i) => (i === 0 ? ctx.moveTo(X(i + 1), Y(v)) : ctx.lineTo(X(i + 1), Y(v))));
    ctx.stroke();
  };
  ctx.globalAlpha = 0.3;
  line(data.losses, LOSS, 1);
  ctx.globalAlpha = 1;
  const mean: number[] = [];
  let sum = 0;
  data.losses.forEach((v, i) => {
    sum += v - (i >= 10 ? data.losses[i - 10]! : 0);
    mean.push(sum / Math.min(i + 1, 10));
  });
  line(mean, LOSS, 2);

  ctx.fillStyle = ACC;
  for (const { step, accuracy } of data.accuracies) {
    ctx.beginPath();
    ctx.arc(X(step), A(accuracy), 3.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}
