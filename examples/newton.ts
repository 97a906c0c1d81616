// Newton's method with yieldiff: minimize the Rosenbrock function
//   f(x, y) = (1 - x)² + 100 (y - x²)²      (minimum 0 at (1, 1); error = |(x, y) - (1, 1)|)
// from the classic start (-1.2, 1). Each step solves H d = ∇f with the gradient from
// `valueAndGrad` and the Hessian from `hessian` (forward-over-reverse), then sets x ← x - d.
// Near the minimum the error roughly squares at every step: quadratic convergence.
//
// Run: npx tsx examples/newton.ts
import { run, valueAndGrad, hessian, sub, mul, square, take, add, sum, tensor, Tensor, type Value } from "../src/index.ts";

function* rosenbrock(v: Value) {
  const x = yield* take(v, [0]);
  const y = yield* take(v, [1]);
  const a = yield* square(yield* sub(1, x));
  const b = yield* mul(100, yield* square(yield* sub(y, yield* square(x))));
  return yield* sum(yield* add(a, b)); // a 0-d tensor
}

/** Solves A d = b for a small dense system (Gaussian elimination with partial pivoting). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const k = M[r]![c]! / M[c]![c]!;
      for (let j = c; j <= n; j++) M[r]![j]! -= k * M[c]![j]!;
    }
  }
  const d = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let j = r + 1; j < n; j++) s -= M[r]![j]! * d[j]!;
    d[r] = s / M[r]![r]!;
  }
  return d;
}

/** Newton's method on the Rosenbrock function from (-1.2, 1), printing each iterate. */
export function main(): void {
  const fmt = (z: number) => z.toExponential(3).padStart(10);
  let x = tensor([-1.2, 1]);
  const head = ["x", "y"].map((h) => h.padStart(19)).join(" ") + "  " + ["f(x, y)", "|grad f|", "error"].map((h) => h.padStart(10)).join(" ");
  console.log(`step  ${head}`);
  for (let step = 0; step <= 8; step++) {
    const [f, g] = run(valueAndGrad(rosenbrock), x) as [Tensor, Tensor];
    const [gx, gy] = g.toArray() as number[];
    const [px, py] = x.toArray() as number[];
    const error = Math.hypot(px! - 1, py! - 1);
    console.log(
      `${String(step).padStart(4)}  ${px!.toFixed(15).padStart(19)} ${py!.toFixed(15).padStart(19)}  ` +
        `${fmt(f.item())} ${fmt(Math.hypot(gx!, gy!))} ${fmt(error)}`,
    );
    if (Math.hypot(gx!, gy!) < 1e-12) break;
    const H = run(hessian(rosenbrock), x) as Tensor; // shape [2, 2]
    const d = solve(H.toArray() as number[][], [gx!, gy!]);
    x = tensor([px! - d[0]!, py! - d[1]!]);
  }
}

// Run directly (npx tsx examples/newton.ts) as well as through examples/run.ts.
if (import.meta.url === `file://${process.argv[1]}`) main();
