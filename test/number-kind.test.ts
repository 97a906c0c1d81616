// Numbers vs 0-d tensors: one module (src/number-kind.ts) decides which kind a value or a slot
// has. Its functions against known values, the rule end to end (a number's gradient is a number,
// eagerly and staged; a slot fed a number and a tensor is a tensor), and a scan of the sources
// that fails when a second copy of the decision reappears elsewhere.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Value } from "../effects/value.ts";
import { Tensor, cond, grad, greater, jit, mul, run, sum, tensor } from "../src/index.ts";
import { asNumber, asTensor, carryKinds, inKind, isNumberLike, kindLike, onesLike, sharedKinds, zerosLike } from "../src/number-kind.ts";

const root = resolve(import.meta.dirname, "..");
const filesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : d.name.endsWith(".ts") ? [join(dir, d.name)] : [],
  );
const sources = [...filesUnder("src"), ...filesUnder("effects")].map((f) => ({ file: f, text: readFileSync(join(root, f), "utf8") }));

describe("src/number-kind.ts", () => {
  it("asNumber: a number stays itself; a size-1 tensor gives its element", () => {
    expect(asNumber(2.5)).toBe(2.5);
    expect(asNumber(tensor([7]))).toBe(7);
    expect(asNumber(tensor(-3))).toBe(-3);
  });

  it("asTensor: a number becomes a 0-d float64 tensor, exactly (-0 and NaN included); a tensor stays itself", () => {
    for (const v of [2.5, -0, NaN, 1e-310]) {
      const t = asTensor(v);
      expect(t).toBeInstanceOf(Tensor);
      expect((t as Tensor).shape).toEqual([]);
      expect((t as Tensor).dtype).toBe("float64");
      expect(Object.is((t as Tensor).buf[0], v)).toBe(true);
    }
    const t = tensor([1, 2], { dtype: "float32" });
    expect(asTensor(t)).toBe(t);
  });

  it("inKind and kindLike put a value in a slot's kind", () => {
    expect(inKind(tensor([4]), true)).toBe(4);
    expect(inKind(4, false)).toBeInstanceOf(Tensor);
    expect(kindLike(tensor([5]), 1)).toBe(5);
    const spread = kindLike(2, tensor([[1, 2, 3], [4, 5, 6]]));
    expect(spread).toBeInstanceOf(Tensor);
    expect((spread as Tensor).shape).toEqual([2, 3]);
    expect(Array.from((spread as Tensor).buf)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it("onesLike / zerosLike: numbers for numbers, tensors of the shape and dtype otherwise", () => {
    expect(onesLike(3)).toBe(1);
    expect(zerosLike(3)).toBe(0);
    const z = zerosLike(tensor([1, 2, 3], { dtype: "float32" })) as Tensor;
    expect([z.shape, z.dtype, Array.from(z.buf)]).toEqual([[3], "float32", [0, 0, 0]]);
    const o = onesLike(tensor(5)) as Tensor;
    expect([o.shape, Array.from(o.buf)]).toEqual([[], [1]]);
  });

  it("sharedKinds: a slot is a number only where every value is number-like", () => {
    expect(sharedKinds([[1, tensor(2), 3], [4, 5, tensor(6)]])).toEqual([true, false, false]);
    expect(sharedKinds([])).toEqual([]);
  });

  it("carryKinds: a number carry that comes back a tensor makes its slot a tensor, restaging until stable", () => {
    const seen: boolean[][] = [];
    const kinds = carryKinds([1, 2, tensor([3])], (tensorCarry) => {
      seen.push([...tensorCarry]);
      return tensorCarry[0] ? [tensor(1), 2, tensor([3])] : [tensor(1), 2, 3];
    });
    expect(kinds).toEqual([true, false, true]);
    expect(seen).toEqual([[false, false, true], [true, false, true]]);
  });

  it("isNumberLike sees through the boxes of a transformation", () => {
    const kinds: boolean[] = [];
    run(grad(function* (x: number) {
      kinds.push(isNumberLike(x as Value), isNumberLike((yield* mul(x, tensor([1, 2]))) as Value));
      return x;
    }), 1);
    expect(kinds).toEqual([true, false]);
  });
});

describe("the rule end to end", () => {
  // x·[1, 2] summed: the adjoint of the number x arrives as a 0-d tensor and becomes a number.
  function* f(x: number) {
    return yield* sum(yield* mul(x, tensor([1, 2])));
  }

  it("a number's gradient is a number, eagerly, under jit and inside a jitted program", () => {
    const g = [run(grad(f), 2), run(jit(grad(f)), 2), run(grad(jit(f)), 2)];
    for (const v of g) expect(v).toBe(3);
  });

  it("a cond whose branches give a number and a 0-d tensor gives a tensor (staged as eager)", () => {
    function* h(x: number) {
      return yield* cond(
        yield* greater(x, 0),
        function* (a: Value) {
          return yield* mul(a, 2);
        },
        function* (a: Value) {
          return yield* sum(yield* mul(a, tensor([1])));
        },
        x,
      );
    }
    for (const x of [3, -3]) {
      const staged = run(jit(h), x);
      expect(staged).toBeInstanceOf(Tensor);
      expect((staged as Tensor).shape).toEqual([]);
      expect((staged as Tensor).buf[0]).toBe(x > 0 ? 6 : -3);
    }
  });
});

describe("one boundary", () => {
  const decisions = ["isNumberLike", "asNumber", "inKind", "kindLike", "onesLike", "zerosLike", "varLike", "carryKinds", "sharedKinds"];

  it("the scan below sees the definitions it looks for (so it can fail)", () => {
    const defined = sources.filter((s) => /export const (asNumber|kindLike) =/.test(s.text)).map((s) => s.file);
    expect(defined).toEqual(["src/number-kind.ts"]);
  });

  it("no other module defines a kind decision of its own", () => {
    const copies = sources.flatMap(({ file, text }) =>
      decisions.filter((n) => new RegExp(`(?:const|let|function\\*?)\\s+${n}\\b`).test(text)).map((n) => `${file}: ${n}`),
    );
    // effects/value.ts defines the predicate beside Value (the handlers use it too); the module re-exports it.
    expect(copies.sort()).toEqual(["effects/value.ts: isNumberLike", ...decisions.slice(1).map((n) => `src/number-kind.ts: ${n}`)].sort());
  });

  it("above effects/, the predicate and the toNumber conversion are reached only through the module", () => {
    const viaValue = sources.filter(({ file, text }) => file.startsWith("src/") && /import\s*\{[^}]*\bisNumberLike\b[^}]*\}\s*from\s*"[./]*effects\/value\.ts"/.test(text));
    expect(viaValue.map((s) => s.file)).toEqual(["src/number-kind.ts"]);
    const converting = sources.filter(({ file, text }) => /^src\/(transforms|staging|primitives\/control)\//.test(file) && /\btoNumber\(/.test(text));
    expect(converting.map((s) => s.file)).toEqual([]);
  });
});
