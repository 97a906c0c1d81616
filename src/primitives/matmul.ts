// Batched matrix product of operands of rank >= 2 (batch dims broadcast). Either operand may be
// read transposed (its last two axes swapped) without a copy: the backward rules use that
// instead of materializing transposes. The 1-d cases of the public `matmul` reshape around it.
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { checkMatmul, matmulKernel } from "../kernels/matmul.ts";
import { promote, type Tensor } from "../tensor/tensor.ts";
import { tensorOf } from "./abstract.ts";
import { add } from "./binary.ts";
import { sumTo } from "./reduce.ts";
import { reshape } from "./shape.ts";
import { aligned } from "./batching.ts";

export interface MatmulParams {
  /** Read the first operand with its last two axes swapped. */
  readonly transA: boolean;
  /** Read the second operand with its last two axes swapped. */
  readonly transB: boolean;
}

const PLAIN: MatmulParams = Object.freeze({ transA: false, transB: false });

export const matmulP = definePrimitive<MatmulParams>({
  name: "matmul",
  capabilities: { contraction: (p) => p },
  abstractEval: ([a, b], p) => tensorOf(checkMatmul(a!, b!, p.transA, p.transB), promote(a!.dtype, b!.dtype)),
  impl: (args, p) => matmulKernel(args[0] as Tensor, args[1] as Tensor, p.transA, p.transB),
  jvp: ([a, b], [ta, tb], _out, p) => {
    const left = ta === null ? null : matmul2(ta!, b!, p.transA, p.transB);
    const right = tb === null ? null : matmul2(a!, tb!, p.transA, p.transB);
    return left === null ? right : right === null ? left : add(left, right);
  },
  // With X = op(A), Y = op(B): X̄ = C̄ Yᵀ and Ȳ = Xᵀ C̄; an operand read transposed gets the
  // transpose of its view's cotangent, which is again one product with flags.
  vjp: (ct, [a, b], _out, p, wanted) => [
    wanted[0]
      ? sumTo(p.transA ? matmul2(b!, ct, p.transB, true) : matmul2(ct, b!, false, !p.transB), shapeOf(a!))
      : null,
    wanted[1]
      ? sumTo(p.transB ? matmul2(ct, a!, true, p.transA) : matmul2(a!, ct, !p.transA, false), shapeOf(b!))
      : null,
  ],
  // A batch of rows times one shared matrix (a dense layer under vmap) is one product of all
  // the rows; otherwise the batch is one more broadcast axis.
  batch: ([a, b], batched, p): Value => {
    const as = shapeOf(a!);
    if (!batched[0] || batched[1] || p.transA || shapeOf(b!).length !== 2) return aligned(matmulP, [a!, b!], batched, p);
    const rows = as.slice(0, -1);
    const out = matmul2(reshape(a!, [rows.reduce((x, y) => x * y, 1), as[as.length - 1]!]), b!, false, p.transB);
    return reshape(out, [...rows, shapeOf(out)[1]!]);
  },
});

export const matmul2 = (a: Value, b: Value, transA = false, transB = false): Value =>
  bind(matmulP, [a, b], transA || transB ? { transA, transB } : PLAIN);
