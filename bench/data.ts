// The shared benchmark data of ../shared/bench-data, read as float32 arrays.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { tensor, type Tensor } from "../src/index.ts";

// Relative to the project root (npm runs scripts there): ../shared/bench-data.
const DIR = new URL("../shared/bench-data/", pathToFileURL(`${process.cwd()}/`));

export interface MlpData {
  x: Tensor;
  onehot: Tensor;
  params: { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
  direction: { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
  hvpReference: { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
  gradReference: { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };
  lossReference: number;
}

/** mlp.bin + mlp.json: x, one-hot labels, W1, b1, W2, b2, v (4), H·v (4), gradient (4). */
export function loadMlp(dir: URL = DIR): MlpData {
  const meta = JSON.parse(readFileSync(new URL("mlp.json", dir), "utf8")) as {
    shapes: Record<string, number[]>;
    order: string[];
    loss: number;
  };
  const bytes = readFileSync(new URL("mlp.bin", dir));
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const shapeOf = (name: string): number[] => meta.shapes[name] ?? meta.shapes[name.replace(/^(v|hv|g)/, "")]!;
  const arrays: Record<string, Tensor> = {};
  let offset = 0;
  for (const name of meta.order) {
    const shape = shapeOf(name);
    const n = shape.reduce((a, b) => a * b, 1);
    arrays[name] = tensor(floats.slice(offset, offset + n), { shape, dtype: "float32" });
    offset += n;
  }
  if (offset !== floats.length) throw new Error(`mlp.bin holds ${floats.length} floats, mlp.json lists ${offset}`);
  const group = (prefix: string) => ({
    W1: arrays[`${prefix}W1`]!,
    b1: arrays[`${prefix}b1`]!,
    W2: arrays[`${prefix}W2`]!,
    b2: arrays[`${prefix}b2`]!,
  });
  return {
    x: arrays.x!,
    onehot: arrays.yoh!,
    params: group(""),
    direction: group("v"),
    hvpReference: group("hv"),
    gradReference: group("g"),
    lossReference: meta.loss,
  };
}
