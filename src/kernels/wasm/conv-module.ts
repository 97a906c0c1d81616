// The data movement around the convolution products, as WebAssembly generated with ./asm.ts,
// in f32 and f64: the JS loops cost ~2 ns per element, these a fraction of that. A module of its
// own over the gemm's memory (registered by ../conv.ts), so im2col's output feeds the gemm in
// place and nothing is copied out between the steps. Pointers in bytes, sizes in elements.
//
// im2col(x, col, g):   col[(c, ki, kj), (i, j)] = x[c, i*sh - ph + ki*dh, j*sw - pw + kj*dw], zero
//                      in the padding (ph, pw: the top and left padding; the bottom and right
//                      padding only shows in OH and OW). With stride 1 the rows move as whole vectors, which may
//                      overrun a row by up to one vector: rows are written in order (the next row
//                      overwrites it) and the caller leaves 16 bytes of slack after col and x.
// col2im(col, dx, g):  the adjoint, dx[...] += col[...], in the JS kernel's order (c, ki, kj, i, j),
//                      so each element of dx sees the same additions in the same order. Exact
//                      tails: an overrun here would add into real elements.
// transpose(src, dst, rows, cols, lds, ldd): dst[j, r] = src[r, j] (r < rows, j < cols), row
//                      strides lds and ldd in elements (padded rows for the gemm's tiles).
//
// g points at the geometry as 13 i32s in memory: C, H, W, KH, KW, sh, sw, ph, pw, OH, OW, dh, dw.
import { Func, assemble, block, br, brIf, f32, f32x4, f64, f64x2, forRange, get, i32, if_, loop, memory, set, v128, type Expr, type Local } from "./asm.ts";

const c = i32.const;
const add = i32.add;
const mul = i32.mul;
const inc = (l: Local, by: Expr): Expr => set(l, add(get(l), by));

/** Scalar instructions asm.ts leaves out, emitted by opcode. */
const raw = (opcode: number, ...args: Expr[]): Expr => (f) => {
  for (const a of args) a(f);
  f.emit(opcode);
};
export const scalar = {
  /** f32.add / f64.add */
  add: (es: 4 | 8, a: Expr, b: Expr): Expr => raw(es === 4 ? 0x92 : 0xa0, a, b),
  /** f32.gt / f64.gt */
  gt: (es: 4 | 8, a: Expr, b: Expr): Expr => raw(es === 4 ? 0x5e : 0x64, a, b),
  /** f32.ne / f64.ne (x != x: NaN) */
  ne: (es: 4 | 8, a: Expr, b: Expr): Expr => raw(es === 4 ? 0x5c : 0x62, a, b),
  /** f32.eq / f64.eq */
  eq: (es: 4 | 8, a: Expr, b: Expr): Expr => raw(es === 4 ? 0x5b : 0x61, a, b),
  or: (a: Expr, b: Expr): Expr => raw(0x72, a, b),
};

/** Number of i32 fields in the geometry block. */
export const GEO_FIELDS = 13;

interface Geo {
  C: Local; H: Local; W: Local; KH: Local; KW: Local; sh: Local; sw: Local; ph: Local; pw: Local; OH: Local; OW: Local; dh: Local; dw: Local;
}

function loadGeo(fn: Func, g: Local): { geo: Geo; init: Expr[] } {
  const names = ["C", "H", "W", "KH", "KW", "sh", "sw", "ph", "pw", "OH", "OW", "dh", "dw"] as const;
  const locals = names.map(() => fn.local("i32"));
  const geo = Object.fromEntries(names.map((n, i) => [n, locals[i]!])) as unknown as Geo;
  return { geo, init: locals.map((l, i) => set(l, i32.load(get(g), i * 4))) };
}

/**
 * The loops both kernels share: for each row r = (c, ki, kj) of col, the output columns [lo, hi)
 * whose input column lies inside the image and the output rows [iLo, iHi) whose input row does
 * (bounds found once per r, not per element or row). `inside` runs per output row in [iLo, iHi)
 * with rowp = the col row's start and srcp = the byte address of x[c, ih, -pw + kj*dw] (only ever
 * read at columns lo .. hi); `padRows(at, rows)` for the runs of output rows before iLo and
 * after iHi, which read padding only (contiguous in col).
 */
function walk(
  fn: Func, es: 4 | 8, g: Geo, colp: Local, xp: Local,
  body: (v: { lo: Local; hi: Local; rowp: Local; srcp: Local }) => { inside: Expr[]; padRows: (at: Expr, rows: Expr) => Expr[] },
): Expr {
  const [cc, ki, kj, i, iLo, iHi, lo, hi, rowp, srcp, plane, ldo, lds, blk] = Array.from({ length: 14 }, () => fn.local("i32"));
  const { inside, padRows } = body({ lo, hi, rowp, srcp });
  const colOf = (j: Expr): Expr => add(i32.sub(mul(j, get(g.sw)), get(g.pw)), mul(get(kj), get(g.dw)));
  const rowOf = (r: Expr): Expr => add(i32.sub(mul(r, get(g.sh)), get(g.ph)), mul(get(ki), get(g.dh)));
  /** first v in [0, n) with ok(v) false -> from; then back from n while bad (bounds of a run). */
  const bounds = (l: Local, h: Local, n: Local, pos: (v: Expr) => Expr, size: Local): Expr[] => [
    set(l, c(0)),
    block((x) => [loop((t) => [brIf(x, i32.geS(get(l), get(n))), brIf(x, i32.geS(pos(get(l)), c(0))), inc(l, c(1)), br(t)])]),
    set(h, get(n)),
    block((x) => [loop((t) => [brIf(x, i32.leS(get(h), get(l))), brIf(x, i32.ltS(pos(i32.sub(get(h), c(1))), get(size))), set(h, i32.sub(get(h), c(1))), br(t)])]),
  ];
  return seq(
    set(blk, get(colp)),
    set(ldo, mul(get(g.OW), c(es))),
    set(lds, mul(mul(get(g.W), get(g.sh)), c(es))),
    forRange(cc, c(0), get(g.C), 1, [
      set(plane, add(get(xp), mul(mul(get(cc), mul(get(g.H), get(g.W))), c(es)))),
      forRange(ki, c(0), get(g.KH), 1, [
        ...bounds(iLo, iHi, g.OH, rowOf, g.H),
        forRange(kj, c(0), get(g.KW), 1, [
          ...bounds(lo, hi, g.OW, colOf, g.W),
          ...padRows(get(blk), get(iLo)),
          set(rowp, add(get(blk), mul(get(iLo), get(ldo)))),
          set(srcp, add(get(plane), mul(add(i32.sub(mul(rowOf(get(iLo)), get(g.W)), get(g.pw)), mul(get(kj), get(g.dw))), c(es)))),
          forRange(i, get(iLo), get(iHi), 1, [...inside, inc(rowp, get(ldo)), inc(srcp, get(lds))]),
          ...padRows(get(rowp), i32.sub(get(g.OH), get(iHi))),
          inc(blk, mul(get(g.OH), get(ldo))),
        ]),
      ]),
    ]),
  );
}

const seq = (...s: Expr[]): Expr => (f) => {
  for (const e of s) e(f);
};

function im2colFunc(es: 4 | 8, name: string): Func {
  const load = es === 4 ? f32.load : f64.load;
  const store = es === 4 ? f32.store : f64.store;
  const fn = new Func(name, ["i32", "i32", "i32"], []);
  const [x, col, gp] = fn.params as [Local, Local, Local];
  const { geo: g, init } = loadGeo(fn, gp);
  const [j, e, s, d] = [fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32")];
  const ldo = (): Expr => mul(get(g.OW), c(es));
  return fn.body(
    ...init,
    walk(fn, es, g, col, x, ({ lo, hi, rowp, srcp }) => ({
      padRows: (at, rows) => [memory.fill(at, c(0), mul(rows, ldo()))],
      inside: [
        if_(i32.gtS(get(lo), c(0)), [memory.fill(get(rowp), c(0), mul(get(lo), c(es)))]),
        set(d, add(get(rowp), mul(get(lo), c(es)))),
        set(e, add(get(rowp), mul(get(hi), c(es)))),
        if_(
          i32.eq(get(g.sw), c(1)),
          // Whole vectors; the last may overrun past hi (zeroed next) or the row (rewritten next).
          [
            set(s, add(get(srcp), mul(get(lo), c(es)))),
            block((x) => [loop((t) => [brIf(x, i32.geS(get(d), get(e))), v128.store(get(d), v128.load(get(s))), inc(d, c(16)), inc(s, c(16)), br(t)])]),
          ],
          [
            set(s, add(get(srcp), mul(mul(get(lo), get(g.sw)), c(es)))),
            set(j, mul(get(g.sw), c(es))),
            block((x) => [loop((t) => [brIf(x, i32.geS(get(d), get(e))), store(get(d), load(get(s))), inc(d, c(es)), inc(s, get(j)), br(t)])]),
          ],
        ),
        if_(i32.ltS(get(hi), get(g.OW)), [memory.fill(get(e), c(0), mul(i32.sub(get(g.OW), get(hi)), c(es)))]),
      ],
    })),
  );
}

function col2imFunc(es: 4 | 8, name: string): Func {
  const load = es === 4 ? f32.load : f64.load;
  const store = es === 4 ? f32.store : f64.store;
  const fn = new Func(name, ["i32", "i32", "i32"], []);
  const [col, dx, gp] = fn.params as [Local, Local, Local];
  const { geo: g, init } = loadGeo(fn, gp);
  const [d, e, ev, s, st] = [fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32")];
  const vecAdd = es === 4 ? f32x4.add : f64x2.add;
  return fn.body(
    ...init,
    walk(fn, es, g, col, dx, ({ lo, hi, rowp, srcp }) => ({
      padRows: () => [],
      inside: [
        set(d, add(get(rowp), mul(get(lo), c(es)))),
        set(e, add(get(rowp), mul(get(hi), c(es)))),
        if_(
          i32.eq(get(g.sw), c(1)),
          [
            set(s, add(get(srcp), mul(get(lo), c(es)))),
            // Whole vectors while one fits before e, then element by element.
            set(ev, i32.sub(get(e), c(16))),
            block((x) => [loop((t) => [brIf(x, i32.gtS(get(d), get(ev))), v128.store(get(s), vecAdd(v128.load(get(s)), v128.load(get(d)))), inc(d, c(16)), inc(s, c(16)), br(t)])]),
            block((x) => [loop((t) => [brIf(x, i32.geS(get(d), get(e))), store(get(s), scalar.add(es, load(get(s)), load(get(d)))), inc(d, c(es)), inc(s, c(es)), br(t)])]),
          ],
          [
            set(s, add(get(srcp), mul(mul(get(lo), get(g.sw)), c(es)))),
            set(st, mul(get(g.sw), c(es))),
            block((x) => [loop((t) => [brIf(x, i32.geS(get(d), get(e))), store(get(s), scalar.add(es, load(get(s)), load(get(d)))), inc(d, c(es)), inc(s, get(st)), br(t)])]),
          ],
        ),
      ],
    })),
  );
}

/** transpose(src, dst, rows, cols, lds, ldd): plain bit moves. */
function transposeFunc(es: 4 | 8, name: string): Func {
  const load = es === 4 ? i32.load : f64.load;
  const store = es === 4 ? i32.store : f64.store;
  const fn = new Func(name, ["i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [src, dst, rows, cols, lds, ldd] = fn.params as [Local, Local, Local, Local, Local, Local];
  const [r, j, sp, dp] = Array.from({ length: 4 }, () => fn.local("i32"));
  // dst[j, r] = src[r, j]: for each source row, its elements go down a column of dst.
  return fn.body(
    set(lds, mul(get(lds), c(es))),
    set(ldd, mul(get(ldd), c(es))),
    forRange(r, c(0), get(rows), 1, [
      set(sp, add(get(src), mul(get(r), get(lds)))),
      set(dp, add(get(dst), mul(get(r), c(es)))),
      forRange(j, c(0), get(cols), 1, [store(get(dp), load(get(sp))), inc(sp, c(es)), inc(dp, get(ldd))]),
    ]),
  );
}

/** Exports im2col32/64, col2im32/64, transpose32/64; imports env.memory. */
export function convModuleBytes(): Uint8Array {
  return assemble(
    [
      im2colFunc(4, "im2col32"), col2imFunc(4, "col2im32"), transposeFunc(4, "transpose32"),
      im2colFunc(8, "im2col64"), col2imFunc(8, "col2im64"), transposeFunc(8, "transpose64"),
    ],
    { initial: 1 },
  );
}
