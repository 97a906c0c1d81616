// Zero cotangents that staging put into the generated code as constants (an argument no
// branch or call differentiated). An accumulator skips them at run time: a tree's leaves then
// add nothing for the weights only internal nodes use.
import type { Value } from "../../effects/value.ts";
import { Tensor } from "../tensor/tensor.ts";

const zeros = new WeakSet<Tensor>();

/** Remembers `v` if it is a concrete all-zero tensor; returns it. */
export const noteZero = (v: Value): Value => {
  // (a GPU tensor's elements are not readable here: it is never a known zero)
  if (v instanceof Tensor && v.backend === "cpu" && v.buf.every((x) => x === 0)) zeros.add(v);
  return v;
};

export const isKnownZero = (v: Value): boolean => v === 0 || (v instanceof Tensor && zeros.has(v));
