// The packed yieldiff as a new user runs it: plain JavaScript, no TypeScript loader, imported by
// package name. scripts/test-package.mjs installs the tarball into a fresh project and runs this
// file there with Node 20, 22, 24, 26, Bun and Deno. Each check compares values; the last line
// says how many passed.
import { Effect } from "effect";
import {
  add, decodeCheckpoint, encodeCheckpoint, grad, hessian, jit, matmul, mean, mul, randn, relu, run, sin, square, sub, sum,
  Tensor, tensor, valueAndGrad, vmap, wasmUnavailableReason,
} from "yieldiff";
import { runEffect } from "yieldiff/effect";
import { loadCheckpoint, saveCheckpoint } from "yieldiff/node";

const results = [];
const check = (name, ok, detail = "") => {
  results.push(ok);
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok || !detail ? "" : `: ${detail}`}`);
};
const num = (v) => (v instanceof Tensor ? v.item() : v);
const close = (a, b, tol) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
const allClose = (xs, ys, tol) => xs.length === ys.length && xs.every((x, i) => close(x, ys[i], tol));

// grad and grad∘grad of a scalar function: f(x) = x³ + sin x.
function* f(x) {
  return yield* add(yield* mul(x, yield* mul(x, x)), yield* sin(x));
}
const x0 = 1.5;
const g1 = run(grad(f), x0);
const g2 = run(grad(grad(f)), x0);
check("grad of x³ + sin x is 3x² + cos x", typeof g1 === "number" && close(g1, 3 * x0 * x0 + Math.cos(x0), 1e-12), String(g1));
check("grad∘grad of x³ + sin x is 6x − sin x", typeof g2 === "number" && close(g2, 6 * x0 - Math.sin(x0), 1e-12), String(g2));

// jit(valueAndGrad) of a small MLP's loss: the value against plain JavaScript, the gradient against eager mode.
const params = { W1: randn([4, 8], { seed: 1 }), b1: randn([8], { seed: 2 }), W2: randn([8, 1], { seed: 3 }) };
const X = randn([16, 4], { seed: 4 });
const Y = randn([16, 1], { seed: 5 });
function* mlpLoss(p, x, y) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  return yield* mean(yield* square(yield* sub(yield* matmul(h, p.W2), y)));
}
const plainLoss = (() => {
  const [W1, b1, W2, x, y] = [params.W1.toArray(), params.b1.toArray(), params.W2.toArray(), X.toArray(), Y.toArray()];
  let total = 0;
  for (let n = 0; n < 16; n++) {
    let out = 0;
    for (let j = 0; j < 8; j++) {
      let h = b1[j];
      for (let i = 0; i < 4; i++) h += x[n][i] * W1[i][j];
      out += Math.max(h, 0) * W2[j][0];
    }
    total += (out - y[n][0]) ** 2;
  }
  return total / 16;
})();
const step = jit(valueAndGrad(mlpLoss));
const [lossJitT, gradsJit] = run(step, params, X, Y);
const lossJit = num(lossJitT);
const [, gradsEager] = run(valueAndGrad(mlpLoss), params, X, Y);
check("jit(valueAndGrad) of an MLP loss: the value", close(lossJit, plainLoss, 1e-12), `${lossJit} vs ${plainLoss}`);
check(
  "jit(valueAndGrad) of an MLP loss: the gradient is eager mode's",
  ["W1", "b1", "W2"].every((k) => gradsJit[k] instanceof Tensor && allClose(Array.from(gradsJit[k].data), Array.from(gradsEager[k].data), 1e-12)),
);
const X2 = randn([16, 4], { seed: 9 });
const [lossJit2] = run(step, params, X2, Y);
const [lossEager2] = run(valueAndGrad(mlpLoss), params, X2, Y);
check("jit(valueAndGrad) on new data: eager mode's value", close(num(lossJit2), num(lossEager2), 1e-12) && !close(num(lossJit2), lossJit, 1e-6));

// vmap: a per-row program over a batch gives the rows' results stacked.
function* rowNorm(v) {
  return yield* sum(yield* square(v));
}
const rows = randn([5, 3], { seed: 6 });
const batched = run(vmap(rowNorm), rows);
const expected = rows.toArray().map((r) => r.reduce((a, v) => a + v * v, 0));
check("vmap of a row program", batched instanceof Tensor && allClose(Array.from(batched.data), expected, 1e-12), String(batched.toArray()));

// hessian of Σ x³ is diag(6x).
function* cubes(v) {
  return yield* sum(yield* mul(v, yield* mul(v, v)));
}
const hx = tensor([1, -2, 0.5]);
const H = run(hessian(cubes), hx);
const Hexp = [6, 0, 0, 0, -12, 0, 0, 0, 3];
check("hessian of Σx³ is diag(6x)", H instanceof Tensor && H.shape.join() === "3,3" && allClose(Array.from(H.data), Hexp, 1e-12), String(H.toArray()));

// A 256×256 float32 product through the WebAssembly kernels, against a float64 triple loop.
const A = randn([256, 256], { seed: 7, dtype: "float32" });
const B = randn([256, 256], { seed: 8, dtype: "float32" });
const C = run(function* () {
  return yield* matmul(A, B);
});
const [a, b] = [A.data, B.data];
let worst = 0;
for (const [i, j] of [[0, 0], [17, 200], [128, 5], [255, 255], [99, 42]]) {
  let s = 0;
  for (let k = 0; k < 256; k++) s += a[i * 256 + k] * b[k * 256 + j];
  worst = Math.max(worst, Math.abs(C.data[i * 256 + j] - s));
}
check("256×256 float32 matmul", C.dtype === "float32" && worst < 1e-3, `max error ${worst}`);
check("the matmul ran in WebAssembly", wasmUnavailableReason() === undefined, wasmUnavailableReason());

// A checkpoint round trip in bytes, and through a file (yieldiff/node).
const tree = { params, step: 12, list: [tensor([1, 2, 3], { dtype: "float32" })] };
const bytes = encodeCheckpoint(tree);
const back = decodeCheckpoint(bytes, { like: tree });
const sameTree = (p, q) =>
  p.step === q.step &&
  ["W1", "b1", "W2"].every((k) => q.params[k].shape.join() === p.params[k].shape.join() && Array.from(q.params[k].data).join() === Array.from(p.params[k].data).join()) &&
  q.list[0].dtype === "float32" && Array.from(q.list[0].data).join() === "1,2,3";
check("checkpoint bytes round trip", bytes instanceof Uint8Array && sameTree(tree, back));
const { mkdtempSync, rmSync } = await import("node:fs");
const { tmpdir } = await import("node:os");
const { join } = await import("node:path");
const dir = mkdtempSync(join(tmpdir(), "yieldiff-smoke-"));
try {
  saveCheckpoint(join(dir, "p.ckpt"), tree);
  check("checkpoint file round trip (yieldiff/node)", sameTree(tree, loadCheckpoint(join(dir, "p.ckpt"), { like: tree })));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// yieldiff/effect: a program as an Effect.
const viaEffect = await Effect.runPromise(runEffect(grad(f), x0));
check("yieldiff/effect runEffect", close(viaEffect, g1, 0), String(viaEffect));

const failed = results.filter((ok) => !ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
if (failed > 0) process.exitCode = 1;
