// Abstract evaluation: every primitive's shape and dtype rule agrees with its kernel (shape,
// dtype, and whether the result is a plain number) on random valid operands, and operands its
// kernel rejects get the same error eagerly and under jit (where the rule, not a kernel, finds
// the shape). Staging never runs a kernel to learn a shape.
/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Abstract, Primitive } from "../effects/primitive.ts";
import { bind } from "../effects/trace.ts";
import type { Value } from "../effects/value.ts";
import { abstractOf } from "../src/primitives/abstract.ts";
import * as B from "../src/primitives/binary.ts";
import { castP } from "../src/primitives/cast.ts";
import * as C from "../src/primitives/conv.ts";
import * as D from "../src/primitives/dynamic-index.ts";
import { matmulP } from "../src/primitives/matmul.ts";
import * as R from "../src/primitives/reduce.ts";
import * as Sel from "../src/primitives/select.ts";
import * as S from "../src/primitives/shape.ts";
import { stopGradientP } from "../src/primitives/stop-gradient.ts";
import * as U from "../src/primitives/unary.ts";
import { argReduceP } from "../src/primitives/arg-reduce.ts";
import * as DS from "../src/primitives/dynamic-slice.ts";
import * as SR from "../src/primitives/scan-reduce.ts";
import * as So from "../src/primitives/sorting.ts";
import * as TI from "../src/primitives/take-by-index.ts";
import "../src/index.ts"; // every module that defines primitives
import { jit, run, Tensor, type DType } from "../src/index.ts";
import { broadcastShapes, reducedShape } from "../src/tensor/shape.ts";
import { flipP } from "../src/primitives/flip.ts";
import { triangleP } from "../src/primitives/triangular.ts";

const RUNS = { numRuns: 30 };
type Case = { args: Value[]; params: unknown };
type Any = Primitive<unknown>;

const size = (s: readonly number[]): number => s.reduce((n, d) => n * d, 1);
const dtypeArb = fc.constantFrom<DType>("float32", "float64");
const dimArb = (min = 0, max = 3) => fc.integer({ min, max });
const shapeArb = (minRank = 0, maxRank = 3, minDim = 0, maxDim = 3) =>
  fc.array(dimArb(minDim, maxDim), { minLength: minRank, maxLength: maxRank });

/** A tensor of `shape` with small random values (their values do not matter here). */
const tensorOf = (shape: readonly number[], dtype: DType, seed: number): Tensor => {
  const n = size(shape);
  const buf = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) buf[i] = Math.sin(seed + i * 1.7) * 2;
  return new Tensor(buf, shape);
};
/** An operand of `shape`: a 0-d shape may also be a plain number. */
const operandArb = (shape: readonly number[], numberOk = true): fc.Arbitrary<Value> =>
  fc.tuple(dtypeArb, fc.integer({ min: 0, max: 1000 }), fc.boolean()).map(([dtype, seed, asNumber]) =>
    shape.length === 0 && numberOk && asNumber ? Math.sin(seed) : tensorOf(shape, dtype, seed),
  );
const operandsArb = (shapes: readonly (readonly number[])[], numberOk = true) => fc.tuple(...shapes.map((s) => operandArb(s, numberOk)));

/** Two shapes that broadcast: a common base, some axes set to 1, some leading axes dropped. */
const broadcastPairArb = shapeArb(0, 3).chain((base) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      dimArb(0, base.length),
      dimArb(0, base.length),
    )
    .map(([ones1, ones2, drop1, drop2]) => [base.map((d, i) => (ones1[i] ? 1 : d)).slice(drop1), base.map((d, i) => (ones2[i] ? 1 : d)).slice(drop2)] as const),
);
const axesArb = (rank: number) => fc.subarray(Array.from({ length: rank }, (_, i) => i)).map((a) => a.sort((x, y) => x - y));
const pairArb = (max: number) => fc.tuple(dimArb(1, max), dimArb(1, max)).map(([a, b]) => [a, b] as [number, number]);

/** Valid conv2d geometry: x [N, C, H, W], w [O, C / groups, KH, KW], stride, padding per side, dilation, groups, output [N, O, OH, OW]. */
const convArb = fc
  .record({
    n: dimArb(0, 2), groups: dimArb(1, 2), cg: dimArb(1, 2), og: dimArb(1, 2), h: dimArb(1, 5), w: dimArb(1, 5),
    stride: pairArb(2), dilation: pairArb(2), pads: fc.tuple(fc.tuple(dimArb(0, 1), dimArb(0, 1)), fc.tuple(dimArb(0, 1), dimArb(0, 1))),
  })
  .chain((g) => {
    const ph = g.h + g.pads[0][0] + g.pads[0][1], pw = g.w + g.pads[1][0] + g.pads[1][1];
    return fc.tuple(dimArb(1, Math.floor((ph - 1) / g.dilation[0]) + 1), dimArb(1, Math.floor((pw - 1) / g.dilation[1]) + 1)).map(([kh, kw]) => {
      const oh = Math.floor((ph - (kh - 1) * g.dilation[0] - 1) / g.stride[0]) + 1;
      const ow = Math.floor((pw - (kw - 1) * g.dilation[1] - 1) / g.stride[1]) + 1;
      const [c, o] = [g.cg * g.groups, g.og * g.groups];
      return { x: [g.n, c, g.h, g.w], w: [o, g.cg, kh, kw], y: [g.n, o, oh, ow], p: { stride: g.stride, padding: g.pads, dilation: g.dilation, groups: g.groups } };
    });
  });
/** Valid pooling geometry: x [N, C, H, W], window size <= H, W, stride, output [N, C, OH, OW]. */
const poolArb = fc
  .record({ n: dimArb(0, 2), c: dimArb(0, 2), h: dimArb(1, 5), w: dimArb(1, 5), stride: pairArb(2), pads: fc.tuple(dimArb(0, 2), dimArb(0, 2), dimArb(0, 2), dimArb(0, 2)) })
  .chain((g) =>
    fc.tuple(dimArb(1, g.h), dimArb(1, g.w)).map(([kh, kw]) => {
      // each side's padding smaller than the window
      const padding = [[g.pads[0] % kh, g.pads[1] % kh], [g.pads[2] % kw, g.pads[3] % kw]] as const;
      const ph = g.h + padding[0][0] + padding[0][1], pw = g.w + padding[1][0] + padding[1][1];
      return {
        x: [g.n, g.c, g.h, g.w],
        y: [g.n, g.c, Math.floor((ph - kh) / g.stride[0]) + 1, Math.floor((pw - kw) / g.stride[1]) + 1],
        p: { size: [kh, kw] as [number, number], stride: g.stride, padding },
      };
    }),
  );
/** A reduction's operand (no empty reduced axis when `nonEmpty`) and its parameters. */
const reduceArb = (nonEmpty: boolean) =>
  shapeArb(1, 3, nonEmpty ? 1 : 0).chain((s) => fc.tuple(operandArb(s), axesArb(s.length), fc.boolean()).map(([x, axes, keepdims]) => ({ s, x, axes, keepdims })));

const unaries = [U.negP, U.expP, U.logP, U.log1pP, U.expm1P, U.sinP, U.cosP, U.tanP, U.tanhP, U.sigmoidP, U.reluP, U.sqrtP, U.squareP, U.absP, U.signP,
  U.asinP, U.acosP, U.atanP, U.sinhP, U.coshP, U.asinhP, U.acoshP, U.atanhP, U.log2P, U.log10P, U.exp2P, U.cbrtP, U.erfP, U.erfcP, U.erfinvP,
  U.floorP, U.ceilP, U.roundP, U.truncP, U.softplusP, U.siluP, U.geluP];
const binaries = [B.addP, B.subP, B.mulP, B.divP, B.powP, B.maximumP, B.minimumP, B.greaterP, B.lessP, B.equalP, B.greaterEqualP, B.lessEqualP,
  B.atan2P, B.modP, B.logaddexpP, B.hypotP];

/** For every primitive with a kernel, random valid operands and parameters. */
const cases = new Map<Any, fc.Arbitrary<Case>>();
const add = (p: Primitive<never> | Primitive<undefined> | Primitive<any>, arb: fc.Arbitrary<Case>) => cases.set(p as Any, arb); // eslint-disable-line @typescript-eslint/no-explicit-any

for (const p of unaries) add(p, shapeArb().chain((s) => operandArb(s)).map((x) => ({ args: [x], params: undefined })));
add(stopGradientP, shapeArb().chain((s) => operandArb(s)).map((x) => ({ args: [x], params: undefined })));
for (const p of binaries) add(p, broadcastPairArb.chain(([a, b]) => operandsArb([a, b])).map((args) => ({ args, params: undefined })));
add(
  B.whereP,
  broadcastPairArb.chain(([a, b]) => fc.tuple(fc.constantFrom(a, b, [] as number[]), fc.constant(a), fc.constant(b))).chain((s) => operandsArb(s)).map((args) => ({ args, params: undefined })),
);
add(castP, fc.tuple(shapeArb().chain((s) => operandArb(s)), dtypeArb).map(([x, dtype]) => ({ args: [x], params: { dtype } })));
for (const p of [R.sumP, R.logsumexpP] as Primitive<R.ReduceParams>[])
  add(p, reduceArb(p === R.logsumexpP).map(({ x, axes, keepdims }) => ({ args: [x], params: { axes, keepdims } })));
add(R.logSoftmaxP, shapeArb(1, 3, 1).chain((s) => fc.tuple(operandArb(s), dimArb(0, s.length - 1))).map(([x, a]) => ({ args: [x], params: { axes: [a], keepdims: true } })));
add(
  matmulP,
  fc
    .tuple(broadcastPairArb, dimArb(), dimArb(), dimArb(), fc.boolean(), fc.boolean())
    .chain(([[ba, bb], m, k, n, transA, transB]) =>
      operandsArb([[...ba, ...(transA ? [k, m] : [m, k])], [...bb, ...(transB ? [n, k] : [k, n])]]).map((args) => ({ args, params: { transA, transB } })),
    ),
);
add(C.conv2dP, convArb.chain((g) => operandsArb([g.x, g.w]).map((args) => ({ args, params: g.p }))));
add(C.conv2dInputGradP, convArb.chain((g) => operandsArb([g.y, g.w]).map((args) => ({ args, params: { ...g.p, shape: g.x } }))));
add(C.conv2dWeightGradP, convArb.chain((g) => operandsArb([g.x, g.y]).map((args) => ({ args, params: { ...g.p, shape: g.w } }))));
add(C.conv2dWeightGradsP, fc.tuple(convArb, fc.integer({ min: 1, max: 3 })).chain(([g, b]) => operandsArb([[b, ...g.x], [b, ...g.y]]).map((args) => ({ args, params: { ...g.p, shape: g.w } }))));
add(C.avgPool2dP, poolArb.chain((g) => operandsArb([g.x]).map((args) => ({ args, params: g.p }))));
add(C.avgPool2dGradP, poolArb.chain((g) => operandsArb([g.y]).map((args) => ({ args, params: { ...g.p, shape: g.x } }))));
const extremumCase = (scatter: boolean) =>
  fc.tuple(reduceArb(true), fc.constantFrom<"max" | "min">("max", "min")).chain(([{ s, x, axes, keepdims }, kind]) =>
    operandArb(scatter ? reducedShape(s, axes, keepdims) : s).map((v) => ({ args: [x, v], params: { kind, axes, keepdims } })),
  );
add(Sel.extremum.gather, extremumCase(false));
add(Sel.extremum.scatter, extremumCase(true));
add(Sel.maxPool.gather, poolArb.chain((g) => operandsArb([g.x, g.x]).map((args) => ({ args, params: { ...g.p, outShape: g.y } }))));
add(Sel.maxPool.scatter, poolArb.chain((g) => operandsArb([g.x, g.y]).map((args) => ({ args, params: { ...g.p, outShape: g.y } }))));
add(
  S.reshapeP,
  shapeArb().chain((s) =>
    fc.tuple(operandArb(s), fc.constantFrom([size(s)], [1, size(s)], [size(s), 1], [...s, 1], [1, ...s])).map(([x, shape]) => ({ args: [x], params: { shape } })),
  ),
);
add(
  S.transposeP,
  shapeArb(1).chain((s) => fc.tuple(operandArb(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }))).map(([x, perm]) => ({ args: [x], params: { perm } })),
);
add(S.broadcastToP, broadcastPairArb.chain(([a, b]) => operandArb(a).map((x) => ({ args: [x], params: { shape: broadcastShapes("t", a, b) } }))));
add(
  S.concatP,
  shapeArb(1).chain((s) =>
    fc.tuple(dimArb(0, s.length - 1), fc.array(dimArb(), { minLength: 1, maxLength: 3 })).chain(([axis, alongs]) =>
      operandsArb(alongs.map((d) => s.map((x, i) => (i === axis ? d : x)))).map((args) => ({ args, params: { axis } })),
    ),
  ),
);
const rangesArb = (s: readonly number[]) =>
  fc.tuple(...s.map((d) => fc.tuple(dimArb(0, d), dimArb(0, d)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const)));
add(S.sliceP, shapeArb().chain((s) => fc.tuple(operandArb(s), rangesArb(s))).map(([x, r]) => ({ args: [x], params: { starts: r.map((e) => e[0]), ends: r.map((e) => e[1]) } })));
add(
  S.padP,
  shapeArb().chain((s) =>
    fc.tuple(operandArb(s), fc.tuple(...s.map(() => fc.tuple(dimArb(0, 2), dimArb(0, 2))))).map(([x, extra]) => ({
      args: [x],
      params: { starts: extra.map((e) => e[0]), shape: s.map((d, i) => d + extra[i]![0] + extra[i]![1]) },
    })),
  ),
);
const takeArb = shapeArb(1, 3, 1).chain((s) =>
  fc.tuple(dimArb(0, s.length - 1), fc.constantFrom([2], [0], [2, 2])).chain(([axis, indexShape]) =>
    fc.array(dimArb(0, s[axis]! - 1), { minLength: size(indexShape), maxLength: size(indexShape) }).map((ix) => ({ s, axis, indexShape, indices: Int32Array.from(ix) })),
  ),
);
add(S.takeP, takeArb.chain((t) => operandArb(t.s).map((x) => ({ args: [x], params: { indices: t.indices, indexShape: t.indexShape, axis: t.axis } }))));
add(
  S.scatterAddP,
  takeArb.chain((t) =>
    operandArb([...t.s.slice(0, t.axis), ...t.indexShape, ...t.s.slice(t.axis + 1)]).map((v) => ({
      args: [v],
      params: { indices: t.indices, indexShape: t.indexShape, axis: t.axis, dimSize: t.s[t.axis]! },
    })),
  ),
);
const indexTensor = (t: { indices: Int32Array; indexShape: readonly number[] }): Tensor => new Tensor(Float64Array.from(t.indices), t.indexShape);
add(TI.takeByIndexP, takeArb.chain((t) => operandArb(t.s).map((x) => ({ args: [x, indexTensor(t)], params: { axis: t.axis, fill: NaN } }))));
add(
  TI.scatterByIndexP,
  takeArb.chain((t) =>
    operandArb([...t.s.slice(0, t.axis), ...t.indexShape, ...t.s.slice(t.axis + 1)]).map((v) => ({ args: [v, indexTensor(t)], params: { axis: t.axis, dim: t.s[t.axis]! } })),
  ),
);
add(S.toNumberP, fc.constantFrom([], [1], [1, 1]).chain((s) => operandArb(s)).map((x) => ({ args: [x], params: undefined })));
add(
  D.dynamicIndexP,
  shapeArb(1, 3, 1).chain((s) => fc.tuple(operandArb(s), dimArb(0, s[0]! - 1), fc.boolean())).map(([x, i, asTensor]) => ({ args: [x, asTensor ? new Tensor(Float64Array.of(i), [1]) : i], params: undefined })),
);
add(
  D.dynamicIndexAdjointP,
  fc.tuple(shapeArb(1, 3, 1), dtypeArb).chain(([s, dtype]) =>
    fc.tuple(operandArb(s.slice(1)), dimArb(0, s[0]! - 1)).map(([v, i]) => ({ args: [v, i], params: { shape: s, dtype } })),
  ),
);

// Reductions, scans, sorting and windows (second round)
const axisOf = (s: readonly number[]) => dimArb(0, s.length - 1);
for (const p of [SR.cumsumP, SR.cumprodP])
  add(p, shapeArb(1).chain((s) => fc.tuple(operandArb(s), axisOf(s), fc.boolean())).map(([x, axis, reverse]) => ({ args: [x], params: { axis, reverse } })));
add(SR.prodP, reduceArb(false).map(({ x, axes, keepdims }) => ({ args: [x], params: { axes, keepdims } })));
add(
  argReduceP,
  shapeArb(1, 3, 1).chain((s) => fc.tuple(operandArb(s), axisOf(s), fc.constantFrom<"max" | "min">("max", "min"))).map(([x, axis, kind]) => ({ args: [x], params: { kind, axis } })),
);
const sortCase = shapeArb(1).chain((s) => fc.tuple(operandArb(s), axisOf(s)));
add(So.argsortP, sortCase.map(([x, axis]) => ({ args: [x], params: { axis } })));
add(So.sorted.gather, sortCase.map(([x, axis]) => ({ args: [x, x], params: { axis } })));
add(So.sorted.scatter, sortCase.map(([x, axis]) => ({ args: [x, x], params: { axis } })));
const topKCase = shapeArb(1).chain((s) => fc.tuple(operandArb(s), dimArb(0, s[s.length - 1]!)).map(([x, k]) => ({ s, x, k })));
add(So.topKIndicesP, topKCase.map(({ x, k }) => ({ args: [x], params: { k } })));
add(So.topKValues.gather, topKCase.map(({ x, k }) => ({ args: [x, x], params: { k } })));
add(So.topKValues.scatter, topKCase.chain(({ s, x, k }) => operandArb([...s.slice(0, -1), k], false).map((c) => ({ args: [x, c], params: { k } }))));
const startOf = (k: Value): number => (typeof k === "number" ? k : (k as Tensor).buf[0]!);
/** A window inside shape s: its sizes and (possibly out-of-range, clamped) starts, numbers or size-1 tensors (with rows: one start per row). */
const windowArb = shapeArb(0, 3).chain((s) =>
  fc.tuple(fc.tuple(...s.map((d) => dimArb(0, d))), fc.tuple(...s.map(() => fc.integer({ min: -2, max: 4 }))), fc.boolean()).map(([sizes, starts, asTensors]) => ({
    s,
    sizes: sizes as number[],
    starts: (starts as number[]).map((k): Value => (asTensors ? new Tensor(Float64Array.of(k), [1]) : k)),
  })),
);
add(DS.dynamicSliceP, fc.tuple(windowArb, fc.integer({ min: 0, max: 2 })).chain(([w, rows]) => operandArb(rows > 0 ? [rows, ...w.s] : w.s, false).map((x) => ({
  args: [x, ...(rows > 0 ? w.starts.map((k) => new Tensor(Float64Array.from({ length: rows }, (_, b) => startOf(k) + b), [rows])) : w.starts)],
  params: { sizes: w.sizes, rows: rows > 0 },
}))));
add(
  DS.dynamicUpdateSliceP,
  fc.tuple(windowArb, dtypeArb, fc.integer({ min: 0, max: 2 })).map(([w, dtype, rows]) => ({
    args: rows > 0
      ? [tensorOf([rows, ...w.s], dtype, 1), tensorOf([rows, ...w.sizes], dtype, 2), ...w.starts.map((k) => new Tensor(Float64Array.from({ length: rows }, (_, b) => startOf(k) - b), [rows]))]
      : [tensorOf(w.s, dtype, 1), tensorOf(w.sizes, dtype, 2), ...w.starts],
    params: { rows: rows > 0 },
  })),
);

// Shape operations (second round): flip, and the triangle of tril / triu
add(flipP, shapeArb().chain((s) => fc.tuple(operandArb(s), axesArb(s.length))).map(([x, axes]) => ({ args: [x], params: { axes } })));
add(
  triangleP,
  shapeArb(2, 4).chain((s) => fc.tuple(operandArb(s), fc.boolean(), fc.integer({ min: -4, max: 4 }))).map(([x, lower, k]) => ({ args: [x], params: { lower, k } })),
);

/** Program-level primitives: their rules stage a program or say the transformation is unsupported (test/jit*.test.ts). */
const PROGRAMS = new Set(["customCall", "stagedCall", "stagedResult"]);

const actual = (v: Value): Abstract => abstractOf(v);
/** An abstract value as plain data, to compare. */
const same = (a: Abstract) => ({ shape: [...a.shape], dtype: a.dtype, scalar: a.scalar });

/** Every primitive the modules of src/primitives export (directly, or in a record such as a Selection). */
const definedPrimitives = (): Any[] => {
  const isPrimitive = (v: unknown): v is Any =>
    typeof v === "object" && v !== null && typeof (v as Any).name === "string" && typeof (v as Any).impl === "function" && typeof (v as Any).vjp === "function";
  const found = new Set<Any>();
  for (const mod of Object.values(import.meta.glob("../src/primitives/*.ts", { eager: true })))
    for (const v of Object.values(mod as Record<string, unknown>)) {
      if (isPrimitive(v)) found.add(v);
      else if (typeof v === "object" && v !== null) for (const w of Object.values(v)) if (isPrimitive(w)) found.add(w);
    }
  return [...found];
};

describe("abstract evaluation", () => {
  it("every primitive has an abstract evaluation rule and a property test here", () => {
    const prims = definedPrimitives();
    expect(prims.length).toBeGreaterThan(40);
    for (const p of prims) {
      expect(typeof p.abstractEval, `${p.name} has no abstractEval`).toBe("function");
      if (!PROGRAMS.has(p.name)) expect(cases.has(p as unknown as Any), `${p.name} has no case in test/abstract-eval.test.ts`).toBe(true);
    }
  });

  for (const [prim, arb] of cases)
    it(`${prim.name}: the rule gives the kernel's shape, dtype and number-ness`, () => {
      fc.assert(
        fc.property(arb, ({ args, params }) => {
          const out = prim.impl(args, params);
          const rule = prim.abstractEval(args.map(abstractOf), params);
          expect(same(rule)).toEqual(same(actual(out)));
        }),
        RUNS,
      );
    });
});

/** The error (class and message) a thunk throws, or undefined. */
const caught = (f: () => unknown): { tag: string; message: string } | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    const err = e as Error & { _tag?: string };
    return { tag: err._tag ?? err.constructor.name, message: err.message };
  }
};

/** Runs `prim` eagerly and under jit (operands staged as inputs): both fail alike, or both give the same abstract value. */
const eagerVsJit = (prim: Any, args: readonly Value[], params: unknown): void => {
  let eager: Value | undefined;
  const eagerError = caught(() => (eager = bind(prim, args, params)));
  let staged: Value | undefined;
  const program = jit(function* (...xs: Value[]) {
    return bind(prim, xs, params);
  });
  const jitError = caught(() => (staged = run(program, ...args) as Value));
  expect(jitError, `${prim.name} under jit`).toEqual(eagerError);
  if (eagerError === undefined) expect(same(actual(staged!))).toEqual(same(actual(eager!)));
};

describe("bad shapes: the same error eagerly and under jit", () => {
  const anyShapes = fc.tuple(shapeArb(0, 3, 1, 3), shapeArb(0, 3, 1, 3));
  for (const prim of [B.addP, B.mulP, B.maximumP, B.lessP])
    it(`${prim.name} on random shape pairs`, () => {
      fc.assert(fc.property(anyShapes.chain(([a, b]) => operandsArb([a, b])), (args) => eagerVsJit(prim, args, undefined)), RUNS);
    });
  it("where on random shape triples", () => {
    fc.assert(fc.property(fc.tuple(shapeArb(0, 2, 1, 3), shapeArb(0, 2, 1, 3), shapeArb(0, 2, 1, 3)).chain((s) => operandsArb(s)), (args) => eagerVsJit(B.whereP as Any, args, undefined)), RUNS);
  });
  it("matmul on random shape pairs", () => {
    fc.assert(
      fc.property(
        fc.tuple(shapeArb(2, 3, 1, 3), shapeArb(2, 3, 1, 3), fc.boolean(), fc.boolean()).chain(([a, b, transA, transB]) => operandsArb([a, b], false).map((args) => ({ args, transA, transB }))),
        ({ args, transA, transB }) => eagerVsJit(matmulP as Any, args, { transA, transB }),
      ),
      RUNS,
    );
  });
  it("concat, broadcastTo and pad on random shapes", () => {
    fc.assert(
      fc.property(fc.tuple(shapeArb(1, 3, 1, 3), shapeArb(1, 3, 1, 3)).chain((s) => operandsArb(s, false)), dimArb(0, 2), (args, axis) => {
        const [a, b] = args as [Tensor, Tensor];
        if (axis < a.shape.length) eagerVsJit(S.concatP as Any, args, { axis });
        eagerVsJit(S.broadcastToP as Any, [a], { shape: b.shape });
        eagerVsJit(S.padP as Any, [a], { starts: b.shape.map(() => 1), shape: b.shape });
      }),
      RUNS,
    );
  });
  it("conv2d, its adjoints and avgPool2dGrad with mismatched operands", () => {
    fc.assert(
      fc.property(convArb, shapeArb(4, 4, 1, 3), (g, other) => {
        const p = g.p;
        const [x, w, y, o] = [g.x, g.w, g.y, other].map((s, i) => tensorOf(s, "float64", i));
        eagerVsJit(C.conv2dP as Any, [x!, o!], p);
        eagerVsJit(C.conv2dInputGradP as Any, [o!, w!], { ...p, shape: g.x });
        eagerVsJit(C.conv2dWeightGradP as Any, [x!, o!], { ...p, shape: g.w });
        eagerVsJit(C.conv2dP as Any, [x!, w!], p);
        eagerVsJit(C.conv2dInputGradP as Any, [y!, w!], { ...p, shape: g.x });
        eagerVsJit(C.avgPool2dGradP as Any, [o!], { size: [1, 1], stride: [1, 1], padding: [[0, 0], [0, 0]], shape: g.x });
      }),
      RUNS,
    );
  });
  it("reductions over empty axes, and dynamicIndex with a non-scalar index", () => {
    const empty = tensorOf([2, 0, 3], "float32", 0);
    eagerVsJit(R.logsumexpP as Any, [empty], { axes: [1], keepdims: false });
    eagerVsJit(Sel.extremum.gather as Any, [empty, empty], { kind: "max", axes: [0, 1], keepdims: true });
    eagerVsJit(D.dynamicIndexP as Any, [tensorOf([3, 2], "float64", 0), tensorOf([2], "float64", 1)], undefined);
    expect(caught(() => bind(R.logsumexpP, [empty], { axes: [1], keepdims: false }))?.tag).toBe("ValueError");
  });
});
