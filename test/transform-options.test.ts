// The transformations' options: grad / valueAndGrad with hasAux and negative argnums,
// vjpWithAux, vmap with pytree inAxes and outAxes, jacfwd / jacrev / hessian with argnums and
// pytrees (JAX's block structure), and customJvp (forward mode by the rule, reverse mode by its
// transpose) under jit, vmap and nesting. Values against finite differences and loops; bad input.
import { describe, expect, expectTypeOf, it } from "vitest";
import fc from "fast-check";
import {
  EffectError, ShapeError, Tensor, TransformError, ValueError, add, cos, customJvp, exp, grad, hessian, jacfwd, jacrev, jit, jvp, log,
  log1p, mul, run, sin, sum, tensor, valueAndGrad, vjp, vjpWithAux, vmap, type Value,
} from "../src/index.ts";
import { checkGrads, randomTensor } from "./check-grads.ts";
import { expectClose, expectSameStructure, fdGrad, flatNumbers, scalar, withNumbers } from "./fd.ts";
import { expectSame } from "./expect-same.ts";
import { caught } from "./perform.ts";

const expectTagged = (f: () => unknown, tag: new (...a: never[]) => Error, parts: (string | RegExp)[]): void => {
  const e = caught(f);
  expect(e).toBeInstanceOf(tag);
  for (const p of parts) typeof p === "string" ? expect(e.message).toContain(p) : expect(e.message).toMatch(p);
};

/** Example b of a tensor stacked along axis 0. */
const slice0 = (t: Tensor, b: number): Tensor => new Tensor(t.buf.slice((b * t.size) / t.shape[0]!, ((b + 1) * t.size) / t.shape[0]!), t.shape.slice(1));

describe("grad and valueAndGrad with hasAux", () => {
  // loss and aux data: a pytree with tensors, numbers and a string
  const f = function* (w: Value, x: Value) {
    const y = yield* mul(w, x);
    const loss = yield* sum(yield* sin(y));
    return [loss, { y, n: 3, tag: "step", parts: [yield* cos(y)] }] as const;
  };
  const w = tensor([0.5, -1.5]), x = tensor([2, 3]);

  it("grad gives [gradient, aux] and valueAndGrad [[value, aux], gradient], as JAX; aux is data", () => {
    const [g, aux] = run(grad(f, { hasAux: true }), w, x);
    expectClose(g, tensor([2 * Math.cos(1), 3 * Math.cos(-4.5)]), { rtol: 1e-14 });
    expect(aux.tag).toBe("step");
    expect(aux.n).toBe(3);
    expectClose(aux.y, tensor([1, -4.5]), { rtol: 1e-15 });
    expectClose(aux.parts[0], tensor([Math.cos(1), Math.cos(-4.5)]), { rtol: 1e-15 });
    const [[value, aux2], g2] = run(valueAndGrad(f, { hasAux: true }), w, x);
    expectClose(value, Math.sin(1) + Math.sin(-4.5), { rtol: 1e-14 });
    expectClose(aux2.y, aux.y);
    expectClose(g2, g);
    // with argnums, negative ones included
    const [gs] = run(grad(f, { hasAux: true, argnums: [-1, 0] }), w, x);
    expectClose(gs[0], tensor([0.5 * Math.cos(1), -1.5 * Math.cos(-4.5)]), { rtol: 1e-14 });
    expectClose(gs[1], g);
  });

  it("aux is not differentiated: an outer grad through the aux sees a constant", () => {
    // h(a) = inner gradient (cos(a·b)·b) + aux (a·b) — the aux value is the primal a·b, which the
    // outer grad still differentiates (it is a value of the outer level), the inner one does not
    const inner = function* (a: Value, b: Value) {
      const y = yield* mul(a, b);
      return [yield* sin(y), y] as const;
    };
    const h = function* (a: Value) {
      const [g, aux] = yield* grad(inner, { hasAux: true })(a, 2);
      return yield* add(g, aux);
    };
    expect(run(grad(h), 0.3)).toBeCloseTo(-4 * Math.sin(0.6) + 2, 13);
    checkGrads(h, [0.3], { order: 2, name: "grad of grad with hasAux" });
  });

  it("under jit and vmap", () => {
    const g = grad(f, { hasAux: true });
    const eager = run(g, w, x);
    const jitted = run(jit(g), w, x);
    expectClose(jitted[0], eager[0], { rtol: 1e-14 });
    expectClose(jitted[1].y, eager[1].y, { rtol: 1e-14 });
    expect(jitted[1].tag).toBe("step");
    const ws = tensor([[0.5, -1.5], [1, 2], [0.1, 0.2]]);
    const [gs, auxes] = run(vmap(g, [0, null]), ws, x) as unknown as [Tensor, { y: Tensor }];
    for (let b = 0; b < 3; b++) {
      const [gb, ab] = run(g, slice0(ws, b), x);
      expectClose(slice0(gs, b), gb, { rtol: 1e-14 });
      expectClose(slice0(auxes.y, b), ab.y, { rtol: 1e-14 });
    }
  });

  it("a hasAux program that does not return a pair: a TransformError naming grad and hasAux", () => {
    const single = function* (a: Value) { return yield* sin(a); };
    expectTagged(() => run(grad(single as never, { hasAux: true }), 1), TransformError, ["grad", "hasAux", "pair [value, aux]", "a number"]);
    const triple = function* (a: Value) { return [a, a, a]; };
    expectTagged(() => run(valueAndGrad(triple as never, { hasAux: true }), 1), TransformError, ["valueAndGrad", "hasAux", "an array of 3"]);
    const vector = function* (a: Value) { return [yield* mul(a, tensor([1, 2])), 0] as const; };
    expectTagged(() => run(grad(vector, { hasAux: true }), 1), TransformError, ["grad", "shape [2]", "scalar"]);
    expectTagged(() => grad(single, { hasAux: 1 } as never), ValueError, ["grad", "hasAux"]);
  });
});

describe("result types", () => {
  it("follow the options: hasAux pairs, vjpWithAux's triple, the Jacobians' structure", () => {
    const f = function* (w: Tensor, x: number) {
      const y = yield* mul(w, x);
      return [yield* sum(y), { y, label: "l" }] as const;
    };
    const w = tensor([1, 2]);
    const [g, aux] = run(grad(f, { hasAux: true }), w, 3);
    expectTypeOf(g).toEqualTypeOf<Tensor>();
    expectTypeOf(aux).toEqualTypeOf<{ readonly y: Tensor; readonly label: "l" }>();
    const [[v, aux2], gx] = run(valueAndGrad(f, { hasAux: true, argnums: 1 }), w, 3);
    expectTypeOf(v).toEqualTypeOf<Tensor>();
    expectTypeOf(aux2.y).toEqualTypeOf<Tensor>();
    expectTypeOf(gx).toEqualTypeOf<number>();
    const [out, , aux3] = run(function* () { return yield* vjpWithAux(f, w, 3); });
    expectTypeOf(out).toEqualTypeOf<Tensor>();
    expectTypeOf(aux3.label).toEqualTypeOf<"l">();
    const h = function* (p: { a: number; b: Tensor }) { return { s: yield* mul(p.a, p.a), t: yield* mul(p.b, p.a) }; };
    const J = run(jacfwd(h), { a: 2, b: tensor([1, 2]) });
    expectTypeOf(J.s.a).toEqualTypeOf<number>();
    expectTypeOf(J.t.b).toEqualTypeOf<Tensor>();
    expect(J.s.a).toBe(4);
    expect(J.t.b.shape).toEqual([2, 2]);
  });
});

describe("negative argnums", () => {
  const f = function* (a: Value, b: Value, c: Value) { return yield* sum(yield* mul(yield* mul(a, b), yield* sin(c))); };
  it("count from the end, alone or in arrays, in grad, valueAndGrad and the Jacobians", () => {
    const args = [tensor([1, 2]), tensor([3, 4]), tensor([0.5, 0.25])] as const;
    expectClose(run(grad(f, { argnums: -1 }), ...args), run(grad(f, { argnums: 2 }), ...args));
    expectClose(run(grad(f, { argnums: [-3, -2] }), ...args), run(grad(f, { argnums: [0, 1] }), ...args));
    expectClose(run(valueAndGrad(f, { argnums: -2 }), ...args), run(valueAndGrad(f, { argnums: 1 }), ...args));
    expectClose(run(jacrev(f, { argnums: -1 }), ...args), run(jacrev(f, { argnums: 2 }), ...args));
    expectClose(run(hessian(f, { argnums: -3 }), ...args), run(hessian(f, { argnums: 0 }), ...args));
    expectTagged(() => run(grad(f, { argnums: -4 }), ...args), TransformError, ["grad", "argnums -4", "[-3, 2]"]);
    expectTagged(() => run(jacfwd(f, { argnums: [0, 3] }), ...args), TransformError, ["jacfwd", "[-3, 2]"]);
  });
});

describe("vjpWithAux", () => {
  it("gives [output, pullback, aux]; the pullback is vjp's", () => {
    const f = function* (a: Value, b: Value) {
      const y = yield* mul(a, b);
      return [yield* exp(y), { y, label: "y" }] as const;
    };
    const a = tensor([0.1, 0.2]), b = tensor([3, -1]);
    const [out, pullback, aux] = run(function* () { return yield* vjpWithAux(f, a, b); });
    const [out2, pullback2] = run(function* () { return yield* vjp(function* (p: Value, q: Value) { return (yield* f(p, q))[0]; }, a, b); });
    expectClose(out, out2);
    expectClose(aux.y, tensor([0.3, -0.2]), { rtol: 1e-15 });
    expect(aux.label).toBe("y");
    const ct = tensor([1, 2]);
    expectClose(run(pullback, ct), run(pullback2, ct));
    expectTagged(() => run(function* () { return yield* vjpWithAux(function* (p: Value) { return yield* exp(p); } as never, a); }), TransformError, ["vjpWithAux", "hasAux", "pair"]);
  });
});

describe("vmap with pytree inAxes and outAxes", () => {
  const g = function* (p: { w: Value; b: Value }, xs: [Value, Value]) {
    const h = yield* add(yield* mul(p.w, xs[0]), p.b);
    return { h, s: yield* sum(yield* mul(h, xs[1])), w: p.w };
  };
  const p = { w: randomTensor([3, 4], 1), b: randomTensor([3], 2) };
  const x0 = randomTensor([4, 3], 3), x1 = randomTensor([3], 4);

  it("a prefix tree per argument: a number or null for a subtree, an object or array matching it", () => {
    // p.w mapped on axis 1, p.b shared; xs[0] mapped on axis 0, xs[1] shared
    const got = run(vmap(g, [{ w: 1, b: null }, [0, null]]), p, [x0, x1]) as { h: Tensor; s: Tensor; w: Tensor };
    for (let k = 0; k < 4; k++) {
      const wk = new Tensor(Float64Array.from({ length: 3 }, (_, i) => p.w.buf[i * 4 + k]!), [3]);
      const want = run(g, { w: wk, b: p.b }, [slice0(x0, k), x1]);
      expectClose(slice0(got.h, k), want.h, { rtol: 1e-14 });
      expectClose(slice0(got.s as Tensor, k).buf[0]!, scalar(want.s), { rtol: 1e-14 });
      expectClose(slice0(got.w, k), wk);
    }
  });

  it("outAxes: a number, negative, a pytree, and null for a result that does not depend on the batch", () => {
    const xs = randomTensor([5, 3], 5);
    const h = function* (x: Value, c: Value) { return { y: yield* mul(x, 2), c, t: [yield* sin(x)] }; };
    const got = run(vmap(h, [0, null], { y: 1, c: null, t: [-1] }), xs, tensor([7, 8])) as unknown as { y: Tensor; c: Tensor; t: [Tensor] };
    expect(got.y.shape).toEqual([3, 5]);
    expect(got.t[0].shape).toEqual([3, 5]);
    expect(got.c.toArray()).toEqual([7, 8]); // returned once, not stacked
    for (let b = 0; b < 5; b++)
      for (let i = 0; i < 3; i++) {
        expect(got.y.at(i, b)).toBe(2 * xs.at(b, i));
        expect(got.t[0].at(i, b)).toBe(Math.sin(xs.at(b, i)));
      }
    const one = run(vmap(function* (x: Value) { return yield* mul(x, 3); }, 0, 1), xs) as Tensor;
    expect(one.shape).toEqual([3, 5]);
    expect(one.at(2, 4)).toBe(3 * xs.at(4, 2));
  });

  it("matches a loop for random axes over a pytree (fast-check)", () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, -1), fc.constantFrom(0, 1, -1, null), fc.constantFrom(0, 1, -1), fc.integer({ min: 1, max: 4 }), (aw, ab, out, size) => {
        const base = { w: randomTensor([size, 2, 3], size), b: randomTensor([size, 3], size + 1) };
        const argW = aw === 0 ? base.w : run(vmap(function* (v: Value) { return v; }, 0, aw), base.w) as Tensor;
        const argB = ab === null ? slice0(base.b, 0) : ab === 0 ? base.b : (run(vmap(function* (v: Value) { return v; }, 0, ab), base.b) as Tensor);
        const f = function* (q: { w: Value; b: Value }) { return yield* add(yield* sum(q.w, 0), q.b); };
        const got = run(vmap(f, { w: aw, b: ab } as never, out), { w: argW, b: argB }) as Tensor;
        const want = Array.from({ length: size }, (_, k) => run(f, { w: slice0(base.w, k), b: ab === null ? slice0(base.b, 0) : slice0(base.b, k) }) as Tensor);
        const stacked = run(vmap(function* (v: Value) { return v; }, 0, out), new Tensor(Float64Array.from(want.flatMap((t) => Array.from(t.buf))), [size, 3])) as Tensor;
        expectClose(got, stacked, { rtol: 1e-14 });
        expect(got.shape).toEqual(stacked.shape);
      }),
      { numRuns: 40 },
    );
  });

  it("bad axes: TransformError or ShapeError naming vmap", () => {
    const f = function* (q: { w: Value; b: Value }) { return yield* add(q.w, q.b); };
    const q = { w: randomTensor([2, 3], 1), b: randomTensor([2, 3], 2) };
    expectTagged(() => run(vmap(f, [{ w: 0 }] as never), q), TransformError, ["vmap", "inAxes", "no key b"]);
    expectTagged(() => run(vmap(f, [[0, 0]] as never), q), TransformError, ["vmap", "inAxes", "array of 2", "an object"]);
    expectTagged(() => run(vmap(f, [{ w: 0, b: 0, c: 0 }] as never), q), TransformError, ["vmap", "key(s) c"]);
    expectTagged(() => run(vmap(f, 0, null), q), TransformError, ["vmap", "outAxes is null", "depends on the mapped arguments"]);
    expectTagged(() => run(vmap(f, 0, 2), q), ShapeError, ["vmap", "outAxes 2"]);
    expectTagged(() => run(vmap(f, 0, { y: 0 } as never), q), TransformError, ["vmap", "outAxes the result is an object"]);
  });
});

/** Central differences of every output scalar, in JAX's structure: output tree of (tuples of) input trees of blocks. */
function fdJacobian(f: (...args: unknown[]) => Generator<unknown, unknown, unknown>, args: unknown[], argnums: number | number[]): unknown {
  const nums = (typeof argnums === "number" ? [argnums] : argnums).map((i) => (i < 0 ? i + args.length : i));
  const out = run(f as never, ...args);
  const outLeaves: (number | Tensor)[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === "number" || v instanceof Tensor) outLeaves.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(collect);
  };
  collect(out);
  const blocks = outLeaves.map((o, j) => {
    const oShape = typeof o === "number" ? [] : o.shape;
    const oSize = typeof o === "number" ? 1 : o.size;
    // per output element: the gradient tree of the picked arguments
    const rows = Array.from({ length: oSize }, (_, k) =>
      fdGrad((picked: unknown[]) => {
        const all = args.slice();
        nums.forEach((i, n) => (all[i] = picked[n]));
        const leaves: (number | Tensor)[] = [];
        const c2 = (v: unknown): void => {
          if (typeof v === "number" || v instanceof Tensor) leaves.push(v);
          else if (Array.isArray(v)) v.forEach(c2);
          else if (v !== null && typeof v === "object") Object.values(v).forEach(c2);
        };
        c2(run(f as never, ...all));
        const leaf = leaves[j]!;
        return typeof leaf === "number" ? leaf : leaf.buf[k]!;
      }, nums.map((i) => args[i]), 1e-5),
    );
    // block per input scalar position: rearrange rows [out elem][input tree] into input trees of [...oShape, ...inShape]
    const template = nums.map((i) => args[i]);
    const inCount = flatNumbers(template).length;
    const values = Array.from({ length: inCount }, (_, m) => rows.map((r) => flatNumbers(r)[m]!));
    // each input leaf's block: out-major, then input element
    let m = 0;
    const build = (v: unknown): unknown => {
      if (typeof v === "number") {
        const col = values[m++]!;
        return typeof o === "number" ? col[0]! : tensor(Float64Array.from(col), { shape: oShape });
      }
      if (v instanceof Tensor) {
        const cols = values.slice(m, (m += v.size));
        const data = new Float64Array(oSize * v.size);
        for (let k = 0; k < oSize; k++) for (let e = 0; e < v.size; e++) data[k * v.size + e] = cols[e]![k]!;
        return tensor(data, { shape: [...oShape, ...v.shape] });
      }
      if (Array.isArray(v)) return v.map(build);
      if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, build(x)]));
      return v;
    };
    const perArg = build(template) as unknown[];
    return typeof argnums === "number" ? perArg[0] : perArg;
  });
  return withStructure(out, blocks);
}

/** `out`'s structure with its leaves replaced by `blocks`, in order. */
function withStructure(out: unknown, blocks: unknown[]): unknown {
  let i = 0;
  const build = (v: unknown): unknown => {
    if (typeof v === "number" || v instanceof Tensor) return blocks[i++];
    if (Array.isArray(v)) return v.map(build);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, build(x)]));
    return v;
  };
  return build(out);
}

describe("jacfwd, jacrev and hessian with argnums and pytrees", () => {
  const f = function* (p: { a: Value; w: Value }, x: Value, scale: Value) {
    const wx = yield* mul(p.w, x);
    return { s: yield* mul(yield* sum(wx), p.a), parts: [yield* sin(wx), yield* mul(p.a, scale)] };
  };
  const args = [{ a: 1.5, w: tensor([0.3, -0.7, 1.1]) }, tensor([2, 1, -1]), 0.5];

  it("blocks in JAX's structure (output tree of input trees), against central differences", () => {
    for (const argnums of [0, 1, [0, 2], [-1, 1]] as (number | number[])[]) {
      const want = fdJacobian(f as never, args, argnums);
      for (const jac of [jacfwd, jacrev]) {
        const got = run(jac(f, { argnums }), ...(args as [never, never, never]));
        expectSameStructure(got, want);
        expectClose(got, want, { rtol: 1e-7, atol: 1e-9 });
      }
    }
  });

  it("numbers give numbers; the default is argument 0", () => {
    const got = run(jacfwd(f), ...(args as [never, never, never])) as unknown as { s: { a: Tensor; w: Tensor }; parts: [unknown, { a: number; w: Tensor }] };
    expect(got.s.a.shape).toEqual([]); // s is a 0-d tensor (a sum): its block for a number is a 0-d tensor
    expect(got.s.w.shape).toEqual([3]);
    expect(got.parts[1].a).toBe(0.5); // a number from a number: a number
    expect(got.parts[1].w.toArray()).toEqual([0, 0, 0]);
    const rev = run(jacrev(f, { argnums: 2 }), ...(args as [never, never, never])) as unknown as { parts: [Tensor, number] };
    expect(rev.parts[0].shape).toEqual([3]);
    expect(rev.parts[1]).toBe(1.5);
  });

  it("hessian of a pytree, and of an array of argnums: the arguments' structure of the arguments' structure", () => {
    const loss = function* (p: { a: Value; w: Value }, x: Value) {
      return yield* mul(yield* sum(yield* sin(yield* mul(p.w, x))), yield* mul(p.a, p.a));
    };
    const p = { a: 1.5, w: tensor([0.3, -0.7]) }, x = tensor([2, 1]);
    const h = run(hessian(loss), p, x) as { a: { a: number; w: Tensor }; w: { a: Tensor; w: Tensor } };
    const grads = (q: typeof p) => run(grad(loss), q, x) as typeof p;
    // each row of the Hessian: the gradient's derivative along one input scalar (central differences of the gradient)
    const want = (() => {
      const base = flatNumbers(p);
      const cols = base.map((_, k) => {
        const plus = base.slice(), minus = base.slice();
        plus[k]! += 1e-5;
        minus[k]! -= 1e-5;
        const gp = flatNumbers(grads(withNumbers(p, plus))), gm = flatNumbers(grads(withNumbers(p, minus)));
        return gp.map((v, i) => (v - gm[i]!) / 2e-5);
      });
      // H[i][k] = d grad_i / d x_k
      const H = base.map((_, i) => base.map((__, k) => cols[k]![i]!));
      return { a: { a: H[0]![0]!, w: tensor([H[0]![1]!, H[0]![2]!]) }, w: { a: tensor([H[1]![0]!, H[2]![0]!]), w: tensor([[H[1]![1]!, H[1]![2]!], [H[2]![1]!, H[2]![2]!]]) } };
    })();
    expectSameStructure(h, want);
    expectClose(h, want, { rtol: 1e-6, atol: 1e-8 });
    const pair = run(hessian(function* (a: Value, w: Value) { return yield* loss({ a, w }, x); }, { argnums: [0, 1] }), 1.5, tensor([0.3, -0.7])) as [[number, Tensor], [Tensor, Tensor]];
    expectClose(pair[0][0], want.a.a, { rtol: 1e-6 });
    expectClose(pair[0][1], want.a.w, { rtol: 1e-6 });
    expectClose(pair[1][0], want.w.a, { rtol: 1e-6 });
    expectClose(pair[1][1], want.w.w, { rtol: 1e-6 });
  });

  it("under jit and vmap, and jacfwd = jacrev on random pytrees (fast-check)", () => {
    const jf = jacfwd(f, { argnums: [0, 1] });
    const eager = run(jf, ...(args as [never, never, never]));
    expectClose(run(jit(jf), ...(args as [never, never, never])), eager, { rtol: 1e-14 });
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 4 }), (seed, n) => {
        const a = [{ a: 0.5 + (seed % 7) / 10, w: randomTensor([n], seed) }, randomTensor([n], seed + 1), 0.25];
        expectClose(run(jacfwd(f, { argnums: [0, 1, 2] }), ...(a as [never, never, never])), run(jacrev(f, { argnums: [0, 1, 2] }), ...(a as [never, never, never])), { rtol: 1e-12, atol: 1e-14 });
      }),
      { numRuns: 30 },
    );
  });

  it("bad input", () => {
    expectTagged(() => run(jacfwd(f, { argnum: 1 } as never), ...(args as [never, never, never])), ValueError, ["jacfwd", "argnum", "argnums"]);
    expectTagged(() => run(jacrev(function* (s: string) { return s; } as never), "x"), Error, ["jacrev", "argument 0"]);
    expectTagged(() => run(jacrev(function* (x: Value) { return { label: "none", x: undefined }; } as never), 1), TransformError, ["jacrev", "no number or tensor"]);
  });
});

describe("customJvp", () => {
  // log(1 + eˣ) with the stable rule of JAX's documentation: t · (1 − 1 / (1 + eˣ))
  const log1pexp = customJvp(
    function* (x: Value) { return yield* log1p(yield* exp(x)); },
    function* ([x]: [Value], [t]: [Value]) {
      const y = yield* log1p(yield* exp(x));
      const slope = yield* add(1, yield* mul(-1, yield* exp(yield* mul(-1, y)))); // 1 − 1/(1 + eˣ)
      return [y, yield* mul(t, slope)] as const;
    },
  );
  // a rule that is deliberately not f's derivative, to see which rule each mode uses: 2·cos
  const twice = customJvp(
    function* (x: Value) { return yield* sin(x); },
    function* ([x]: [Value], [t]: [Value]) { return [yield* sin(x), yield* mul(yield* mul(2, yield* cos(x)), t)] as const; },
  );

  it("forward mode applies the rule; reverse mode transposes it; both where f itself overflows", () => {
    expect(run(twice, 0.3)).toBe(Math.sin(0.3));
    const [, t] = run(function* () { return yield* jvp(twice, [0.3], [1]); });
    expect(t).toBeCloseTo(2 * Math.cos(0.3), 15);
    expect(run(grad(twice), 0.3)).toBeCloseTo(2 * Math.cos(0.3), 15);
    expect(run(jacfwd(twice), 0.3)).toBeCloseTo(2 * Math.cos(0.3), 15);
    expect(run(jacrev(twice), 0.3)).toBeCloseTo(2 * Math.cos(0.3), 15);
    // second order differentiates the rule: d/dx 2cos(x)
    expect(run(grad(grad(twice)), 0.3)).toBeCloseTo(-2 * Math.sin(0.3), 14);
    // the rule holds at every level: an outer grad of the value of an inner valueAndGrad, or of an inner jvp's output
    expect(run(grad(function* (x: Value) { return (yield* valueAndGrad(twice)(x))[0]; }), 0.3)).toBeCloseTo(2 * Math.cos(0.3), 15);
    expect(run(grad(function* (x: Value) { return (yield* jvp(twice, [x], [1]))[0]; }), 0.3)).toBeCloseTo(2 * Math.cos(0.3), 15);
    expect(run(function* () { return yield* jvp(grad(twice), [0.3], [1]); })[1]).toBeCloseTo(-2 * Math.sin(0.3), 14);
    expect(run(hessian(twice), 0.3)).toBeCloseTo(-2 * Math.sin(0.3), 14);
    // log(1 + eˣ) at 1000: e¹⁰⁰⁰ overflows, the rule does not
    expect(run(grad(log1pexp), 1000)).toBe(1);
    expect(Number.isNaN(run(grad(function* (x: Value) { return yield* log1p(yield* exp(x)); }), 1000))).toBe(true);
  });

  it("first and second order, forward and reverse, against central differences (a correct rule of two arguments)", () => {
    const f = customJvp(
      function* (a: Value, b: Value) { return yield* mul(yield* sin(a), yield* exp(b)); },
      function* ([a, b]: [Value, Value], [ta, tb]: [Value, Value]) {
        const y = yield* mul(yield* sin(a), yield* exp(b));
        const dy = yield* add(yield* mul(yield* mul(yield* cos(a), yield* exp(b)), ta), yield* mul(y, tb));
        return [y, dy] as const;
      },
    );
    checkGrads(f, [tensor([0.3, -1.2, 2]), tensor([0.1, 0.5, -0.4])], { order: 2, modes: ["fwd", "rev"], name: "customJvp" });
    checkGrads(log1pexp, [tensor([-3, 0.5, 4])], { order: 2, modes: ["fwd", "rev"], name: "log1pexp" });
  });

  it("pytree arguments, an argument nobody differentiates (a zero tangent), and a tangent the rule ignores", () => {
    const f = customJvp(
      function* (p: { w: Value; b: Value }, x: Value) { return yield* sum(yield* add(yield* mul(p.w, x), p.b)); },
      function* ([p, x]: [{ w: Value; b: Value }, Value], [tp, tx]: [{ w: Value; b: Value }, Value]) {
        const y = yield* sum(yield* add(yield* mul(p.w, x), p.b));
        const t = yield* sum(yield* add(yield* add(yield* mul(tp.w, x), yield* mul(p.w, tx)), tp.b));
        return [y, t] as const;
      },
    );
    const p = { w: tensor([1, 2]), b: tensor([0.5, 0.5]) }, x = tensor([3, 4]);
    const g = run(grad(f), p, x);
    expectClose(g.w, x);
    expectClose(g.b, tensor([1, 1]));
    expectClose(run(grad(f, { argnums: 1 }), p, x), p.w);
    const [, t] = run(function* () { return yield* jvp(f, [p, x], [{ w: tensor([1, 0]), b: tensor([0, 0]) }, tensor([0, 0])]); });
    expect(scalar(t)).toBe(3);
  });

  it("under jit (either side of grad), vmap (either side of grad and jvp) and against loops", () => {
    const xs = tensor([0.1, 0.2, 0.7]);
    expect(run(jit(twice), 0.3)).toBe(Math.sin(0.3));
    expect(run(jit(grad(twice)), 0.3)).toBeCloseTo(2 * Math.cos(0.3), 15);
    expect(run(grad(jit(twice)), 0.3)).toBeCloseTo(2 * Math.cos(0.3), 15);
    expect(run(jit(grad(grad(twice))), 0.3)).toBeCloseTo(-2 * Math.sin(0.3), 14);
    const perExample = (fn: (x: number) => number) => tensor(Array.from(xs.buf, fn));
    expectSame(run(vmap(twice), xs), perExample(Math.sin));
    expectSame(run(vmap(grad(twice)), xs), perExample((v) => 2 * Math.cos(v)), 1e-15);
    const total = function* (v: Value) { return yield* sum(yield* vmap(twice)(v)); };
    expectSame(run(grad(total), xs), perExample((v) => 2 * Math.cos(v)), 1e-15);
    const tangents = run(function* () { return yield* jvp(vmap(twice), [xs], [tensor([1, 1, 1])]); })[1] as Tensor;
    expectSame(tangents, perExample((v) => 2 * Math.cos(v)), 1e-15);
    const jvpEach = function* (v: Value) { return (yield* jvp(twice, [v], [1]))[1]; };
    expectSame(run(vmap(jvpEach), xs), perExample((v) => 2 * Math.cos(v)), 1e-15);
    expectSame(run(jit(vmap(grad(twice))), xs), perExample((v) => 2 * Math.cos(v)), 1e-15);
  });

  it("a function that reads a mapped value of an enclosing vmap through a closure runs once per example, with its rule", () => {
    const make = (y: Value) =>
      customJvp(
        function* (x: Value) { return yield* mul(yield* sin(x), y); },
        function* ([x]: [Value], [t]: [Value]) { return [yield* mul(yield* sin(x), y), yield* mul(yield* mul(t, y), 2)] as const; }, // 2·y·t: the rule's
      );
    const ys = tensor([1, 2, 3]);
    expectSame(run(vmap(function* (y: Value) { return yield* make(y)(0.5); }), ys), tensor(Array.from(ys.buf, (y) => Math.sin(0.5) * y)));
    const slope = function* (y: Value) { return yield* grad(function* (x: Value) { return yield* make(y)(x); })(0.5); };
    expectSame(run(vmap(slope), ys), tensor([2, 4, 6]));
  });

  it("bad input: a rule that is not a program, does not return a pair, or gives a tangent of the wrong shape; a closure over a differentiated value", () => {
    expectTagged(() => customJvp(function* (x: Value) { return x; }, 3 as never), EffectError, ["customJvp (jvpRule)", "generator function"]);
    const noPair = customJvp(function* (x: Value) { return yield* sin(x); }, function* ([x]: [Value]) { return (yield* sin(x)) as never; });
    expectTagged(() => run(grad(noPair), 1), TransformError, ["customJvp", "jvpRule must return a pair [output, outputTangent]"]);
    const badShape = customJvp(function* (x: Value) { return yield* sin(x); }, function* ([x]: [Value]) { return [yield* sin(x), tensor([1, 2])] as never; });
    expectTagged(() => run(function* () { return yield* jvp(badShape, [1], [1]); }), ShapeError, ["customJvp", "output tangent has shape [2]"]);
    const outer = function* (y: Value) {
      const closed = customJvp(function* (x: Value) { return yield* mul(x, y); }, function* ([x]: [Value], [t]: [Value]) { return [yield* mul(x, y), yield* mul(t, y)] as const; });
      return yield* closed(2);
    };
    expectTagged(() => run(grad(outer), 3), TransformError, ["customJvp", "through a closure", "pass that value as an argument"]);
    expect(run(outer, 3)).toBe(6);
    void log;
  });
});
