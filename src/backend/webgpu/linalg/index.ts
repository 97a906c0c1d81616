// The linear-algebra kernels on the GPU, one module per algorithm (see ./common.ts for the design).
export { cholesky } from "./cholesky.ts";
export { triangularSolve } from "./triangular-solve.ts";
export { lu } from "./lu.ts";
export { qr } from "./qr.ts";
export { eigh } from "./eigh.ts";
export { svd } from "./svd.ts";
