// Batched matrix product of operands of rank >= 2 (batch dims broadcast). The 1-d cases of
// the public `matmul` reshape around this primitive.
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { matmulKernel } from "../kernels/matmul.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { add } from "./binary.ts";
import { sumTo } from "./reduce.ts";
import { transpose } from "./shape.ts";

/** Swaps the last two axes. */
export const mT = (x: Value): Value => {
  const r = shapeOf(x).length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(x, perm);
};

export const matmulP = definePrimitive({
  name: "matmul",
  impl: (args) => matmulKernel(args[0] as Tensor, args[1] as Tensor),
  jvp: ([a, b], [ta, tb]) => {
    const left = ta === null ? null : matmul2(ta!, b!);
    const right = tb === null ? null : matmul2(a!, tb!);
    return left === null ? right : right === null ? left : add(left, right);
  },
  vjp: (ct, [a, b], _out, _params, wanted) => [
    wanted[0] ? sumTo(matmul2(ct, mT(b!)), shapeOf(a!)) : null,
    wanted[1] ? sumTo(matmul2(mT(a!), ct), shapeOf(b!)) : null,
  ],
});

export const matmul2 = (a: Value, b: Value): Value => bind(matmulP, [a, b], undefined);
