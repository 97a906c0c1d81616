// scan as a higher-order primitive: `fn(carry, x_t) → [carry, y_t]` over the leading axis of xs.
// Run in place (and under vmap, or jvp above jit) its steps simply run, unrolled; under jit it
// is a `for`; under grad inside jit a `for` whose steps each return a pullback closure, and a
// backward loop applying them.
import { BatchBox, BatchTrace } from "../../../effects/batch.ts";
import { StagingTrace } from "../../../effects/stage.ts";
import { dynamicTrace } from "../../../effects/trace.ts";
import { Traced, dtypeOf, shapeOf, type Value } from "../../../effects/value.ts";
import { ShapeError, TransformError, ValueError } from "../../errors.ts";
import * as lax from "../../lax.ts";
import { checkOptions } from "../../options.ts";
import { flatten, type Flat } from "../../pytree.ts";
import type { Block } from "../../staging/ir.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { checkProgram, type AnyProgram, type Gen } from "../../transforms/common.ts";
import { jvpDirect } from "../../transforms/forward.ts";
import { vmapDirect } from "../../transforms/vmap.ts";
import { dualsAboveStaging, dualsOf, stagedWhole } from "./forward-rule.ts";
import { bindControl, concrete, owner, type ControlPrimitive, type StagedWithPullback } from "./control-primitive.ts";
import { unwind } from "./backward-loop.ts";
import { asTensor, carryKinds, inKind, isNumberLike, varLike } from "../../number-kind.ts";
import { checkSameLeaves, stackedShape, stageProgram, type PullbackMode } from "./staging.ts";

interface ScanParams {
  readonly fn: AnyProgram;
  /** The structures of init and xs; the operands are init's leaves, then xs'. */
  readonly init: Flat;
  readonly xs: Flat;
  readonly length: number;
}

const checkStep = (r: unknown): void => {
  if (!Array.isArray(r) || r.length !== 2) throw new TransformError("scan: the body must return [carry, y]");
};

/** Row t of a value along axis 0, with operations (so it differentiates). */
const row = (x: Value, t: number): Value => {
  const s = shapeOf(x);
  if (x instanceof Tensor) return new Tensor(x.buf.subarray(t * (x.size / s[0]!), (t + 1) * (x.size / s[0]!)) as Tensor["buf"], s.slice(1));
  return lax.reshape(lax.slice(x, s.map((_, a) => (a === 0 ? t : 0)), s.map((d, a) => (a === 0 ? t + 1 : d))), s.slice(1));
};

/** The steps run in place, unrolled, on the program's handlers. */
function* unrolled(operands: readonly Value[], p: ScanParams): Gen<unknown> {
  const nC = p.init.leaves.length;
  let carry = p.init.rebuild(operands.slice(0, nC));
  const xs = operands.slice(nC);
  const ys: Value[][] = [];
  let yFlat: Flat | undefined;
  for (let t = 0; t < p.length; t++) {
    const x = p.xs.rebuild(xs.map((leaf) => row(leaf, t)));
    const r = (yield* p.fn(carry, x)) as [unknown, unknown];
    checkStep(r);
    // as when staged: the carry keeps its structure, shapes and dtypes, and every y_t is alike
    checkSameLeaves("scan", "the carry before and after the body", flatten(carry).leaves, flatten(r[0]).leaves);
    carry = r[0];
    const yt = flatten(r[1]);
    if (yFlat) checkSameLeaves("scan", "the outputs y of two steps", yFlat.leaves, yt.leaves);
    else for (const y of yt.leaves) stackedShape(p.length, y); // before the steps fill memory with rows
    yFlat = yt;
    ys.push(yFlat.leaves);
  }
  if (!yFlat) return [carry, flatten(undefined).rebuild([])];
  const stacked = yFlat.leaves.map((_, k) => lax.concat(ys.map((y) => lax.reshape(y[k]!, [1, ...shapeOf(y[k]!)])), 0));
  return [carry, yFlat.rebuild(stacked)];
}

/**
 * The staged `for`: the body staged until the carry slots' kinds are stable. With `pullback`,
 * each step also returns its pullback closure, which the loop collects; the loop's own closure
 * (made here) is the backward loop over them.
 */
function stageScan(trace: StagingTrace, operands: readonly Value[], p: ScanParams, pullback: PullbackMode | null): StagedWithPullback {
  const nC = p.init.leaves.length;
  const init = operands.slice(0, nC);
  const xs = operands.slice(nC);
  // Under reverse mode every carry slot is differentiated inside the body (a wanted x can flow into any).
  const inner = pullback && { wanted: [...init.map(() => true), ...pullback.wanted.slice(nC)] };
  let block: Block | undefined;
  let ys: Flat | undefined;
  let carryLeaves: readonly Value[] = [];
  let yLeaves: readonly Value[] = [];
  const tensorCarry = carryKinds(init, (tc) => {
    const vars = [...init.map((l, i) => varLike(trace, l, !tc[i])), ...xs.map((x) => trace.newVar(shapeOf(x).slice(1), dtypeOf(x), false))];
    const staged = stageProgram(trace, "scan", p.fn, vars, (values) => [p.init.rebuild(values.slice(0, nC)), p.xs.rebuild(values.slice(nC))], tc, inner, checkStep);
    block = staged.block;
    ys = flatten((staged.result as [unknown, unknown])[1]);
    carryLeaves = staged.outs.slice(0, nC);
    yLeaves = staged.outs.slice(nC);
    checkSameLeaves("scan", "the carry before and after the body", init, carryLeaves);
    return carryLeaves;
  });
  const carryScalar = tensorCarry.map((t) => !t);
  const carryOut = init.map((l, i) => varLike(trace, l, carryScalar[i]));
  const ysOut = yLeaves.map((y) => trace.newVar(stackedShape(p.length, y), dtypeOf(y), false));
  const list = pullback ? [trace.newOpaque()] : [];
  const initAtoms = init.map((l, i) => trace.atom(tensorCarry[i] ? asTensor(l) : l));
  trace.push({ kind: "scan", length: p.length, init: initAtoms, xs: xs.map((x) => trace.atom(x)), body: block!, outs: [...carryOut, ...ysOut, ...list] });
  const ysFlat = ys!;
  const structure: Flat = {
    leaves: [...init, ...ysFlat.leaves],
    rebuild: (leaves) => [p.init.rebuild(leaves.slice(0, nC)), ysFlat.rebuild(leaves.slice(nC))],
  };
  const outs = [...carryOut, ...ysOut].map((v) => trace.value(v));
  if (!pullback) return { outs, structure, closure: 0, grads: [] };
  // The loop's pullback: cotangents of the final carry and of the stacked ys in, of the wanted
  // initial carry and xs out.
  const { wanted } = pullback;
  const xRows = xs.filter((_, k) => wanted[nC + k]).map((x) => trace.value(trace.newVar(shapeOf(x).slice(1), dtypeOf(x), false)));
  const ctIn = [...carryOut.map((v) => trace.newVar(v.shape, v.dtype, v.scalar)), ...ysOut.map((v) => trace.newVar(v.shape, v.dtype, false))];
  const backward = trace.block(ctIn, () => {
    const ct = ctIn.map((v) => trace.value(v));
    const res = unwind(trace, p.length, trace.value(list[0]!), ct.slice(0, nC), carryScalar, carryLeaves.map(isNumberLike), ct.slice(nC), yLeaves.map(isNumberLike), xRows);
    const ctInit = res.slice(0, nC).filter((_, i) => wanted[i]);
    return [...ctInit.map((c, i) => inKind(c, isNumberLike(init.filter((_, k) => wanted[k])[i]!))), ...res.slice(nC)];
  });
  const closure = trace.newOpaque();
  trace.push({ kind: "lambda", body: backward, out: closure });
  return { outs, structure, closure: trace.value(closure), grads: wanted };
}

/**
 * jvp above jit: one staged loop over the body's JVP, the carry's tangent carried and the ys'
 * tangents stacked alongside; in any other nesting, the steps unrolled.
 */
function* forward(operands: readonly Value[], p: ScanParams): Gen<unknown> {
  const d = dualsAboveStaging(operands);
  if (d) {
    const nC = p.init.leaves.length;
    const [init, xs] = [d.primals.slice(0, nC), d.primals.slice(nC)];
    const [initT, xsT] = [d.tangents.slice(0, nC), d.tangents.slice(nC)];
    const jvps: ScanParams = {
      fn: function* (c: [unknown, unknown], x: [unknown, unknown]) {
        const [out, t] = jvpDirect("scan", p.fn, [c[0], x[0]], [c[1], x[1]]) as [unknown, [unknown, unknown]];
        checkStep(out);
        const [carry, y] = out as [unknown, unknown];
        return [[carry, t[0]], [y, t[1]]];
      },
      init: flatten([p.init.rebuild(init), p.init.rebuild(initT)]),
      xs: flatten([p.xs.rebuild(xs), p.xs.rebuild(xsT)]),
      length: p.length,
    };
    const r = stagedWhole(() => stageScan(d.staging, [...init, ...initT, ...xs, ...xsT], jvps, null));
    if (r) {
      const [[carry, carryT], [ys, ysT]] = r.structure.rebuild(r.outs) as [[unknown, unknown], [unknown, unknown]];
      const [c, y] = [flatten(carry), flatten(ys)];
      return [c.rebuild(dualsOf(d.fwd, c.leaves, flatten(carryT).leaves)), y.rebuild(dualsOf(d.fwd, y.leaves, flatten(ysT).leaves))];
    }
  }
  return yield* unrolled(operands, p);
}

/**
 * vmap inside jit: one staged loop over the body batched (JAX's scan batching rule) — every carry
 * holds the batch on axis 0 (a shared initial carry is broadcast: the body may make any carry
 * depend on the batch), batched xs are stepped along their axis 1; in any other nesting (or a
 * body reading a batched value through a closure), the steps unrolled.
 */
function* batchedLoop(operands: readonly Value[], p: ScanParams): Gen<unknown> {
  const trace = owner(operands);
  const staging = dynamicTrace();
  if (trace instanceof BatchTrace && staging instanceof StagingTrace) {
    const batched = operands.map((o) => trace.owns(o));
    const values = operands.map((o) => (trace.owns(o) ? o.value : o));
    if (values.every((v) => !(v instanceof Traced) || v.trace === staging)) {
      const nC = p.init.leaves.length;
      const init = values.slice(0, nC).map((v, i) => (batched[i] ? v : lax.broadcastTo(lax.reshape(v, [1, ...shapeOf(v)]), [trace.size, ...shapeOf(v)])));
      const xs = values.slice(nC).map((v, k) => (batched[nC + k] ? lax.transpose(v, swapFirstTwo(shapeOf(v).length)) : v));
      const axes = [...init.map(() => 0), ...batched.slice(nC).map((b) => (b ? 0 : null))];
      const perExample: ScanParams = {
        fn: function* (c: Value[], x: Value[]) {
          const r = vmapDirect(function* (...leaves: Value[]) {
            const out = yield* p.fn(p.init.rebuild(leaves.slice(0, nC)), p.xs.rebuild(leaves.slice(nC)));
            checkStep(out);
            return out;
          }, [...c, ...x], axes) as [unknown, unknown];
          return [flatten(r[0]).leaves, r[1]];
        },
        init: flatten(init),
        xs: flatten(xs),
        length: p.length,
      };
      const r = stagedWhole(() => stageScan(staging, [...init, ...xs], perExample, null));
      if (r) {
        const [carry, ys] = r.structure.rebuild(r.outs) as [Value[], unknown];
        const y = flatten(ys);
        const box = (v: Value): Value => new BatchBox(trace, v);
        return [p.init.rebuild(carry.map(box)), y.rebuild(y.leaves.map((l) => box(lax.transpose(l, swapFirstTwo(shapeOf(l).length)))))];
      }
    }
  }
  return yield* unrolled(operands, p);
}

/** The permutation exchanging axes 0 and 1. */
const swapFirstTwo = (rank: number): number[] => [1, 0, ...Array.from({ length: rank - 2 }, (_, d) => d + 2)];

const scanP: ControlPrimitive<ScanParams> = {
  name: "scan",
  decided: (operands) => concrete(operands),
  impl: unrolled,
  stage: (trace, operands, p) => {
    const r = stageScan(trace, operands, p, null);
    return r.structure.rebuild(r.outs);
  },
  vjp: (trace, primals, p, wanted) => stageScan(trace, primals, p, { wanted }),
  jvp: forward,
  batch: batchedLoop,
};

/** A number of steps: a non-negative safe integer (and a number, not a string or an object). */
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** A user's value in a message, without running its code (no toString or toJSON of objects). */
const describeValue = (v: unknown): string =>
  typeof v === "number" ? String(v) : typeof v === "string" ? JSON.stringify(v) : v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;

/**
 * Scans `fn(carry, x_t) → [carry, y_t]` over the leading axis of `xs` (a pytree of tensors);
 * returns `[finalCarry, ys]` with the y_t stacked along a new leading axis.
 */
export function* scan<C, X, Y>(fn: (carry: C, x: X) => Gen<[C, Y]>, init: C, xs: X, options: { length?: number } = {}): Gen<[C, Y]> {
  checkProgram("scan", fn);
  const initFlat = flatten(init);
  const xsFlat = flatten(xs);
  const lengths = xsFlat.leaves.map((x) => shapeOf(x)[0]);
  if (xsFlat.leaves.some((x) => shapeOf(x).length === 0)) throw new ShapeError("scan: every leaf of xs needs a leading axis to scan over");
  if (options === null || typeof options !== "object") throw new ValueError(`scan: options must be an object such as { length: 10 }, got ${describeValue(options)}`);
  checkOptions("scan", options, { length: "any" }); // its value: checked below
  if (options.length !== undefined && !isCount(options.length))
    throw new ValueError(`scan: length must be a non-negative integer (a number of steps), got ${describeValue(options.length)}`);
  const length = options.length ?? lengths[0];
  if (length === undefined) throw new ShapeError("scan: xs has no arrays; pass { length } to scan a fixed number of steps");
  if (lengths.some((n) => n !== length)) throw new ShapeError(`scan: the leaves of xs have leading axes ${lengths.join(", ")}; they must all be ${length}`);
  const params: ScanParams = { fn: fn as AnyProgram, init: initFlat, xs: xsFlat, length };
  return (yield* bindControl(scanP, [...initFlat.leaves, ...xsFlat.leaves], params)) as [C, Y];
}
