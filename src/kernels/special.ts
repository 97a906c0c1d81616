// The error function and its relatives in float64, accurate to a few units in the last place
// over the whole real line: erf, erfc (no cancellation for large x: erfc(10) ≈ 2.1e-45 to full
// relative precision) and erfinv. JS's Math has none of them.
//
// erf(x) for |x| < 0.5: its Taylor series (13 terms reach 1e-17 there). erfc(x) for x ≥ 0.5:
// exp(−x²)·g(x), with g(x) = exp(x²)·erfc(x) smooth and slowly varying, given by Chebyshev series
// on intervals and, for x ≥ 6, in u = 1/x² (scripts/erfc-chebyshev.py computes the coefficients
// with mpmath). exp(−x²) is taken as exp(−h²)·exp(−(x − h)(x + h)) with h = x rounded to 1/16,
// h² exact: exp(−x²) computed directly loses x²·2⁻⁵³ of relative precision (1e-13 at x = 26).
// erfinv: an approximate inverse refined by Halley's method on erf (erfc near ±1).

/** c[0]/2 + Σ c[k]·T_k(t), t in [−1, 1] (Clenshaw's recurrence). */
function chebyshev(c: readonly number[], t: number): number {
  const t2 = 2 * t;
  let b1 = 0;
  let b2 = 0;
  for (let k = c.length - 1; k >= 1; k--) {
    const b = t2 * b1 - b2 + c[k]!;
    b2 = b1;
    b1 = b;
  }
  return t * b1 - b2 + c[0]! / 2;
}

// [a, b, coefficients of exp(x²)·erfc(x) on [a, b]]
export const PIECES: readonly (readonly [number, number, readonly number[]])[] = [
  [0.5, 1, [1.0285080600896281, -9.3534361576316469e-2, 7.3495435679659607e-3, -5.1702876831709545e-4, 3.3274891810398319e-5, -1.9877609419315704e-6, 1.1137198399251981e-7, -5.8986496093891293e-9, 2.9712990142852805e-10, -1.4304881857762571e-11, 6.6086162842655768e-13, -2.9395552899978546e-14, 1.2625028540389157e-15, -5.2483535009959204e-17, 2.1162858025358237e-18]],
  [1, 1.5, [7.4238558868414316e-1, -5.2799551940465686e-2, 3.3807623615918897e-3, -1.9896338415156292e-4, 1.0911979120987142e-5, -5.6323720661959361e-7, 2.7564656102315983e-8, -1.2864435796900214e-9, 5.7518943436920402e-11, -2.473180238194912e-12, 1.0258794609509988e-13, -4.1161816337273053e-15, 1.6012087659273513e-16, -6.0509378290474905e-18]],
  [1.5, 2, [5.7345447787280969e-1, -3.3006801084811476e-2, 1.759147788684076e-3, -8.7881957186246638e-5, 4.1516102756111997e-6, -1.8669721329085599e-7, 8.0337844615388626e-9, -3.321836144278999e-10, 1.3243525744778221e-11, -5.1055788923347435e-13, 1.9079334307984005e-14, -6.9258207597226783e-16, 2.4466018310021199e-17, -8.4243580029741978e-19]],
  [2, 3, [4.2796496511246447e-1, -3.7938404099999566e-2, 3.1959178113380354e-3, -2.5736667078899766e-4, 1.9905838950216772e-5, -1.4842771854362059e-6, 1.0702889548418396e-7, -7.4828242235425035e-9, 5.0835484930747931e-10, -3.3622569060919219e-11, 2.1685836894413022e-12, -1.3659497593967645e-13, 8.4133023797144401e-15, -5.0730761181400897e-16, 2.9977710091566456e-17, -1.7376147907764117e-18]],
  [3, 4, [3.1328354649096258e-1, -2.0915461734365609e-2, 1.3533062741154645e-3, -8.5073205631465019e-5, 5.2067028371346698e-6, -3.1080131383071884e-7, 1.8122880274853159e-8, -1.0336821988321495e-9, 5.7741095304546026e-11, -3.1621824378819977e-12, 1.6994584246907248e-13, -8.9708355682691963e-15, 4.654746280281841e-16, -2.3758099688267352e-17, 1.1936182338041515e-18]],
  [4, 6, [2.2555639486332491e-1, -2.1913497155272349e-2, 2.0915397845687495e-3, -1.9628624819122982e-4, 1.8126654238718201e-5, -1.6483628246572166e-6, 1.4769699327777976e-7, -1.3047490253442588e-8, 1.1369753471043669e-9, -9.7781802266404981e-11, 8.3032123480629758e-12, -6.9646508425907135e-13, 5.7728321648271661e-14, -4.7301485583698741e-15, 3.832714974411983e-16, -3.0720233149987723e-17, 2.4364677192447835e-18, -1.9126665070732085e-19]],
];
export const TAIL = 6;
// x·√π·exp(x²)·erfc(x) in u = 1/x² on (0, 1/36], mapped to t = 72u − 1
export const TAIL_SERIES = [1.9865219468039149, -6.6723968268733229e-3, 6.5558278854035629e-5, -1.0479267433593705e-6, 2.2914014979281541e-8, -6.3000992686706606e-10, 2.0722176536434045e-11, -7.8903686322951903e-13, 3.3981065264730509e-14, -1.626853874807708e-15, 8.5436507831181172e-17, -4.8700070492531448e-18];
/** Past this erfc(x) is below the smallest double. */
const UNDERFLOW = 27.3;
const SQRT_PI = Math.sqrt(Math.PI);
const TWO_OVER_SQRT_PI = 2 / SQRT_PI;

// erf(x)/x = (2/√π)·Σ (−1)ⁿ x²ⁿ / (n!·(2n + 1)), 13 terms (|x| < 0.5)
export const TAYLOR: readonly number[] = Array.from({ length: 13 }, (_, n) => {
  let factorial = 1;
  for (let k = 2; k <= n; k++) factorial *= k;
  return ((n % 2 === 0 ? 1 : -1) * TWO_OVER_SQRT_PI) / (factorial * (2 * n + 1));
});

/** exp(−x²) for x ≥ 0, without x²'s rounding error. */
function expNegSquare(x: number): number {
  const h = Math.round(x * 16) / 16;
  return Math.exp(-h * h) * Math.exp(-(x - h) * (x + h));
}

/** erfc(x) for x ≥ 0.5. */
function erfcLarge(x: number): number {
  if (x >= UNDERFLOW) return x === x ? 0 : x;
  if (x >= TAIL) {
    const u = 1 / (x * x);
    return (expNegSquare(x) * chebyshev(TAIL_SERIES, 2 * TAIL * TAIL * u - 1)) / (x * SQRT_PI);
  }
  for (const [a, b, c] of PIECES) if (x <= b) return expNegSquare(x) * chebyshev(c, (2 * x - a - b) / (b - a));
  return NaN; // (unreachable: the pieces cover [0.5, 6])
}

/** erf(x) for |x| < 0.5. */
function erfSmall(x: number): number {
  const t = x * x;
  let s = TAYLOR[TAYLOR.length - 1]!;
  for (let n = TAYLOR.length - 2; n >= 0; n--) s = s * t + TAYLOR[n]!;
  return x * s;
}

/** The error function (2/√π)·∫₀ˣ e^(−t²) dt. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 0.5) return erfSmall(x);
  if (!(a === a)) return x;
  const r = 1 - erfcLarge(a);
  return x < 0 ? -r : r;
}

/** The complementary error function 1 − erf(x), accurate where it is tiny (large x). */
export function erfc(x: number): number {
  if (x >= 0.5) return erfcLarge(x);
  if (x > -0.5) return 1 - erfSmall(x);
  return x === x ? 2 - erfcLarge(-x) : x;
}

/** The inverse of erf on [−1, 1]: ±Infinity at ±1, NaN outside. */
export function erfinv(y: number): number {
  const a = Math.abs(y);
  if (!(a < 1)) return a === 1 ? y * Infinity : NaN;
  if (a === 0) return y; // (±0)
  // An approximate inverse (relative error below 1e-2) ...
  const w = Math.log1p(-a * a);
  const c = 2 / (Math.PI * 0.147) + w / 2;
  let x = Math.sqrt(Math.sqrt(c * c - w / 0.147) - c);
  // ... refined by Halley's method on erf(x) − a (as (1 − a) − erfc(x) where erf is near 1).
  const near = a > 0.5;
  const rest = 1 - a; // exact for a > 0.5
  for (let k = 0; k < 4; k++) {
    const f = near ? rest - erfc(x) : erf(x) - a;
    const d = f / (TWO_OVER_SQRT_PI * expNegSquare(x));
    const step = d / (1 + x * d);
    x -= step;
    if (Math.abs(step) <= 1e-17 * x) break;
  }
  return y < 0 ? -x : x;
}
