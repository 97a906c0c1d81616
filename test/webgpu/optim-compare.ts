// Steps an optimizer on the CPU and on webgpu from the same params and gradient schedule, and
// compares the params and state (float32 tolerances): the optimizer tests' shared check.
import { expect } from "vitest";
import { optim, setBackend, tensor, toDevice, type Tensor } from "../../src/index.ts";
import { expectClose } from "./compare.ts";

type Tree = Record<string, Tensor | number>;

/** The tree's tensors read back (numbers as they are). */
export const readTree = async (t: unknown): Promise<unknown> => {
  if (typeof t === "number") return t;
  if (t !== null && typeof t === "object" && "toArrayAsync" in t) return (t as Tensor).toArrayAsync();
  if (Array.isArray(t)) return Promise.all(t.map(readTree));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t as object)) out[k] = await readTree(v);
  return out;
};

/** The backends of the tree's tensors. */
export const backendsOf = (t: unknown): string[] =>
  typeof t === "number" ? [] : t !== null && typeof t === "object" && "backend" in t ? [(t as Tensor).backend]
    : Object.values(t as object).flatMap(backendsOf);

/** `steps` updates of `opt` from the same grads schedule on the CPU and on webgpu, compared. */
export const stepBoth = async (opt: optim.Optimizer, params: Tree, grads: (k: number) => Tree, steps: number, tol = { rtol: 1e-4, atol: 1e-6 }) => {
  const go = async (move: (t: Tensor | number) => Tensor | number) => {
    const mv = (tree: Tree) => Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, move(v)]));
    let p = mv(params);
    let s = opt.init(p);
    for (let k = 0; k < steps; k++) [p, s] = opt.update(mv(grads(k)), s, p);
    return { p, s };
  };
  await setBackend("cpu");
  // copies: with inPlace the CPU step rewrites the tensors it is given
  const cpu = await go((t) => (typeof t === "number" ? t : tensor(Float32Array.from(t.data), { shape: t.shape, dtype: "float32" })));
  await setBackend("webgpu");
  try {
    const gpu = await go((t) => (typeof t === "number" ? t : toDevice(t)));
    expect(new Set(backendsOf(gpu.p))).toEqual(new Set(["webgpu"]));
    expectClose(await readTree(gpu.p), await readTree(cpu.p), tol.rtol, tol.atol, "params");
    expectClose(await readTree(gpu.s), await readTree(cpu.s), tol.rtol, tol.atol, "state");
  } finally {
    await setBackend("cpu");
  }
};
