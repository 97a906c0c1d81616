// The backward loop of a loop staged under grad inside jit (scan, whileLoop). Each forward step
// returned its carry and a pullback closure capturing the step's values (staged-reverse.ts);
// the forward loop collected the closures in a list. The loop's own pullback applies them,
// last step first, carrying the carry's cotangent: "reverse mode stores the carries", with the
// stores being closures. A whileLoop's trip count is known only at run time, so its backward
// loop runs over however many closures the forward loop made.
import type { StagingTrace } from "../../../effects/stage.ts";
import { dtypeOf, shapeOf, type Value } from "../../../effects/value.ts";
import type { Atom, Var } from "../../staging/ir.ts";
import { inKind, varLike } from "../../number-kind.ts";

/**
 * Applies the closures in `list` from the last to the first, carrying the carry's cotangent
 * (`ctCarry`, kinds `carryScalar`; a closure takes it in the kinds of the body's results,
 * `outScalar`); `ctYs` are the stacked cotangents of the per-step outputs (kinds `yScalar`),
 * `xRows` the rows whose cotangents each closure gives after the carry's. `length` −1: as many
 * steps as closures. Returns the initial carry's cotangent and the stacked rows' cotangents.
 */
export function unwind(
  top: StagingTrace,
  length: number,
  list: Value,
  ctCarry: readonly Value[],
  carryScalar: readonly boolean[],
  outScalar: readonly boolean[],
  ctYs: readonly Value[],
  yScalar: readonly boolean[],
  xRows: readonly Value[],
): Value[] {
  const cVars = ctCarry.map((c, i) => varLike(top, c, carryScalar[i]!));
  const yVars = ctYs.map((y) => top.newVar(shapeOf(y).slice(1), dtypeOf(y), false));
  const fVar = top.newOpaque();
  const body = top.block([...cVars, ...yVars, fVar], () => {
    const args = [...cVars.map((v, i) => inKind(top.value(v), outScalar[i]!)), ...yVars.map((v, i) => inKind(top.value(v), yScalar[i]!))];
    const outs = [...cVars.map((v) => top.newVar(v.shape, v.dtype, v.scalar)), ...xRows.map((x) => varLike(top, x, false))];
    top.push({ kind: "apply", fn: top.atom(top.value(fVar)), args: args.map((a) => top.atom(a)), outs });
    return outs.map((v) => top.value(v));
  });
  const outs: Var[] = [
    ...cVars.map((v) => top.newVar(v.shape, v.dtype, v.scalar)),
    ...xRows.map((x) => top.newVar([length, ...shapeOf(x)], dtypeOf(x), false)),
  ];
  const init: Atom[] = ctCarry.map((c, i) => top.atom(inKind(c, carryScalar[i]!)));
  top.push({ kind: "scan", length, reverse: true, init, xs: [...ctYs.map((y) => top.atom(y)), top.atom(list)], body, outs });
  return outs.map((v) => top.value(v));
}
