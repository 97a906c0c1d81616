// Test helpers: central finite differences at float64 over pytrees of numbers and tensors,
// and closeness checks for numbers, tensors and trees. Self-contained on purpose (its own tree
// walk, its own tensor building), so a bug in the library's pytree code cannot hide itself.
import { expect } from "vitest";
import { Tensor, tensor } from "../src/index.ts";

type Tree = unknown;

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Tensor) && Object.getPrototypeOf(x) === Object.prototype;

/** Every float scalar of a tree, in a fixed order (numbers, then tensor elements row-major). */
export const flatNumbers = (x: Tree): number[] => {
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "number") out.push(v);
    else if (v instanceof Tensor) for (const n of v.data) out.push(n);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isPlainObject(v)) for (const k of Object.keys(v)) walk(v[k]);
  };
  walk(x);
  return out;
};

/** The same tree with its float scalars replaced, in `flatNumbers` order. */
export const withNumbers = <T>(x: T, values: readonly number[]): T => {
  let i = 0;
  const build = (v: unknown): unknown => {
    if (typeof v === "number") return values[i++]!;
    if (v instanceof Tensor) {
      const data = new Float64Array(v.size);
      for (let k = 0; k < v.size; k++) data[k] = values[i++]!;
      return tensor(data, { shape: [...v.shape], dtype: v.dtype });
    }
    if (Array.isArray(v)) return v.map(build);
    if (isPlainObject(v)) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v)) o[k] = build(v[k]);
      return o;
    }
    return v;
  };
  return build(x) as T;
};

/** A number from a program's result (a number or a size-1 tensor). */
export const scalar = (v: unknown): number => {
  if (typeof v === "number") return v;
  if (v instanceof Tensor && v.size === 1) return v.data[0]!;
  throw new Error(`expected a scalar, got ${String(v)}`);
};

/**
 * Central differences of a scalar function of a tree: a tree of the same structure holding
 * ∂f/∂leaf (non-float leaves are copied through).
 */
export const fdGrad = <T>(f: (x: T) => number, x: T, h = 1e-6): T => {
  const base = flatNumbers(x);
  const g = base.map((_, k) => {
    const plus = base.slice();
    const minus = base.slice();
    plus[k]! += h;
    minus[k]! -= h;
    return (f(withNumbers(x, plus)) - f(withNumbers(x, minus))) / (2 * h);
  });
  return withNumbers(x, g);
};

/**
 * Central-difference Jacobian of f: (tensor or number) → (tensor or number), as a flat
 * row-major array of shape [...outShape, ...inShape] (so it compares to `flatNumbers(jac)`).
 */
export const fdJacobian = (f: (x: Tensor | number) => unknown, x: Tensor | number, h = 1e-6): number[] => {
  const base = flatNumbers(x);
  const cols = base.map((_, k) => {
    const plus = base.slice();
    const minus = base.slice();
    plus[k]! += h;
    minus[k]! -= h;
    const yp = flatNumbers(f(withNumbers(x, plus)));
    const ym = flatNumbers(f(withNumbers(x, minus)));
    return yp.map((v, i) => (v - ym[i]!) / (2 * h));
  });
  const m = cols[0]!.length;
  const n = base.length;
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) out.push(cols[k]![i]!);
  return out;
};

/** |a - e| <= atol + rtol·|e| for every scalar, with a message naming the first mismatch. */
export const expectClose = (actual: unknown, expected: unknown, { rtol = 1e-6, atol = 1e-8 } = {}): void => {
  const a = flatNumbers(actual);
  const e = flatNumbers(expected);
  expect(a.length, "number of scalars").toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i]! - e[i]!) <= atol + rtol * Math.abs(e[i]!);
    if (!ok) expect.fail(`scalar ${i}: got ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
  }
};

/** Same tree structure: arrays of equal length, objects with equal keys, numbers where numbers, tensors of equal shape. */
export const expectSameStructure = (actual: unknown, expected: unknown, path = "$"): void => {
  if (typeof expected === "number") {
    expect(typeof actual, `${path} is a number`).toBe("number");
  } else if (expected instanceof Tensor) {
    expect(actual, `${path} is a Tensor`).toBeInstanceOf(Tensor);
    expect((actual as Tensor).shape, `${path} shape`).toEqual(expected.shape);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${path} length`).toBe(expected.length);
    expected.forEach((v, i) => expectSameStructure((actual as unknown[])[i], v, `${path}[${i}]`));
  } else if (isPlainObject(expected)) {
    expect(isPlainObject(actual), `${path} is a plain object`).toBe(true);
    expect(Object.keys(actual as object), `${path} keys`).toEqual(Object.keys(expected));
    for (const k of Object.keys(expected)) expectSameStructure((actual as Record<string, unknown>)[k], expected[k], `${path}.${k}`);
  } else {
    expect(actual, `${path} passes through`).toBe(expected);
  }
};
