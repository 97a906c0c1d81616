// Elementwise operations (unary, binary, where) and row sums as WebAssembly SIMD (f32x4 /
// f64x2), generated with ./asm.ts over the gemm's memory (registered by ../vector.ts). Only
// operations whose SIMD instruction gives exactly what the JS loop gives: + − × ÷ and sqrt are
// correctly rounded in both (for float32, JS rounds a double result once, which is the
// single-precision result), and min/max/compare/select are exact. No exp/log/tanh: WebAssembly
// has none.
//
// Pointers are in bytes. The binary kernels walk `rows` runs of `rb` bytes, `nv` vectors each;
// the last vector of a run may spill into the next run's first lanes, which that run then
// rewrites (so the output must not overlap the inputs, and each region is padded):
//
// T_op_vv(o, a, b, rows, rb, nv, bstep)  o = a op b; b advances bstep bytes a run (0: b repeats)
// T_op_bv(o, a, b, rows, rb, nv, bstep)  o = b op a
// T_op_vs(o, a, b, rows, rb, nv, bend)   o = a op s, s = the scalar at b for the run; b steps one
//                                        element a run and wraps to its start at bend
// T_op_sv(...)                            o = s op a
// T_op(o, x, nv)                          o = op x (unary)
// T_where(o, c, a, b, nv, sa, sb)         o = c ≠ 0 (NaN included) ? a : b; a and b advance sa, sb
//                                        bytes a vector (0: a vector of one value, repeated)
// T_sumrows(acc, x, rows, len, per)       acc[j] += x[r, j] (float64) for each of `rows` rows of len
//                                        in order; acc moves on by len after every `per` rows.
//                                        Each acc[j] adds its values in the JS loop's order, so
//                                        the sums are the same; two acc[j] per f64x2.
import { Func, assemble, block, br, brIf, f32, f32x4, f64, f64x2, get, i32, if_, loop, set, v128, type Expr, type Local } from "./asm.ts";

const c = i32.const;
const inc = (l: Local, by: Expr): Expr => set(l, i32.add(get(l), by));

/** SIMD instructions asm.ts leaves out, emitted by opcode. */
const op = (code: number, ...args: Expr[]): Expr => (f) => {
  for (const a of args) a(f);
  f.emit(0xfd, ...(code < 0x80 ? [code] : [(code & 0x7f) | 0x80, code >> 7]));
};
type V2 = (a: Expr, b: Expr) => Expr;
const v2 = (code: number): V2 => (a, b) => op(code, a, b);
const and = v2(0x4e);
const or = v2(0x50);

interface Lanes {
  readonly t: "f32" | "f64";
  readonly bytes: number;
  readonly v: typeof f32x4;
  readonly splatLoad: (addr: Expr) => Expr;
  readonly eq: V2; readonly ne: V2; readonly lt: V2; readonly gt: V2; readonly le: V2; readonly ge: V2;
  /** b < a ? a : b — never NaN from a NaN b, and +0 over −0 when a is +0 */
  readonly pmax: V2;
  readonly abs: (a: Expr) => Expr;
  readonly neg: (a: Expr) => Expr;
  /** the constant x in every lane */
  readonly k: (x: number) => Expr;
}
const konst = (bytes: number[]): Expr => (f) => f.emit(0xfd, 0x0c, ...bytes);
const F32: Lanes = {
  t: "f32", bytes: 4, v: f32x4, splatLoad: (a) => v128.load32Splat(a),
  eq: v2(0x41), ne: v2(0x42), lt: v2(0x43), gt: v2(0x44), le: v2(0x45), ge: v2(0x46),
  pmax: v2(0xeb), abs: (a) => op(0xe0, a), neg: (a) => op(0xe1, a),
  k: (x) => konst([...new Uint8Array(new Float32Array([x, x, x, x]).buffer)]),
};
const F64: Lanes = {
  t: "f64", bytes: 8, v: f64x2, splatLoad: (a) => v128.load64Splat(a),
  eq: v2(0x47), ne: v2(0x48), lt: v2(0x49), gt: v2(0x4a), le: v2(0x4b), ge: v2(0x4c),
  pmax: v2(0xf7), abs: (a) => op(0xec, a), neg: (a) => op(0xed, a),
  k: (x) => konst([...new Uint8Array(new Float64Array([x, x]).buffer)]),
};

/**
 * The binary kernels (opcodes): an elementwise primitive whose scalar expression one of them
 * computes bit for bit names it in its record (`simd`); comparisons give 1 or 0.
 */
export const WASM_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "greater", "less", "equal", "greaterEqual", "lessEqual"] as const;
export type WasmBinary = (typeof WASM_BINARY)[number];
/** The unary kernels (opcodes), named by primitives' records as the binary ones. */
export const WASM_UNARY = ["neg", "abs", "relu", "square", "sqrt", "sign"] as const;
export type WasmUnary = (typeof WASM_UNARY)[number];

const bit = (t: Lanes, mask: Expr): Expr => and(mask, t.k(1));
const BINARY: Record<WasmBinary, (t: Lanes, a: Expr, b: Expr) => Expr> = {
  add: (t, a, b) => t.v.add(a, b),
  sub: (t, a, b) => t.v.sub(a, b),
  mul: (t, a, b) => t.v.mul(a, b),
  div: (t, a, b) => t.v.div(a, b),
  // NaN if either is NaN and −0 < +0, as Math.max/Math.min.
  maximum: (t, a, b) => t.v.max(a, b),
  minimum: (t, a, b) => t.v.min(a, b),
  greater: (t, a, b) => bit(t, t.gt(a, b)),
  less: (t, a, b) => bit(t, t.lt(a, b)),
  equal: (t, a, b) => bit(t, t.eq(a, b)),
  greaterEqual: (t, a, b) => bit(t, t.ge(a, b)),
  lessEqual: (t, a, b) => bit(t, t.le(a, b)),
};

// `x` is a local: some bodies read it more than once.
const UNARY: Record<WasmUnary, (t: Lanes, x: Local) => Expr> = {
  neg: (t, x) => t.neg(get(x)),
  abs: (t, x) => t.abs(get(x)),
  // v > 0 ? v : 0 (NaN and −0 give +0)
  relu: (t, x) => t.pmax(t.k(0), get(x)),
  square: (t, x) => t.v.mul(get(x), get(x)),
  sqrt: (t, x) => t.v.sqrt(get(x)),
  // 1, −1, +0 for ±0, NaN stays
  sign: (t, x) =>
    or(or(and(t.gt(get(x), t.k(0)), t.k(1)), and(t.lt(get(x), t.k(0)), t.k(-1))), and(t.ne(get(x), get(x)), get(x))),
};

/** for (k = n; k > 0; k--) { body; ptrs += 16 } */
const vectors = (k: Local, n: Expr, ptrs: readonly Local[], body: Expr[]): Expr => (f) => {
  set(k, n)(f);
  block((exit) => [
    loop((top) => [brIf(exit, i32.leS(get(k), c(0))), ...body, ...ptrs.map((p) => inc(p, c(16))), set(k, i32.sub(get(k), c(1))), br(top)]),
  ])(f);
};

/** For each of `rows` runs: `before`, then `body` with pa, po at the run's start, then `after`; a and o advance rb. */
function runs(fn: Func, before: Expr[], body: (pa: Local, po: Local, k: Local) => Expr, after: Expr[]): Func {
  const [o, a, , rows, rb] = fn.params as [Local, Local, Local, Local, Local];
  const [pa, po, k] = [fn.local("i32"), fn.local("i32"), fn.local("i32")];
  return fn.body(
    block((exit) => [
      loop((top) => [
        brIf(exit, i32.leS(get(rows), c(0))),
        set(pa, get(a)),
        set(po, get(o)),
        ...before,
        body(pa, po, k),
        inc(a, get(rb)),
        inc(o, get(rb)),
        ...after,
        set(rows, i32.sub(get(rows), c(1))),
        br(top),
      ]),
    ]),
  );
}

function vecVec(t: Lanes, name: WasmBinary, swap: boolean): Func {
  const fn = new Func(`${t.t}_${name}_${swap ? "bv" : "vv"}`, ["i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [, , b, , , nv, bstep] = fn.params as Local[] as [Local, Local, Local, Local, Local, Local, Local];
  const pb = fn.local("i32");
  return runs(fn, [set(pb, get(b))], (pa, po, k) => {
    const [x, y] = [v128.load(get(pa)), v128.load(get(pb))];
    return vectors(k, get(nv), [pa, pb, po], [v128.store(get(po), swap ? BINARY[name](t, y, x) : BINARY[name](t, x, y))]);
  }, [inc(b, get(bstep))]);
}

function vecScalar(t: Lanes, name: WasmBinary, swap: boolean): Func {
  const fn = new Func(`${t.t}_${name}_${swap ? "sv" : "vs"}`, ["i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [, , b, , , nv, bend] = fn.params as Local[] as [Local, Local, Local, Local, Local, Local, Local];
  const [s, b0] = [fn.local("v128"), fn.local("i32")];
  fn.body(set(b0, get(b)));
  return runs(fn, [set(s, t.splatLoad(get(b)))], (pa, po, k) => {
    const x = v128.load(get(pa));
    return vectors(k, get(nv), [pa, po], [v128.store(get(po), swap ? BINARY[name](t, get(s), x) : BINARY[name](t, x, get(s)))]);
  }, [inc(b, c(t.bytes)), set(b, i32.select(get(b0), get(b), i32.eq(get(b), get(bend))))]);
}

function unary(t: Lanes, name: WasmUnary): Func {
  const fn = new Func(`${t.t}_${name}`, ["i32", "i32", "i32"], []);
  const [o, x, nv] = fn.params as [Local, Local, Local];
  const [v, k] = [fn.local("v128"), fn.local("i32")];
  return fn.body(vectors(k, get(nv), [o, x], [set(v, v128.load(get(x))), v128.store(get(o), UNARY[name](t, v))]));
}

function where(t: Lanes): Func {
  const fn = new Func(`${t.t}_where`, ["i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
  const [o, cond, a, b, nv, sa, sb] = fn.params as [Local, Local, Local, Local, Local, Local, Local];
  const k = fn.local("i32");
  const pick = op(0x52, v128.load(get(a)), v128.load(get(b)), t.ne(v128.load(get(cond)), t.k(0))); // v128.bitselect
  return fn.body(vectors(k, get(nv), [o, cond], [v128.store(get(o), pick), inc(a, get(sa)), inc(b, get(sb))]));
}

// Scalar instructions asm.ts leaves out.
const f64add = (a: Expr, b: Expr): Expr => (f) => {
  a(f);
  b(f);
  f.emit(0xa0);
};
const promote = (a: Expr): Expr => (f) => {
  a(f);
  f.emit(0xbb); // f64.promote_f32
};

function sumRows(t: Lanes): Func {
  const fn = new Func(`${t.t}_sumrows`, ["i32", "i32", "i32", "i32", "i32"], []);
  const [acc, x, rows, len, per] = fn.params as [Local, Local, Local, Local, Local];
  const [q, pa, px, k] = [fn.local("i32"), fn.local("i32"), fn.local("i32"), fn.local("i32")];
  // two values of x as float64 lanes, and one
  const pair = t.t === "f32" ? op(0x5f, v128.load64Splat(get(px))) : v128.load(get(px)); // f64x2.promote_low_f32x4
  const one = t.t === "f32" ? promote(f32.load(get(px))) : f64.load(get(px));
  return fn.body(
    set(q, get(per)),
    block((exit) => [
      loop((top) => [
        brIf(exit, i32.leS(get(rows), c(0))),
        set(pa, get(acc)),
        set(px, get(x)),
        set(k, i32.divU(get(len), c(2))),
        block((done) => [
          loop((next) => [
            brIf(done, i32.leS(get(k), c(0))),
            v128.store(get(pa), f64x2.add(v128.load(get(pa)), pair)),
            inc(pa, c(16)),
            inc(px, c(2 * t.bytes)),
            set(k, i32.sub(get(k), c(1))),
            br(next),
          ]),
        ]),
        if_(i32.and(get(len), c(1)), [f64.store(get(pa), f64add(f64.load(get(pa)), one))]),
        inc(x, i32.mul(get(len), c(t.bytes))),
        set(q, i32.sub(get(q), c(1))),
        if_(i32.eqz(get(q)), [set(q, get(per)), inc(acc, i32.mul(get(len), c(8)))]),
        set(rows, i32.sub(get(rows), c(1))),
        br(top),
      ]),
    ]),
  );
}

export function elementwiseModuleBytes(): Uint8Array {
  const funcs: Func[] = [];
  for (const t of [F32, F64]) {
    for (const name of WASM_BINARY) funcs.push(vecVec(t, name, false), vecVec(t, name, true), vecScalar(t, name, false), vecScalar(t, name, true));
    for (const name of WASM_UNARY) funcs.push(unary(t, name));
    funcs.push(where(t), sumRows(t));
  }
  return assemble(funcs, { initial: 1 });
}
