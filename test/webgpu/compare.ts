// Runs a program on the CPU backend and on webgpu from the same float32 inputs, and compares
// the results (float32 tolerances). The CPU kernels' values and derivatives are checked against
// NumPy and finite differences by the Node suite; here the GPU kernels are checked against them.
import { expect } from "vitest";
import { run, setBackend, Tensor, toDevice, type NestedArray } from "../../src/index.ts";

type Tree = number | Tensor | readonly Tree[];

/** The result's tensors read back (GPU ones asynchronously), as nested arrays. */
const readAll = async (t: unknown): Promise<unknown> => {
  if (t instanceof Tensor) return t.toArrayAsync();
  if (Array.isArray(t)) return Promise.all(t.map(readAll));
  if (typeof t === "object" && t !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(t)) out[k] = await readAll(v);
    return out;
  }
  return t;
};

const backends = (t: unknown): string[] =>
  t instanceof Tensor ? [t.backend] : Array.isArray(t) ? t.flatMap(backends) : typeof t === "object" && t !== null ? Object.values(t).flatMap(backends) : [];

/** Asserts that `got` and `want` have the same structure and numbers within tolerance (NaN equal to NaN). */
export const expectClose = (got: unknown, want: unknown, rtol: number, atol: number, path = "result"): void => {
  if (typeof want === "number") {
    expect(typeof got, path).toBe("number");
    const g = got as number;
    if (Number.isNaN(want)) return void expect(g, path).toBeNaN();
    if (!Number.isFinite(want)) return void expect(g, path).toBe(want);
    expect(Math.abs(g - want), `${path}: ${g} vs ${want}`).toBeLessThanOrEqual(atol + rtol * Math.abs(want));
    return;
  }
  if (Array.isArray(want)) {
    expect(Array.isArray(got), path).toBe(true);
    expect((got as unknown[]).length, path).toBe(want.length);
    want.forEach((w, i) => expectClose((got as unknown[])[i], w, rtol, atol, `${path}[${i}]`));
    return;
  }
  if (typeof want === "object" && want !== null) {
    for (const [k, w] of Object.entries(want)) expectClose((got as Record<string, unknown>)[k], w, rtol, atol, `${path}.${k}`);
    return;
  }
  expect(got, path).toEqual(want);
};

export interface Tolerance {
  readonly rtol?: number;
  readonly atol?: number;
}

/**
 * `program` on the CPU and on webgpu (inputs moved with toDevice, new tensors made on the GPU),
 * its results compared; every tensor of the GPU result must be a webgpu tensor.
 */
export async function expectSameOnGpu(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  program: (...args: any[]) => Generator<any, unknown, any>,
  inputs: readonly Tree[],
  tol: Tolerance = {},
): Promise<{ got: unknown; want: unknown }> {
  await setBackend("cpu");
  const want = await readAll(run(program, ...inputs));
  await setBackend("webgpu");
  const moved = (x: Tree): Tree => (x instanceof Tensor ? toDevice(x) : Array.isArray(x) ? x.map(moved) : x);
  try {
    const out = run(program, ...inputs.map(moved));
    expect(backends(out).every((b) => b === "webgpu"), `result backends ${backends(out).join(", ")}`).toBe(true);
    const got = await readAll(out);
    expectClose(got, want, tol.rtol ?? 1e-4, tol.atol ?? 1e-5);
    return { got, want };
  } finally {
    await setBackend("cpu");
  }
}

export type { NestedArray };
