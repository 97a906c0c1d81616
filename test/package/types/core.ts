// A TypeScript user of yieldiff and yieldiff/node, type-checked against the packed declarations
// by scripts/package/types.mjs under strict settings, with and without @types/node and the DOM
// library. Result types follow inputs; a regression fails the check.
import { grad, hessian, jit, matmul, mean, mul, randn, relu, run, sin, square, sub, sum, tensor, valueAndGrad, vmap, add, encodeCheckpoint, decodeCheckpoint } from "yieldiff";
import type { Tensor, Value } from "yieldiff";
import { loadCheckpoint, saveCheckpoint, writeSvg } from "yieldiff/node";
import type { Equal, Expect } from "./assert.ts";

function* f(x: number) {
  return yield* add(yield* mul(x, yield* mul(x, x)), yield* sin(x));
}
const g: number = run(grad(f), 1.5);
const gg: number = run(grad(grad(f)), 1.5);
const h: number = run(hessian(f), 1.5);

type Params = { W1: Tensor; b1: Tensor; W2: Tensor };
function* loss(p: Params, x: Tensor, y: Tensor) {
  const hidden = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  return yield* mean(yield* square(yield* sub(yield* matmul(hidden, p.W2), y)));
}
const params: Params = { W1: randn([4, 8], { seed: 1 }), b1: randn([8], { seed: 2 }), W2: randn([8, 1], { seed: 3 }) };
const [lossValue, grads] = run(jit(valueAndGrad(loss)), params, randn([16, 4]), randn([16, 1]));
const [gx, gp] = run(grad(loss, { argnums: [1, 0] }), params, randn([16, 4]), randn([16, 1]));

function* rowNorm(v: Tensor) {
  return yield* sum(yield* square(v));
}
const norms = run(vmap(rowNorm), randn([5, 3]));
const hess = run(hessian(rowNorm), tensor([1, 2]));

const bytes: Uint8Array = encodeCheckpoint(params);
const back = decodeCheckpoint<Params>(bytes, { like: params });
saveCheckpoint("params.ckpt", params);
const loaded = loadCheckpoint<Params>("params.ckpt", { like: params });
const svgPath: string = writeSvg("curve.svg", "<svg/>");

function* traced(v: Value) {
  return yield* sin(v);
}

export type Checks = [
  Expect<Equal<typeof g, number>>,
  Expect<Equal<typeof gg, number>>,
  Expect<Equal<typeof h, number>>,
  Expect<Equal<typeof lossValue, Tensor>>,
  Expect<Equal<typeof grads, Params>>,
  Expect<Equal<typeof gx, Tensor>>,
  Expect<Equal<typeof gp, Params>>,
  Expect<Equal<typeof norms, Tensor>>,
  Expect<Equal<typeof hess, Tensor>>,
  Expect<Equal<typeof back, Params>>,
  Expect<Equal<typeof loaded, Params>>,
  Expect<Equal<ReturnType<typeof run<[Value], Value>>, Value>>,
];
export const used = [svgPath, traced] as const;
