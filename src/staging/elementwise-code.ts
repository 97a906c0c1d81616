// Generated code for elementwise primitives, from the scalar expression their records carry
// (`elementwise`, src/kernels/scalar-expr.ts): what jit's fused loops, its inline scalar
// arithmetic and its scalar tapes compute for one element. No primitive is known by name here.
import type { Primitive } from "../../effects/primitive.ts";
import { compileWith, render, type Elementwise, type Helper, type Rendered } from "../kernels/scalar-expr.ts";

/** The primitive's scalar expression, if it is elementwise. */
export const elementwiseOf = (p: Primitive<unknown>): Elementwise | undefined => p.elementwise;

/** Whether a WebAssembly SIMD kernel computes the primitive (when its operands are laid out as its result). */
export const hasSimdKernel = (p: Primitive<unknown>): boolean => p.elementwise?.simd !== undefined;

/**
 * One element of `rule` over `operands` (names, literals or element reads): statements declaring
 * its locals (named `${prefix}_k`), then its value. `helper` says how the code reaches a helper
 * function (one the generated code is given, never a name in the source).
 */
export function elementCode(rule: Elementwise, operands: readonly string[], prefix: string, helper: (fn: Helper) => string): Rendered {
  let k = 0;
  return render(rule.expr, operands, { local: () => `${prefix}_${k++}`, helper });
}

const functions = new WeakMap<Elementwise, Helper>();
/** The expression as one plain function of its operands (compiled once per primitive). */
const asFunction = (rule: Elementwise): Helper => {
  let f = functions.get(rule);
  if (f === undefined) {
    const xs = Array.from({ length: rule.arity }, (_, i) => `x${i}`);
    f = compileWith<Helper>(rule.expr, xs, xs, (r) => `${r.prelude.join(" ")} return ${r.value};`);
    functions.set(rule, f);
  }
  return f;
};

/**
 * The expression as one JS expression of `$0`, `$1`, `$2` (a scalar tape's instruction): the
 * rendered value, or, for an expression with locals (sigmoid's stable form), a call of its
 * function.
 */
export function elementTemplate(rule: Elementwise, helper: (fn: Helper) => string): string {
  const operands = Array.from({ length: rule.arity }, (_, i) => `$${i}`);
  const inline = render(rule.expr, operands, { local: () => "_", helper: () => "_" }).prelude.length === 0;
  return inline ? render(rule.expr, operands, { local: () => "_", helper }).value : `${helper(asFunction(rule))}(${operands.join(", ")})`;
}

/**
 * The elementwise code of one generated program: helper functions reached through `helper`
 * (the program's constants), each primitive's template made once.
 */
export class ElementwiseCode {
  private readonly templates = new Map<Primitive<unknown>, string>();
  /** Whether the primitive's expression has locals. */
  private readonly locals = new Map<Primitive<unknown>, boolean>();
  constructor(private readonly helper: (fn: Helper) => string) {}

  /** The primitive's element as one JS expression of `$0`, `$1`, `$2` (see elementTemplate). */
  template(p: Primitive<unknown>): string {
    let t = this.templates.get(p);
    if (t === undefined) {
      t = elementTemplate(p.elementwise!, this.helper);
      this.templates.set(p, t);
    }
    return t;
  }

  /** The primitive's element over `operands` as one JS expression. */
  inline(p: Primitive<unknown>, operands: readonly string[]): string {
    return this.template(p).replace(/\$(\d)/g, (_m, k: string) => operands[Number(k)]!);
  }

  /**
   * The primitive's element over `operands` as statements and a value, with no call for an
   * expression with locals (sigmoid's stable form: its locals become statements named
   * `${prefix}_k`); the template filled in otherwise.
   */
  statements(p: Primitive<unknown>, operands: readonly string[], prefix: string): Rendered {
    let locals = this.locals.get(p);
    if (locals === undefined) {
      locals = render(p.elementwise!.expr, operands, { local: () => "_", helper: () => "_" }).prelude.length > 0;
      this.locals.set(p, locals);
    }
    return locals ? this.element(p, operands, prefix) : { prelude: [], value: this.inline(p, operands) };
  }

  /** The primitive's element over `operands` with its locals as statements (a fused loop's body: no call V8 might not inline). */
  element(p: Primitive<unknown>, operands: readonly string[], prefix: string): Rendered {
    return elementCode(p.elementwise!, operands, prefix, this.helper);
  }
}
