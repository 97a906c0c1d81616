// whileLoop as a higher-order primitive: `while (condFn(carry)) carry = bodyFn(carry)`. Run in
// place, its condition is read each step (and the loop is staged from the step where the
// condition becomes staged); under jit it is a `while`; under grad inside jit a `while` whose
// steps each return a pullback closure, collected for a backward loop. Its trip count is known
// only at run time, so it cannot be unrolled nor batched on a batched condition.
import type { StagingTrace } from "../../../effects/stage.ts";
import { BatchBox } from "../../../effects/batch.ts";
import { Traced, type Value } from "../../../effects/value.ts";
import { TransformError } from "../../errors.ts";
import { flatten, type Flat } from "../../pytree.ts";
import { checkProgram, type AnyProgram, type Gen } from "../../transforms/common.ts";
import type { Block } from "../../staging/ir.ts";
import { jvpDirect } from "../../transforms/forward.ts";
import { dualsAboveStaging, dualsOf, stagedWhole } from "./forward-rule.ts";
import { bindControl, concrete, owner, stagingHere, type ControlPrimitive, type StagedWithPullback } from "./control-primitive.ts";
import { unwind } from "./backward-loop.ts";
import { asTensor, carryKinds, inKind, isNumberLike, varLike } from "../../number-kind.ts";
import { checkSameLeaves, checkScalar, scalarValue, stageProgram, type PullbackMode } from "./staging.ts";

interface WhileParams {
  readonly condFn: AnyProgram;
  readonly bodyFn: AnyProgram;
  /** The carry's structure (its leaves are the operands). */
  readonly structure: Flat;
}

/** Whether a vmap's batch stands behind `v` (at its level or one below). */
const batched = (v: Value): boolean => {
  for (let x = v; x instanceof Traced; x = x.inner) {
    if (x instanceof BatchBox) return true;
    if (!x.hasInner) return false;
  }
  return false;
};

/** The loop run in place, step by step, on the program's handlers. */
function* loop(operands: readonly Value[], p: WhileParams): Gen<unknown> {
  let carry = p.structure.rebuild(operands);
  for (;;) {
    const pred = flatten(yield* p.condFn(carry)).leaves;
    if (pred.length !== 1) throw new TransformError("whileLoop: the condition program must return one scalar value");
    const c = pred[0]!;
    // The condition became staged through a closure (a constant init, a body reading staged
    // values): stage the rest of the loop from the current carry.
    const carryFlat = flatten(carry);
    if (!concrete([c])) {
      const now = stagingHere(owner([c, ...carryFlat.leaves]));
      if (now) return whileP.stage(now, carryFlat.leaves, { ...p, structure: carryFlat });
      if (batched(c))
        throw new TransformError(
          "whileLoop: under vmap the loop condition is batched (each example may need a different number of " +
            "steps), and whileLoop is not batched (unlike JAX's while_loop); use scan with a fixed length and " +
            "where to freeze finished examples, or run the loop per example outside vmap",
        );
      throw new TransformError(
        "whileLoop: the loop condition is staged under another transformation (e.g. grad inside jit) and the " +
          "body reads a differentiated value through a closure, so the number of steps is unknown while " +
          "differentiating; pass that value through the carry (the loop then stays a real loop), use scan with a " +
          "fixed length, or apply jit inside grad",
      );
    }
    if (scalarValue("whileLoop", "condition", c) === 0) return carry;
    const next = yield* p.bodyFn(carry);
    // as when staged: the carry keeps its structure, shapes and dtypes
    checkSameLeaves("whileLoop", "the carry before and after the body", carryFlat.leaves, flatten(next).leaves);
    carry = next;
  }
}

/**
 * The staged `while`: the body staged until the carry slots' kinds are stable, then the
 * condition. With `pullback`, each step also returns its pullback closure, which the loop
 * collects; the loop's own closure (made here) is the backward loop over them.
 */
function stageWhile(trace: StagingTrace, init: readonly Value[], p: WhileParams, pullback: PullbackMode | null): StagedWithPullback {
  let body: Block | undefined;
  let carryLeaves: readonly Value[] = [];
  const tensorCarry = carryKinds(init, (tc) => {
    const vars = init.map((l, i) => varLike(trace, l, !tc[i]));
    const staged = stageProgram(trace, "whileLoop", p.bodyFn, vars, (values) => [p.structure.rebuild(values)], tc, pullback && { wanted: init.map(() => true) });
    body = staged.block;
    carryLeaves = staged.outs;
    checkSameLeaves("whileLoop", "the carry before and after the body", init, carryLeaves);
    return carryLeaves;
  });
  const carryScalar = tensorCarry.map((t) => !t);
  const condVars = init.map((l, i) => varLike(trace, l, carryScalar[i]));
  const cond = stageProgram(trace, "whileLoop", p.condFn, condVars, (values) => [p.structure.rebuild(values)], [], null);
  const [pred] = cond.outs;
  if (cond.outs.length !== 1 || pred === undefined) throw new TransformError("whileLoop: the condition program must return one scalar value");
  checkScalar("whileLoop", "condition", pred);
  const outs = init.map((l, i) => varLike(trace, l, carryScalar[i]));
  const list = pullback ? [trace.newOpaque()] : [];
  const initAtoms = init.map((l, i) => trace.atom(tensorCarry[i] ? asTensor(l) : l));
  trace.push({ kind: "while", init: initAtoms, cond: cond.block, body: body!, outs: [...outs, ...list], ...(pullback ? { collect: true } : {}) });
  const results = { outs: outs.map((v) => trace.value(v)), structure: p.structure };
  if (!pullback) return { ...results, closure: 0, grads: [] };
  // The loop's pullback: the final carry's cotangent in, the wanted initial carry's out.
  const { wanted } = pullback;
  const ctIn = outs.map((v) => trace.newVar(v.shape, v.dtype, v.scalar));
  const backward = trace.block(ctIn, () => {
    const res = unwind(trace, -1, trace.value(list[0]!), ctIn.map((v) => trace.value(v)), carryScalar, carryLeaves.map(isNumberLike), [], [], []);
    return res.filter((_, i) => wanted[i]).map((c, i) => inKind(c, isNumberLike(init.filter((_, k) => wanted[k])[i]!)));
  });
  const closure = trace.newOpaque();
  trace.push({ kind: "lambda", body: backward, out: closure });
  return { ...results, closure: trace.value(closure), grads: wanted };
}

/**
 * jvp above jit: one staged loop over the body's JVP, the carry's tangent carried alongside (the
 * condition reads the primal carry); in any other nesting, the loop run in place.
 */
function* forward(operands: readonly Value[], p: WhileParams): Gen<unknown> {
  const d = dualsAboveStaging(operands);
  if (d) {
    const jvps: WhileParams = {
      condFn: function* (c: [unknown, unknown]) {
        return yield* p.condFn(c[0]);
      },
      bodyFn: function* (c: [unknown, unknown]) {
        return jvpDirect("whileLoop", p.bodyFn, [c[0]], [c[1]]);
      },
      structure: flatten([p.structure.rebuild(d.primals), p.structure.rebuild(d.tangents)]),
    };
    const r = stagedWhole(() => stageWhile(d.staging, [...d.primals, ...d.tangents], jvps, null));
    if (r) {
      const [carry, carryT] = jvps.structure.rebuild(r.outs) as [unknown, unknown];
      const c = flatten(carry);
      return c.rebuild(dualsOf(d.fwd, c.leaves, flatten(carryT).leaves));
    }
  }
  return yield* loop(operands, p);
}

const whileP: ControlPrimitive<WhileParams> = {
  name: "whileLoop",
  decided: (operands) => concrete(operands),
  impl: loop,
  stage: (trace, operands, p) => p.structure.rebuild(stageWhile(trace, operands, p, null).outs),
  vjp: (trace, primals, p, wanted) => stageWhile(trace, primals, p, { wanted }),
  jvp: forward,
  // The trip count is known only when the condition is: the loop runs in place, and says so
  // if the condition is batched.
  batch: loop,
};

/** `while (condFn(carry)) carry = bodyFn(carry)`; returns the final carry. */
export function* whileLoop<C>(condFn: (carry: C) => Gen<Value>, bodyFn: (carry: C) => Gen<C>, init: C): Gen<C> {
  checkProgram("whileLoop (cond)", condFn);
  checkProgram("whileLoop (body)", bodyFn);
  const structure = flatten(init);
  return (yield* bindControl(whileP, structure.leaves, { condFn: condFn as AnyProgram, bodyFn: bodyFn as AnyProgram, structure })) as C;
}
