// scan and whileLoop under grad inside jit, as real loops. Each step computes its carry (and
// y) and a pullback closure capturing the step's values (see staged-reverse.ts); the loop
// collects the closures in a list, and its own pullback is a reverse loop that applies them,
// last step first, carrying the carry's cotangent: "reverse mode stores the carries", with the
// stores being closures. A whileLoop's trip count is known only at run time, so its backward
// loop runs over however many closures the forward loop made.
import type { StagingTrace } from "../../effects/stage.ts";
import { dtypeOf, isNumberLike, shapeOf, type Value } from "../../effects/value.ts";
import { TransformError } from "../errors.ts";
import * as S from "../primitives/shape.ts";
import { flatten, type Flat } from "../pytree.ts";
import type { AnyProgram } from "../transforms/common.ts";
import { asTensor, carryKinds, checkSameLeaves, run, stackedShape } from "./control.ts";
import type { Atom, Block, Var } from "./ir.ts";
import { stageWithPullback, type WithPullback } from "./staged-reverse.ts";

/** A staged value in a slot's kind: a JS number where `scalar`, else a tensor. */
const inKind = (v: Value, scalar: boolean): Value => (scalar ? (isNumberLike(v) ? v : S.toNumber(v)) : asTensor(v));

/**
 * The backward loop: applies the closures in `list` from the last to the first, carrying the
 * carry's cotangent (`ctCarry`, kinds `carryScalar`; a closure takes it in the kinds of the
 * body's results, `outScalar`); `ctYs` are the stacked cotangents of the per-step outputs
 * (kinds `yScalar`), `xRows` the rows whose cotangents each closure gives after the carry's.
 * Returns the initial carry's cotangent and the stacked rows' cotangents.
 */
function unwind(
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
  const cVars = ctCarry.map((c, i) => top.newVar(shapeOf(c), dtypeOf(c), carryScalar[i]!));
  const yVars = ctYs.map((y) => top.newVar(shapeOf(y).slice(1), dtypeOf(y), false));
  const fVar = top.newOpaque();
  const body = top.block([...cVars, ...yVars, fVar], () => {
    const args = [...cVars.map((v, i) => inKind(top.value(v), outScalar[i]!)), ...yVars.map((v, i) => inKind(top.value(v), yScalar[i]!))];
    const outs = [...cVars.map((v) => top.newVar(v.shape, v.dtype, v.scalar)), ...xRows.map((x) => top.newVar(shapeOf(x), dtypeOf(x), false))];
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

/** scan(fn, init, xs) under grad inside jit: a staged loop, its closures, its backward loop. */
export function scanWithPullbacks(
  top: StagingTrace,
  fn: AnyProgram,
  initFlat: Flat,
  xsFlat: Flat,
  primals: readonly Value[],
  wanted: readonly boolean[],
  length: number,
): WithPullback & { ys: Flat } {
  const nC = initFlat.leaves.length;
  const init = primals.slice(0, nC);
  const xs = primals.slice(nC);
  // Every carry slot is differentiated inside the body (a wanted x can flow into any of them).
  const varying = [...init.map(() => true), ...wanted.slice(nC)];
  let block: Block | undefined;
  let ys: Flat | undefined;
  let yLeaves: Value[] = [];
  let carryLeaves: Value[] = [];
  const tensorCarry = carryKinds(init, (tc) => {
    const carryVars = init.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), !tc[i]));
    const xVars = xs.map((x) => top.newVar(shapeOf(x).slice(1), dtypeOf(x), false));
    let carry: Value[] = [];
    block = top.block([...carryVars, ...xVars], () => {
      const c = initFlat.rebuild(carryVars.map((v) => top.value(v)));
      const x = xsFlat.rebuild(xVars.map((v) => top.value(v)));
      const r = stageWithPullback(top, "scan", fn, [c, x], varying, (out) => {
        if (!Array.isArray(out) || out.length !== 2) throw new TransformError("scan: the body must return [carry, y]");
        ys = flatten(out[1]);
      });
      carry = r.outs.slice(0, nC);
      carryLeaves = carry;
      yLeaves = r.outs.slice(nC);
      checkSameLeaves("scan", "the carry before and after the body", init, carry);
      return [...carry.map((l, i) => (tc[i] ? asTensor(l) : l)), ...yLeaves, r.closure];
    });
    return carry;
  });
  const carryScalar = tensorCarry.map((t) => !t);
  const carryOut = init.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), carryScalar[i]!));
  const ysOut = yLeaves.map((y) => top.newVar(stackedShape(length, y), dtypeOf(y), false));
  const list = top.newOpaque();
  const initAtoms = init.map((l, i) => top.atom(tensorCarry[i] ? asTensor(l) : l));
  top.push({ kind: "scan", length, init: initAtoms, xs: xs.map((x) => top.atom(x)), body: block!, outs: [...carryOut, ...ysOut, list] });
  // The loop's pullback: cotangents of the final carry and of the stacked ys in, of the wanted
  // initial carry and xs out.
  const xRows = xs.filter((_, k) => wanted[nC + k]).map((x) => top.value(top.newVar(shapeOf(x).slice(1), dtypeOf(x), false)));
  const ctIn = [...carryOut.map((v) => top.newVar(v.shape, v.dtype, v.scalar)), ...ysOut.map((v) => top.newVar(v.shape, v.dtype, false))];
  const pullback = top.block(ctIn, () => {
    const ct = ctIn.map((v) => top.value(v));
    const res = unwind(top, length, top.value(list), ct.slice(0, nC), carryScalar, carryLeaves.map(isNumberLike), ct.slice(nC), yLeaves.map(isNumberLike), xRows);
    const ctInit = res.slice(0, nC).filter((_, i) => wanted[i]);
    return [...ctInit.map((c, i) => inKind(c, isNumberLike(init.filter((_, k) => wanted[k])[i]!))), ...res.slice(nC)];
  });
  const closure = top.newOpaque();
  top.push({ kind: "lambda", body: pullback, out: closure });
  return {
    outs: [...carryOut, ...ysOut].map((v) => top.value(v)),
    closure: top.value(closure),
    grads: wanted,
    ys: ys!,
  };
}

/** whileLoop(condFn, bodyFn, init) under grad inside jit: the loop collects a closure per step. */
export function whileWithPullbacks(top: StagingTrace, condFn: AnyProgram, bodyFn: AnyProgram, initFlat: Flat, primals: readonly Value[], wanted: readonly boolean[]): WithPullback {
  const init = [...primals];
  let body: Block | undefined;
  let carryLeaves: Value[] = [];
  const tensorCarry = carryKinds(init, (tc) => {
    const vars = init.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), !tc[i]));
    let carry: Value[] = [];
    body = top.block(vars, () => {
      const c = initFlat.rebuild(vars.map((v) => top.value(v)));
      const r = stageWithPullback(top, "whileLoop", bodyFn, [c], init.map(() => true));
      carry = r.outs;
      carryLeaves = carry;
      checkSameLeaves("whileLoop", "the carry before and after the body", init, carry);
      return [...carry.map((l, i) => (tc[i] ? asTensor(l) : l)), r.closure];
    });
    return carry;
  });
  const carryScalar = tensorCarry.map((t) => !t);
  const condVars = init.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), carryScalar[i]!));
  let p: Value | undefined;
  const cond = top.block(condVars, () => {
    const out = flatten(run("whileLoop", condFn, [initFlat.rebuild(condVars.map((v) => top.value(v)))])).leaves;
    if (out.length !== 1) throw new TransformError("whileLoop: the condition program must return one scalar value");
    p = out[0]!;
    return out;
  });
  if (shapeOf(p!).reduce((a, b) => a * b, 1) !== 1) throw new TransformError("whileLoop: the condition must be a scalar");
  const carryOut = init.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), carryScalar[i]!));
  const list = top.newOpaque();
  const initAtoms = init.map((l, i) => top.atom(tensorCarry[i] ? asTensor(l) : l));
  top.push({ kind: "while", init: initAtoms, cond, body: body!, outs: [...carryOut, list], collect: true });
  const ctIn = carryOut.map((v) => top.newVar(v.shape, v.dtype, v.scalar));
  const pullback = top.block(ctIn, () => {
    const res = unwind(top, -1, top.value(list), ctIn.map((v) => top.value(v)), carryScalar, carryLeaves.map(isNumberLike), [], [], []);
    return res.filter((_, i) => wanted[i]).map((c, i) => inKind(c, isNumberLike(init.filter((_, k) => wanted[k])[i]!)));
  });
  const closure = top.newOpaque();
  top.push({ kind: "lambda", body: pullback, out: closure });
  return { outs: carryOut.map((v) => top.value(v)), closure: top.value(closure), grads: wanted };
}
