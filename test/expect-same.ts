// Comparing results of two ways of computing the same thing (e.g. jit vs eager).
import { expect } from "vitest";
import { Tensor } from "../src/index.ts";

/**
 * Same kinds (number vs Tensor), structure, shapes and dtypes; values within `rel` of the largest
 * magnitude (float64 rounding by default); equal non-finite values count as equal.
 */
export function expectSame(got: unknown, want: unknown, rel = 1e-12, path = "out"): void {
  if (typeof want === "number") {
    expect(typeof got, `${path} is a number`).toBe("number");
    expect(Math.abs((got as number) - want) <= rel * Math.max(1, Math.abs(want)) || Object.is(got, want), `${path}: ${got} vs ${want}`).toBe(true);
  } else if (want instanceof Tensor) {
    expect(got, `${path} is a Tensor`).toBeInstanceOf(Tensor);
    const g = got as Tensor;
    expect(g.shape, `${path} shape`).toEqual(want.shape);
    expect(g.dtype, `${path} dtype`).toBe(want.dtype);
    let scale = 1;
    for (const v of want.buf) scale = Math.max(scale, Math.abs(v));
    want.buf.forEach((v, i) => expect(Math.abs(g.buf[i]! - v) <= rel * scale, `${path}[${i}]: ${g.buf[i]} vs ${v}`).toBe(true));
  } else if (Array.isArray(want)) {
    expect(Array.isArray(got), `${path} is an array`).toBe(true);
    expect((got as unknown[]).length, `${path} length`).toBe(want.length);
    want.forEach((w, i) => expectSame((got as unknown[])[i], w, rel, `${path}[${i}]`));
  } else {
    expect(Object.keys(got as object), `${path} keys`).toEqual(Object.keys(want as object));
    for (const k of Object.keys(want as object)) expectSame((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], rel, `${path}.${k}`);
  }
}
