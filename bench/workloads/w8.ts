// W8: Hessian-vector product of the MLP loss (forward-over-reverse) divided by the time of
// the gradient of the same loss.
import { add, grad, jvp, logsumexp, matmul, mean, mul, relu, run, sub, sum, type Tensor } from "../../src/index.ts";
import { loadMlp } from "../data.ts";
import { time } from "../measure.ts";
import type { Row } from "../report.ts";

type Params = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor };

/** mean over the batch of logsumexp(z) − Σ z·onehot, z = relu(x W1 + b1) W2 + b2. */
function* loss(p: Params, x: Tensor, onehot: Tensor) {
  const h = yield* relu(yield* add(yield* matmul(x, p.W1), p.b1));
  const z = yield* add(yield* matmul(h, p.W2), p.b2);
  return yield* mean(yield* sub(yield* logsumexp(z, -1), yield* sum(yield* mul(z, onehot), -1)));
}

const maxRelError = (a: Params, b: Params): number =>
  Math.max(
    ...(["W1", "b1", "W2", "b2"] as const).map((k) => {
      const x = a[k].data;
      const y = b[k].data;
      let num = 0;
      let den = 0;
      for (let i = 0; i < x.length; i++) {
        num = Math.max(num, Math.abs(x[i]! - y[i]!));
        den = Math.max(den, Math.abs(y[i]!));
      }
      return num / den;
    }),
  );

export async function w8(): Promise<Row[]> {
  const d = loadMlp();
  const gradient = grad(loss);
  const hvp = function* (p: Params) {
    const [, tangent] = yield* jvp((q: Params) => gradient(q, d.x, d.onehot), [p], [d.direction]);
    return tangent as Params;
  };
  const value = run(loss, d.params, d.x, d.onehot) as Tensor;
  if (Math.abs(value.item() - d.lossReference) > 1e-4 * Math.abs(d.lossReference))
    throw new Error(`W8: loss ${value.item()} vs reference ${d.lossReference}`);
  const gErr = maxRelError(run(gradient, d.params, d.x, d.onehot) as Params, d.gradReference);
  const hErr = maxRelError(run(hvp, d.params), d.hvpReference);
  if (gErr > 1e-3 || hErr > 1e-3) throw new Error(`W8: gradient error ${gErr}, HVP error ${hErr} (relative to max)`);
  const t = await time({
    grad: () => run(gradient, d.params, d.x, d.onehot),
    hvp: () => run(hvp, d.params),
  });
  const ratio = t.hvp!.median / t.grad!.median;
  return [
    { workload: "W8", system: "yieldiff HVP / gradient", unit: "ratio", median: ratio, note: `HVP ${t.hvp!.median.toFixed(2)} ms, gradient ${t.grad!.median.toFixed(2)} ms; max rel. error vs PyTorch float64: gradient ${gErr.toExponential(1)}, HVP ${hErr.toExponential(1)}` },
  ];
}
