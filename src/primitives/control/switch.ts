// switchCase and cond: one higher-order primitive, a multi-way branch over the same operands.
// cond(pred, thenFn, elseFn, ...operands) is the branch with two programs [elseFn, thenFn],
// its index the predicate's truth (nonzero: then).
import { StagingTrace } from "../../../effects/stage.ts";
import { dynamicTrace } from "../../../effects/trace.ts";
import { BatchBox, BatchTrace } from "../../../effects/batch.ts";
import { Traced, type Value } from "../../../effects/value.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { TransformError, ValueError } from "../../errors.ts";
import * as lax from "../../lax.ts";
import { flatten, type Flat } from "../../pytree.ts";
import { checkProgram, type AnyProgram, type Gen } from "../../transforms/common.ts";
import { jvpDirect } from "../../transforms/forward.ts";
import { vmapDirect } from "../../transforms/vmap.ts";
import { dualsAboveStaging, dualsOf, stagedWhole } from "./forward-rule.ts";
import { bindControl, concrete, owner, type ControlPrimitive, type Runs, type StagedWithPullback } from "./control-primitive.ts";
import { alias, inRecursiveBody, origin, sinks } from "./recursion-state.ts";
import { isNumberLike, sharedKinds, varLike } from "../../number-kind.ts";
import { checkSameLeaves, checkScalar, scalarValue, stageProgram, type PullbackMode, type StagedProgram } from "./staging.ts";

interface BranchParams {
  readonly name: "cond" | "switchCase";
  /** The branch programs (cond's are [elseFn, thenFn]). */
  readonly branches: readonly AnyProgram[];
  /** cond: the index is a predicate, nonzero picks branch 1; switchCase: an integer, clamped. */
  readonly truthy: boolean;
  /** The operands' structure; their leaves follow the index among the primitive's operands. */
  readonly structure: Flat;
}

const what = (p: BranchParams): string => (p.truthy ? "condition" : "index");

/** The branch a concrete index picks (switchCase: an integer, clamped to the branches). */
const chosen = (p: BranchParams, index: Value): number => {
  const x = scalarValue(p.name, what(p), index);
  if (p.truthy) return x !== 0 ? 1 : 0;
  if (!Number.isInteger(x))
    throw new ValueError(`switchCase: the index must be an integer (it picks one of ${p.branches.length} branches), got ${x}; round it first (round, floor)`);
  return Math.min(Math.max(x, 0), p.branches.length - 1);
};

const argsOf = (p: BranchParams, operands: readonly Value[]): unknown[] => p.structure.rebuild(operands.slice(1)) as unknown[];

/**
 * Every branch staged as a block over the operands (with `pullback`, each also returning its
 * pullback closure), then one equation: a `cond` for two branches on a predicate, else a `switch`.
 */
function stageBranches(trace: StagingTrace, operands: readonly Value[], p: BranchParams, pullback: PullbackMode | null): StagedWithPullback {
  const [index, ...leaves] = operands as [Value, ...Value[]];
  checkScalar(p.name, what(p), index);
  const stageOne = (fn: AnyProgram, tensorOut: readonly boolean[]): StagedProgram =>
    stageProgram(trace, p.name, fn, leaves.map((l) => varLike(trace, l)), (values) => {
      // (a recursive function's unchanged arguments are told through the branch inputs)
      values.forEach((v, k) => alias(trace, v, leaves[k]!));
      return p.structure.rebuild(values) as unknown[];
    }, tensorOut, pullback);
  // (cond stages its then-branch first, as it reads)
  const order = p.truthy ? [1, 0] : p.branches.map((_, k) => k);
  let staged: StagedProgram[] = [];
  for (const k of order) staged[k] = stageOne(p.branches[k]!, []);
  const first = staged[p.truthy ? 1 : 0]!;
  staged.forEach((s, k) => {
    if (s !== first) checkSameLeaves(p.name, p.truthy ? "the two branches' results" : `the results of branches 0 and ${k}`, first.outs, s.outs);
  });
  // A number in one branch and a 0-d tensor in another: every branch gives a 0-d tensor.
  const scalar = sharedKinds(staged.map((s) => s.outs));
  const tensorOut = scalar.map((s) => !s);
  const restaged: StagedProgram[] = [];
  for (const k of order) {
    const s = staged[k]!;
    restaged[k] = s.outs.some((l, i) => !scalar[i] && isNumberLike(l)) ? stageOne(p.branches[k]!, tensorOut) : s;
  }
  staged = restaged;
  const outs = first.outs.map((l, i) => varLike(trace, l, scalar[i]));
  const closure = pullback ? [trace.newOpaque()] : [];
  const ops = leaves.map((l) => trace.atom(l));
  const results = [...outs, ...closure];
  trace.push(
    p.truthy
      ? { kind: "cond", pred: trace.atom(index), operands: ops, then: staged[1]!.block, else: staged[0]!.block, outs: results }
      : { kind: "switch", index: trace.atom(index), operands: ops, branches: staged.map((s) => s.block), outs: results },
  );
  const sinkOf = pullback?.sinks ?? [];
  return {
    outs: outs.map((v) => trace.value(v)),
    closure: closure.length > 0 ? trace.value(closure[0]!) : 0,
    grads: [false, ...(pullback?.wanted ?? []).map((w, i) => w && !sinkOf[i])],
    structure: flatten(first.result),
  };
}

/** The numbers behind a batched index where they are known (eager vmap), else null (staged). */
const batchValues = (v: Value): number | Tensor | null => {
  let x: Value = v;
  while (x instanceof Traced) {
    if (x instanceof BatchBox) x = x.value;
    else if (x.hasInner) x = x.inner;
    else return null;
  }
  return x;
};

/** Every index of a batch is an integer, where the batch is known: the error an example alone gives. */
const checkIndices = (p: BranchParams, index: Value): void => {
  const x = batchValues(index);
  const bad = x === null ? undefined : typeof x === "number" ? (Number.isInteger(x) ? undefined : x) : x.buf.find((k) => !Number.isInteger(k));
  if (bad !== undefined)
    throw new ValueError(`switchCase: the index must be an integer (it picks one of ${p.branches.length} branches), got ${bad}; round it first (round, floor)`);
};

/** Every branch run, then the result of the one the index picks, by `where` (vmap, jvp above jit). */
function* selectAll(operands: readonly Value[], p: BranchParams): Gen<unknown> {
  const d = dynamicTrace();
  if (d instanceof StagingTrace && inRecursiveBody(d))
    throw new TransformError(
      `${p.name}: inside a fixpoint body under grad inside jit, a branch reads a differentiated value through a ` +
        `closure; pass it to ${p.name} as an operand (${p.name}(${p.truthy ? "pred, thenFn, elseFn" : "index, branches"}, ...operands))`,
    );
  const args = argsOf(p, operands);
  const results: Flat[] = [];
  for (const fn of p.branches) results.push(flatten(yield* fn(...args)));
  const first = results[p.truthy ? 1 : 0]!;
  results.forEach((r, k) => {
    if (r !== first) checkSameLeaves(p.name, p.truthy ? "the two branches' results" : `the results of branches 0 and ${k}`, first.leaves, r.leaves);
  });
  const index = operands[0]!;
  if (!p.truthy) checkIndices(p, index);
  if (p.truthy) return first.rebuild(first.leaves.map((x, i) => lax.where(index, x, results[0]!.leaves[i]!)));
  // Branch k where k is the least with index ≤ k, the last if none: the index clamped.
  let picked = results[results.length - 1]!.leaves;
  for (let k = results.length - 2; k >= 0; k--) {
    const here = lax.lessEqual(index, k);
    picked = picked.map((x, i) => lax.where(here, results[k]!.leaves[i]!, x));
  }
  return first.rebuild(picked);
}

/**
 * jvp above jit: one branch staged, each branch replaced by its JVP (operands and their tangents
 * in, results and theirs out); in any other nesting, every branch and a select.
 */
function* forward(operands: readonly Value[], p: BranchParams): Gen<unknown> {
  const d = dualsAboveStaging(operands);
  if (d) {
    const [index, ...leaves] = d.primals as [Value, ...Value[]];
    const tangents = d.tangents.slice(1);
    const jvps: BranchParams = {
      ...p,
      branches: p.branches.map((fn) =>
        function* (primals: unknown[], tangents: unknown[]) {
          return jvpDirect(p.name, fn, primals, tangents);
        },
      ),
      structure: flatten([p.structure.rebuild(leaves), p.structure.rebuild(tangents)]),
    };
    const r = stagedWhole(() => stageBranches(d.staging, [index, ...leaves, ...tangents], jvps, null));
    if (r) {
      const [out, t] = r.structure.rebuild(r.outs) as [unknown, unknown];
      const outFlat = flatten(out);
      return outFlat.rebuild(dualsOf(d.fwd, outFlat.leaves, flatten(t).leaves));
    }
  }
  return yield* selectAll(operands, p);
}

/**
 * vmap: a batched index — every branch and a select; a shared index inside jit — one branch
 * staged over the batched operands, each branch vmapped (JAX's cond batching rule).
 */
function* batched(operands: readonly Value[], p: BranchParams): Gen<unknown> {
  const trace = owner(operands);
  const staging = dynamicTrace();
  if (trace instanceof BatchTrace && staging instanceof StagingTrace && !trace.owns(operands[0]!)) {
    const values = operands.map((o) => (trace.owns(o) ? o.value : o));
    if (values.every((v) => !(v instanceof Traced) || v.trace === staging)) {
      const leaves = values.slice(1);
      const axes = operands.slice(1).map((o) => (trace.owns(o) ? 0 : null));
      const perBatch: BranchParams = {
        ...p,
        branches: p.branches.map((fn) =>
          function* (...batch: Value[]) {
            return vmapDirect(function* (...example: Value[]) {
              return yield* fn(...(p.structure.rebuild(example) as unknown[]));
            }, batch, axes);
          },
        ),
        structure: flatten(leaves),
      };
      const r = stagedWhole(() => stageBranches(staging, [values[0]!, ...leaves], perBatch, null));
      if (r) {
        const out = flatten(r.structure.rebuild(r.outs));
        return out.rebuild(out.leaves.map((v) => new BatchBox(trace, v)));
      }
    }
  }
  return yield* selectAll(operands, p);
}

const branchP: ControlPrimitive<BranchParams> = {
  name: "switch",
  decided: (operands) => concrete([operands[0]!]),
  impl: (operands, p) => p.branches[chosen(p, operands[0]!)]!(...argsOf(p, operands)),
  stage: (trace, operands, p) => {
    const r = stageBranches(trace, operands, p, null);
    return r.structure.rebuild(r.outs);
  },
  vjp: (trace, primals, p, wanted) => {
    // An operand that is a recursive function's unchanged argument: its cotangent goes into that
    // argument's accumulator from inside the branch, instead of out of the closure.
    const leafWanted = wanted.slice(1);
    const sinkOf = primals.slice(1).map((l, i) => (leafWanted[i] ? (sinks(trace).get(origin(trace, l)) ?? null) : null));
    return stageBranches(trace, primals, p, { wanted: leafWanted, sinks: sinkOf });
  },
  jvp: forward,
  batch: batched,
};

const applyBranch = (p: BranchParams, index: Value): Runs<unknown> => {
  lax.checkOperand(p.name, index, what(p));
  return bindControl(branchP, [index, ...p.structure.leaves], p);
};

/**
 * `branches[index](...operands)`: runs the branch program the index picks, the index clamped to
 * `[0, branches.length - 1]` (as JAX's `lax.switch`); an index that is not an integer is a
 * ValueError. Under `jit` it is one multi-way branch in the generated code (only the branch
 * picked runs); under `grad` inside `jit` the branch picked also returns its pullback closure;
 * under `vmap` with a batched index every branch runs and each example takes its branch's result.
 * The branches take the same operands and return results of the same structure, shapes and dtypes.
 */
export function* switchCase<A extends unknown[], R>(index: Value, branches: readonly ((...args: A) => Gen<R>)[], ...operands: A): Gen<R> {
  if (!Array.isArray(branches))
    throw new ValueError(`switchCase: branches must be an array of generator functions, got ${branches === null ? "null" : typeof branches}`);
  if (branches.length === 0) throw new ValueError("switchCase: branches is empty; give at least one branch program");
  branches.forEach((b, k) => checkProgram(`switchCase (branch ${k})`, b));
  const structure = flatten(operands);
  const p: BranchParams = { name: "switchCase", branches: branches as readonly AnyProgram[], truthy: false, structure };
  return (yield* applyBranch(p, index)) as R;
}

/** `thenFn(...operands)` if pred is nonzero, else `elseFn(...operands)`. */
export function* cond<A extends unknown[], R>(
  pred: Value,
  thenFn: (...args: A) => Gen<R>,
  elseFn: (...args: A) => Gen<R>,
  ...operands: A
): Gen<R> {
  checkProgram("cond (then)", thenFn);
  checkProgram("cond (else)", elseFn);
  const structure = flatten(operands);
  const p: BranchParams = { name: "cond", branches: [elseFn as AnyProgram, thenFn as AnyProgram], truthy: true, structure };
  return (yield* applyBranch(p, pred)) as R;
}
