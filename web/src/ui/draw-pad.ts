// The drawing canvas: white ink on black, as MNIST's digits are, drawn with the mouse, a pen or a
// finger (pointer events). It tells its listener when the drawing changed (throttled while a
// stroke goes on, and at its end) and gives its ink for ../digits/drawn-digit.ts.

/** Ink width in CSS pixels, for a canvas about 280 pixels wide (a digit's stroke is about a tenth of its height in MNIST). */
const LINE_WIDTH = 18;
const THROTTLE_MS = 120;

export interface DrawPad {
  /** The ink, one value in [0, 1] per canvas pixel, row by row, with the canvas's pixel size. */
  ink(): { ink: Float32Array; width: number; height: number };
  clear(): void;
}

export function drawPad(canvas: HTMLCanvasElement, onChange: () => void): DrawPad {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("this browser cannot draw on a canvas");
  const scale = (): number => canvas.width / (canvas.clientWidth || canvas.width);
  const reset = (): void => {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round((canvas.clientWidth || canvas.width) * ratio);
  canvas.height = Math.round((canvas.clientHeight || canvas.height) * ratio);
  reset();

  let last: { x: number; y: number } | undefined;
  let lastChange = 0;
  const at = (e: PointerEvent): { x: number; y: number } => {
    const r = canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) * scale(), y: (e.clientY - r.top) * scale() };
  };
  const segment = (a: { x: number; y: number }, b: { x: number; y: number }): void => {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = LINE_WIDTH * scale();
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  };
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    segment(last, last);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    segment(last, p);
    last = p;
    if (performance.now() - lastChange > THROTTLE_MS) {
      lastChange = performance.now();
      onChange();
    }
  });
  const end = (): void => {
    if (!last) return;
    last = undefined;
    onChange();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  return {
    ink() {
      const { width, height } = canvas;
      const rgba = ctx.getImageData(0, 0, width, height).data;
      const ink = new Float32Array(width * height);
      for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i]! / 255;
      return { ink, width, height };
    },
    clear() {
      reset();
      onChange();
    },
  };
}
