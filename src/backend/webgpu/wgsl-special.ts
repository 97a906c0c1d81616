// erf, erfc and erfinv in WGSL (f32), from the same series as the float64 functions of
// src/kernels/special.ts (its Taylor coefficients, Chebyshev pieces and tail series, so each
// is written once): erf by its Taylor series for |x| < 0.5, erfc(x) for x ≥ 0.5 as
// exp(−x²)·g(x) with g a Chebyshev series, erfinv by an approximate inverse refined by
// Halley's method. Terms below f32's precision are left out.
import * as special from "../../kernels/special.ts";
import { f32Literal } from "./wgsl-expr.ts";

/** The JS functions that have a WGSL form here, by the name WGSL calls them. */
export const SPECIAL_NAMES = new Map<(x: number) => number, string>([
  [special.erf, "js_erf"],
  [special.erfc, "js_erfc"],
  [special.erfinv, "js_erfinv"],
]);

const significant = (c: readonly number[]): number[] => {
  const scale = Math.abs(c[0]!);
  let n = c.length;
  while (n > 1 && Math.abs(c[n - 1]!) < 1e-9 * scale) n--;
  return c.slice(0, n);
};

/** c[0]/2 + Σ c[k]·T_k(t) by Clenshaw's recurrence, unrolled. */
const chebyshev = (name: string, coefficients: readonly number[]): string => {
  const c = significant(coefficients);
  const lines = ["  var b1 = 0.0;", "  var b2 = 0.0;"];
  for (let k = c.length - 1; k >= 1; k--) lines.push(`  { let b = 2.0 * t * b1 - b2 + ${f32Literal(c[k]!)}; b2 = b1; b1 = b; }`);
  return `fn ${name}(t: f32) -> f32 {\n${lines.join("\n")}\n  return t * b1 - b2 + ${f32Literal(c[0]! / 2)};\n}`;
};

const taylor = significant(special.TAYLOR);

let code: string | undefined;
/** The WGSL functions js_erf, js_erfc, js_erfinv (they use HELPERS' js_inf and js_nan), made on first use. */
export const specialFunctions = (): string => (code ??= makeSpecial());

const makeSpecial = (): string => `
${special.PIECES.map(([, , c], i) => chebyshev(`erfc_piece${i}`, c)).join("\n")}
${chebyshev("erfc_tail", special.TAIL_SERIES)}
fn exp_neg_square(x: f32) -> f32 {
  let h = round(x * 16.0) / 16.0;
  return exp(-h * h) * exp(-(x - h) * (x + h));
}
fn erfc_large(x: f32) -> f32 {
  if (x >= 10.5) { return select(x, 0.0, x == x); }
  if (x >= ${f32Literal(special.TAIL)}) {
    let u = 1.0 / (x * x);
    return exp_neg_square(x) * erfc_tail(${f32Literal(2 * special.TAIL * special.TAIL)} * u - 1.0) / (x * ${f32Literal(Math.sqrt(Math.PI))});
  }
${special.PIECES.map(([a, b], i) => `  if (x <= ${f32Literal(b)}) { return exp_neg_square(x) * erfc_piece${i}((2.0 * x - ${f32Literal(a + b)}) / ${f32Literal(b - a)}); }`).join("\n")}
  return js_nan();
}
fn erf_small(x: f32) -> f32 {
  let t = x * x;
  var s = ${f32Literal(taylor[taylor.length - 1]!)};
${taylor.slice(0, -1).map((_, k) => `  s = s * t + ${f32Literal(taylor[taylor.length - 2 - k]!)};`).join("\n")}
  return x * s;
}
fn js_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) { return erf_small(x); }
  if (!(a == a)) { return x; }
  let r = 1.0 - erfc_large(a);
  return select(r, -r, x < 0.0);
}
fn js_erfc(x: f32) -> f32 {
  if (x >= 0.5) { return erfc_large(x); }
  if (x > -0.5) { return 1.0 - erf_small(x); }
  return select(x, 2.0 - erfc_large(-x), x == x);
}
fn js_erfinv(y: f32) -> f32 {
  let a = abs(y);
  if (!(a < 1.0)) { return select(js_nan(), select(js_inf(), -js_inf(), y < 0.0), a == 1.0); }
  if (a == 0.0) { return y; }
  let w = log(1.0 - a * a);
  let c = ${f32Literal(2 / (Math.PI * 0.147))} + w / 2.0;
  var x = sqrt(sqrt(c * c - w / 0.147) - c);
  let near = a > 0.5;
  let rest = 1.0 - a;
  for (var k = 0; k < 3; k++) {
    let f = select(js_erf(x) - a, rest - erfc_large(x), near);
    let d = f / (${f32Literal(2 / Math.sqrt(Math.PI))} * exp_neg_square(x));
    x -= d / (1.0 + x * d);
  }
  return select(x, -x, y < 0.0);
}
`;
