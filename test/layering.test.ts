// The architecture's rules, checked on the source: the core (effects/: the language, the driver,
// the handlers) depends on no layer built on it, and code generation knows primitives by their
// records' capabilities, never by their names.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { definePrimitive } from "../effects/primitive.ts";
import { bind } from "../effects/trace.ts";
import { jit, run, tensor, Tensor } from "../src/index.ts";

const root = resolve(import.meta.dirname, "..");
const filesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : d.name.endsWith(".ts") ? [join(dir, d.name)] : [],
  );
/** The module paths a file imports (static imports and re-exports), resolved from the repository root. */
const importsOf = (file: string): string[] => {
  const text = readFileSync(join(root, file), "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/gms)) {
    const spec = m[1]!;
    found.push(spec.startsWith(".") ? relative(root, resolve(join(root, file, ".."), spec)) : spec);
  }
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(relative(root, resolve(join(root, file, ".."), m[1]!)));
  return found;
};

describe("layering", () => {
  it("the import scanner sees relative imports (so the checks below can fail)", () => {
    expect(importsOf("src/staging/codegen.ts")).toContain("src/staging/ir.ts");
    expect(importsOf("src/staging/codegen.ts")).toContain("effects/primitive.ts");
    expect(importsOf("effects/trace.ts")).toContain("src/errors.ts");
  });

  it("effects/ imports nothing built on it: from src/, only the errors, the tensor type, misuse hints and the scalar-expression type", () => {
    // The language, the driver and the handlers sit below the primitives, the transformations and
    // staging; what a handler needs from them it takes as a parameter (ReverseTrace's cotangent
    // sum, BatchTrace's example split). The modules allowed here import nothing above effects/.
    const allowed = new Set(["src/errors.ts", "src/misuse.ts", "src/tensor/tensor.ts", "src/tensor/shape.ts", "src/tensor/scratch.ts", "src/kernels/scalar-expr.ts"]);
    const above = /^src\/(primitives|staging|transforms|kernels\/(?!scalar-expr\.ts)|nn|optim|train|node)\b/;
    const files = filesUnder("effects");
    expect(files.length).toBeGreaterThan(5);
    for (const file of files)
      for (const dep of importsOf(file))
        if (!dep.startsWith("effects/") && dep.startsWith("src/")) expect(allowed.has(dep), `${file} imports ${dep}`).toBe(true);
    for (const dep of allowed) for (const next of importsOf(dep)) expect(above.test(next), `${dep} imports ${next}`).toBe(false);
  });

  it("code generation dispatches on capabilities, never on a primitive's name", () => {
    for (const file of filesUnder("src/staging")) {
      const text = readFileSync(join(root, file), "utf8");
      expect(text, file).not.toMatch(/\.name\s*[!=]==?\s*["'`]|["'`]\s*[!=]==?\s*[\w.]*\.name\b/);
      expect(text, file).not.toMatch(/\.has\(\s*e\.prim\.name\s*\)|\[\s*e\.prim\.name\s*\]/);
    }
  });
});

describe("capabilities", () => {
  it("a primitive named like a special case but claiming nothing runs through its kernel under jit", () => {
    // (a "reshape" that also doubles: were code generation to go by the name, it would emit a
    // view of the operand's buffer and the doubling would be lost)
    const fake = definePrimitive<{ shape: readonly number[] }>({
      name: "reshape",
      abstractEval: ([x], p) => ({ shape: p.shape, dtype: x!.dtype, scalar: false }),
      impl: ([x], p) => new Tensor((x as Tensor).buf.map((v) => 2 * v), p.shape),
      jvp: () => null,
      vjp: () => [null],
      batch: () => {
        throw new Error("not batched in this test");
      },
    });
    // eslint-disable-next-line require-yield
    function* f(x: Tensor) {
      return bind(fake, [x], { shape: [4] });
    }
    const j = jit(f);
    expect(Array.from((run(j, tensor([[1, 2], [3, 4]])) as Tensor).buf)).toEqual([2, 4, 6, 8]);
    expect(j.info.sources()[0]).toContain(".impl(");
  });
});
