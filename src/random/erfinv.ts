// The inverse error function on scalars, for normal samples (normal = √2·erfinv(u)).
// float32: Giles' single-precision approximation ("Approximating the erfinv function", GPU
// Computing Gems, 2011), the one XLA evaluates for JAX's float32 normals, with every step
// rounded to float32 (Math.fround) as XLA computes it. float64: that approximation as a first
// guess, then Newton steps on erf (or on erfc in the tails, where 1 − u is exact) to full
// double precision.

const f = Math.fround;

/** Coefficients (highest power first) for w = −log(1 − x²) < 5, in the variable w − 2.5. */
const CENTRAL = [2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941];
/** Coefficients for w >= 5, in the variable √w − 3. */
const TAIL = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682];
const CENTRAL32 = CENTRAL.map(f);
const TAIL32 = TAIL.map(f);

/** erfinv(x) in float32 arithmetic, for x in [−1, 1] (±1 give ±Infinity). */
export const erfinv32 = (x: number): number => {
  x = f(x);
  if (Math.abs(x) === 1) return x * Infinity;
  let w = -f(Math.log1p(-f(x * x)));
  const central = w < 5;
  const c = central ? CENTRAL32 : TAIL32;
  w = central ? f(w - 2.5) : f(f(Math.sqrt(w)) - 3);
  let p = c[0]!;
  for (let i = 1; i < c.length; i++) p = f(c[i]! + f(p * w));
  return f(p * x);
};

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

/** erf(x) for |x| <= 3: 2/√π·e^(−x²)·Σ (2x²)ⁿ·x / (1·3·…·(2n+1)), a series of positive terms. */
const erfSeries = (x: number): number => {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
};

/** erfc(x) for x >= 3: e^(−x²)/√π over the continued fraction x + (1/2)/(x + 1/(x + (3/2)/(x + …))). */
const erfcFraction = (x: number): number => {
  let d = x;
  for (let n = 60; n >= 1; n--) d = x + n / 2 / d;
  return (INV_SQRT_PI * Math.exp(-x * x)) / d;
};

/** erf(x) in double precision. */
export const erf = (x: number): number => {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < 3) return erfSeries(x);
  return Math.sign(x) * (1 - erfcFraction(a));
};

/** erfc(x) = 1 − erf(x) in double precision, without cancellation for large x. */
export const erfc = (x: number): number => {
  if (Number.isNaN(x)) return NaN;
  if (x < 0.5) return 1 - erf(x);
  return erfcAccurate(x);
};

/** erfinv(x) in double precision, for x in [−1, 1] (±1 give ±Infinity, outside: NaN). */
export const erfinv64 = (x: number): number => {
  if (!(Math.abs(x) <= 1)) return NaN;
  if (Math.abs(x) === 1) return x * Infinity;
  if (x === 0) return x;
  const a = Math.abs(x);
  // Giles' approximation in double arithmetic: relative error about 1e-7
  let w = -Math.log1p(-a * a);
  const central = w < 5;
  const c = central ? CENTRAL : TAIL;
  w = central ? w - 2.5 : Math.sqrt(w) - 3;
  let p = c[0]!;
  for (let i = 1; i < c.length; i++) p = c[i]! + p * w;
  let y = p * a;
  // Newton steps: on erf(y) = a near 0, on erfc(y) = 1 − a (exact for a >= 0.5) in the tail
  const tail = a >= 0.5;
  const rest = 1 - a;
  for (let k = 0; k < 3; k++) {
    const slope = TWO_OVER_SQRT_PI * Math.exp(-y * y);
    const step = tail ? (rest - erfcAccurate(y)) / slope : (erf(y) - a) / slope;
    y -= step;
    if (Math.abs(step) <= 1e-16 * y) break;
  }
  return x < 0 ? -y : y;
};

/** The positive nodes of n-point Gauss–Legendre quadrature (n even) and their weights, by Newton's method on Pₙ. */
const gaussLegendre = (n: number): [number[], number[]] => {
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let i = 1; i <= n / 2; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k];
      dp = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    nodes.push(x);
    weights.push(2 / ((1 - x * x) * dp * dp));
  }
  return [nodes, weights];
};
const [GL_NODES, GL_WEIGHTS] = gaussLegendre(20);

/**
 * erfc(y) for y >= 0.5 to near full double precision: the continued fraction where it
 * converges fast (y >= 3); below, erfc(3) plus 2/√π ∫_y^3 e^(−t²) dt by quadrature (positive
 * terms only, so no cancellation).
 */
const erfcAccurate = (y: number): number => {
  if (y >= 3) return erfcFraction(y);
  // erfc(y) = erfc(3) + 2/√π ∫_y^3 e^(−t²) dt, the integral by 20-point Gauss–Legendre on
  // pieces of length <= 0.5 (the integrand is smooth: error far below double precision)
  let sum = 0;
  const pieces = Math.ceil((3 - y) / 0.5);
  const h = (3 - y) / pieces;
  for (let k = 0; k < pieces; k++) {
    const lo = y + k * h;
    const mid = lo + h / 2;
    let s = 0;
    for (let i = 0; i < GL_NODES.length; i++) {
      const dt = (GL_NODES[i]! * h) / 2;
      s += GL_WEIGHTS[i]! * (Math.exp(-(mid - dt) * (mid - dt)) + Math.exp(-(mid + dt) * (mid + dt)));
    }
    sum += (s * h) / 2;
  }
  return erfcFraction(3) + TWO_OVER_SQRT_PI * sum;
};
