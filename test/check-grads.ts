// A JAX `check_grads`-style helper: compares a program's derivatives (jvp in "fwd" mode, vjp
// in "rev" mode) against central finite differences, at first order or at second order (the
// derivative programs x ↦ jvp tangent and x ↦ vjp cotangent are checked the same way, in both
// modes: forward-over-forward, reverse-over-forward, forward-over-reverse, reverse-over-reverse).
//
// Reusable by any suite (e.g. rerun under jit): pass any generator program of number/Tensor
// arguments returning a number, a Tensor, or a (nested) array of them.
import * as Y from "../src/index.ts";
import { jvp, run, tensor, vjp, Tensor, type DType, type Effect, type Value } from "../src/index.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Program = (...args: any[]) => Generator<Effect, unknown, unknown>;
export type Leaf = number | Tensor;
export type Mode = "fwd" | "rev";

export interface CheckGradsOptions {
  /** 1: check jvp/vjp of f; 2: also check jvp/vjp of the derivative programs of f. */
  order?: 1 | 2;
  modes?: readonly Mode[];
  /** Finite-difference step (default 1e-4 for float64, 1e-2 when any input is float32). */
  eps?: number;
  /** Tolerance: max |ad - fd| <= atol + rtol * scale, scale = magnitude of the compared numbers. */
  rtol?: number;
  atol?: number;
  /** Which arguments to differentiate (default: every number/Tensor argument). */
  argnums?: number | readonly number[];
  /** Random directions per check (default 2). */
  trials?: number;
  /** Seed of the random directions and cotangents. */
  seed?: number;
  /** Names the operation in failure messages (default: the program's name). */
  name?: string;
  /**
   * Require the derivative of a number to be a number, not a 0-d Tensor (default true).
   * Values are compared either way.
   */
  numberKinds?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Small numeric utilities on leaves (numbers and Tensors) and arrays of them.

/** mulberry32: a tiny seeded PRNG, independent of the library's own. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isLeaf = (x: unknown): x is Leaf => typeof x === "number" || x instanceof Tensor;

/** The leaves of a (nested) array of numbers and Tensors, in order. */
export function leaves(x: unknown): Leaf[] {
  if (isLeaf(x)) return [x];
  if (Array.isArray(x)) return x.flatMap(leaves);
  throw new Error(`check-grads: expected a number, a Tensor or an array of them, got ${describe(x)}`);
}

/** Rebuilds `like`'s structure from a flat list of leaves. */
function rebuild(like: unknown, flat: readonly Leaf[]): unknown {
  let i = 0;
  const go = (x: unknown): unknown => (isLeaf(x) ? flat[i++] : (x as unknown[]).map(go));
  return go(like);
}

const describe = (x: unknown): string =>
  x instanceof Tensor ? `Tensor(${x.dtype}, [${x.shape.join(", ")}])` : typeof x === "number" ? "number" : Array.isArray(x) ? "array" : x === null ? "null" : typeof x;

const valuesOf = (x: Leaf): ArrayLike<number> => (typeof x === "number" ? [x] : x.buf);
const shapeOfLeaf = (x: Leaf): readonly number[] => (typeof x === "number" ? [] : x.shape);
const dtypeOfLeaf = (x: Leaf): DType => (typeof x === "number" ? "float64" : x.dtype);

/** A leaf like `like` (same kind, shape, dtype) with values from `f(i)`. */
export function leafLike(like: Leaf, f: (i: number) => number): Leaf {
  if (typeof like === "number") return f(0);
  const buf = like.dtype === "float32" ? new Float32Array(like.size) : new Float64Array(like.size);
  for (let i = 0; i < buf.length; i++) buf[i] = f(i);
  return tensor(buf, { shape: like.shape });
}

/** x + s·v, leafwise. */
const axpy = (x: Leaf, s: number, v: Leaf): Leaf => {
  const xs = valuesOf(x);
  const vs = valuesOf(v);
  return leafLike(x, (i) => xs[i]! + s * vs[i]!);
};

/** A random direction like `like`: uniform in [-1, 1]. */
const randomLike = (like: Leaf, rnd: () => number): Leaf => leafLike(like, () => 2 * rnd() - 1);

/** Σ a_i b_i over all leaves, and Σ |a_i b_i| (the scale against which rounding is judged). */
function inner(a: readonly Leaf[], b: readonly Leaf[]): { value: number; scale: number } {
  let value = 0;
  let scale = 0;
  a.forEach((x, k) => {
    const xs = valuesOf(x);
    const ys = valuesOf(b[k]!);
    for (let i = 0; i < xs.length; i++) {
      value += xs[i]! * ys[i]!;
      scale += Math.abs(xs[i]! * ys[i]!);
    }
  });
  return { value, scale };
}

const maxAbs = (xs: readonly Leaf[]): number => {
  let m = 0;
  for (const x of xs) for (const v of Array.from(valuesOf(x))) m = Math.max(m, Math.abs(v));
  return m;
};

/** The 4-point central difference stencil: error O(eps⁴), so a moderate step is exact enough. */
function centralDifference(g: (s: number) => Leaf[], eps: number): Leaf[] {
  const p1 = g(eps);
  const m1 = g(-eps);
  const p2 = g(2 * eps);
  const m2 = g(-2 * eps);
  return p1.map((leaf, k) => {
    const a = valuesOf(leaf);
    const b = valuesOf(m1[k]!);
    const c = valuesOf(p2[k]!);
    const d = valuesOf(m2[k]!);
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = (8 * (a[i]! - b[i]!) - (c[i]! - d[i]!)) / (12 * eps);
    return typeof leaf === "number" ? out[0]! : new Tensor(out, leaf.shape);
  });
}

// ---------------------------------------------------------------------------------------------

interface Resolved {
  numberKinds: boolean;
  eps: number;
  rtol: number;
  atol: number;
  trials: number;
}

const fail = (what: string, detail: string): never => {
  throw new Error(`checkGrads(${what}): ${detail}`);
};

/** Which arguments are differentiated, checked. */
function resolveArgnums(name: string, args: readonly unknown[], argnums: CheckGradsOptions["argnums"]): number[] {
  const nums = argnums === undefined ? args.flatMap((a, i) => (isLeaf(a) ? [i] : [])) : typeof argnums === "number" ? [argnums] : [...argnums];
  if (nums.length === 0) fail(name, "no number or Tensor argument to differentiate");
  for (const i of nums) if (!isLeaf(args[i])) fail(name, `argument ${i} is ${describe(args[i])}, not a number or a Tensor`);
  return nums;
}

/** f restricted to its differentiated arguments (the others are held constant). */
function restrict(f: Program, args: readonly unknown[], nums: readonly number[]): Program {
  if (nums.length === args.length && nums.every((n, i) => n === i)) return f;
  return function* restricted(...xs: unknown[]) {
    const full = args.slice();
    nums.forEach((n, k) => (full[n] = xs[k]));
    return yield* f(...full);
  };
}

const checkLike = (what: string, got: unknown, like: Leaf, role: string, numberKinds = true): void => {
  if (!isLeaf(got)) fail(what, `${role} is ${describe(got)}, expected ${describe(like)}`);
  const g = got as Leaf;
  if (numberKinds && typeof like === "number" && typeof g !== "number") fail(what, `${role} is ${describe(g)} for a number, expected a number`);
  const gs = shapeOfLeaf(g);
  const ls = shapeOfLeaf(like);
  if (gs.length !== ls.length || gs.some((d, i) => d !== ls[i])) fail(what, `${role} has shape [${gs.join(", ")}], expected [${ls.join(", ")}]`);
  if (dtypeOfLeaf(g) !== dtypeOfLeaf(like)) fail(what, `${role} has dtype ${dtypeOfLeaf(g)}, expected ${dtypeOfLeaf(like)}`);
};

/** jvp of f at xs along vs, and the finite difference of f along vs; compared leafwise. */
function checkFwd(what: string, f: Program, xs: Leaf[], o: Resolved, rnd: () => number): void {
  const out = leaves(run(f, ...xs));
  for (let trial = 0; trial < o.trials; trial++) {
    const vs = xs.map((x) => randomLike(x, rnd));
    const [y, dy] = run(function* () {
      return yield* jvp(f, xs, vs);
    }) as [unknown, unknown];
    const ys = leaves(y);
    const ts = leaves(dy);
    if (ts.length !== out.length) fail(what, `the jvp tangent has ${ts.length} leaves, the output ${out.length}`);
    ts.forEach((t, k) => checkLike(what, t, out[k]!, `jvp tangent ${k}`, o.numberKinds));
    ys.forEach((v, k) => compare(`${what}: jvp primal output ${k}`, [v], [out[k]!], { ...o, rtol: Math.min(o.rtol, 1e-12) }));
    const fd = centralDifference((s) => leaves(run(f, ...xs.map((x, i) => axpy(x, s, vs[i]!)))), o.eps);
    compare(`${what}: jvp tangent vs finite differences`, ts, fd, o);
  }
}

/** ⟨vjp(u), v⟩ against the finite difference of ⟨u, f(x + s v)⟩. */
function checkRev(what: string, f: Program, xs: Leaf[], o: Resolved, rnd: () => number): void {
  const out = run(f, ...xs);
  const outLeaves = leaves(out);
  const u = outLeaves.map((l) => randomLike(l, rnd));
  const uTree = rebuild(out, u);
  const cts = run(function* () {
    const [, pb] = yield* vjp(f, ...xs);
    return yield* pb(uTree);
  }) as unknown[];
  if (!Array.isArray(cts) || cts.length !== xs.length) fail(what, `the vjp gave ${describe(cts)}, expected ${xs.length} cotangent(s)`);
  cts.forEach((c, i) => checkLike(what, c, xs[i]!, `vjp cotangent of argument ${i}`, o.numberKinds));
  for (let trial = 0; trial < o.trials; trial++) {
    const vs = xs.map((x) => randomLike(x, rnd));
    const ad = inner(cts as Leaf[], vs);
    const [fd] = centralDifference((s) => [inner(u, leaves(run(f, ...xs.map((x, i) => axpy(x, s, vs[i]!))))).value], o.eps);
    const err = Math.abs(ad.value - (fd as number));
    const scale = Math.max(Math.abs(ad.value), Math.abs(fd as number), ad.scale);
    if (!(err <= o.atol + o.rtol * scale))
      fail(
        what,
        `<vjp(u), v> = ${ad.value} but finite differences give ${fd}: max error ${err.toExponential(3)} > tolerance ` +
          `${(o.atol + o.rtol * scale).toExponential(3)} (rtol ${o.rtol}, atol ${o.atol}, scale ${scale.toExponential(3)})`,
      );
  }
}

function compare(what: string, got: readonly Leaf[], want: readonly Leaf[], o: { rtol: number; atol: number }): void {
  const scale = Math.max(maxAbs(got), maxAbs(want));
  let err = 0;
  let where = "";
  got.forEach((g, k) => {
    const a = valuesOf(g);
    const b = valuesOf(want[k]!);
    for (let i = 0; i < a.length; i++) {
      const e = Math.abs(a[i]! - b[i]!);
      if (!(e <= err)) {
        err = Number.isNaN(e) ? Infinity : e;
        where = `leaf ${k}, element ${i}: ${a[i]} vs ${b[i]}`;
      }
    }
  });
  const tol = o.atol + o.rtol * scale;
  if (!(err <= tol))
    throw new Error(
      `checkGrads(${what}): max error ${err.toExponential(3)} > tolerance ${tol.toExponential(3)} ` +
        `(rtol ${o.rtol}, atol ${o.atol}, scale ${scale.toExponential(3)}; worst at ${where})`,
    );
}

function resolve(xs: readonly Leaf[], options: CheckGradsOptions): Resolved {
  const f32 = xs.some((x) => dtypeOfLeaf(x) === "float32");
  return {
    eps: options.eps ?? (f32 ? 1e-2 : 1e-4),
    rtol: options.rtol ?? (f32 ? 2e-3 : 1e-6),
    atol: options.atol ?? (f32 ? 1e-4 : 1e-9),
    trials: options.trials ?? 2,
    numberKinds: options.numberKinds ?? true,
  };
}

/**
 * Checks the derivatives of `f` at `args` against finite differences. Throws an Error naming
 * the operation, mode, order and the max error on failure.
 */
export function checkGrads(f: Program, args: readonly unknown[], options: CheckGradsOptions = {}): void {
  const name = options.name ?? (f.name || "f");
  const nums = resolveArgnums(name, args, options.argnums);
  const g = restrict(f, args, nums);
  const xs = nums.map((i) => args[i] as Leaf);
  const o = resolve(xs, options);
  const modes = options.modes ?? ["fwd", "rev"];
  const rnd = prng(options.seed ?? 0x5eed);
  const first = (label: (mode: Mode) => string, h: Program): void => {
    for (const mode of modes) {
      const what = `${name}, ${label(mode)}`;
      if (mode === "fwd") checkFwd(what, h, xs, o, rnd);
      else checkRev(what, h, xs, o, rnd);
    }
  };
  first((mode) => `order 1, mode ${mode}`, g);
  if ((options.order ?? 1) < 2) return;
  const out = leaves(run(g, ...xs));
  for (const innerMode of modes) {
    if (innerMode === "fwd") {
      // x ↦ the jvp tangent along fixed directions
      const vs = xs.map((x) => randomLike(x, rnd));
      const tangentProgram: Program = function* (...ys: unknown[]) {
        const [, t] = (yield* jvp(g, ys, vs)) as [unknown, unknown];
        return t;
      };
      first((mode) => `order 2, mode ${mode} over fwd (${mode === "fwd" ? "jvp of jvp" : "vjp of jvp"})`, tangentProgram);
    } else {
      // x ↦ the vjp cotangents of a fixed output cotangent
      const u = rebuild(run(g, ...xs), out.map((l) => randomLike(l, rnd)));
      const cotangentProgram: Program = function* (...ys: unknown[]) {
        const [, pb] = yield* vjp(g, ...ys);
        return yield* pb(u);
      };
      first((mode) => `order 2, mode ${mode} over rev (${mode === "fwd" ? "jvp of vjp" : "vjp of vjp"})`, cotangentProgram);
    }
  }
}

/** ⟨u, J v⟩ (from jvp) equals ⟨Jᵀ u, v⟩ (from vjp), for random u and v. */
export function jvpVjpConsistent(f: Program, args: readonly unknown[], options: Pick<CheckGradsOptions, "argnums" | "rtol" | "atol" | "seed" | "name" | "trials"> = {}): void {
  const name = options.name ?? (f.name || "f");
  const nums = resolveArgnums(name, args, options.argnums);
  const g = restrict(f, args, nums);
  const xs = nums.map((i) => args[i] as Leaf);
  const f32 = xs.some((x) => dtypeOfLeaf(x) === "float32");
  const rtol = options.rtol ?? (f32 ? 1e-5 : 1e-12);
  const atol = options.atol ?? (f32 ? 1e-6 : 1e-14);
  const rnd = prng(options.seed ?? 0xc0ffee);
  const out = run(g, ...xs);
  for (let trial = 0; trial < (options.trials ?? 2); trial++) {
    const u = leaves(out).map((l) => randomLike(l, rnd));
    const vs = xs.map((x) => randomLike(x, rnd));
    const [, t] = run(function* () {
      return yield* jvp(g, xs, vs);
    }) as [unknown, unknown];
    const cts = run(function* () {
      const [, pb] = yield* vjp(g, ...xs);
      return yield* pb(rebuild(out, u));
    }) as Leaf[];
    const a = inner(u, leaves(t));
    const b = inner(cts, vs);
    const err = Math.abs(a.value - b.value);
    const scale = Math.max(a.scale, b.scale);
    if (!(err <= atol + rtol * scale))
      fail(
        `${name}, jvp/vjp consistency`,
        `<u, J v> = ${a.value} (jvp) but <J^T u, v> = ${b.value} (vjp): max error ${err.toExponential(3)} > ` +
          `tolerance ${(atol + rtol * scale).toExponential(3)}`,
      );
  }
}

/**
 * The gradient of a scalar program by central finite differences, element by element: a
 * number for a number argument, a float64 Tensor for a Tensor argument; an array when
 * `argnums` is an array.
 */
export function numericGrad(f: Program, args: readonly unknown[], options: { argnums?: number | readonly number[]; eps?: number } = {}): unknown {
  const nums = resolveArgnums(f.name || "f", args, options.argnums ?? 0);
  const scalar = (xs: readonly unknown[]): number => {
    const y = run(f, ...xs);
    const l = leaves(y);
    if (l.length !== 1 || valuesOf(l[0]!).length !== 1) fail(f.name || "f", `numericGrad needs a scalar output, got ${describe(y)}`);
    return valuesOf(l[0]!)[0]!;
  };
  const grads = nums.map((n) => {
    const x = args[n] as Leaf;
    const eps = options.eps ?? (dtypeOfLeaf(x) === "float32" ? 1e-2 : 1e-4);
    const base = Array.from(valuesOf(x));
    const g = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const at = (s: number): number => {
        const xs = args.slice();
        xs[n] = leafLike(x, (j) => (j === i ? base[j]! + s : base[j]!));
        return scalar(xs);
      };
      g[i] = (8 * (at(eps) - at(-eps)) - (at(2 * eps) - at(-2 * eps))) / (12 * eps);
    }
    return typeof x === "number" ? g[0]! : new Tensor(g, x.shape);
  });
  return typeof (options.argnums ?? 0) === "number" ? grads[0] : grads;
}

// ---------------------------------------------------------------------------------------------
// Inputs for derivative checks: seeded, away from kinks where asked.

export interface ValueOptions {
  dtype?: DType;
  /** Values are drawn uniformly from [lo, hi] (default [-2, 2]). */
  lo?: number;
  hi?: number;
  /** With `awayFromZero: m`, magnitudes are drawn from [m, hi] with a random sign. */
  awayFromZero?: number;
}

const draw = (rnd: () => number, o: ValueOptions): number => {
  const lo = o.lo ?? -2;
  const hi = o.hi ?? 2;
  if (o.awayFromZero !== undefined) {
    const m = o.awayFromZero + rnd() * (hi - o.awayFromZero);
    return rnd() < 0.5 ? -m : m;
  }
  return lo + rnd() * (hi - lo);
};

/** A seeded random number. */
export const randomNumber = (seed: number, o: ValueOptions = {}): number => draw(prng(seed), o);

/** A seeded random tensor of `shape`. */
export function randomTensor(shape: readonly number[], seed: number, o: ValueOptions = {}): Tensor {
  const rnd = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = o.dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) buf[i] = draw(rnd, o);
  return tensor(buf, { shape });
}

/** A number (shape null) or a tensor. */
export const randomLeaf = (shape: readonly number[] | null, seed: number, o: ValueOptions = {}): Leaf =>
  shape === null ? randomNumber(seed, o) : randomTensor(shape, seed, o);

/**
 * Values for several operands (a number for shape null) drawn together so that no two
 * values are closer than `gap` (no ties for max/min/maximum/minimum/maxPool2d): a shuffled
 * ladder of spacing `gap` with jitter below gap/10.
 */
export function distinctLeaves(shapes: readonly (readonly number[] | null)[], seed: number, gap = 0.1, dtype: DType = "float64"): Leaf[] {
  const rnd = prng(seed);
  const sizes = shapes.map((s) => (s === null ? 1 : s.reduce((a, b) => a * b, 1)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const ladder = Array.from({ length: total }, (_, i) => (i - total / 2) * gap + rnd() * gap * 0.1);
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [ladder[i], ladder[j]] = [ladder[j]!, ladder[i]!];
  }
  let k = 0;
  return shapes.map((s, i) => {
    const vals = ladder.slice(k, (k += sizes[i]!));
    return s === null ? vals[0]! : tensor(dtype === "float32" ? Float32Array.from(vals) : Float64Array.from(vals), { shape: s });
  });
}

// ---------------------------------------------------------------------------------------------
// Representative cases of every operation (fixed shapes, seeded values away from kinks, ties
// and domain edges), for suites that rerun derivative checks on all operations (order 2,
// jvp/vjp consistency, jit, ...). `args(seed)` gives the differentiated arguments.

export interface OpCase {
  readonly name: string;
  readonly f: Program;
  readonly args: (seed: number) => Leaf[];
  /** The operation's derivative is identically zero (comparisons, sign). */
  readonly zeroDerivative?: boolean;
  /** Finite differences do not see the derivative AD defines (stopGradient). */
  readonly notFiniteDifferences?: boolean;
}

type Unary = (x: Value) => Effect<Value>;
type Binary = (a: Value, b: Value) => Effect<Value>;

const unaryCases: [string, Unary, ValueOptions][] = [
  ["neg", Y.neg, {}],
  ["exp", Y.exp, {}],
  ["log", Y.log, { lo: 0.2, hi: 3 }],
  ["sin", Y.sin, {}],
  ["cos", Y.cos, {}],
  ["tan", Y.tan, { lo: -1.2, hi: 1.2 }],
  ["tanh", Y.tanh, {}],
  ["sigmoid", Y.sigmoid, { lo: -4, hi: 4 }],
  ["relu", Y.relu, { awayFromZero: 0.05 }],
  ["sqrt", Y.sqrt, { lo: 0.2, hi: 3 }],
  ["square", Y.square, {}],
  ["abs", Y.abs, { awayFromZero: 0.05 }],
  ["log1p", Y.log1p, { lo: -0.7, hi: 3 }],
  ["expm1", Y.expm1, {}],
  ["sign", Y.sign, { awayFromZero: 0.05 }],
  ["asin", Y.asin, { lo: -0.8, hi: 0.8 }],
  ["acos", Y.acos, { lo: -0.8, hi: 0.8 }],
  ["atan", Y.atan, {}],
  ["sinh", Y.sinh, {}],
  ["cosh", Y.cosh, {}],
  ["asinh", Y.asinh, {}],
  ["acosh", Y.acosh, { lo: 1.2, hi: 3 }],
  ["atanh", Y.atanh, { lo: -0.8, hi: 0.8 }],
  ["log2", Y.log2, { lo: 0.2, hi: 3 }],
  ["log10", Y.log10, { lo: 0.2, hi: 3 }],
  ["exp2", Y.exp2, {}],
  ["cbrt", Y.cbrt, { awayFromZero: 0.2 }],
  ["erf", Y.erf, {}],
  ["erfc", Y.erfc, {}],
  ["erfinv", Y.erfinv, { lo: -0.8, hi: 0.8 }],
  ["floor", Y.floor, { awayFromZero: 0.05 }],
  ["ceil", Y.ceil, { awayFromZero: 0.05 }],
  ["round", Y.round, { awayFromZero: 0.05 }],
  ["trunc", Y.trunc, { awayFromZero: 0.05 }],
  ["softplus", Y.softplus, { lo: -4, hi: 4 }],
  ["silu", Y.silu, { lo: -4, hi: 4 }],
  ["gelu", Y.gelu, { lo: -4, hi: 4 }],
];
/** Piecewise constant: derivative zero at every order. */
const ZERO_DERIVATIVE = new Set(["sign", "floor", "ceil", "round", "trunc"]);

const binaryCases: [string, Binary, ValueOptions, ValueOptions, boolean][] = [
  ["add", Y.add, {}, {}, false],
  ["sub", Y.sub, {}, {}, false],
  ["mul", Y.mul, {}, {}, false],
  ["div", Y.div, {}, { awayFromZero: 0.5 }, false],
  ["pow", Y.pow, { lo: 0.5, hi: 2 }, {}, false],
  ["maximum", Y.maximum, {}, {}, true],
  ["minimum", Y.minimum, {}, {}, true],
  ["atan2", Y.atan2, {}, { awayFromZero: 0.3 }, false],
  ["logaddexp", Y.logaddexp, {}, {}, false],
  ["hypot", Y.hypot, { awayFromZero: 0.3 }, { awayFromZero: 0.3 }, false],
  ["mod", Y.mod, {}, { awayFromZero: 0.7 }, false],
];

const broadcastPairs: [number[] | null, number[] | null][] = [
  [[2, 3], [2, 3]],
  [[2, 1, 3], [2, 1]],
  [[3], null],
  [null, [2, 3]],
  [null, null],
];

const comparisonCases: [string, Binary][] = [
  ["greater", Y.greater],
  ["less", Y.less],
  ["equal", Y.equal],
  ["greaterEqual", Y.greaterEqual],
  ["lessEqual", Y.lessEqual],
];

type Reduction = (x: Value, axis?: number | readonly number[], keepdims?: boolean) => Effect<Value>;
const reductionCases: [string, Reduction, boolean][] = [
  ["sum", Y.sum, false],
  ["mean", Y.mean, false],
  ["max", Y.max, true],
  ["min", Y.min, true],
  ["logsumexp", Y.logsumexp, false],
];

const program1 = (body: (x: Value) => Effect<Value> | Generator<Effect, Value, unknown>): Program =>
  function* (x: Value) {
    return yield* body(x);
  };
const program2 = (body: (a: Value, b: Value) => Effect<Value> | Generator<Effect, Value, unknown>): Program =>
  function* (a: Value, b: Value) {
    return yield* body(a, b);
  };
const mask = (shape: number[], seed: number): Tensor =>
  tensor(Float64Array.from(randomTensor(shape, seed).buf, (v) => (v > 0 ? 1 : 0)), { shape });

/** One or more cases for every operation of the API (and the extra ops of src/ops.ts). */
export function opCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const [name, op, vo] of unaryCases) {
    const zero = ZERO_DERIVATIVE.has(name);
    cases.push({ name: `${name} [2,3]`, f: program1(op), args: (s) => [randomTensor([2, 3], s, vo)], zeroDerivative: zero });
    cases.push({ name: `${name} number`, f: program1(op), args: (s) => [randomNumber(s, vo)], zeroDerivative: zero });
  }
  for (const [name, op, va, vb, distinct] of binaryCases)
    for (const [sa, sb] of broadcastPairs)
      cases.push({
        name: `${name} ${sa ? `[${sa}]` : "number"} ${sb ? `[${sb}]` : "number"}`,
        f: program2(op),
        args: (s) => (distinct ? distinctLeaves([sa, sb], s) : [randomLeaf(sa, s, va), randomLeaf(sb, s ^ 0x5555, vb)]),
      });
  cases.push({ name: "pow(x, 3) any sign", f: program1((x) => Y.pow(x, 3)), args: (s) => [randomTensor([3], s, { awayFromZero: 0.3 })] });
  cases.push({ name: "pow(2, x)", f: program1((x) => Y.pow(2, x)), args: (s) => [randomTensor([3], s)] });
  for (const [name, op] of comparisonCases) {
    cases.push({ name: `${name} [2,3] [3]`, f: program2(op), args: (s) => distinctLeaves([[2, 3], [3]], s), zeroDerivative: true });
    cases.push({
      name: `${name} as a mask`,
      f: program2(function* (a, b) {
        return yield* Y.mul(yield* op(a, b), yield* Y.mul(a, b));
      }),
      args: (s) => distinctLeaves([[2, 3], [3]], s),
    });
  }
  cases.push({
    name: "where (constant condition, broadcasting)",
    f: program2((a, b) => Y.where(mask([2, 3], 77), a, b)),
    args: (s) => [randomTensor([2, 1], s), randomTensor([3], s ^ 0x5555)],
  });
  cases.push({
    name: "where (traced condition, number branch)",
    f: program1(function* (x) {
      return yield* Y.where(yield* Y.greater(x, 0), yield* Y.sin(x), 0.5);
    }),
    args: (s) => [randomTensor([2, 3], s, { awayFromZero: 0.1 })],
  });
  const axes: [number | number[] | undefined, boolean][] = [[undefined, false], [-1, true], [1, false], [[0, 2], false], [[-1, 0], true], [[], false]];
  for (const [name, op, distinct] of reductionCases)
    for (const [axis, keepdims] of axes)
      cases.push({
        name: `${name} [2,3,2] axis ${JSON.stringify(axis)} keepdims ${keepdims}`,
        f: program1((x) => op(x, axis, keepdims)),
        args: (s) => (distinct ? distinctLeaves([[2, 3, 2]], s) : [randomTensor([2, 3, 2], s)]),
      });
  for (const [name, op] of [["softmax", Y.softmax], ["logSoftmax", Y.logSoftmax]] as const) {
    cases.push({ name: `${name} [2,3]`, f: program1((x) => op(x)), args: (s) => [randomTensor([2, 3], s, { lo: -3, hi: 3 })] });
    cases.push({ name: `${name} [2,3] axis 0`, f: program1((x) => op(x, 0)), args: (s) => [randomTensor([2, 3], s, { lo: -3, hi: 3 })] });
  }
  const matmuls: [number[], number[]][] = [[[3], [3]], [[2, 3], [3]], [[3], [3, 2]], [[2, 3], [3, 2]], [[2, 1, 2, 3], [3, 3, 2]], [[3], [2, 3, 2]]];
  for (const [sa, sb] of matmuls)
    cases.push({ name: `matmul [${sa}] [${sb}]`, f: program2(Y.matmul), args: (s) => [randomTensor(sa, s), randomTensor(sb, s ^ 0x2222)] });
  cases.push({ name: "dot [2,3] [3]", f: program2(Y.dot), args: (s) => [randomTensor([2, 3], s), randomTensor([3], s ^ 1)] });
  cases.push({ name: "dot number [3]", f: program2(Y.dot), args: (s) => [randomNumber(s), randomTensor([3], s ^ 1)] });
  cases.push({ name: "reshape [2,3] to [3,-1]", f: program1((x) => Y.reshape(x, [3, -1])), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "transpose [2,3,2] [2,0,1]", f: program1((x) => Y.transpose(x, [2, 0, 1])), args: (s) => [randomTensor([2, 3, 2], s)] });
  cases.push({ name: "transpose [2,3] default", f: program1((x) => Y.transpose(x)), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "broadcastTo [2,1] to [3,2,2]", f: program1((x) => Y.broadcastTo(x, [3, 2, 2])), args: (s) => [randomTensor([2, 1], s)] });
  cases.push({
    name: "concat [2,1] [2,3] axis -1",
    f: program2((a, b) => Y.concat([a, b], -1)),
    args: (s) => [randomTensor([2, 1], s), randomTensor([2, 3], s ^ 1)],
  });
  cases.push({ name: "slice [3,4] [1,0]..[3,3]", f: program1((x) => Y.slice(x, [1, 0], [3, 3])), args: (s) => [randomTensor([3, 4], s)] });
  cases.push({ name: "take [3,2] [2,0,2] axis 0", f: program1((x) => Y.take(x, [2, 0, 2])), args: (s) => [randomTensor([3, 2], s)] });
  cases.push({ name: "dynamicIndex [3,2] row 1", f: program1((x) => Y.dynamicIndex(x, 1)), args: (s) => [randomTensor([3, 2], s)] });
  cases.push({
    name: "dynamicIndex of a vector, index a 1-element tensor",
    f: program1(function* (x) {
      return yield* Y.mul(yield* Y.dynamicIndex(x, tensor([2])), yield* Y.sin(x));
    }),
    args: (s) => [randomTensor([3], s)],
  });
  cases.push({ name: "take [2,3] [[1,1],[0,2]] axis -1", f: program1((x) => Y.take(x, tensor([[1, 1], [0, 2]]), -1)), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({
    name: "conv2d [1,2,4,5] [2,2,3,2] stride [2,1] padding 1",
    f: program2((x, w) => Y.conv2d(x, w, { stride: [2, 1], padding: 1 })),
    args: (s) => [randomTensor([1, 2, 4, 5], s), randomTensor([2, 2, 3, 2], s ^ 3)],
  });
  cases.push({
    name: "conv2d [2,1,3,3] [1,1,2,2]",
    f: program2((x, w) => Y.conv2d(x, w)),
    args: (s) => [randomTensor([2, 1, 3, 3], s), randomTensor([1, 1, 2, 2], s ^ 3)],
  });
  for (const [name, op] of [["maxPool2d", Y.maxPool2d], ["avgPool2d", Y.avgPool2d]] as const) {
    cases.push({ name: `${name} [1,2,4,4] size 2`, f: program1((x) => op(x, { size: 2 })), args: (s) => distinctLeaves([[1, 2, 4, 4]], s) });
    cases.push({ name: `${name} [1,1,5,4] size 2 stride 1`, f: program1((x) => op(x, { size: 2, stride: 1 })), args: (s) => distinctLeaves([[1, 1, 5, 4]], s) });
    cases.push({ name: `${name} [1,1,5,5] size 3 stride 2`, f: program1((x) => op(x, { size: 3, stride: 2 })), args: (s) => distinctLeaves([[1, 1, 5, 5]], s) });
  }
  // Shape operations and contractions of the second round (test/shape-extra.test.ts, test/einsum.test.ts)
  cases.push({ name: "stack [2,3] [2,3] axis 1", f: program2((a, b) => Y.stack([a, b], 1)), args: (s) => [randomTensor([2, 3], s), randomTensor([2, 3], s ^ 1)] });
  cases.push({
    name: "split [2,4] in 2 along axis 1, the pieces swapped",
    f: program1(function* (x) {
      const [a, b] = yield* Y.split(x, 2, 1);
      return yield* Y.concat([b!, a!], 1);
    }),
    args: (s) => [randomTensor([2, 4], s)],
  });
  cases.push({ name: "flip [2,3,2] axes [0,-1]", f: program1((x) => Y.flip(x, [0, -1])), args: (s) => [randomTensor([2, 3, 2], s)] });
  cases.push({ name: "tile [2,3] [2,1,2]", f: program1((x) => Y.tile(x, [2, 1, 2])), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "repeat [2,3] [1,0,2] axis -1", f: program1((x) => Y.repeat(x, [1, 0, 2], -1)), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "squeeze [1,3,1] and expandDims", f: program1(function* (x) { return yield* Y.expandDims(yield* Y.squeeze(x), [0, 2]); }), args: (s) => [randomTensor([1, 3, 1], s)] });
  cases.push({ name: "pad [2,3] constant 1.5", f: program1((x) => Y.pad(x, [[1, 0], [0, 2]], { value: 1.5 })), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "pad [2,3] edge", f: program1((x) => Y.pad(x, [[2, 1], [1, 1]], { mode: "edge" })), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "pad [3,3] reflect", f: program1((x) => Y.pad(x, [[2, 1], [0, 2]], { mode: "reflect" })), args: (s) => [randomTensor([3, 3], s)] });
  cases.push({ name: "tril [2,3,3] k -1", f: program1((x) => Y.tril(x, -1)), args: (s) => [randomTensor([2, 3, 3], s)] });
  cases.push({ name: "triu [3,4] k 1", f: program1((x) => Y.triu(x, 1)), args: (s) => [randomTensor([3, 4], s)] });
  cases.push({ name: "diag of a vector, k -1", f: program1((x) => Y.diag(x, -1)), args: (s) => [randomTensor([3], s)] });
  cases.push({ name: "diag of a matrix, k 1", f: program1((x) => Y.diag(x, 1)), args: (s) => [randomTensor([3, 4], s)] });
  cases.push({ name: "trace [3,3]", f: program1((x) => Y.trace(x)), args: (s) => [randomTensor([3, 3], s)] });
  cases.push({
    name: "tensordot [2,3,2] [3,2,2] axes [[1,0],[0,2]]",
    f: program2((a, b) => Y.tensordot(a, b, [[1, 0], [0, 2]])),
    args: (s) => [randomTensor([2, 3, 2], s), randomTensor([3, 2, 2], s ^ 1)],
  });
  cases.push({ name: "einsum bij,bkj->bik", f: program2((a, b) => Y.einsum("bij,bkj->bik", a, b)), args: (s) => [randomTensor([2, 2, 3], s), randomTensor([2, 2, 3], s ^ 1)] });
  cases.push({
    name: "einsum ij,jk,kk->ik (a chain with a diagonal)",
    f: program2(function* (a, b) { return yield* Y.einsum("ij,jk,kk->ik", a, b, yield* Y.mul(b, b)); }),
    args: (s) => [randomTensor([2, 3], s), randomTensor([3, 3], s ^ 1)],
  });
  // Reductions, sorting and indexing of the second round (test/reductions-extra.test.ts, sorting.test.ts, indexing-extra.test.ts)
  const withZeros = (s: number): Tensor => tensor(Float64Array.from(randomTensor([2, 4], s).buf, (v, i) => (i === 1 || i === 4 || i === 6 ? 0 : v)), { shape: [2, 4] });
  cases.push({ name: "prod [2,3,2] axes [0,2] keepdims", f: program1((x) => Y.prod(x, [0, 2], true)), args: (s) => [randomTensor([2, 3, 2], s)] });
  cases.push({ name: "prod [2,4] axis 1, one zero and two zeros in a row", f: program1((x) => Y.prod(x, 1)), args: (s) => [withZeros(s)] });
  cases.push({ name: "variance [2,3] axis 1 ddof 1", f: program1((x) => Y.variance(x, 1, false, { ddof: 1 })), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "std [2,3]", f: program1((x) => Y.std(x)), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "cumsum [2,3] axis 0", f: program1((x) => Y.cumsum(x, 0)), args: (s) => [randomTensor([2, 3], s)] });
  cases.push({ name: "cumprod [2,4] with zeros", f: program1((x) => Y.cumprod(x)), args: (s) => [withZeros(s)] });
  cases.push({ name: "sort [3,4] axis 0", f: program1((x) => Y.sort(x, 0)), args: (s) => distinctLeaves([[3, 4]], s) });
  cases.push({
    name: "topK [2,5] k 2 values",
    f: program1(function* (x) {
      const [v] = yield* Y.topK(x, 2);
      return v;
    }),
    args: (s) => distinctLeaves([[2, 5]], s),
  });
  cases.push({ name: "argmax [2,3] axis 1", f: program1((x) => Y.argmax(x, 1)), args: (s) => distinctLeaves([[2, 3]], s), zeroDerivative: true });
  cases.push({ name: "segmentSum [4,2] ids [1,0,1,1]", f: program1((x) => Y.segmentSum(x, [1, 0, 1, 1], 3)), args: (s) => [randomTensor([4, 2], s)] });
  cases.push({ name: "dynamicSlice [3,4] at [1,5] (clamped) size [2,2]", f: program1((x) => Y.dynamicSlice(x, [1, 5], [2, 2])), args: (s) => [randomTensor([3, 4], s)] });
  cases.push({
    name: "dynamicUpdateSlice [3,4] [2,1] at [1,2]",
    f: program2((x, u) => Y.dynamicUpdateSlice(x, u, [1, 2])),
    args: (s) => [randomTensor([3, 4], s), randomTensor([2, 1], s ^ 1)],
  });
  cases.push({ name: "stopGradient", f: program1((x) => Y.stopGradient(x)), args: (s) => [randomTensor([2, 3], s)], zeroDerivative: true, notFiniteDifferences: true });
  return cases;
}
