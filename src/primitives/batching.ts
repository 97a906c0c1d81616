// Batching rules (vmap): each primitive family acts on stacked operands (batch on axis 0) with
// the same primitives, adjusted for the extra leading axis. Primitives without a rule here run
// once per example (correct, slower): see `perExample`.
import { defineBatchRule, setBatchFallback, type BatchRule } from "../../effects/batch.ts";
import type { Primitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { zeros } from "../tensor/create.ts";
import * as B from "./binary.ts";
import * as C from "./conv.ts";
import * as M from "./matmul.ts";
import * as R from "./reduce.ts";
import * as S from "./shape.ts";
import { extremum, maxPool, type MaxPoolParams } from "./select.ts";
import { stopGradientP } from "./stop-gradient.ts";
import { castP } from "./cast.ts";
import * as U from "./unary.ts";

type Any = Primitive<never>;
const call = <P>(prim: Primitive<P>, args: readonly Value[], params: P): Value => bind(prim, args, params);

/** Inserts size-1 axes after the batch axis so a batched value has per-example rank `rank`. */
const lift = (v: Value, rank: number): Value => {
  const s = shapeOf(v);
  const missing = rank + 1 - s.length;
  return missing <= 0 ? v : S.reshape(v, [s[0]!, ...Array<number>(missing).fill(1), ...s.slice(1)]);
};

/** Gives an unbatched operand the batch axis (a broadcast copy along axis 0). */
const stack = (v: Value, size: number): Value => {
  const s = shapeOf(v);
  return S.broadcastTo(S.reshape(v, [1, ...s]), [size, ...s]);
};

/** Per-example rank of each operand. */
const exampleRank = (values: readonly Value[], batched: readonly boolean[]): number =>
  Math.max(...values.map((v, i) => shapeOf(v).length - (batched[i] ? 1 : 0)));

/**
 * Elementwise and matmul: align batched operands to the largest per-example rank; NumPy
 * broadcasting then lines the unbatched ones up with the trailing axes.
 */
const aligned: BatchRule = (prim, values, batched, params) => {
  const rank = exampleRank(values, batched);
  return call(prim, values.map((v, i) => (batched[i] ? lift(v, rank) : v)), params);
};

/** Every operand batched: an unbatched one is stacked. */
const allBatched = (values: readonly Value[], batched: readonly boolean[], size: number): Value[] =>
  values.map((v, i) => (batched[i] ? v : stack(v, size)));

const shiftAxes = (axes: readonly number[]): number[] => axes.map((a) => a + 1);

/** Runs the primitive once per example and stacks the results along a new axis 0. */
const perExample: BatchRule = (prim, values, batched, params, size) => {
  if (size === 0) {
    // No example to run (and nothing to concatenate): run once on a zero example for the
    // result's shape, then keep none of it.
    const r = call(prim, values.map((v, i) => (batched[i] ? zeros(shapeOf(v).slice(1), dtypeOf(v)) : v)), params);
    const s = shapeOf(r);
    return S.slice(S.reshape(r, [1, ...s]), [0, ...s.map(() => 0)], [0, ...s]);
  }
  const results: Value[] = [];
  for (let b = 0; b < size; b++) results.push(call(prim, values.map((v, i) => (batched[i] ? exampleOf(v, b) : v)), params));
  return stackExamples(results);
};

/** Example b of a value stacked along axis 0. */
const exampleOf = (v: Value, b: number): Value => {
  const s = shapeOf(v);
  const one = S.slice(v, s.map((_, a) => (a === 0 ? b : 0)), s.map((d, a) => (a === 0 ? b + 1 : d)));
  return S.reshape(one, s.slice(1));
};

/** Examples stacked along a new axis 0. */
const stackExamples = (examples: readonly Value[]): Value => S.concat(examples.map((r) => S.reshape(r, [1, ...shapeOf(r)])), 0);

setBatchFallback(perExample, exampleOf, stackExamples);

const unary = [U.negP, U.expP, U.logP, U.log1pP, U.expm1P, U.sinP, U.cosP, U.tanP, U.tanhP, U.sigmoidP, U.reluP, U.sqrtP, U.squareP, U.absP, U.signP];
const binary = [B.addP, B.subP, B.mulP, B.divP, B.powP, B.maximumP, B.minimumP, B.greaterP, B.lessP, B.equalP, B.greaterEqualP, B.lessEqualP, B.whereP];
defineBatchRule([...unary, ...binary, M.matmulP] as Any[], aligned);

defineBatchRule([stopGradientP, castP] as Any[], (prim, [v], _b, params) => call(prim, [v!], params));

defineBatchRule([R.sumP, R.logsumexpP, R.logSoftmaxP] as Any[], (prim, [v], _b, params) => {
  const p = params as unknown as R.ReduceParams;
  return call(prim as Primitive<R.ReduceParams>, [v!], { axes: shiftAxes(p.axes), keepdims: p.keepdims });
});

defineBatchRule([extremum.gather, extremum.scatter] as Any[], (prim, values, batched, params, size) => {
  const p = params as unknown as { kind: "max" | "min"; axes: number[]; keepdims: boolean };
  return call(prim as Primitive<typeof p>, allBatched(values, batched, size), { ...p, axes: shiftAxes(p.axes) });
});

/** Operations on [N, C, H, W] images: fold the batch into N, apply, unfold. */
const foldImages = (v: Value): Value => {
  const s = shapeOf(v);
  return S.reshape(v, [s[0]! * s[1]!, ...s.slice(2)]);
};
const unfold = (v: Value, size: number): Value => {
  const s = shapeOf(v);
  return S.reshape(v, [size, s[0]! / size, ...s.slice(1)]);
};

defineBatchRule([maxPool.gather, maxPool.scatter] as Any[], (prim, values, batched, params, size) => {
  const p = params as unknown as MaxPoolParams;
  const [o0, ...rest] = p.outShape;
  const folded = allBatched(values, batched, size).map(foldImages);
  return unfold(call(prim as Primitive<MaxPoolParams>, folded, { ...p, outShape: [size * o0!, ...rest] }), size);
});

defineBatchRule([C.avgPool2dP] as Any[], (prim, [v], _b, params, size) => unfold(call(prim, [foldImages(v!)], params), size));
defineBatchRule([C.avgPool2dGradP] as Any[], (prim, [v], _b, params, size) => {
  const p = params as unknown as C.PoolParams & { shape: readonly number[] };
  const [n, ...rest] = p.shape;
  return unfold(call(prim as Primitive<typeof p>, [foldImages(v!)], { ...p, shape: [size * n!, ...rest] }), size);
});

// conv2d with a batched input and a shared filter folds the batch into N; otherwise per example.
defineBatchRule([C.conv2dP] as Any[], (prim, values, batched, params, size) =>
  batched[0] && !batched[1] ? unfold(call(prim, [foldImages(values[0]!), values[1]!], params), size) : perExample(prim, values, batched, params, size),
);

defineBatchRule([S.reshapeP, S.broadcastToP] as Any[], (prim, [v], _b, params, size) => {
  const p = params as unknown as { shape: readonly number[] };
  const lifted = prim === (S.broadcastToP as unknown) ? lift(v!, p.shape.length) : v!;
  return call(prim as Primitive<typeof p>, [lifted], { shape: [size, ...p.shape] });
});

defineBatchRule([S.transposeP] as Any[], (prim, [v], _b, params) => {
  const p = params as unknown as { perm: readonly number[] };
  return call(prim as Primitive<typeof p>, [v!], { perm: [0, ...shiftAxes(p.perm)] });
});

defineBatchRule([S.concatP] as Any[], (prim, values, batched, params, size) => {
  const p = params as unknown as { axis: number };
  return call(prim as Primitive<typeof p>, allBatched(values, batched, size), { axis: p.axis + 1 });
});

defineBatchRule([S.sliceP] as Any[], (prim, [v], _b, params, size) => {
  const p = params as unknown as { starts: readonly number[]; ends: readonly number[] };
  return call(prim as Primitive<typeof p>, [v!], { starts: [0, ...p.starts], ends: [size, ...p.ends] });
});

defineBatchRule([S.padP] as Any[], (prim, [v], _b, params, size) => {
  const p = params as unknown as { starts: readonly number[]; shape: readonly number[] };
  return call(prim as Primitive<typeof p>, [v!], { starts: [0, ...p.starts], shape: [size, ...p.shape] });
});

defineBatchRule([S.takeP, S.scatterAddP] as Any[], (prim, [v], _b, params) => {
  const p = params as unknown as S.TakeParams;
  return call(prim as Primitive<S.TakeParams>, [v!], { ...p, axis: p.axis + 1 });
});

// One number per example: the batch of them is a [size] tensor.
defineBatchRule([S.toNumberP] as Any[], (_prim, [v], _b, _params, size) => S.reshape(v!, [size]));
