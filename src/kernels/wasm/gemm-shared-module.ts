// The gemm module that two threads run over one shared memory (see ./threads.ts): the same
// generated kernels as ./gemm-module.ts, with gemm drivers that take the row strides of A, B and
// C (so one thread can compute a block of columns of C) and the transposes that turn an operand
// stored transposed into place. It imports a *shared* memory, which must declare a maximum.
import { SGEMM, DGEMM, gemmFunctions } from "./gemm-module.ts";
import { Func, assemble, block, br, brIf, f64, forRange, get, i32, loop, set, type Expr, type Local } from "./asm.ts";

/** The shared memory's maximum (2 GiB, as the single-thread arena: i32 addresses stay positive). */
export const SHARED_MAX_PAGES = 32768;

const c = i32.const;
const add = i32.add;
const inc = (l: Local, by: Expr): Expr => set(l, add(get(l), by));

/** t(src, dst, rows, cols): dst [rows, cols] = the transpose of src [cols, rows], both row-major;
 * four source rows at a time so each pass reads four streams and writes four adjacent values. */
function transposeFunc(es: 4 | 8, name: string): Func {
  const load = es === 4 ? i32.load : f64.load;
  const store = es === 4 ? i32.store : f64.store;
  const fn = new Func(name, ["i32", "i32", "i32", "i32"], []);
  const [src, dst, rows, cols] = fn.params as [Local, Local, Local, Local];
  const [lds, ldd, j, i, d] = [fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32")];
  const sp = Array.from({ length: 4 }, () => fn.local("i32"));
  const group = (w: number): Expr[] => [
    ...sp.slice(0, w).map((p, r) => set(p, add(get(src), i32.mul(add(get(j), c(r)), get(lds))))),
    set(d, add(get(dst), i32.mul(get(j), c(es)))),
    forRange(i, c(0), get(rows), 1, [
      ...sp.slice(0, w).map((p, r) => store(get(d), load(get(p)), r * es)),
      ...sp.slice(0, w).map((p) => inc(p, c(es))),
      inc(d, get(ldd)),
    ]),
    inc(j, c(w)),
  ];
  return fn.body(
    set(lds, i32.mul(get(rows), c(es))),
    set(ldd, i32.mul(get(cols), c(es))),
    set(j, c(0)),
    block((exit) => [loop((top) => [brIf(exit, i32.gtS(add(get(j), c(4)), get(cols))), ...group(4), br(top)])]),
    block((exit) => [loop((top) => [brIf(exit, i32.geS(get(j), get(cols))), ...group(1), br(top)])]),
  );
}

/**
 * Exports sgemm / dgemm (a, b, c, m, k, n, packA, packB, scratch, lda, ldb, ldc), all in bytes
 * but m, k, n, and t32 / t64; imports env.memory shared, up to SHARED_MAX_PAGES.
 */
export function sharedGemmModuleBytes(): Uint8Array {
  return assemble(
    [...gemmFunctions(SGEMM, "s", 0, true), ...gemmFunctions(DGEMM, "d", 4, true), transposeFunc(4, "t32"), transposeFunc(8, "t64")],
    { initial: 1, maximum: SHARED_MAX_PAGES, shared: true },
  );
}
