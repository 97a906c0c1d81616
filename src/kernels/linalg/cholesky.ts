// Cholesky factorization A = L Lᵀ of symmetric positive-definite matrices, row by row
// (Cholesky–Banachiewicz), in float64. The kernel factors the symmetric part (A + Aᵀ)/2, so
// the function it computes is defined, and differentiable, for every input near a
// positive-definite one (the derivative rules assume exactly this).
import { ValueError, fmt } from "../../errors.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { checkSquare, countOf, output, readMatrix, writeAt } from "./matrices.ts";

export const checkCholesky = (shape: readonly number[]): readonly number[] => {
  checkSquare("linalg.cholesky", shape);
  return shape;
};

export const choleskyKernel = (a: Tensor): Tensor => {
  const n = checkSquare("linalg.cholesky", a.shape);
  const out = output(a.shape, a.dtype);
  const count = countOf(a.shape);
  for (let b = 0; b < count; b++) {
    const m = readMatrix(a, b, n, n);
    const l = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = (m[i * n + j]! + m[j * n + i]!) / 2;
        for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
        if (i === j) {
          if (!(s > 0)) throw notPositiveDefinite(a.shape, b, i, s);
          l[i * n + i] = Math.sqrt(s);
        } else {
          l[i * n + j] = s / l[j * n + j]!;
        }
      }
    }
    writeAt(out, b, n * n, l);
  }
  return out;
};

const notPositiveDefinite = (shape: readonly number[], b: number, i: number, pivot: number): ValueError =>
  new ValueError(
    `linalg.cholesky: the matrix ${shape.length > 2 ? `at batch index ${b} of the stack ${fmt(shape)} ` : `of shape ${fmt(shape)} `}` +
      `is not positive definite (the pivot of row ${i} is ${pivot}, not > 0); cholesky needs a symmetric ` +
      "positive-definite matrix (of its symmetric part (a + aᵀ)/2 it factors). For a covariance that is only " +
      "semi-definite add a small multiple of the identity (a + εI); for a general matrix use linalg.solve, linalg.qr or linalg.eigh",
  );
