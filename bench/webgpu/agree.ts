// The check before any GPU figure: a workload's result on webgpu against the CPU backend's, at
// float32 tolerance. A figure of a wrong computation is worse than none, so a disagreement
// throws (naming the array, the element, both values and the bound) and the run stops.
// Pure functions of arrays: test/bench-webgpu-agree.test.ts checks them without a browser.

/** |got − want| ≤ atol + rtol·|want|, elementwise. */
export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/** float32 tolerance for values computed in a different order (GPU threads vs CPU loops). */
export const FLOAT32: Tolerance = { rtol: 1e-4, atol: 1e-5 };

/** Named flat arrays: a loss, each parameter, a product. */
export type Arrays = Readonly<Record<string, ArrayLike<number>>>;

/** Where two arrays first disagree beyond their bound. */
export interface Disagreement {
  readonly name: string;
  readonly index: number;
  readonly got: number;
  readonly want: number;
  readonly bound: number;
}

/**
 * The first element of `got` farther from `want` than `bound(i)` allows (NaN on either side
 * counts as a disagreement unless both are NaN), or null; `worst` is the largest
 * |got − want| / bound seen, ≤ 1 when they agree.
 */
export function compare(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  bound: (i: number) => number,
): { first: Disagreement | null; worst: number } {
  if (got.length !== want.length)
    return { first: { name, index: -1, got: got.length, want: want.length, bound: 0 }, worst: Infinity };
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(g) && Number.isNaN(w)) continue;
    const b = bound(i);
    const d = Math.abs(g - w);
    if (!(d <= b)) return { first: { name, index: i, got: g, want: w, bound: b }, worst: Infinity };
    if (b > 0) worst = Math.max(worst, d / b);
  }
  return { first: null, worst };
}

const describe = (workload: string, what: string, d: Disagreement): string =>
  d.index < 0
    ? `${workload}: ${what} disagrees with the CPU backend: ${d.name} has ${d.got} elements, the CPU's ${d.want}`
    : `${workload}: ${what} disagrees with the CPU backend: ${d.name}[${d.index}] is ${d.got}, the CPU's ${d.want} ` +
      `(allowed ±${d.bound.toPrecision(3)}); no figure is reported for a wrong result`;

/**
 * Throws unless every array of `want` has its counterpart in `got` within `tol`; returns the
 * largest |got − want| / (atol + rtol·|want|) over them (≤ 1), for the report.
 */
export function checkAgreement(workload: string, what: string, got: Arrays, want: Arrays, tol: Tolerance = FLOAT32): number {
  let worst = 0;
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    if (g === undefined) throw new Error(`${workload}: ${what} has no ${name}, which the CPU backend's result has`);
    const r = compare(name, g, w, (i) => tol.atol + tol.rtol * Math.abs(w[i]!));
    if (r.first) throw new Error(describe(workload, what, r.first));
    worst = Math.max(worst, r.worst);
  }
  return worst;
}

/**
 * Throws unless the product `got` of a k-long inner dimension agrees with the CPU's `want`
 * within the dot product's rounding bound: each sum's float32 error is at most k·u·(|A||B|)[i]
 * (u = 2^-24), and both sides round, so 2·k·u·scale[i] (scale = |A| |B|, elementwise absolute
 * values multiplied). Returns the largest |got − want| / bound.
 */
export function checkProduct(workload: string, what: string, got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>, k: number): number {
  const u = 2 ** -24;
  const r = compare("product", got, want, (i) => 2 * k * u * scale[i]! + Number.MIN_VALUE);
  if (r.first) throw new Error(describe(workload, what, r.first));
  return r.worst;
}

/** What an adapter's info says about it (GPUAdapterInfo's fields, and isFallbackAdapter). */
export interface AdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

const names = (info: AdapterInfo): string[] =>
  [info.vendor, info.architecture, info.device, info.description].filter((s): s is string => s !== undefined && s !== "");

/** Whether the adapter is SwiftShader (Chromium's WebGPU on the CPU). */
export const isSwiftShader = (info: AdapterInfo): boolean => names(info).some((s) => /swiftshader/i.test(s));

/**
 * Whether the adapter runs WebGPU on the CPU (SwiftShader, or any adapter the browser calls a
 * fallback): its times are CPU figures, never to be reported as a GPU's.
 */
export const isCpuEmulation = (info: AdapterInfo): boolean => info.isFallbackAdapter === true || isSwiftShader(info);

/** The label beside every figure measured on `info`'s adapter: its name, or that it is no GPU. */
export const adapterLabel = (info: AdapterInfo): string => {
  const name = names(info).join(" ") || "unnamed adapter";
  if (isSwiftShader(info)) return "SwiftShader (CPU emulation), not a GPU figure";
  if (isCpuEmulation(info)) return `${name} (a fallback adapter: CPU emulation), not a GPU figure`;
  return name;
};
