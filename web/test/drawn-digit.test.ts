// A drawing made MNIST-like: bounding box to 20×20, centre of mass at the centre of 28×28; too
// little ink is no digit.
import { describe, expect, it } from "vitest";
import { FIELD, resample, toMnistImage } from "../src/digits/drawn-digit.ts";

const W = 280, H = 280;
const canvas = (paint: (x: number, y: number) => number): Float32Array => {
  const ink = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) ink[y * W + x] = paint(x, y);
  return ink;
};
const box = (img: Float32Array): { x0: number; x1: number; y0: number; y1: number } => {
  let x0 = FIELD, x1 = -1, y0 = FIELD, y1 = -1;
  for (let y = 0; y < FIELD; y++)
    for (let x = 0; x < FIELD; x++)
      if (img[y * FIELD + x]! > 0.05) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  return { x0, x1, y0, y1 };
};

describe("toMnistImage", () => {
  it("a blank canvas, or a speck, is no digit", () => {
    expect(toMnistImage(new Float32Array(W * H), W, H)).toBeNull();
    expect(toMnistImage(canvas((x, y) => (Math.hypot(x - 40, y - 200) < 3 ? 1 : 0)), W, H)).toBeNull();
  });

  it("a bar drawn anywhere becomes 20 pixels tall, centred, in [0, 1]", () => {
    // A vertical bar 16 wide and 200 tall near the left edge of the canvas.
    const img = toMnistImage(canvas((x, y) => (x >= 20 && x < 36 && y >= 60 && y < 260 ? 1 : 0)), W, H)!;
    expect(img).toHaveLength(FIELD * FIELD);
    const { x0, x1, y0, y1 } = box(img);
    expect(y1 - y0 + 1).toBe(20);
    expect(y0).toBe(4);
    expect(Math.abs((x0 + x1 + 1) / 2 - FIELD / 2)).toBeLessThanOrEqual(1);
    expect(Math.max(...img)).toBeLessThanOrEqual(1);
    expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
  });

  it("a ring's centre of mass lands at the centre of the field", () => {
    const img = toMnistImage(canvas((x, y) => (Math.abs(Math.hypot((x - 200) / 0.7, y - 90) - 60) < 9 ? 1 : 0)), W, H)!;
    let m = 0, cx = 0, cy = 0;
    for (let y = 0; y < FIELD; y++)
      for (let x = 0; x < FIELD; x++) {
        const v = img[y * FIELD + x]!;
        m += v;
        cx += v * (x + 0.5);
        cy += v * (y + 0.5);
      }
    expect(Math.abs(cx / m - 14)).toBeLessThan(1);
    expect(Math.abs(cy / m - 14)).toBeLessThan(1);
  });
});

describe("resample", () => {
  it("averages areas: the mean is kept, a constant stays constant", () => {
    const src = Float32Array.from({ length: 7 * 5 }, (_, i) => (i * 37) % 11 / 10);
    const out = resample(src, 7, 5, 3, 2);
    const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(src), 5);
    expect(Array.from(resample(new Float32Array(35).fill(0.25), 7, 5, 4, 3))).toEqual(new Array(12).fill(0.25));
  });
});
