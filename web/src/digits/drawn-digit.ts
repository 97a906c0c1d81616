// A digit drawn on the page, made to look like an MNIST digit before the network sees it: as
// MNIST's digits were made, the ink's bounding box is scaled to fit 20×20 pixels (keeping its
// aspect ratio, averaging the area each pixel covers) and placed in a 28×28 field with its centre
// of mass at the centre. A drawing with too little ink is no digit: null.

/** Ink below this (of 1) is background when the bounding box is found. */
const INK = 0.1;
/** A drawing needs at least this much ink, in units of whole canvas pixels, to be read. */
const MIN_INK_FRACTION = 0.002;
export const BOX = 20;
export const FIELD = 28;

/** Area-averaging resample of a line of `n` values (stride apart, from `at`) to `m` values. */
function resampleLine(src: Float32Array, at: number, stride: number, n: number, m: number, out: Float32Array, outAt: number, outStride: number): void {
  const scale = n / m; // source pixels per output pixel
  for (let j = 0; j < m; j++) {
    const lo = j * scale, hi = lo + scale;
    let sum = 0;
    for (let i = Math.floor(lo); i < Math.ceil(hi) && i < n; i++) sum += src[at + i * stride]! * (Math.min(hi, i + 1) - Math.max(lo, i));
    out[outAt + j * outStride] = sum / scale;
  }
}

/** Resamples a w×h image (row by row) to tw×th by area averaging. */
export function resample(src: Float32Array, w: number, h: number, tw: number, th: number): Float32Array {
  const rows = new Float32Array(tw * h);
  for (let y = 0; y < h; y++) resampleLine(src, y * w, 1, w, tw, rows, y * tw, 1);
  const out = new Float32Array(tw * th);
  for (let x = 0; x < tw; x++) resampleLine(rows, x, tw, h, th, out, x, tw);
  return out;
}

/**
 * The 28×28 MNIST-like image (grey levels in [0, 1]) of a w×h drawing whose ink is `ink`
 * (values in [0, 1], row by row), or null if there is too little ink to be a digit.
 */
export function toMnistImage(ink: Float32Array, w: number, h: number): Float32Array | null {
  let x0 = w, y0 = h, x1 = -1, y1 = -1, total = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = ink[y * w + x]!;
      total += v;
      if (v > INK) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  if (x1 < 0 || total < MIN_INK_FRACTION * w * h) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const crop = new Float32Array(bw * bh);
  for (let y = 0; y < bh; y++) crop.set(ink.subarray((y0 + y) * w + x0, (y0 + y) * w + x0 + bw), y * bw);
  const s = BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * s)), th = Math.max(1, Math.round(bh * s));
  const small = resample(crop, bw, bh, tw, th);
  // Centre of mass of the scaled digit, moved to the centre of the field.
  let mass = 0, cx = 0, cy = 0;
  for (let y = 0; y < th; y++)
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x]!;
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  const dx = Math.round(FIELD / 2 - cx / mass), dy = Math.round(FIELD / 2 - cy / mass);
  const out = new Float32Array(FIELD * FIELD);
  for (let y = 0; y < th; y++)
    for (let x = 0; x < tw; x++) {
      const fx = x + dx, fy = y + dy;
      if (fx >= 0 && fx < FIELD && fy >= 0 && fy < FIELD) out[fy * FIELD + fx] = Math.min(1, small[y * tw + x]!);
    }
  return out;
}
