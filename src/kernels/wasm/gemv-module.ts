// Matrix-vector shaped products as WebAssembly, generated with ./asm.ts, in f32 (f32x4) and f64
// (f64x2): a separate module (the gemm module is near the 4 KB limit for synchronous compilation
// on a browser's main thread) that imports the same memory. Three kernels per precision, all
// overwriting y (the caller never copies C in), and a transposing copy:
//
// rows(x, b, y, m, k, n): y[i, :] = x[i, :] · B for each of the m rows of x on its own, B [k, n]
//   row-major: y[i, :] is zeroed, then y += x[i, p] * B[p, :] for p in order, so every element is
//   ((0 + x0 b0) + x1 b1) + ... in k order: bit for bit the sequential loop (and the JS kernel
//   for one row).
// outer(x, b, y, m, n): the k = 1 case of rows, y[i, :] = x[i] * b, without the zeroing.
// dots(x, b, y, m, k, n, s): y[i, j] = x[i, :] · Bs[j, :], Bs [n, k] row-major (B stored
//   transposed): dot products of contiguous rows, R rows of Bs per pass sharing each vector of x.
//   Each SIMD lane sums every L-th product and the lanes are added at the end, so this order
//   differs from the sequential one (f64 agrees to ~1e-12 relative, not bit for bit).
//
// Edges cost no scalar arithmetic (asm.ts has none): the last vector of a row of y (or of B) and
// the last R rows of Bs may run past n; the caller leaves slack after b and y, the rows are
// written in order (so an overrun into the next row is overwritten later), and lanes past n are
// never read back. Lanes past k in dots must be exact zeros (garbage * 0 could be NaN): x rows are
// zero-padded to a multiple of L by the caller, and the k tail of each Bs row is copied into a
// zeroed scratch vector before use.
import { Func, assemble, block, br, brIf, f32, f32x4, f64, f64x2, forRange, get, i32, loop, memory, set, v128, type Expr, type Local } from "./asm.ts";

export interface GemvShape {
  es: 4 | 8;
  /** Vectors of y updated per step in `rows` and `outer`. */
  nv: number;
  /** Rows of Bs per pass in `dots` (a multiple of the lane count). */
  r: number;
}

export const SGEMV: GemvShape = { es: 4, nv: 4, r: 4 };
export const DGEMV: GemvShape = { es: 8, nv: 4, r: 4 };

const lanesOf = (s: GemvShape): number => 16 / s.es;
/** Bytes of scratch `dots` needs: R accumulators, their transpose, R zero-padded tail vectors. */
export const gemvScratchBytes = (s: GemvShape): number => 3 * s.r * 16;
/** Elements per row of x for `dots`: k rounded up to whole vectors (the caller zero-pads). */
export const paddedK = (s: GemvShape, k: number): number => Math.ceil(k / lanesOf(s)) * lanesOf(s);
/** Bytes that may be read past the end of b (whole extra rows of Bs in `dots`). */
export const bSlackBytes = (s: GemvShape, k: number): number => s.r * k * s.es + 16;
/** Bytes that may be written past the end of y. */
export const ySlackBytes = (s: GemvShape): number => s.r * s.es + 16;

const c = i32.const;
const add = i32.add;
const inc = (l: Local, by: Expr): Expr => set(l, add(get(l), by));
/** do { body } while (counter -= 1) > 0 — for loops known to run at least once. */
const repeat = (counter: Local, body: Expr[]): Expr =>
  loop((top) => [...body, set(counter, i32.sub(get(counter), c(1))), brIf(top, i32.gtS(get(counter), c(0)))]);

function ops(s: GemvShape) {
  const f = s.es === 4;
  return {
    load: f ? f32.load : f64.load,
    store: f ? f32.store : f64.store,
    splat: f ? v128.load32Splat : v128.load64Splat,
    vadd: f ? f32x4.add : f64x2.add,
    vmul: f ? f32x4.mul : f64x2.mul,
  };
}

/**
 * rows(x, b, y, m, k, n): pointers in bytes, sizes in elements. Row by row of B: y (one row of C,
 * a few KB) stays in L1 while B streams once, in order. (Keeping strips of y in registers and
 * walking down columns of B instead was up to 1.5x slower once a strip's rows outgrew L1.)
 */
function rowsFunc(s: GemvShape, name: string): Func {
  const { es, nv: NV } = s;
  const { splat, vadd, vmul } = ops(s);
  const fn = new Func(name, ["i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [x, b, y, m, k, n] = fn.params as [Local, Local, Local, Local, Local, Local];
  const [ldb, jb, bp, yb, kk, a] = [fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("v128")];
  // y[jb ..] += a * B[p, jb ..] for w vectors.
  const axpy = (w: number): Expr[] => [
    set(yb, add(get(y), get(jb))),
    ...Array.from({ length: w }, (_, i) =>
      v128.store(get(yb), vadd(v128.load(get(yb), i * 16), vmul(get(a), v128.load(add(get(bp), get(jb)), i * 16))), i * 16),
    ),
    inc(jb, c(w * 16)),
  ];
  return fn.body(
    set(ldb, i32.mul(get(n), c(es))),
    block((done) => [
      brIf(done, i32.leS(get(m), c(0))),
      repeat(m, [
        memory.fill(get(y), c(0), add(get(ldb), c(16))),
        set(bp, get(b)),
        set(kk, get(k)),
        repeat(kk, [
          set(a, splat(get(x))),
          set(jb, c(0)),
          block((exit) => [loop((top) => [brIf(exit, i32.gtS(add(get(jb), c(NV * 16)), get(ldb))), ...axpy(NV), br(top)])]),
          block((exit) => [loop((top) => [brIf(exit, i32.geS(get(jb), get(ldb))), ...axpy(1), br(top)])]),
          inc(bp, get(ldb)),
          inc(x, c(es)),
        ]),
        inc(y, get(ldb)),
      ]),
    ]),
  );
}

/** outer(x, b, y, m, n): y[i, :] = 0 + x[i] * b[:] (k = 1) with no accumulator round trip: half
 * the time of rows with k = 1. The 0 + keeps -0 products +0, as in the JS kernel. */
function outerFunc(s: GemvShape, name: string): Func {
  const { es, nv: NV } = s;
  const { splat, vadd, vmul } = ops(s);
  const fn = new Func(name, ["i32", "i32", "i32", "i32", "i32"], []);
  const [x, b, y, m, n] = fn.params as [Local, Local, Local, Local, Local];
  const [ldb, jb, a] = [fn.local("i32"), fn.local("i32"), fn.local("v128")];
  const scale = (w: number): Expr[] =>
    Array.from({ length: w }, (_, i) => v128.store(add(get(y), get(jb)), vadd(v128.zero(), vmul(get(a), v128.load(add(get(b), get(jb)), i * 16))), i * 16));
  return fn.body(
    set(ldb, i32.mul(get(n), c(es))),
    block((done) => [
      brIf(done, i32.leS(get(m), c(0))),
      repeat(m, [
        set(a, splat(get(x))),
        set(jb, c(0)),
        block((exit) => [
          loop((top) => [brIf(exit, i32.gtS(add(get(jb), c(NV * 16)), get(ldb))), ...scale(NV), inc(jb, c(NV * 16)), br(top)]),
        ]),
        block((exit) => [loop((top) => [brIf(exit, i32.geS(get(jb), get(ldb))), ...scale(1), inc(jb, c(16)), br(top)])]),
        inc(x, c(es)),
        inc(y, get(ldb)),
      ]),
    ]),
  );
}

/** dots(x, b, y, m, k, n, scratch): pointers in bytes, sizes in elements. */
function dotsFunc(s: GemvShape, name: string): Func {
  const { es, r: R } = s;
  const L = lanesOf(s);
  const { load, store, vadd, vmul } = ops(s);
  const fn = new Func(name, ["i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [x, b, y, m, k, n, sc] = fn.params as [Local, Local, Local, Local, Local, Local, Local];
  const [ldb, ldx, kv, tb, j, bj, yj, q, l, xv] = [
    fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"),
    fn.local("i32"), fn.local("i32"), fn.local("v128"),
  ];
  const rowp = Array.from({ length: R }, () => fn.local("i32"));
  const acc = Array.from({ length: R }, () => fn.local("v128"));
  const S = 0, T = R * 16, TAIL = 2 * R * 16; // scratch regions (byte offsets from sc)
  const fma = (v: Local, bv: Expr): Expr => set(v, vadd(get(v), vmul(get(xv), bv)));
  // acc r lane l -> T[l][r], then y[j + r] = sum over l of T[l][r], L lanes added in order.
  const reduce: Expr[] = [
    ...acc.map((v, r) => v128.store(get(sc), get(v), S + r * 16)),
    ...acc.flatMap((_, r) => Array.from({ length: L }, (_, ln) => store(get(sc), load(get(sc), S + r * 16 + ln * es), T + (ln * R + r) * es))),
    ...Array.from({ length: R / L }, (_, v) => {
      let sum = v128.load(get(sc), T + v * 16);
      for (let ln = 1; ln < L; ln++) sum = vadd(sum, v128.load(get(sc), T + ln * R * es + v * 16));
      return v128.store(get(yj), sum, v * 16);
    }),
  ];
  return fn.body(
    set(ldb, i32.mul(get(k), c(es))),
    set(ldx, i32.mul(i32.and(add(get(k), c(L - 1)), c(-L)), c(es))),
    set(kv, i32.mul(i32.and(get(k), c(-L)), c(es))),
    set(tb, i32.sub(get(ldb), get(kv))),
    memory.fill(add(get(sc), c(TAIL)), c(0), c(R * 16)),
    block((done) => [
      brIf(done, i32.leS(get(m), c(0))),
      repeat(m, [
        forRange(j, c(0), get(n), R, [
          set(bj, add(get(b), i32.mul(get(j), get(ldb)))),
          set(yj, add(get(y), i32.mul(get(j), c(es)))),
          ...rowp.map((p, r) => set(p, r === 0 ? get(bj) : add(get(rowp[r - 1]!), get(ldb)))),
          ...acc.map((v) => set(v, v128.zero())),
          forRange(q, c(0), get(kv), 16, [
            set(xv, v128.load(add(get(x), get(q)))),
            ...acc.map((v, r) => fma(v, v128.load(add(get(rowp[r]!), get(q))))),
          ]),
          // The k tail: copy each row's last k % L elements into a zeroed vector.
          block((skip) => [
            brIf(skip, i32.eqz(get(tb))),
            ...rowp.map((p, r) =>
              forRange(l, c(0), get(tb), es, [store(add(get(sc), get(l)), load(add(get(p), add(get(kv), get(l)))), TAIL + r * 16)]),
            ),
            set(xv, v128.load(add(get(x), get(kv)))),
            ...acc.map((v, r) => fma(v, v128.load(get(sc), TAIL + r * 16))),
          ]),
          ...reduce,
        ]),
        inc(x, get(ldx)),
        inc(y, i32.mul(get(n), c(es))),
      ]),
    ]),
  );
}

/**
 * transpose(src, dst, rows, cols): dst[i, j] = src[j, i], src [cols, rows] row-major: how the
 * blocked gemm gets a transposed operand (a JS element loop costs ~2 ns per element, this a
 * fraction of that). Four source rows stream side by side into 4-element runs of dst. Plain bit
 * moves (i32 / f64 loads and stores keep every NaN payload).
 */
export function transposeFunc(es: 4 | 8, name: string): Func {
  const load = es === 4 ? i32.load : f64.load;
  const store = es === 4 ? i32.store : f64.store;
  const fn = new Func(name, ["i32", "i32", "i32", "i32"], []);
  const [src, dst, rows, cols] = fn.params as [Local, Local, Local, Local];
  const [lds, ldd, j, i, d] = [fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32")];
  const sp = Array.from({ length: 4 }, () => fn.local("i32"));
  // Columns [j, j + w) of dst, all rows.
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

/** Exports srows, sdots, souter, drows, ddots, douter, t32, t64; imports env.memory. */
export function gemvModuleBytes(s: GemvShape = SGEMV, d: GemvShape = DGEMV): Uint8Array {
  return assemble([
    rowsFunc(s, "srows"), dotsFunc(s, "sdots"), outerFunc(s, "souter"), rowsFunc(d, "drows"), dotsFunc(d, "ddots"), outerFunc(d, "douter"),
    transposeFunc(4, "t32"), transposeFunc(8, "t64"),
  ], { initial: 1 });
}
