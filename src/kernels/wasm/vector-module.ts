// Elementwise vector kernels as WebAssembly (f32x4 / f64x2), generated with ./asm.ts: the
// loops that plain JS runs at ~2 ns per element on typed arrays (gradient accumulation,
// optimizer steps). A module of its own over the shared memory.
// Every kernel works on whole vectors: the caller pads each region to a multiple of 16 bytes
// and never reads back the lanes past its length (computing on them is harmless: float
// arithmetic does not trap).
//
// add(a, b, nv):            a += b
// sgd(p, g, nv, rate, wd):   p ← p − rate·(g + wd·p)
// adagrad(p, g, a, nv, rate, eps, lo, hi):  g ← clamp(g, lo, hi); a ← a + g²;
//                            p ← p − rate·g / sqrt(a + eps)  (g itself is left as it was)
import { Func, assemble, block, br, brIf, f32x4, f64x2, get, i32, loop, set, v128, type Expr, type Local, type ValType } from "./asm.ts";

const c = i32.const;
const add = i32.add;
const inc = (l: Local, by: number): Expr => set(l, add(get(l), c(by)));

interface Lanes {
  readonly scalar: ValType;
  readonly v: typeof f32x4;
  readonly splat: (x: Expr) => Expr;
}
const F32: Lanes = { scalar: "f32", v: f32x4, splat: f32x4.splat };
const F64: Lanes = { scalar: "f64", v: f64x2, splat: f64x2.splat };

/** for (k = 0; k < n; k++) { body; ptrs += 16 } — the pointers advance one vector per step. */
const vectors = (n: Local, ptrs: readonly Local[], body: Expr[]): Expr =>
  block((exit) => [
    loop((top) => [brIf(exit, i32.leS(get(n), c(0))), ...body, ...ptrs.map((p) => inc(p, 16)), set(n, i32.sub(get(n), c(1))), br(top)]),
  ]);

function addFunc(t: Lanes, name: string): Func {
  const fn = new Func(name, ["i32", "i32", "i32"], []);
  const [a, b, n] = fn.params as [Local, Local, Local];
  return fn.body(vectors(n, [a, b], [v128.store(get(a), t.v.add(v128.load(get(a)), v128.load(get(b))))]));
}

function sgdFunc(t: Lanes, name: string): Func {
  const fn = new Func(name, ["i32", "i32", "i32", t.scalar, t.scalar], []);
  const [p, g, n, rate, wd] = fn.params as [Local, Local, Local, Local, Local];
  const [r, w] = [fn.local("v128"), fn.local("v128")];
  const pv = v128.load(get(p));
  return fn.body(
    set(r, t.splat(get(rate))),
    set(w, t.splat(get(wd))),
    vectors(n, [p, g], [v128.store(get(p), t.v.sub(pv, t.v.mul(get(r), t.v.add(v128.load(get(g)), t.v.mul(get(w), pv)))))]),
  );
}

function adagradFunc(t: Lanes, name: string): Func {
  const fn = new Func(name, ["i32", "i32", "i32", "i32", t.scalar, t.scalar, t.scalar, t.scalar], []);
  const [p, g, a, n, rate, eps, lo, hi] = fn.params as [Local, Local, Local, Local, Local, Local, Local, Local];
  const [r, e, l, h, gk, ak] = [fn.local("v128"), fn.local("v128"), fn.local("v128"), fn.local("v128"), fn.local("v128"), fn.local("v128")];
  return fn.body(
    set(r, t.splat(get(rate))),
    set(e, t.splat(get(eps))),
    set(l, t.splat(get(lo))),
    set(h, t.splat(get(hi))),
    vectors(n, [p, g, a], [
      set(gk, t.v.min(t.v.max(v128.load(get(g)), get(l)), get(h))),
      set(ak, t.v.add(v128.load(get(a)), t.v.mul(get(gk), get(gk)))),
      v128.store(get(a), get(ak)),
      v128.store(get(p), t.v.sub(v128.load(get(p)), t.v.div(t.v.mul(get(r), get(gk)), t.v.sqrt(t.v.add(get(ak), get(e)))))),
    ]),
  );
}

export function vectorModuleBytes(): Uint8Array {
  return assemble(
    [
      addFunc(F32, "sadd"), sgdFunc(F32, "ssgd"), adagradFunc(F32, "sadagrad"),
      addFunc(F64, "dadd"), sgdFunc(F64, "dsgd"), adagradFunc(F64, "dadagrad"),
    ],
    { initial: 1 },
  );
}
