// The gemm module that two threads run over one shared memory (see ./threads.ts): the same
// generated kernels as ./gemm-module.ts, with gemm drivers that take the row strides of A, B and
// C (so one thread can compute a block of columns of C) and the transposes that turn an operand
// stored transposed into place. It imports a *shared* memory, which must declare a maximum.
import { DGEMM, gemmFunctions, sgemmShape } from "./gemm-module.ts";
import { transposeFunc } from "./gemv-module.ts";
import { assemble } from "./asm.ts";

/** The shared memory's maximum (2 GiB, as the single-thread arena: i32 addresses stay positive). */
export const SHARED_MAX_PAGES = 32768;

/**
 * Exports sgemm / dgemm (a, b, c, m, k, n, packA, packB, scratch, lda, ldb, ldc, overwrite), all in bytes
 * but m, k, n, and t32 / t64; imports env.memory shared, up to SHARED_MAX_PAGES.
 */
export function sharedGemmModuleBytes(): Uint8Array {
  return assemble(
    [...gemmFunctions(sgemmShape(), "s", 0, true), ...gemmFunctions(DGEMM, "d", 4, true), transposeFunc(4, "t32"), transposeFunc(8, "t64")],
    { initial: 1, maximum: SHARED_MAX_PAGES, shared: true },
  );
}
