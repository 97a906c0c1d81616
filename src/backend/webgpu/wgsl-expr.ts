// Scalar expressions (src/kernels/scalar-expr.ts) printed as WGSL over f32: the elementwise
// kernels on the GPU come from the same formula records as the CPU kernels and jit's loops.
// JS semantics that WGSL's built-ins leave open (NaN through max/min, pow of a negative base,
// Math.round's ties) go through the small functions of HELPERS. A helper written in JS (`call`)
// has a WGSL form only if ./wgsl-special.ts gives one (erf, erfc, erfinv); another is reported
// as not yet available.
import { print, type MathFn, type Num } from "../../kernels/scalar-expr.ts";
import { SPECIAL_NAMES } from "./wgsl-special.ts";

/** WGSL functions with JS's semantics, prepended to a shader that uses any. */
export const HELPERS = `
// (private variables, not constants: WGSL refuses NaN and infinities in constant expressions)
var<private> js_nan_bits: u32 = 0x7fc00000u;
var<private> js_inf_bits: u32 = 0x7f800000u;
fn js_nan() -> f32 { return bitcast<f32>(js_nan_bits); }
fn js_inf() -> f32 { return bitcast<f32>(js_inf_bits); }
fn js_isnan(x: f32) -> bool { return !(x == x); }
fn js_max(a: f32, b: f32) -> f32 { if (js_isnan(a) || js_isnan(b)) { return js_nan(); } return max(a, b); }
fn js_min(a: f32, b: f32) -> f32 { if (js_isnan(a) || js_isnan(b)) { return js_nan(); } return min(a, b); }
fn js_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (js_isnan(a) || js_isnan(b)) { return js_nan(); }
  if (a == -js_inf()) { let odd = fract(b * 0.5) == 0.5; if (b > 0.0) { return select(js_inf(), -js_inf(), odd); } return select(0.0, -0.0, odd); }
  if (a == 0.0) { if (b > 0.0) { return select(0.0, a, fract(b * 0.5) == 0.5); } return select(js_inf(), 1.0 / a, fract(b * 0.5) == 0.5); }
  if (a > 0.0) { return exp2(b * log2(a)); }
  if (trunc(b) != b) { return js_nan(); }
  let m = exp2(b * log2(-a));
  return select(m, -m, fract(b * 0.5) != 0.0);
}
// (WGSL leaves log and sqrt outside their domain to the implementation: SwiftShader's log(0) is
// about -88, not -Infinity)
fn js_log(x: f32) -> f32 {
  if (x == 0.0) { return -js_inf(); }
  if (!(x > 0.0)) { return js_nan(); }
  if (x == js_inf()) { return x; }
  return log(x);
}
fn js_log2(x: f32) -> f32 {
  if (x == 0.0) { return -js_inf(); }
  if (!(x > 0.0)) { return js_nan(); }
  if (x == js_inf()) { return x; }
  return log2(x);
}
fn js_sqrt(x: f32) -> f32 { if (x < 0.0) { return js_nan(); } return sqrt(x); }
fn js_log1p(x: f32) -> f32 { let u = 1.0 + x; if (u == 1.0) { return x; } if (u == js_inf()) { return u; } return js_log(u) * x / (u - 1.0); }
fn js_expm1(x: f32) -> f32 {
  if (abs(x) < 1e-5) { return x + 0.5 * x * x; }
  return exp(x) - 1.0;
}
fn js_tanh(x: f32) -> f32 { return tanh(clamp(x, -20.0, 20.0)); }
fn js_sinh(x: f32) -> f32 { if (abs(x) < 1e-3) { return x + x * x * x / 6.0; } return sinh(x); }
fn js_round(x: f32) -> f32 { return floor(x + 0.5); }
fn js_hypot(a: f32, b: f32) -> f32 {
  let m = max(abs(a), abs(b));
  if (m == 0.0 || m == js_inf()) { return m; }
  let p = a / m; let q = b / m;
  return m * sqrt(p * p + q * q);
}
fn js_cbrt(x: f32) -> f32 { if (x == 0.0) { return x; } return sign(x) * exp2(log2(abs(x)) / 3.0); }
fn js_rem(a: f32, b: f32) -> f32 { return a - b * trunc(a / b); }
// A function of one number gives NaN for NaN, as JS's Math does (WGSL's need not: SwiftShader's
// exp(NaN) is Infinity, clamp in tanh makes it -1); every one-operand call is wrapped in it.
fn js_nan1(x: f32, y: f32) -> f32 { return select(y, x, js_isnan(x)); }
fn js_acosh(x: f32) -> f32 { if (x < 1.0) { return js_nan(); } if (x == js_inf()) { return x; } return acosh(x); }
fn js_asinh(x: f32) -> f32 { if (abs(x) == js_inf()) { return x; } return asinh(x); }
fn js_atanh(x: f32) -> f32 {
  let a = abs(x);
  if (a > 1.0) { return js_nan(); }
  if (a == 1.0) { return select(-js_inf(), js_inf(), x > 0.0); }
  return atanh(x);
}
// (through atan2: some drivers' asin, Mesa's llvmpipe, is off by 3e-4 near ±1)
fn js_asin(x: f32) -> f32 { if (abs(x) > 1.0) { return js_nan(); } return atan2(x, sqrt((1.0 - x) * (1.0 + x))); }
`;

/** A float literal of WGSL for a JS number, exact in f32 (NaN and infinities through HELPERS). */
export const f32Literal = (v: number): string => {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return "js_nan()";
  if (!Number.isFinite(f)) return f > 0 ? "js_inf()" : "(-js_inf())";
  if (Number.isInteger(f) && Math.abs(f) < 1e7 && !Object.is(f, -0)) return `${f}.0`;
  const bits = new Uint32Array(new Float32Array([f]).buffer)[0]!;
  return `bitcast<f32>(0x${bits.toString(16)}u)`;
};

// Math functions WGSL has with JS's meaning on f32, and the ones that go through a helper.
const DIRECT: Partial<Record<MathFn, string>> = {
  exp: "exp", sin: "sin", cos: "cos", tan: "tan", abs: "abs",
  floor: "floor", ceil: "ceil", trunc: "trunc", acos: "acos", atan: "atan",
  atan2: "atan2", cosh: "cosh", sign: "sign",
};
const HELPED: Partial<Record<MathFn, string>> = {
  max: "js_max", min: "js_min", pow: "js_pow", log: "js_log", log2: "js_log2", sqrt: "js_sqrt", log1p: "js_log1p", expm1: "js_expm1", tanh: "js_tanh",
  sinh: "js_sinh", round: "js_round", hypot: "js_hypot", cbrt: "js_cbrt", asin: "js_asin", acosh: "js_acosh", asinh: "js_asinh", atanh: "js_atanh",
};

/**
 * The expression as WGSL statements and value (`special`: it calls the functions of
 * ./wgsl-special.ts), or null if it calls a JS helper with no WGSL form.
 */
export function toWgsl(e: Num, operands: readonly string[]): { prelude: readonly string[]; value: string; special: boolean } | null {
  let unsupported = false;
  let special = false;
  let locals = 0;
  const missing = (): string => {
    unsupported = true;
    return "0.0";
  };
  const { prelude, value } = print(e, operands, {
    literal: f32Literal,
    arith: (sym, a, b) => (sym === "%" ? `js_rem(${a}, ${b})` : `(${a} ${sym} ${b})`),
    math: (fn, args) => {
      if (fn === "log10") return `(js_log(${args[0]}) * ${f32Literal(Math.LOG10E)})`;
      if ((fn === "max" || fn === "min") && args.length > 2) return args.slice(1).reduce((acc, a) => `${HELPED[fn]}(${acc}, ${a})`, args[0]!);
      const name = DIRECT[fn] ?? HELPED[fn];
      if (name === undefined) return missing();
      return args.length === 1 ? `js_nan1(${args[0]}, ${name}(${args[0]}))` : `${name}(${args.join(", ")})`;
    },
    call: (fn, args) => {
      const name = SPECIAL_NAMES.get(fn);
      if (name === undefined) return missing();
      special = true;
      return `${name}(${args.join(", ")})`;
    },
    select: (test, then, otherwise) => `select(${otherwise}, ${then}, ${test})`,
    compare: (sym, a, b) => `(${a} ${sym === "===" ? "==" : sym === "!==" ? "!=" : sym} ${b})`,
    logic: (op, a, b) => `(${a} ${op === "and" ? "&&" : "||"} ${b})`,
    bind: (value) => {
      const name = `l${locals++}`;
      return { name, statement: `let ${name} = ${value};` };
    },
  });
  return unsupported ? null : { prelude, value, special };
}
