// The gemm kernels as WebAssembly, generated with ./asm.ts: C[m, n] += A[m, k] * B[k, n], all
// row-major in the module's memory, in f32 (f32x4 lanes) and f64 (f64x2 lanes).
//
// Goto/BLIS structure: for each k-block of KC rows of B, B is packed into slivers of NR columns
// (kc x NR, contiguous); for each m-block of MC rows of A, A is packed into panels of MR rows
// (kc x MR, interleaved so a k-step's MR values are adjacent). The micro-kernel keeps an MR x NR
// tile of C in MR * NR/lanes SIMD registers across the whole k-block: per k-step it loads the NR
// values of B as vectors, splats each of the MR values of A straight from memory
// (v128.load32_splat / load64_splat) and does one mul + add per accumulator. The B sliver
// (KC x NR) stays in L1 while the MC / MR panels of A stream from L2.
//
// Every C element is computed as (((c + a0*b0) + a1*b1) + ...) in k order, in the element type,
// so results are reproducible and the f64 kernel agrees bit for bit with a plain sequential loop.
// The f32 kernel has no fused multiply-add either, unless the engine has relaxed SIMD (Node 22
// and later, current browsers): then each step is one f32x4.relaxed_madd, fused on CPUs with
// FMA — about 20% faster here (measured with Node 20's --experimental-wasm-relaxed-simd), and
// each a*b + c rounded once instead of twice.
//
// Edges: packed panels are zero-padded to MR rows / NR columns (padding only ever meets
// padding), and an edge tile of C is copied to a scratch tile, run through the same
// micro-kernel, and copied back, so odd m and n take the same code path; an odd k-block length
// is handled by a non-unrolled tail loop (padding k with zeros would turn
// 0 * inf into NaN).
import {
  Func, assemble, block, br, brIf, call, f32, f32x4, f32x4RelaxedMadd, f64, f64x2, forRange, get, i32, if_, loop, memory, min, set,
  v128, type Expr, type Local,
} from "./asm.ts";
import { envFlag } from "./env.ts";

export interface GemmShape {
  /** Element size in bytes: 4 (f32) or 8 (f64). */
  es: 4 | 8;
  /** Rows of the register tile. */
  mr: number;
  /** Vectors per row of the register tile (NR = nv * lanes). */
  nv: number;
  /** k-steps unrolled in the micro-kernel. */
  unroll: number;
  /** Rows of B (and columns of A) per packed k-block. */
  kc: number;
  /** Rows of A per packed m-block (a multiple of mr). */
  mc: number;
  /**
   * Separate the unrolled k-steps by never-taken branches. V8's optimizing compiler places all
   * loads of a basic block ahead of its arithmetic, so U unrolled steps would hold U * (NV + MR)
   * loaded vectors live next to the MR * NV accumulators and spill to the stack (measured: 4x
   * unrolling without barriers is slower than none). A conditional branch between steps starts a
   * new basic block, so each step's loads stay next to its arithmetic.
   */
  barrier?: boolean;
  /** Each k-step's multiply-adds as relaxed SIMD f32x4.relaxed_madd (f32 only). */
  fma?: boolean;
  /** Move the A panel pointer every k-step rather than every unrolled group (see gemmFunctions). */
  stepA?: boolean;
}

// Measured on a Zen 4 core (Node 20), 512^3 in the module alone: sgemm 4x8 ~45 GFLOP/s (4x8
// without unrolling ~40, unrolled without barriers ~29, 5x8 / 6x8 / 4x12 spill and run 24-28),
// dgemm 4x4 ~22 GFLOP/s; KC 128-512 and MC 64-512 are all within noise. dgemm unrolls by 2 (no
// slower) to keep the module under 4 KB, the limit for synchronous compilation on a browser's
// main thread.
export const SGEMM: GemmShape = { es: 4, mr: 4, nv: 2, unroll: 4, kc: 256, mc: 128, barrier: true, stepA: true };
export const DGEMM: GemmShape = { es: 8, mr: 4, nv: 2, unroll: 2, kc: 256, mc: 64, barrier: true };

let fma: boolean | undefined;

/**
 * Whether the f32 kernels use relaxed SIMD's multiply-add: where the engine validates it, unless
 * YIELDIFF_NO_FMA is set. Decided once, at the first module built, so that every instance (the
 * arena's, the convolutions', the threads') computes the same bits.
 */
export function gemmFma(): boolean {
  if (fma === undefined) {
    const off = envFlag("YIELDIFF_NO_FMA");
    const WA = (globalThis as { WebAssembly?: { validate(b: Uint8Array): boolean } }).WebAssembly;
    try {
      fma = !off && WA !== undefined && WA.validate(relaxedProbeBytes());
    } catch {
      fma = false;
    }
  }
  return fma;
}

/** The f32 gemm as this engine runs it (SGEMM, with fma where gemmFma() says so). */
export const sgemmShape = (): GemmShape => (gemmFma() ? { ...SGEMM, fma: true } : SGEMM);

export const lanes = (s: GemmShape): number => 16 / s.es;
export const nr = (s: GemmShape): number => s.nv * lanes(s);

/** Bytes of scratch the module needs at the `scratch` pointer (one MR x NR tile). */
export const scratchBytes = (s: GemmShape): number => s.mr * nr(s) * s.es;
/** Bytes of the packed-A buffer. */
export const packABytes = (s: GemmShape, k: number): number => s.mc * Math.min(s.kc, k) * s.es;
/** Bytes of the packed-B buffer for n columns. */
export const packBBytes = (s: GemmShape, k: number, n: number): number =>
  Math.min(s.kc, k) * Math.ceil(n / nr(s)) * nr(s) * s.es;

const c = i32.const;
const add = i32.add;
const mul = i32.mul;
const inc = (l: Local, by: Expr): Expr => set(l, add(get(l), by));

/**
 * The four functions of one precision, at indices base .. base+3:
 * kernel(pa, pb, pc, ldc, kc, load), packA(src, rs, cs, mc, kc, dst), packB(src, ldb, kc, n, dst),
 * gemm(a, b, c, m, k, n, packA, packB, scratch, overwrite, transA) — pointers and leading
 * dimensions in bytes, except gemm's m, k, n (elements). gemm adds the product to C, or with
 * overwrite = 1 replaces C (its first k-block starts from zero instead of loading C, so C need
 * not be zeroed first). With transA = 1, A is stored transposed, as [k, m] row-major (a weight
 * gradient's xᵀ), and packed from there. Arguments left out are 0: adding, A row-major. With
 * `strided`, gemm takes the row strides of the stored A, of B and of C as three more parameters
 * (lda, ldb, ldc, after scratch, before overwrite and transA) instead of assuming k (or m), n
 * and n: a block of columns of B and C (one thread's half of a product) is then a valid operand.
 */
export function gemmFunctions(p: GemmShape, prefix: string, base: number, strided = false): Func[] {
  const { es, mr: MR, nv: NV, unroll: U, kc: KC, mc: MC } = p;
  // The A pointer moves every k-step (splat offsets 0 .. MR-1) where stepA is set: V8 keeps the
  // few base addresses in registers then, instead of one lea per splat (~2% for sgemm).
  const SA = p.stepA === true;
  const L = lanes(p);
  const NR = NV * L;
  if (MC % MR !== 0) throw new Error(`gemm-module: mc ${MC} is not a multiple of mr ${MR}`);
  const load = es === 4 ? f32.load : f64.load;
  const store = es === 4 ? f32.store : f64.store;
  const splat = es === 4 ? v128.load32Splat : v128.load64Splat;
  const vadd = es === 4 ? f32x4.add : f64x2.add;
  const vmul = es === 4 ? f32x4.mul : f64x2.mul;
  if (p.fma && es !== 4) throw new Error("gemm-module: fma is for the f32 kernel only");
  const madd = (acc: Local, a: Local, b: Local): Expr =>
    p.fma ? f32x4RelaxedMadd(get(a), get(b), get(acc)) : vadd(get(acc), vmul(get(a), get(b)));

  // ---- micro-kernel: C tile (MR x NR at pc, row stride ldc) += packed A panel x packed B sliver,
  // or (load = 0) C tile = the product, whatever C held.
  const kernel = new Func(`${prefix}kernel`, ["i32", "i32", "i32", "i32", "i32", "i32"], []);
  {
    const [pa, pb, pc, ldc, kc, load] = kernel.params as [Local, Local, Local, Local, Local, Local];
    const rows = Array.from({ length: MR }, () => kernel.local("i32"));
    const acc = Array.from({ length: MR }, () => Array.from({ length: NV }, () => kernel.local("v128")));
    const bv = Array.from({ length: NV }, () => kernel.local("v128"));
    const a = kernel.local("v128");
    const kk = kernel.local("i32");
    const step = (u: number): Expr[] => {
      const out: Expr[] = [];
      for (let v = 0; v < NV; v++) out.push(set(bv[v]!, v128.load(get(pb), v * L * es)));
      out.push(inc(pb, c(NR * es)));
      if (SA) out.push(inc(pa, c(MR * es)));
      for (let r = 0; r < MR; r++) {
        out.push(set(a, splat(get(pa), ((SA ? 0 : u * MR) + r) * es)));
        for (let v = 0; v < NV; v++) out.push(set(acc[r]![v]!, madd(acc[r]![v]!, a, bv[v]!)));
      }
      return out;
    };
    kernel.body(
      // (with stepA, pa starts one k-step back: each step moves it first, then reads at 0 .. MR-1)
      ...(SA ? [set(pa, i32.sub(get(pa), c(MR * es)))] : []),
      set(rows[0]!, get(pc)),
      ...rows.slice(1).map((row, r) => set(row, add(get(rows[r]!), get(ldc)))),
      if_(
        get(load),
        acc.flatMap((row, r) => row.map((x, v) => set(x, v128.load(get(rows[r]!), v * 16)))),
        // (one zero constant, copied: a v128.const is 18 bytes, and the module must stay small)
        acc.flat().map((x, i) => set(x, i === 0 ? v128.zero() : get(acc[0]![0]!))),
      ),
      set(kk, get(kc)),
      block((exit) => [
        loop((top) => [
          brIf(exit, i32.ltS(get(kk), c(U))),
          // Barrier u tests kk < -u: never true here (kk >= U), and each constant differs so the
          // compiler cannot merge the tests as repeats of one condition.
          ...Array.from({ length: U }, (_, u) => (u > 0 && p.barrier ? [brIf(exit, i32.ltS(get(kk), c(-u))), ...step(u)] : step(u))).flat(),
          ...(SA ? [] : [inc(pa, c(U * MR * es))]),
          set(kk, i32.sub(get(kk), c(U))),
          br(top),
        ]),
      ]),
      block((exit) => [
        loop((top) => [
          brIf(exit, i32.leS(get(kk), c(0))),
          ...step(0),
          ...(SA ? [] : [inc(pa, c(MR * es))]),
          set(kk, i32.sub(get(kk), c(1))),
          br(top),
        ]),
      ]),
      ...acc.flatMap((row, r) => row.map((x, v) => v128.store(get(rows[r]!), get(x), v * 16))),
    );
  }

  // ---- packA: rows [0, mc) x columns [0, kc) of A into MR-row panels, panel-major, each panel
  // kc x MR with a k-step's MR values adjacent; short panels zero-padded. A[i, q] is at
  // src + i * rs + q * cs: (row stride, element size) for A row-major, (element size, row
  // stride) for A stored transposed, which is then packed as it is, without turning it first.
  const packA = new Func(`${prefix}packA`, ["i32", "i32", "i32", "i32", "i32", "i32"], []);
  {
    const [src, rs, cs, mc, kc, dst] = packA.params as [Local, Local, Local, Local, Local, Local];
    const ir = packA.local("i32");
    const rowsLeft = packA.local("i32");
    const q = packA.local("i32");
    const qo = packA.local("i32");
    const r = packA.local("i32");
    const d = packA.local("i32");
    const s = packA.local("i32");
    const rp = Array.from({ length: MR }, () => packA.local("i32"));
    packA.body(
      forRange(ir, c(0), get(mc), MR, [
        set(rowsLeft, i32.sub(get(mc), get(ir))),
        set(s, add(get(src), mul(get(ir), get(rs)))),
        if_(
          i32.geS(get(rowsLeft), c(MR)),
          [
            set(rp[0]!, get(s)),
            ...rp.slice(1).map((x, i) => set(x, add(get(rp[i]!), get(rs)))),
            set(d, get(dst)),
            set(qo, c(0)),
            forRange(q, c(0), get(kc), 1, [
              ...rp.map((x, i) => store(get(d), load(add(get(x), get(qo))), i * es)),
              inc(d, c(MR * es)),
              inc(qo, get(cs)),
            ]),
          ],
          [
            memory.fill(get(dst), c(0), mul(get(kc), c(MR * es))),
            forRange(r, c(0), get(rowsLeft), 1, [
              set(d, add(get(dst), mul(get(r), c(es)))),
              set(qo, get(s)),
              forRange(q, c(0), get(kc), 1, [
                store(get(d), load(get(qo))),
                inc(d, c(MR * es)),
                inc(qo, get(cs)),
              ]),
              inc(s, get(rs)),
            ]),
          ],
        ),
        inc(dst, mul(get(kc), c(MR * es))),
      ]),
    );
  }

  // ---- packB: rows [0, kc) x columns [0, n) of B (at src, row stride ldb) into NR-column
  // slivers, each kc x NR row-major; the last sliver zero-padded.
  const packB = new Func(`${prefix}packB`, ["i32", "i32", "i32", "i32", "i32"], []);
  {
    const [src, ldb, kc, n, dst] = packB.params as [Local, Local, Local, Local, Local];
    const jr = packB.local("i32");
    const cols = packB.local("i32");
    const s = packB.local("i32");
    const pp = packB.local("i32");
    const j = packB.local("i32");
    packB.body(
      forRange(jr, c(0), get(n), NR, [
        set(cols, i32.sub(get(n), get(jr))),
        set(s, add(get(src), mul(get(jr), c(es)))),
        if_(
          i32.geS(get(cols), c(NR)),
          [
            forRange(pp, c(0), get(kc), 1, [
              ...Array.from({ length: NV }, (_, v) => v128.store(get(dst), v128.load(get(s), v * 16), v * 16)),
              inc(s, get(ldb)),
              inc(dst, c(NR * es)),
            ]),
          ],
          [
            memory.fill(get(dst), c(0), mul(get(kc), c(NR * es))),
            forRange(pp, c(0), get(kc), 1, [
              forRange(j, c(0), mul(get(cols), c(es)), es, [store(add(get(dst), get(j)), load(add(get(s), get(j))))]),
              inc(s, get(ldb)),
              inc(dst, c(NR * es)),
            ]),
          ],
        ),
      ]),
    );
  }

  // ---- gemm: the blocked driver.
  const gemm = new Func(`${prefix}gemm`, new Array<"i32">(strided ? 14 : 11).fill("i32"), []);
  {
    const [A, B, C, m, k, n, pA, pB, scratch] = gemm.params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const lda = strided ? gemm.params[9]! : gemm.local("i32");
    const ldc = strided ? gemm.params[11]! : gemm.local("i32");
    const ldb = strided ? gemm.params[10]! : ldc;
    const overwrite = gemm.params[strided ? 12 : 9]!;
    const transA = gemm.params[strided ? 13 : 10]!;
    // A[i, q] at A + i * ars + q * acs (see packA)
    const ars = gemm.local("i32");
    const acs = gemm.local("i32");
    /** Whether the kernels load C: not in the first k-block of an overwriting product. */
    const loadC = gemm.local("i32");
    const pcol = gemm.local("i32");
    const kc = gemm.local("i32");
    const ic = gemm.local("i32");
    const mc = gemm.local("i32");
    const jr = gemm.local("i32");
    const nrr = gemm.local("i32");
    const ir = gemm.local("i32");
    const mrr = gemm.local("i32");
    const pas = gemm.local("i32");
    const pbs = gemm.local("i32");
    const cp = gemm.local("i32");
    const r = gemm.local("i32");
    const kLeft = gemm.local("i32");
    const mLeft = gemm.local("i32");
    const edgeRows = (toScratch: boolean): Expr =>
      forRange(r, c(0), get(mrr), 1, [
        toScratch
          ? memory.copy(add(get(scratch), mul(get(r), c(NR * es))), add(get(cp), mul(get(r), get(ldc))), mul(get(nrr), c(es)))
          : memory.copy(add(get(cp), mul(get(r), get(ldc))), add(get(scratch), mul(get(r), c(NR * es))), mul(get(nrr), c(es))),
      ]);
    gemm.body(
      // (lda: the stored A's row stride: k elements, or m where A is stored transposed)
      ...(strided ? [] : [set(lda, mul(i32.select(get(m), get(k), get(transA)), c(es))), set(ldc, mul(get(n), c(es)))]),
      set(ars, i32.select(c(es), get(lda), get(transA))),
      set(acs, i32.select(get(lda), c(es), get(transA))),
      forRange(pcol, c(0), get(k), KC, [
        set(loadC, i32.or(i32.eqz(get(overwrite)), get(pcol))), // (nonzero: load; pcol >= 0)
        set(kLeft, i32.sub(get(k), get(pcol))),
        set(kc, min(get(kLeft), c(KC))),
        call(base + 2, add(get(B), mul(get(pcol), get(ldb))), get(ldb), get(kc), get(n), get(pB)),
        forRange(ic, c(0), get(m), MC, [
          set(mLeft, i32.sub(get(m), get(ic))),
          set(mc, min(get(mLeft), c(MC))),
          call(base + 1, add(get(A), add(mul(get(ic), get(ars)), mul(get(pcol), get(acs)))), get(ars), get(acs), get(mc), get(kc), get(pA)),
          set(pbs, get(pB)),
          forRange(jr, c(0), get(n), NR, [
            set(nrr, min(i32.sub(get(n), get(jr)), c(NR))),
            set(pas, get(pA)),
            forRange(ir, c(0), get(mc), MR, [
              set(mrr, min(i32.sub(get(mc), get(ir)), c(MR))),
              set(cp, add(get(C), add(mul(add(get(ic), get(ir)), get(ldc)), mul(get(jr), c(es))))),
              if_(
                i32.and(i32.eq(get(mrr), c(MR)), i32.eq(get(nrr), c(NR))),
                [call(base, get(pas), get(pbs), get(cp), get(ldc), get(kc), get(loadC))],
                [
                  if_(get(loadC), [edgeRows(true)]),
                  call(base, get(pas), get(pbs), get(scratch), c(NR * es), get(kc), get(loadC)),
                  edgeRows(false),
                ],
              ),
              inc(pas, mul(get(kc), c(MR * es))),
            ]),
            inc(pbs, mul(get(kc), c(NR * es))),
          ]),
        ]),
      ]),
    );
  }
  return [kernel, packA, packB, gemm];
}

/** Exports sgemm/dgemm as `s*` / `d*` (kernel, packA, packB, gemm); imports env.memory. */
export function gemmModuleBytes(s: GemmShape = sgemmShape(), d: GemmShape = DGEMM): Uint8Array {
  return assemble([...gemmFunctions(s, "s", 0), ...gemmFunctions(d, "d", 4)], { initial: 1 });
}

/** A minimal module using one SIMD instruction: validates iff the engine has 128-bit SIMD. */
export function simdProbeBytes(): Uint8Array {
  const f = new Func("probe", [], ["v128"]).body(f32x4.add(v128.zero(), f32x4.splat(f32.const(1))));
  return assemble([f], { initial: 1 });
}

/** A module using f32x4.relaxed_madd: validates iff the engine has relaxed SIMD. */
export function relaxedProbeBytes(): Uint8Array {
  const v = f32x4.splat(f32.const(1));
  const f = new Func("probe", [], ["v128"]).body(f32x4RelaxedMadd(v, v, v));
  return assemble([f], { initial: 1 });
}
