// Cumulative sums and products along one axis, and the product reduction. A tensor is seen as
// [outer, n, inner] around the axis: each of the outer·inner lines along the axis is folded in
// order (or in reverse), with the running value kept in a double and rounded once per output.
import { reducedShape, sizeOf } from "../tensor/shape.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";

/** [outer, n, inner]: the sizes before, along and after `axis`. */
export const aroundAxis = (shape: readonly number[], axis: number): [number, number, number] => [
  sizeOf(shape.slice(0, axis)),
  shape[axis]!,
  sizeOf(shape.slice(axis + 1)),
];

/** The running sum (or product) along `axis`, from the start, or from the end when `reverse`. */
export function cumulativeKernel(x: Tensor, axis: number, op: "sum" | "prod", reverse: boolean): Tensor {
  const [outer, n, inner] = aroundAxis(x.shape, axis);
  const X = x.buf;
  const out = allocate(x.dtype, x.size);
  const prod = op === "prod";
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let acc = prod ? 1 : 0;
      for (let r = 0; r < n; r++) {
        const i = base + (reverse ? n - 1 - r : r) * inner;
        acc = prod ? acc * X[i]! : acc + X[i]!;
        out[i] = acc;
      }
    }
  return new Tensor(out, x.shape);
}

/** The product over `axes` (sorted, distinct); the product of no elements is 1. */
export function prodKernel(x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const shape = x.shape;
  const outShape = reducedShape(shape, axes, keepdims);
  const acc = new Float64Array(sizeOf(outShape)).fill(1);
  // output stride of each input axis: 0 on reduced axes
  const ostr = new Array<number>(shape.length).fill(0);
  for (let a = shape.length - 1, s = 1; a >= 0; a--)
    if (!axes.includes(a)) {
      ostr[a] = s;
      s *= shape[a]!;
    }
  const idx = new Int32Array(shape.length);
  const X = x.buf;
  let o = 0;
  for (let i = 0; i < X.length; i++) {
    acc[o]! *= X[i]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      o += ostr[d]!;
      if (++idx[d]! < shape[d]!) break;
      o -= ostr[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return new Tensor(x.dtype === "float64" ? acc : Float32Array.from(acc), outShape);
}
