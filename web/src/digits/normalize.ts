// Images as the network takes them: [n, 1, 28, 28] float32, (grey − mean) / std with MNIST's
// usual mean and standard deviation (as examples/lib/mnist.ts normalizes them in Node).
import { tensor, type Tensor } from "yieldiff";
import { PIXELS } from "./format.ts";

export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** The network's input for `n` images of grey levels in [0, 1]. */
export function toInput(pixels: Float32Array, n = pixels.length / PIXELS): Tensor {
  const x = new Float32Array(n * PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = (pixels[i]! - MNIST_MEAN) / MNIST_STD;
  return tensor(x, { shape: [n, 1, 28, 28] });
}
