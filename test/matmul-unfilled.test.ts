// The WebAssembly matmul writes its result into a buffer that is not zero-filled first
// (allocateUnfilled: on Node and Bun, memory as it was). That is right only if every path writes
// every element: here unfilled buffers start as NaN, and each path's result must equal a plain
// triple loop, element for element.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { matmulKernel } from "../src/kernels/matmul.ts";
import { Tensor, allocate, allocateUnfilled, unfilled, type DType } from "../src/tensor/tensor.ts";
import { Random } from "../src/tensor/random.ts";
import { setMatmulThreads, matmulThreadsUnavailableReason } from "../src/index.ts";
import { threadSettings } from "../src/kernels/wasm/threads.ts";

const rand = (shape: number[], dtype: DType, seed: number): Tensor => {
  const r = new Random(seed);
  const buf = allocate(dtype, shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() * 2 - 1;
  return new Tensor(buf, shape);
};

/** C = op(A) op(B) by a triple loop in double, for 2-d operands. */
const reference = (a: Tensor, b: Tensor, transA: boolean, transB: boolean): number[] => {
  const [ar, ac] = a.shape as [number, number];
  const [br, bc] = b.shape as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const n = transB ? br : bc;
  const A = (i: number, p: number): number => a.buf[transA ? p * ac + i : i * ac + p]!;
  const B = (p: number, j: number): number => b.buf[transB ? j * bc + p : p * bc + j]!;
  const out: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
      out.push(s);
    }
  return out;
};

const expectProduct = (a: Tensor, b: Tensor, transA = false, transB = false): void => {
  const c = matmulKernel(a, b, transA, transB);
  const want = reference(a, b, transA, transB);
  expect(c.size).toBe(want.length);
  const tol = c.dtype === "float32" ? 1e-4 : 1e-12;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const got = c.buf[i]!;
    expect(Number.isNaN(got), `element ${i} was never written`).toBe(false);
    worst = Math.max(worst, Math.abs(got - want[i]!));
  }
  expect(worst).toBeLessThan(tol);
};

describe("matmul into an unfilled buffer", () => {
  beforeEach(() => {
    unfilled.poison = true;
  });
  afterEach(() => {
    unfilled.poison = false;
  });

  it("poisoned buffers do start as NaN (else this file tests nothing)", () => {
    expect(Number.isNaN(allocateUnfilled("float32", 4)[3]!)).toBe(true);
    expect(Number.isNaN(allocateUnfilled("float64", 1 << 15)[1 << 14]!)).toBe(true);
  });

  for (const dtype of ["float32", "float64"] as const) {
    describe(dtype, () => {
      it("blocked gemm, odd sizes (edge tiles)", () => expectProduct(rand([37, 29], dtype, 1), rand([29, 45], dtype, 2)));
      it("blocked gemm, A stored transposed (a weight gradient's xᵀ)", () => expectProduct(rand([29, 37], dtype, 3), rand([29, 45], dtype, 4), true));
      it("blocked gemm, B stored transposed", () => expectProduct(rand([37, 29], dtype, 5), rand([45, 29], dtype, 6), false, true));
      it("gemv rows kernel (few rows)", () => expectProduct(rand([3, 40], dtype, 7), rand([40, 33], dtype, 8)));
      it("gemv dots kernel (few rows, B transposed)", () => expectProduct(rand([2, 41], dtype, 9), rand([35, 41], dtype, 10), false, true));
      it("outer product (k = 1)", () => expectProduct(rand([50, 1], dtype, 11), rand([1, 23], dtype, 12)));
      it("matrix times column (n = 1)", () => expectProduct(rand([50, 31], dtype, 13), rand([31, 1], dtype, 14)));
      it("a result of more than 64 KB (memory not zero-filled where the runtime allows)", () =>
        expectProduct(rand([96, 24], dtype, 15), rand([24, 200], dtype, 16)));
      it("batched with a broadcast operand", () => {
        const a = rand([3, 9, 7], dtype, 17);
        const b = rand([7, 11], dtype, 18);
        const c = matmulKernel(a, b);
        for (let t = 0; t < 3; t++) {
          const at = new Tensor(a.buf.slice(t * 63, (t + 1) * 63), [9, 7]);
          const want = reference(at, b, false, false);
          want.forEach((w, i) => expect(Math.abs(c.buf[t * 99 + i]! - w)).toBeLessThan(dtype === "float32" ? 1e-4 : 1e-12));
        }
      });
    });
  }

  it("split across two threads", () => {
    setMatmulThreads(2);
    const was = threadSettings.minFlops;
    threadSettings.minFlops = 0;
    try {
      if (matmulThreadsUnavailableReason() === undefined) expectProduct(rand([40, 33], "float32", 19), rand([33, 27], "float32", 20));
    } finally {
      threadSettings.minFlops = was;
      setMatmulThreads(1);
    }
  });
});
