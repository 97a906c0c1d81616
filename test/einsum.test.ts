// tensordot and einsum: values as NumPy gives them, einsum against explicit loops on random
// specs (fast-check), the greedy contraction order, products staged as matmuls, derivatives of
// first and second order in both modes against finite differences (float64), vmap against a
// loop, jit against eager, and tagged errors that name einsum and the bad index.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ShapeError, Tensor, ValueError, IndexError, einsum, grad, jit, makeIR, matmul, mul, run, sin, split, squeeze, stack, sum, tensor,
  tensordot, transpose, vmap, type Effect, type Value,
} from "../src/index.ts";
import { contractionOrder } from "../src/contract/contraction-order.ts";
import { checkGrads, randomTensor, type Program } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";
import { caught, perform } from "./perform.ts";

const value = (op: () => Effect<unknown>): Tensor => perform(op as () => Effect) as Tensor;
const arr = (op: () => Effect<unknown>): unknown => value(op).toArray();
const iota = (shape: number[]): Tensor => tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1), { shape });

describe("values, as NumPy", () => {
  const A = tensor([[1, 2], [3, 4]]);
  const B = tensor([[5, 6], [7, 8]]);
  const v = tensor([1, 2]);
  it("products, transposes, sums", () => {
    expect(arr(() => einsum("ij,jk->ik", A, B))).toEqual([[19, 22], [43, 50]]);
    expect(arr(() => einsum("ij,jk", A, B))).toEqual([[19, 22], [43, 50]]); // implicit output "ik"
    expect(arr(() => einsum("ij,kj->ik", A, B))).toEqual([[17, 23], [39, 53]]); // A Bᵀ
    expect(arr(() => einsum("ji,jk->ik", A, B))).toEqual([[26, 30], [38, 44]]); // Aᵀ B
    expect(arr(() => einsum("ij->ji", A))).toEqual([[1, 3], [2, 4]]);
    expect(arr(() => einsum("ba", A))).toEqual([[1, 3], [2, 4]]); // implicit: alphabetical order
    expect(arr(() => einsum("ij", A))).toEqual([[1, 2], [3, 4]]);
    expect(arr(() => einsum("ij->", A))).toBe(10);
    expect(arr(() => einsum("ij->j", A))).toEqual([4, 6]);
    expect(arr(() => einsum("i,i", v, v))).toBe(5);
    expect(arr(() => einsum("i,j->ij", v, tensor([3, 4, 5])))).toEqual([[3, 4, 5], [6, 8, 10]]);
    expect(arr(() => einsum("ij,j->i", A, v))).toEqual([5, 11]);
    expect(arr(() => einsum("ij,ij->ij", A, B))).toEqual([[5, 12], [21, 32]]); // elementwise
    expect(arr(() => einsum("ij,ij->", A, B))).toBe(70);
    expect(arr(() => einsum("Ab,bc", A, B))).toEqual([[19, 22], [43, 50]]); // uppercase sorts before lowercase
    expect(arr(() => einsum(" ij , jk -> ik ", A, B))).toEqual([[19, 22], [43, 50]]); // spaces ignored
  });

  it("repeated indices: diagonals and traces", () => {
    const m = iota([3, 3]);
    expect(arr(() => einsum("ii", m))).toBe(15);
    expect(arr(() => einsum("ii->", m))).toBe(15);
    expect(arr(() => einsum("ii->i", m))).toEqual([1, 5, 9]);
    expect(arr(() => einsum("iii->i", iota([2, 2, 2])))).toEqual([1, 8]);
    expect(arr(() => einsum("iji->j", iota([2, 3, 2])))).toEqual([1 + 8, 3 + 10, 5 + 12]); // x[0, j, 0] + x[1, j, 1]
    expect(arr(() => einsum("bii->bi", iota([2, 2, 2])))).toEqual([[1, 4], [5, 8]]);
    expect(arr(() => einsum("ii,i->i", m, tensor([1, 10, 100])))).toEqual([1, 50, 900]);
    expect(arr(() => einsum("ij,ii->j", tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), m))).toEqual([1 + 20 + 63, 2 + 25 + 72, 3 + 30 + 81]);
  });

  it("batches, chains and scalars", () => {
    const a = iota([2, 2, 3]);
    const b = iota([2, 3, 2]);
    expect(value(() => einsum("bij,bjk->bik", a, b)).toArray()).toEqual(value(() => matmul(a, b)).toArray());
    const c = iota([2, 4]);
    const chain = value(() => einsum("ij,jk,kl->il", A, B, c));
    expect(chain.toArray()).toEqual([[19 * 1 + 22 * 5, 19 * 2 + 22 * 6, 19 * 3 + 22 * 7, 19 * 4 + 22 * 8], [43 * 1 + 50 * 5, 43 * 2 + 50 * 6, 43 * 3 + 50 * 7, 43 * 4 + 50 * 8]]);
    expect(arr(() => einsum(",i->i", 3, v))).toEqual([3, 6]);
    expect(arr(() => einsum("i,->i", v, tensor(2)))).toEqual([2, 4]);
    expect(perform(() => einsum(",", 3, 4))).toBe(12);
    expect(arr(() => einsum("i,i,i->", v, v, v))).toBe(9);
    expect(arr(() => einsum("ij,kl->ijkl", A, B))).toEqual(value(() => tensordot(A, B, 0)).toArray());
  });

  it("dtypes: float32 stays float32, mixed promotes", () => {
    const f = tensor([[1, 2], [3, 4]], { dtype: "float32" });
    expect(value(() => einsum("ij,jk->ik", f, f)).dtype).toBe("float32");
    expect(value(() => einsum("ij,jk->ik", f, A)).dtype).toBe("float64");
    expect(value(() => einsum("ii->i", f)).dtype).toBe("float32");
  });

  it("size-0 axes", () => {
    expect(value(() => einsum("ij,jk->ik", tensor(new Float64Array(0), { shape: [2, 0] }), tensor(new Float64Array(0), { shape: [0, 3] }))).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(value(() => einsum("ij,jk->ik", tensor(new Float64Array(0), { shape: [0, 2] }), B)).shape).toEqual([0, 2]);
  });

  it("tensordot", () => {
    const a = iota([2, 3, 4]);
    const b = iota([4, 3, 2]);
    expect(value(() => tensordot(a, b, 1)).shape).toEqual([2, 3, 3, 2]);
    // np.tensordot(a, b, axes=([1, 2], [1, 0]))
    const t = value(() => tensordot(a, b, [[1, 2], [1, 0]]));
    expect(t.toArray()).toEqual(value(() => einsum("ijk,kjl->il", a, b)).toArray());
    expect(value(() => tensordot(a, b, [[-1], [0]])).toArray()).toEqual(value(() => tensordot(a, b, 1)).toArray());
    expect(value(() => tensordot(A, B, 2)).toArray()).toBe(70);
    expect(value(() => tensordot(A, B, [1, 0])).toArray()).toEqual([[19, 22], [43, 50]]); // single axes as numbers
    expect(value(() => tensordot(A, B, [0, 0])).toArray()).toEqual([[26, 30], [38, 44]]);
    expect(value(() => tensordot(v, B, 0)).toArray()).toEqual([[[5, 6], [7, 8]], [[10, 12], [14, 16]]]);
    expect(perform(() => tensordot(2, 3, 0))).toBe(6);
  });
});

// ---------------------------------------------------------------------------------------------
// einsum against explicit loops

/** Σ over every index assignment of the product of the operands' entries, written into the output's entry. */
function naiveEinsum(inputs: string[], output: string, operands: Tensor[], sizes: Map<string, number>): number[] {
  const letters = [...sizes.keys()];
  const outSize = [...output].reduce((n, c) => n * sizes.get(c)!, 1);
  const out = new Array<number>(outSize).fill(0);
  const at = new Map<string, number>();
  const flat = (subs: string, shape: readonly number[]): number => [...subs].reduce((f, c, i) => f * shape[i]! + at.get(c)!, 0);
  const visit = (k: number): void => {
    if (k === letters.length) {
      let p = 1;
      inputs.forEach((s, i) => (p *= operands[i]!.buf[flat(s, operands[i]!.shape)]!));
      out[[...output].reduce((f, c) => f * sizes.get(c)! + at.get(c)!, 0)] += p;
      return;
    }
    for (let i = 0; i < sizes.get(letters[k]!)!; i++) {
      at.set(letters[k]!, i);
      visit(k + 1);
    }
  };
  visit(0);
  return out;
}

const specArb = fc
  .record({
    sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 5, maxLength: 5 }),
    inputs: fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), { minLength: 1, maxLength: 4 }),
    explicit: fc.boolean(),
    keep: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    order: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
    seed: fc.nat(1000),
  })
  .map(({ sizes, inputs, explicit, keep, order, seed }) => {
    const letters = "abcde";
    const subs = inputs.map((ix) => ix.map((i) => letters[i]).join(""));
    const used = [...new Set(subs.join(""))];
    const out = used.filter((_, i) => keep[i]).sort((p, q) => order[letters.indexOf(p)]! - order[letters.indexOf(q)]!);
    const spec = explicit ? `${subs.join(",")}->${out.join("")}` : subs.join(",");
    const sizeOf = new Map(used.map((c) => [c, sizes[letters.indexOf(c)]!]));
    const operands = subs.map((s, k) => randomTensor([...s].map((c) => sizeOf.get(c)!), seed + k));
    const counts = new Map<string, number>();
    for (const c of subs.join("")) counts.set(c, (counts.get(c) ?? 0) + 1);
    const output = explicit ? out.join("") : [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort().join("");
    return { spec, subs, output, operands, sizes: sizeOf };
  });

describe("einsum against explicit loops", () => {
  it("random specs (diagonals, sums, outer products, chains of up to four operands)", () => {
    fc.assert(
      fc.property(specArb, ({ spec, subs, output, operands, sizes }) => {
        const got = perform(() => einsum(spec, ...operands));
        const want = naiveEinsum(subs, output, operands, sizes);
        const values = got instanceof Tensor ? Array.from(got.buf) : [got as number];
        if (got instanceof Tensor) expect(got.shape).toEqual([...output].map((c) => sizes.get(c)!));
        expect(values.length).toBe(want.length);
        values.forEach((x, i) => expect(Math.abs(x - want[i]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want[i]!))));
      }),
      { numRuns: 150 },
    );
  });

  it("under jit, the same values", () => {
    fc.assert(
      fc.property(specArb, ({ spec, operands }) => {
        const f = function* (...xs: Value[]) {
          return yield* einsum(spec, ...xs);
        };
        expectSame(run(jit(f), ...operands), run(f, ...operands), 1e-12);
      }),
      { numRuns: 30 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The contraction order

describe("contraction order (greedy, by intermediate size)", () => {
  const sizes = (o: Record<string, number>) => new Map(Object.entries(o));
  it("contracts the pair whose product removes the most memory first", () => {
    // A[i, j] B[j, k] C[k, l] with i = l = 1000, j = 2, k = 3: B·C ([2, 1000]... here [j, l]) is small, A·B is [1000, 3]
    const s = sizes({ i: 1000, j: 2, k: 3, l: 1000 });
    // A·B: [i, k] = 3000 − 2000 − 6 → +994;  B·C: [j, l] = 2000 − 6 − 3000 → −1006: B·C first
    expect(contractionOrder([["i", "j"], ["j", "k"], ["k", "l"]], ["i", "l"], s)).toEqual([[1, 2], [0, 1]]);
    const t = sizes({ i: 2, j: 1000, k: 1000, l: 3 });
    // A·B: [i, k] = 2000 − 2000 − 1e6; B·C: [j, l] = 3000 − 1e6 − 3000: A·B removes more
    expect(contractionOrder([["i", "j"], ["j", "k"], ["k", "l"]], ["i", "l"], t)).toEqual([[0, 1], [0, 1]]);
  });

  it("outer products come last, smallest first", () => {
    const s = sizes({ a: 5, b: 2, c: 3 });
    // a·a share an index; b and c share nothing with anyone
    const order = contractionOrder([["b"], ["a"], ["c"], ["a"]], ["a", "b", "c"], s);
    expect(order[0]).toEqual([1, 3]); // the two a's
    expect(order[1]).toEqual([0, 1]); // then b with c (result 6 < b·a 10 < c·a 15)
  });

  it("einsum follows it: the intermediate is the small one", () => {
    const a = randomTensor([40, 2], 1);
    const b = randomTensor([2, 3], 2);
    const c = randomTensor([3, 40], 3);
    const ir = makeIR(function* (x: Value, y: Value, z: Value) {
      return yield* einsum("ij,jk,kl->il", x, y, z);
    })(a, b, c).toString();
    // B·C first gives a [2, 40] intermediate; A·B first would give [40, 3]
    const products = ir.split("\n").filter((l) => l.includes("matmul("));
    expect(products.length).toBe(2);
    expect(products[0]).toMatch(/f64\[2,40\]/);
    expect(ir).not.toMatch(/f64\[40,3\]/);
  });

  it("pairwise products run through the matmul kernel, with batch axes and without copies of operands in matmul layout", () => {
    const ir = makeIR(function* (x: Value, y: Value) {
      return yield* einsum("bij,bkj->bik", x, y);
    })(randomTensor([4, 2, 3], 1), randomTensor([4, 5, 3], 2)).toString();
    expect(ir).toMatch(/matmul\(/);
    expect(ir).not.toMatch(/transpose\(/); // b's [k, j] layout is read transposed by the kernel
    expect(ir).not.toMatch(/ mul\(/);
    // contracted pairs listed in the order that lets a be read in place: one copy (of b), not two
    const td = makeIR(function* (x: Value, y: Value) {
      return yield* tensordot(x, y, [[1, 0], [0, 2]]);
    })(randomTensor([2, 3, 2], 1), randomTensor([3, 2, 2], 2)).toString();
    expect(td.match(/transpose\(/g)?.length).toBe(1);
  });

  it("a pair with nothing to sum (outer or elementwise product) is one broadcast multiplication, not a matmul of 1x1 blocks", () => {
    for (const [spec, shapes] of [["bi,bi->bi", [[5, 3], [5, 3]]], ["i,j->ij", [[2], [3]]], ["bi,bj->bij", [[4, 2], [4, 3]]]] as const) {
      const ir = makeIR(function* (x: Value, y: Value) {
        return yield* einsum(spec, x, y);
      })(randomTensor(shapes[0], 1), randomTensor(shapes[1], 2)).toString();
      expect(ir, spec).toMatch(/ mul\(/);
      expect(ir, spec).not.toMatch(/matmul\(/);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Derivatives, vmap and jit

interface Case {
  readonly name: string;
  readonly f: Program;
  readonly args: readonly Tensor[];
}
const es = (spec: string): Program =>
  function* (...xs: Value[]) {
    return yield* einsum(spec, ...xs);
  };
const cases: Case[] = [
  { name: "ij,jk->ik", f: es("ij,jk->ik"), args: [randomTensor([2, 3], 1), randomTensor([3, 2], 2)] },
  { name: "ij,kj->ki", f: es("ij,kj->ki"), args: [randomTensor([2, 3], 3), randomTensor([4, 3], 4)] },
  { name: "bij,bjk->bik", f: es("bij,bjk->bik"), args: [randomTensor([2, 2, 3], 5), randomTensor([2, 3, 2], 6)] },
  { name: "ii->i", f: es("ii->i"), args: [randomTensor([3, 3], 7)] },
  { name: "ii (trace)", f: es("ii"), args: [randomTensor([3, 3], 8)] },
  { name: "ijk->kj", f: es("ijk->kj"), args: [randomTensor([2, 3, 2], 9)] },
  { name: "i,j->ij", f: es("i,j->ij"), args: [randomTensor([2], 10), randomTensor([3], 11)] },
  { name: "bi,bj->jbi", f: es("bi,bj->jbi"), args: [randomTensor([2, 3], 22), randomTensor([2, 2], 23)] },
  { name: "ij,jk,kl->il", f: es("ij,jk,kl->il"), args: [randomTensor([2, 3], 12), randomTensor([3, 2], 13), randomTensor([2, 3], 14)] },
  { name: "iij,jk->ik", f: es("iij,jk->ik"), args: [randomTensor([2, 2, 3], 15), randomTensor([3, 2], 16)] },
  {
    name: "einsum of a product of x with itself",
    f: function* (x: Value) {
      return yield* einsum("ij,ij,jk->ik", x, yield* sin(x), yield* transpose(x));
    },
    args: [randomTensor([2, 3], 17)],
  },
  {
    name: "tensordot axes [[1, 0], [0, 2]]",
    f: function* (a: Value, b: Value) {
      return yield* tensordot(a, b, [[1, 0], [0, 2]]);
    },
    args: [randomTensor([2, 3, 2], 18), randomTensor([3, 2, 2], 19)],
  },
  {
    name: "tensordot 1",
    f: function* (a: Value, b: Value) {
      return yield* tensordot(a, b, 1);
    },
    args: [randomTensor([2, 3], 20), randomTensor([3, 2, 2], 21)],
  },
];

describe("derivatives: first and second order, forward and reverse, against finite differences", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    checkGrads(c.f, c.args, { order: 2, name: c.name, rtol: 1e-6, atol: 1e-8 });
  });
});

const stacked = (xs: readonly Value[]): Value =>
  run(function* () {
    return yield* stack(xs);
  }) as Value;
const example = (x: Tensor, b: number, size: number): Tensor =>
  run(function* () {
    return yield* squeeze((yield* split(x, size))[b]!, 0);
  }) as Tensor;

describe("vmap agrees with a loop; jit agrees with eager", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const size = 3;
    const batches = c.args.map((a, k) => randomTensor([size, ...a.shape], 50 + k));
    const loop = Array.from({ length: size }, (_, b) => run(c.f, ...batches.map((x) => example(x, b, size))) as Value);
    expectSame(run(vmap(c.f), ...batches), stacked(loop), 1e-12);
    // the first operand batched, the others shared
    const axes = c.args.map((_, k) => (k === 0 ? 0 : null));
    const shared = Array.from({ length: size }, (_, b) => run(c.f, example(batches[0]!, b, size), ...c.args.slice(1)) as Value);
    expectSame(run(vmap(c.f, axes), batches[0]!, ...c.args.slice(1)), stacked(shared), 1e-12);
    expectSame(run(jit(c.f), ...c.args), run(c.f, ...c.args), 1e-12);
    const loss = function* (...xs: Value[]) {
      const y = (yield* c.f(...xs)) as Value;
      return yield* sum(yield* mul(y, yield* sin(y)));
    };
    expectSame(run(jit(grad(loss)), ...c.args), run(grad(loss), ...c.args), 1e-12);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input

describe("bad input gives tagged errors naming einsum and the bad index", () => {
  const A = randomTensor([2, 3], 1);
  const B = randomTensor([4, 2], 2);
  const cases: [string, () => Effect<unknown>, new (m: string) => Error, RegExp][] = [
    ["mismatched sizes", () => einsum("ij,jk->ik", A, B), ShapeError, /einsum: index 'j' has size 3 in operand 0 \(axis 1 of \[2, 3\]\) but size 4 in operand 1 \(axis 0 of \[4, 2\]\)/],
    ["a diagonal of a non-square pair", () => einsum("ii->i", A), ShapeError, /einsum: index 'i' has size 2 .* but size 3/],
    ["too few subscripts", () => einsum("ij->ji", A, B), ValueError, /einsum: "ij->ji" gives subscripts for 1 operand but 2 were passed/],
    ["subscripts of the wrong rank", () => einsum("ijk,jk", A, B), ShapeError, /einsum: operand 0 has shape \[2, 3\] \(rank 2\) but its subscripts "ijk" name 3 axes/],
    ["not a letter", () => einsum("i1,jk", A, B), ValueError, /einsum: "1" in the subscripts of operand 0 of "i1,jk" is not an index/],
    ["output index missing from inputs", () => einsum("ij->iz", A), ValueError, /einsum: output index 'z' of "ij->iz" appears in no operand/],
    ["output index twice", () => einsum("ij->ii", A), ValueError, /einsum: output index 'i' appears twice/],
    ["ellipsis", () => einsum("...ij->...ji", A), ValueError, /einsum: ellipsis \("..."\) .* is not supported/],
    ["two arrows", () => einsum("ij->j->i", A), ValueError, /einsum: "ij->j->i" has more than one "->"/],
    ["not a string", () => einsum(3 as unknown as string, A), ValueError, /einsum: the first argument must be the subscripts string/],
    ["an operand that is not a tensor", () => einsum("i", [1, 2] as never), Error, /einsum: operand 0 is a plain array/],
    ["tensordot: sizes differ", () => tensordot(A, B, 1), ShapeError, /tensordot: axis 1 of a \[2, 3\] has size 3 but the axis 0 of b \[4, 2\] .* has size 4/],
    ["tensordot: too many axes", () => tensordot(A, B, 3), ValueError, /tensordot: axes = 3 .* must be an integer in \[0, 2\]/],
    ["tensordot: unequal axis lists", () => tensordot(A, B, [[0, 1], [1]]), ShapeError, /tensordot: 2 axes of a but 1 of b/],
    ["tensordot: axis out of range", () => tensordot(A, B, [[2], [0]]), IndexError, /tensordot \(axes of a\): axis 2 is out of range/],
    ["tensordot: repeated axis", () => tensordot(A, A, [[0, 0], [0, 1]]), IndexError, /tensordot: axis 0 of a \[2, 3\] is listed twice/],
    ["tensordot: bad axes", () => tensordot(A, B, "x" as never), ValueError, /tensordot: axes must be a number or a pair/],
  ];
  it.each(cases)("%s", (_name, op, cls, message) => {
    const e = caught(() => perform(op as () => Effect));
    expect(e).toBeInstanceOf(cls);
    expect(e.message).toMatch(message);
  });

  it("the same error under jit", () => {
    const e = caught(() => run(jit(function* (x: Value, y: Value) { return yield* einsum("ij,jk->ik", x, y); }), A, B));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/einsum: index 'j'/);
  });
});
