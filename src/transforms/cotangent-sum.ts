// How reverse mode sums the cotangents of a value read more than once (effects/reverse.ts takes
// this as a parameter: the handler knows no primitive and no kernel).
import type { CotangentSum } from "../../effects/reverse.ts";
import type { Value } from "../../effects/value.ts";
import { add } from "../primitives/binary.ts";
import { addInto } from "../kernels/vector.ts";
import { Tensor } from "../tensor/tensor.ts";

export const cotangentSum: CotangentSum = {
  // With the add primitive, so that the handlers below differentiate the sum.
  add,
  fresh: (sum: Value, a: Value, b: Value): boolean => sum instanceof Tensor && sum !== a && sum !== b,
  addInPlace(acc: Value, ct: Value): boolean {
    if (!(acc instanceof Tensor) || !(ct instanceof Tensor)) return false;
    if (acc.backend !== "cpu" || ct.backend !== "cpu") return false; // a GPU tensor sums with the add primitive, on its device
    if (acc.dtype !== ct.dtype || acc.size !== ct.size || acc.shape.length !== ct.shape.length) return false;
    for (let i = 0; i < acc.shape.length; i++) if (acc.shape[i] !== ct.shape[i]) return false;
    addInto(acc.buf, ct.buf);
    return true;
  },
};
