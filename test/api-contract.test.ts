// The API contract (../shared/API.md): every name of ../shared/tools/api-names.txt is exported
// from src/index.ts as a function or a class, and is not a stub. Names not implemented yet are
// listed in KNOWN_MISSING: the test fails when any other name is missing, and also when a known
// missing name appears (so that the list is kept up to date).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as api from "../src/index.ts";
import { Effect, Tensor, tensor, run } from "../src/index.ts";

/** Not implemented yet (the second round's additions, issue #18); remove a name from here when it is exported. */
const KNOWN_MISSING: string[] = [
];

/** A copy of ../shared/tools/api-names.txt, used when that file is absent. */
const EMBEDDED_NAMES = `
Tensor tensor zeros ones full arange eye randn rand run primal
add sub mul div pow maximum minimum
neg exp log sin cos tan tanh sigmoid relu sqrt square abs
greater less equal where
sum mean max min logsumexp softmax logSoftmax
matmul dot reshape transpose broadcastTo concat slice take
conv2d maxPool2d avgPool2d stopGradient
grad valueAndGrad vjp jvp jacfwd jacrev hessian customVjp checkpoint vmap jit
`;

const namesFile = new URL("../../shared/tools/api-names.txt", import.meta.url);
const fromFile = existsSync(fileURLToPath(namesFile));
const NAMES = (fromFile ? readFileSync(namesFile, "utf8") : EMBEDDED_NAMES).split(/\s+/).filter(Boolean);
const exported = api as unknown as Record<string, unknown>;
/** A name of the contract as exported: a dotted name (`linalg.cholesky`) is a member of an exported namespace. */
const lookup = (n: string): unknown =>
  n.split(".").reduce<unknown>((o, k) => (typeof o === "object" && o !== null && k in o ? (o as Record<string, unknown>)[k] : undefined), exported);
const isExported = (n: string): boolean => lookup(n) !== undefined;

/** The source of a stub: a body that only throws "not implemented" (or a TODO). */
const looksLikeStub = (f: unknown): boolean =>
  typeof f === "function" && /not (yet )?implemented|\bTODO\b|\bstub\b/i.test(Function.prototype.toString.call(f));

describe("API contract", () => {
  it("reads the names list", () => {
    console.info(
      `API contract: ${NAMES.length} names from ${fromFile ? fileURLToPath(namesFile) : "the embedded copy"}; ` +
        `known missing (not implemented yet): ${KNOWN_MISSING.join(", ")}`,
    );
    expect(NAMES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(NAMES).size).toBe(NAMES.length);
    // the embedded copy covers the contract as written in API.md's names list
    for (const n of EMBEDDED_NAMES.split(/\s+/).filter(Boolean)) expect(NAMES).toContain(n);
  });

  it("every name outside the known-missing list is exported as a function or class, not a stub", () => {
    const missing = NAMES.filter((n) => !KNOWN_MISSING.includes(n) && !isExported(n));
    expect(missing, `names of the contract missing from src/index.ts: ${missing.join(", ")}`).toEqual([]);
    const notFunctions = NAMES.filter((n) => isExported(n) && typeof lookup(n) !== "function");
    expect(notFunctions, "contract names that are not functions or classes").toEqual([]);
    const stubs = NAMES.filter((n) => isExported(n) && looksLikeStub(lookup(n)));
    expect(stubs, "contract names that look like stubs").toEqual([]);
  });

  it("the known-missing names are still missing (update KNOWN_MISSING when one is added)", () => {
    const nowPresent = KNOWN_MISSING.filter((n) => isExported(n));
    expect(nowPresent, `now exported, remove from KNOWN_MISSING: ${nowPresent.join(", ")}`).toEqual([]);
    // every known-missing name is a name of the contract
    for (const n of KNOWN_MISSING) expect(NAMES).toContain(n);
  });

  it("the error classes are exported, with their tags", () => {
    const tags = ["ShapeError", "DTypeError", "IndexError", "EffectError", "ValueError", "EscapeError", "TransformError"];
    for (const t of tags) {
      const C = exported[t] as new (m: string) => Error & { _tag: string };
      expect(typeof C).toBe("function");
      const e = new C("m");
      expect(e).toBeInstanceOf(Error);
      expect(e).toBeInstanceOf(api.YieldiffError);
      expect(e._tag).toBe(t);
    }
  });

  it("Tensor is a class whose instances the constructors make", () => {
    expect(tensor([1])).toBeInstanceOf(Tensor);
    expect(api.zeros([1])).toBeInstanceOf(Tensor);
    expect(api.randn([1], { seed: 0 })).toBeInstanceOf(Tensor);
  });

  it("every operation of the contract, called, gives an Effect that a program can yield*", () => {
    const x = tensor([[1, 2], [3, 4]]);
    const img = tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2] });
    const calls: Record<string, () => unknown> = {
      add: () => api.add(x, 1), sub: () => api.sub(x, 1), mul: () => api.mul(x, 1), div: () => api.div(x, 1),
      pow: () => api.pow(x, 2), maximum: () => api.maximum(x, 2), minimum: () => api.minimum(x, 2),
      neg: () => api.neg(x), exp: () => api.exp(x), log: () => api.log(x), sin: () => api.sin(x), cos: () => api.cos(x),
      tan: () => api.tan(x), tanh: () => api.tanh(x), sigmoid: () => api.sigmoid(x), relu: () => api.relu(x),
      sqrt: () => api.sqrt(x), square: () => api.square(x), abs: () => api.abs(x),
      greater: () => api.greater(x, 2), less: () => api.less(x, 2), equal: () => api.equal(x, 2),
      where: () => api.where(x, 1, 0),
      sum: () => api.sum(x), mean: () => api.mean(x), max: () => api.max(x), min: () => api.min(x),
      logsumexp: () => api.logsumexp(x), softmax: () => api.softmax(x), logSoftmax: () => api.logSoftmax(x),
      matmul: () => api.matmul(x, x), dot: () => api.dot(x, x), reshape: () => api.reshape(x, [4]),
      transpose: () => api.transpose(x), broadcastTo: () => api.broadcastTo(x, [2, 2, 2]), concat: () => api.concat([x, x]),
      slice: () => api.slice(x, [0, 0], [1, 1]), take: () => api.take(x, [1]),
      conv2d: () => api.conv2d(img, img), maxPool2d: () => api.maxPool2d(img, { size: 2 }),
      avgPool2d: () => api.avgPool2d(img, { size: 2 }), stopGradient: () => api.stopGradient(x),
    };
    const opNames = Object.keys(calls);
    for (const n of opNames) expect(NAMES).toContain(n);
    for (const n of opNames) {
      const eff = calls[n]!();
      expect(eff, n).toBeInstanceOf(Effect);
      const out = run(function* () {
        return yield* eff as Effect<unknown>;
      });
      expect(out, n).toBeInstanceOf(Tensor);
    }
  });

  it("every transformation of the contract gives a program (a generator function)", () => {
    const f = function* (v: number) {
      return yield* api.mul(v, v);
    };
    const transforms = ["grad", "valueAndGrad", "jacfwd", "jacrev", "hessian", "checkpoint"] as const;
    for (const n of transforms) {
      const g = (exported[n] as (f: unknown) => (...a: unknown[]) => Generator<Effect, unknown, unknown>)(f);
      expect(typeof g, n).toBe("function");
      const out = run(g, 3);
      expect(out, n).toBeDefined();
    }
    expect(run(api.grad(f), 3)).toBe(6);
    expect(run(api.valueAndGrad(f), 3)).toEqual([9, 6]);
    expect(run(api.checkpoint(f), 3)).toBe(9);
    const [y, dy] = run(function* () {
      return yield* api.jvp(f, [3], [1]);
    });
    expect([y, dy]).toEqual([9, 6]);
    const ct = run(function* () {
      const [, pb] = yield* api.vjp(f, 3);
      return yield* pb(1);
    });
    expect(ct).toEqual([6]);
    const cube = api.customVjp(
      f,
      function* (v: number) {
        return [yield* api.mul(v, v), v];
      },
      function* (v: number, g: number) {
        return [yield* api.mul(100, yield* api.mul(v, g))];
      },
    );
    expect(run(api.grad(cube), 3)).toBe(300);
    expect(api.primal(4)).toBe(4);
  });
});
