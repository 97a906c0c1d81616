// Triangular solve op(A) X = B by substitution, for stacks of matrices with the same leading
// axes: A [..., n, n] (only its lower or upper triangle is read; with a unit diagonal, not the
// diagonal either), B [..., n, k]. A zero on the diagonal means a singular system: an error,
// as NumPy's LinAlgError, instead of infinities.
import { ShapeError, ValueError, fmt } from "../../errors.ts";
import { sameShape } from "../../tensor/shape.ts";
import { promote, type Tensor } from "../../tensor/tensor.ts";
import { batchOf, checkMatrix, checkSquare, countOf, output, readMatrix, writeAt } from "./matrices.ts";

export interface TriangularSolveParams {
  /** A is lower triangular (else upper). */
  readonly lower: boolean;
  /** Solve Aᵀ X = B instead of A X = B. */
  readonly transposeA: boolean;
  /** A's diagonal is taken as ones and not read (the L of an LU factorization). */
  readonly unitDiagonal: boolean;
  /**
   * The operation whose matrix A is the U of an LU factorization (linalg.solve, linalg.inv, the
   * derivative of linalg.det): a zero on A's diagonal then means that operation's matrix is
   * singular, and the error says so in its name.
   */
  readonly factorOf?: string;
}

const OP = "linalg.triangularSolve";

/** The shape of X: B's, once A [..., n, n] and B [..., n, k] are checked to fit. */
export const checkTriangularSolve = (as: readonly number[], bs: readonly number[]): readonly number[] => {
  const n = checkSquare(OP, as, "matrix a");
  const [rows] = checkMatrix(OP, bs, "right-hand side b");
  if (rows !== n || !sameShape(batchOf(as), batchOf(bs)))
    throw new ShapeError(
      `${OP}: a of shape ${fmt(as)} and b of shape ${fmt(bs)} do not fit: b must be [..., ${n}, k] with a's leading axes ` +
        `[${batchOf(as).join(", ")}] (solving a [${n}, ${n}] system for k right-hand sides)`,
    );
  return bs;
};

export const triangularSolveKernel = (a: Tensor, b: Tensor, p: TriangularSolveParams): Tensor => {
  checkTriangularSolve(a.shape, b.shape);
  const n = a.shape[a.shape.length - 1]!;
  const k = b.shape[b.shape.length - 1]!;
  const out = output(b.shape, promote(a.dtype, b.dtype));
  const count = countOf(a.shape);
  // op(A) is lower triangular when A is lower and not transposed, or upper and transposed.
  const forward = p.lower !== p.transposeA;
  for (let m = 0; m < count; m++) {
    const am = readMatrix(a, m, n, n);
    const x = readMatrix(b, m, n, k);
    // Entry (i, j) of op(A).
    const at = p.transposeA ? (i: number, j: number) => am[j * n + i]! : (i: number, j: number) => am[i * n + j]!;
    if (!p.unitDiagonal)
      for (let i = 0; i < n; i++) if (am[i * n + i] === 0) throw singular(a.shape, m, i, p.factorOf);
    for (let step = 0; step < n; step++) {
      const i = forward ? step : n - 1 - step;
      const d = p.unitDiagonal ? 1 : at(i, i);
      const from = forward ? 0 : i + 1;
      const to = forward ? i : n;
      for (let c = 0; c < k; c++) {
        let s = x[i * k + c]!;
        for (let j = from; j < to; j++) s -= at(i, j) * x[j * k + c]!;
        x[i * k + c] = s / d;
      }
    }
    writeAt(out, m, n * k, x);
  }
  return out;
};

const singular = (shape: readonly number[], m: number, i: number, factorOf: string | undefined): ValueError => {
  const which = shape.length > 2 ? `at batch index ${m} of the stack ${fmt(shape)}` : `of shape ${fmt(shape)}`;
  const fix = "check the matrix, or regularize it (a + εI), or use linalg.svd for a least-squares solution";
  return new ValueError(
    factorOf === undefined
      ? `${OP}: the triangular matrix ${which} has a zero on its diagonal (row ${i}), so it is singular and the system has ` +
          `no unique solution (NumPy raises LinAlgError here): ${fix}`
      : `${factorOf}: the matrix ${which} is singular (its LU factorization with partial pivoting has a zero pivot in ` +
          `row ${i}), so it has no inverse (NumPy raises LinAlgError here): ${fix}`,
  );
};
