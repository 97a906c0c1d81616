// Max pooling's two selections as WebAssembly (generated with ./asm.ts), f32 and f64, over the
// gemm's memory (registered by ../pool.ts): each window's pick is found and used in one pass,
// with no index array in between. Pointers in bytes; x, v / dx have x's layout.
//
// gather(x, v, out, g):   out[j] = v[pick j]
// scatter(x, dx, c, g):   dx[pick j] += c[j], j in order (dx zeroed by the caller)
//
// The pick of a window is its first maximum in row-major order, a NaN beating everything (the
// first NaN wins), exactly as the JS kernel. The search is branch-free (a compare-and-branch
// mispredicts half the time on real data) and, in f32, runs four horizontally adjacent windows
// in the four lanes of a vector; the windows left at the end of a row, and f64, run one at a
// time. g points at 9 i32s: planes, H, W, KH, KW, SH, SW, OH, OW.
import { Func, assemble, block, br, brIf, f32, f64, forRange, get, i32, loop, set, v128, type Expr, type Local } from "./asm.ts";
import { scalar } from "./conv-module.ts";

const c = i32.const;
const add = i32.add;
const mul = i32.mul;
const inc = (l: Local, by: Expr): Expr => set(l, add(get(l), by));

/** SIMD instructions asm.ts leaves out, emitted by opcode. */
const op = (bytes: number[], ...args: Expr[]): Expr => (f) => {
  for (const a of args) a(f);
  f.emit(...bytes);
};
const vec = {
  gt: (a: Expr, b: Expr): Expr => op([0xfd, 0x44], a, b), // f32x4.gt
  ne: (a: Expr, b: Expr): Expr => op([0xfd, 0x42], a, b), // f32x4.ne
  eq: (a: Expr, b: Expr): Expr => op([0xfd, 0x41], a, b), // f32x4.eq
  and: (a: Expr, b: Expr): Expr => op([0xfd, 0x4e], a, b),
  or: (a: Expr, b: Expr): Expr => op([0xfd, 0x50], a, b),
  /** a where mask bits are set, else b */
  bitselect: (a: Expr, b: Expr, mask: Expr): Expr => op([0xfd, 0x52], a, b, mask),
  splat: (a: Expr): Expr => op([0xfd, 0x11], a), // i32x4.splat
  addI: (a: Expr, b: Expr): Expr => op([0xfd, 0xae, 0x01], a, b), // i32x4.add
  lane: (v: Expr, l: number): Expr => op([0xfd, 0x1b, l], v), // i32x4.extract_lane
  replace: (v: Expr, l: number, x: Expr): Expr => op([0xfd, 0x1c, l], v, x), // i32x4.replace_lane
  /** v128.load32_lane: v with lane l loaded from addr */
  loadLane: (addr: Expr, v: Expr, l: number): Expr => op([0xfd, 0x56, 0x02, 0x00, l], addr, v),
};

export const POOL_GEO_FIELDS = 9;

/** gather or scatter: identical walks, differing in what is done with each pick. */
function poolFunc(es: 4 | 8, name: string, scatter: boolean): Func {
  const load = es === 4 ? f32.load : f64.load;
  const store = es === 4 ? f32.store : f64.store;
  const fn = new Func(name, ["i32", "i32", "i32", "i32"], []);
  // scatter: v is dx and out walks c.
  const [x, v, out, gp] = fn.params as [Local, Local, Local, Local];
  const fields = Array.from({ length: POOL_GEO_FIELDS }, () => fn.local("i32"));
  const [planes, H, W, KH, KW, SH, SW, OH, OW] = fields as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const [pl, i, jj, a, b, base, start, row, at, ldr, p, take, kwb, sstep, q] = Array.from({ length: 15 }, () => fn.local("i32"));
  const ty = es === 4 ? "f32" : "f64";
  const [best, cur] = [fn.local(ty), fn.local(ty)];
  const [bestv, curv, atv, startv, stepv, takev] = Array.from({ length: 6 }, () => fn.local("v128"));

  /** The pick at byte address `pick` (in x) used for output j (out). */
  const use = (pick: Expr, o: number): Expr[] =>
    scatter
      ? [set(p, add(get(v), i32.sub(pick, get(x)))), store(get(p), scalar.add(es, load(get(p)), load(get(out), o)))]
      : [store(get(out), load(add(get(v), i32.sub(pick, get(x)))), o)];
  const windowStart = (): Expr => set(start, add(get(base), mul(add(mul(mul(get(i), get(SH)), get(W)), mul(get(jj), get(SW))), c(es))));
  /** for each element of the window: q = its byte offset from the window's start. */
  const elements = (body: Expr[]): Expr =>
    forRange(a, c(0), get(KH), 1, [set(row, mul(get(a), get(ldr))), forRange(b, c(0), get(kwb), es, [set(q, add(get(row), get(b))), ...body])]);

  const one: Expr[] = [
    windowStart(),
    set(best, load(get(start))),
    set(at, get(start)),
    // Take x when it beats best or is the first NaN; once best is NaN nothing replaces it.
    elements([
      set(cur, load(add(get(start), get(q)))),
      set(take, i32.and(scalar.or(scalar.gt(es, get(cur), get(best)), scalar.ne(es, get(cur), get(cur))), scalar.eq(es, get(best), get(best)))),
      set(best, i32.select(get(cur), get(best), get(take))),
      set(at, i32.select(add(get(start), get(q)), get(at), get(take))),
    ]),
    ...use(get(at), 0),
    inc(out, c(es)),
    inc(jj, c(1)),
  ];
  const lanes = (addr: Expr): Expr => {
    let e = v128.zero();
    for (let l = 0; l < 4; l++) e = vec.loadLane(add(addr, i32.mul(get(sstep), c(l))), e, l);
    return e;
  };
  const four: Expr[] = [
    windowStart(),
    set(startv, vec.addI(vec.splat(get(start)), get(stepv))),
    set(bestv, lanes(get(start))),
    set(atv, get(startv)),
    elements([
      set(curv, lanes(add(get(start), get(q)))),
      set(takev, vec.and(vec.or(vec.gt(get(curv), get(bestv)), vec.ne(get(curv), get(curv))), vec.eq(get(bestv), get(bestv)))),
      set(bestv, vec.bitselect(get(curv), get(bestv), get(takev))),
      set(atv, vec.bitselect(vec.addI(get(startv), vec.splat(get(q))), get(atv), get(takev))),
    ]),
    ...[0, 1, 2, 3].flatMap((l) => use(vec.lane(get(atv), l), l * es)),
    inc(out, c(4 * es)),
    inc(jj, c(4)),
  ];
  return fn.body(
    ...fields.map((l, k) => set(l, i32.load(get(gp), k * 4))),
    set(ldr, mul(get(W), c(es))),
    set(kwb, mul(get(KW), c(es))),
    set(sstep, mul(get(SW), c(es))),
    set(stepv, vec.replace(vec.replace(vec.replace(v128.zero(), 1, get(sstep)), 2, mul(get(sstep), c(2))), 3, mul(get(sstep), c(3)))),
    set(base, get(x)),
    forRange(pl, c(0), get(planes), 1, [
      forRange(i, c(0), get(OH), 1, [
        set(jj, c(0)),
        ...(es === 4 ? [block((exit) => [loop((top) => [brIf(exit, i32.gtS(add(get(jj), c(4)), get(OW))), ...four, br(top)])])] : []),
        block((exit) => [loop((top) => [brIf(exit, i32.geS(get(jj), get(OW))), ...one, br(top)])]),
      ]),
      inc(base, mul(mul(get(H), get(W)), c(es))),
    ]),
  );
}

/** Exports gather32/64 and scatter32/64; imports env.memory. */
export function poolModuleBytes(): Uint8Array {
  return assemble(
    [poolFunc(4, "gather32", false), poolFunc(4, "scatter32", true), poolFunc(8, "gather64", false), poolFunc(8, "scatter64", true)],
    { initial: 1 },
  );
}
