// The page's function panel: the parser's precedence and its messages, and f′, f″ from grad and
// grad∘grad against closed forms.
import { describe, expect, it } from "vitest";
import { show } from "../src/expression/ast.ts";
import { curves, grid } from "../src/expression/derivatives.ts";
import { parseExpression } from "../src/expression/parse.ts";
import { ExpressionError } from "../src/expression/tokens.ts";

const parsed = (text: string): string => show(parseExpression(text));

describe("parseExpression", () => {
  it("reads the usual precedence: unary minus below ^, ^ right-associative, implicit products as *", () => {
    expect(parsed("1 + 2 * x")).toBe("(1 + (2 * x))");
    expect(parsed("1 - x - 2")).toBe("((1 - x) - 2)");
    expect(parsed("x / 2 / 4")).toBe("((x / 2) / 4)");
    expect(parsed("-x^2")).toBe("(-(x ^ 2))");
    expect(parsed("2^3^2")).toBe("(2 ^ (3 ^ 2))");
    expect(parsed("2^-x")).toBe("(2 ^ (-x))");
    expect(parsed("x**2")).toBe("(x ^ 2)");
    expect(parsed("2x^2")).toBe("(2 * (x ^ 2))");
    expect(parsed("3 sin(x) cos(x)")).toBe("((3 * sin(x)) * cos(x))");
    expect(parsed("(x+1)(x-1)")).toBe("((x + 1) * (x - 1))");
    expect(parsed("x(x+1)")).toBe("(x * (x + 1))");
    expect(parsed("--x")).toBe("(-(-x))");
    expect(parsed("+x")).toBe("x");
    expect(parsed(" .5e1 x ")).toBe("(5 * x)");
    expect(parsed("2 pi x")).toBe(`((2 * ${Math.PI}) * x)`);
    expect(parsed("ln(x) − x×2")).toBe("(ln(x) - (x * 2))");
  });

  it("says what is wrong and where, as an ExpressionError", () => {
    const cases: [string, RegExp, number][] = [
      ["", /type a function of x/, 0],
      ["sin(x", /missing "\)" for the "\(" at 4/, 5],
      ["x)", /unmatched "\)" at 2/, 1],
      ["x +", /ends too early/, 3],
      ["*x", /unexpected "\*" at 1/, 0],
      ["sin x", /sin needs its argument in parentheses: sin\(x\)/, 4],
      ["foo(x)", /unknown name "foo" at 1: use x, pi, e/, 0],
      ["y + 1", /unknown name "y" at 1/, 0],
      ["2 3", /a number cannot follow without an operator: "3" at 3/, 2],
      ["x $ 2", /unexpected character "\$" at 3/, 2],
      ["()", /unexpected "\)" at 2/, 1],
    ];
    for (const [text, message, at] of cases) {
      let error: unknown;
      try {
        parseExpression(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(ExpressionError);
      expect((error as ExpressionError).message, text).toMatch(message);
      expect((error as ExpressionError).at, text).toBe(at);
    }
  });
});

describe("curves: f, grad f and grad(grad f) on a grid", () => {
  const xs = grid(-2, 2, 41);
  const near = (got: Float64Array, want: (x: number) => number): void => {
    for (let i = 0; i < xs.length; i++) expect(got[i]!).toBeCloseTo(want(xs[i]!), 9);
  };

  it("match the closed forms", () => {
    const s = curves(parseExpression("sin(x) * x^2"), xs);
    near(s.f, (x) => Math.sin(x) * x * x);
    near(s.df, (x) => Math.cos(x) * x * x + 2 * x * Math.sin(x));
    near(s.d2f, (x) => -Math.sin(x) * x * x + 4 * x * Math.cos(x) + 2 * Math.sin(x));
    const g = curves(parseExpression("exp(-x^2/2)"), xs);
    near(g.df, (x) => -x * Math.exp(-x * x / 2));
    near(g.d2f, (x) => (x * x - 1) * Math.exp(-x * x / 2));
    const t = curves(parseExpression("tanh(x)"), xs);
    near(t.d2f, (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2));
    const p = curves(parseExpression("x^3 - 3x"), xs);
    near(p.df, (x) => 3 * x * x - 3);
    near(p.d2f, (x) => 6 * x);
  });

  it("a constant, and x alone, have every point", () => {
    const c = curves(parseExpression("2 pi"), xs);
    near(c.f, () => 2 * Math.PI);
    near(c.df, () => 0);
    near(c.d2f, () => 0);
    const x = curves(parseExpression("x"), xs);
    near(x.f, (v) => v);
    near(x.df, () => 1);
    near(x.d2f, () => 0);
  });

  it("where f is undefined the values are not finite, and the rest are right", () => {
    const l = curves(parseExpression("log(x)"), grid(-1, 1, 5));
    expect(Number.isNaN(l.f[0]!)).toBe(true);
    expect(l.f[2]).toBe(-Infinity);
    expect(l.df[4]).toBeCloseTo(1, 12);
    expect(l.d2f[4]).toBeCloseTo(-1, 12);
  });
});
