// The linalg primitives' records: each abstract evaluation agrees with its kernel (shape and
// dtype, packed results included) on random shapes, batch axes and dtypes, and operands the
// kernel rejects fail alike eagerly and while jit stages. Every primitive of
// src/primitives/linalg/ has a case here (their batching rules are checked in
// test/batching-rules.test.ts, their derivatives in test/linalg-grads.test.ts).
/// <reference types="vite/client" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Primitive } from "../effects/primitive.ts";
import { bind } from "../effects/trace.ts";
import type { Value } from "../effects/value.ts";
import { abstractOf } from "../src/primitives/abstract.ts";
import { choleskyP } from "../src/primitives/linalg/cholesky.ts";
import { eighP } from "../src/primitives/linalg/eigh.ts";
import { luP } from "../src/primitives/linalg/lu.ts";
import { qrP } from "../src/primitives/linalg/qr.ts";
import { svdP } from "../src/primitives/linalg/svd.ts";
import { triangularSolveP } from "../src/primitives/linalg/triangular-solve.ts";
import { ShapeError, Tensor, jit, run, type DType } from "../src/index.ts";

type Any = Primitive<unknown>;
type Case = { args: Tensor[]; params: unknown };

/** A stack of matrices with entries that make every factorization defined: SPD-like (a strong diagonal). */
const operand = (shape: readonly number[], dtype: DType): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const cols = shape[shape.length - 1]!;
  const rows = shape[shape.length - 2]!;
  const buf = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / cols) % rows;
    const c = i % cols;
    buf[i] = r === c ? 10 + r : 0.3 * Math.sin(i + 1) * Math.cos(r * c + 1);
  }
  // symmetric where square (for cholesky), keeping the strong diagonal
  if (rows === cols)
    for (let b = 0; b < n / (rows * cols); b++)
      for (let r = 0; r < rows; r++) for (let c = 0; c < r; c++) buf[b * rows * cols + c * cols + r] = buf[b * rows * cols + r * cols + c]!;
  return new Tensor(buf, shape);
};

const dtypes = fc.constantFrom<DType>("float32", "float64");
const batchArb = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 });
const dim = fc.integer({ min: 1, max: 4 });
const square = (p: Any) =>
  fc.tuple(batchArb, dim, dtypes).map(([batch, n, dtype]): [Any, Case] => [p, { args: [operand([...batch, n, n], dtype)], params: undefined }]);

const cases = new Map<Any, fc.Arbitrary<[Any, Case]>>();
for (const p of [choleskyP, luP, eighP] as Any[]) cases.set(p, square(p));
cases.set(
  qrP as Any,
  fc.tuple(batchArb, dim, dim, dtypes).map(([batch, a, b, dtype]): [Any, Case] => [qrP as Any, { args: [operand([...batch, Math.max(a, b), Math.min(a, b)], dtype)], params: undefined }]),
);
cases.set(svdP as Any, fc.tuple(batchArb, dim, dim, dtypes).map(([batch, m, n, dtype]): [Any, Case] => [svdP as Any, { args: [operand([...batch, m, n], dtype)], params: undefined }]));
cases.set(
  triangularSolveP as Any,
  fc.tuple(batchArb, dim, dim, dtypes, dtypes, fc.boolean(), fc.boolean(), fc.boolean()).map(([batch, n, k, da, db, lower, transposeA, unitDiagonal]): [Any, Case] => [
    triangularSolveP as Any,
    { args: [operand([...batch, n, n], da), operand([...batch, n, k], db)], params: { lower, transposeA, unitDiagonal } },
  ]),
);

const same = (v: { shape: readonly number[]; dtype: DType; scalar: boolean }) => ({ shape: [...v.shape], dtype: v.dtype, scalar: v.scalar });

describe("linalg primitives: abstract evaluation", () => {
  it("every primitive of src/primitives/linalg has a case", () => {
    const found = new Set<Any>();
    for (const mod of Object.values(import.meta.glob("../src/primitives/linalg/*.ts", { eager: true })))
      for (const v of Object.values(mod as Record<string, unknown>))
        if (typeof v === "object" && v !== null && typeof (v as Any).impl === "function" && typeof (v as Any).abstractEval === "function") found.add(v as Any);
    expect(found.size).toBe(6);
    for (const p of found) expect(cases.has(p), `${p.name} has no case`).toBe(true);
  });

  for (const [prim, arb] of cases)
    it(`${prim.name}: the rule gives the kernel's shape and dtype, over batch axes and dtypes`, () => {
      fc.assert(
        fc.property(arb, ([p, { args, params }]) => {
          const out = p.impl(args, params);
          expect(same(p.abstractEval(args.map(abstractOf), params))).toEqual(same(abstractOf(out)));
        }),
        { numRuns: 30 },
      );
    });

  it("operands the kernels reject fail alike eagerly and while jit stages (no kernel runs to learn a shape)", () => {
    const bad: [Any, Tensor[], unknown][] = [
      [choleskyP as Any, [operand([2, 3], "float64")], undefined],
      [luP as Any, [operand([3], "float64")], undefined],
      [eighP as Any, [operand([2, 2, 3], "float32")], undefined],
      [qrP as Any, [operand([2, 3], "float64")], undefined],
      [svdP as Any, [new Tensor(new Float64Array(0), [0, 2])], undefined],
      [triangularSolveP as Any, [operand([3, 3], "float64"), operand([2, 1], "float64")], { lower: true, transposeA: false, unitDiagonal: false }],
      [triangularSolveP as Any, [operand([2, 3, 3], "float64"), operand([3, 3, 1], "float64")], { lower: true, transposeA: false, unitDiagonal: false }],
    ];
    for (const [p, args, params] of bad) {
      let eager: unknown;
      try {
        bind(p, args, params);
      } catch (e) {
        eager = e;
      }
      expect(eager, p.name).toBeInstanceOf(ShapeError);
      let staged: unknown;
      try {
        run(jit(function* (...xs: Value[]) {
          return bind(p, xs, params);
        }), ...args);
      } catch (e) {
        staged = e;
      }
      expect(staged, p.name).toBeInstanceOf(ShapeError);
      expect((staged as Error).message).toBe((eager as Error).message);
    }
  });
});
