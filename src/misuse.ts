// Misuse that JavaScript would let pass silently, told in terms of the fix: an operation or a
// program's generator that was never performed (`yield*` forgotten, or called outside a
// program instead of with `run`), and values used with JS arithmetic. Nothing here runs per
// operation: the checks run where something is already wrong (an operand that is no value) or
// once at a program's end.
import { Effect } from "../effects/effect.ts";
import { Traced, type Value } from "../effects/value.ts";
import { DTypeError, EffectError } from "./errors.ts";
import { Tensor } from "./tensor/tensor.ts";

const isGeneratorObject = (v: unknown): boolean =>
  typeof v === "object" && v !== null && Object.prototype.toString.call(v) === "[object Generator]";

/** The name of the transformation that made a generator (see `markProgram`), if any. */
const PROGRAM = Symbol("yieldiff.program");

/** The operation's name for an unperformed operation, "" for a generator object, else undefined. */
const unperformedName = (v: unknown): string | undefined =>
  v instanceof Effect ? v.name : isGeneratorObject(v) ? "" : undefined;

/** What an unperformed operation or generator object is: "an operation (mul) that was never performed". */
const describeUnperformed = (v: unknown, name: string): string => {
  if (name !== "") return `an operation (${name}) that was never performed — forgot yield*?`;
  const made = (v as { [PROGRAM]?: string })[PROGRAM];
  return `a generator object${made ? ` of a ${made} program` : ""} (a program called but never run) — forgot yield*?`;
};

/**
 * For an operand of `op` that is an unperformed operation or generator object: what it is and
 * the fix ("... forgot yield*? Pass its result: `yield* sin(yield* mul(...))`"); else undefined.
 */
export const unperformedOperand = (op: string, v: unknown, sole: boolean): string | undefined => {
  const name = unperformedName(v);
  if (name === undefined) return undefined;
  const inner = `yield* ${name === "" ? "f(x)" : `${name}(...)`}`;
  return `${describeUnperformed(v, name)} Pass its result: ${sole ? `\`yield* ${op}(${inner})\`` : `\`${inner}\` in its place`}`;
};

/** Throws unless `v` is a number, a Tensor or a traced value. */
export const checkOperand = (op: string, v: unknown, what = "operand"): Value => {
  if (typeof v === "number" || v instanceof Tensor || v instanceof Traced) return v;
  const notRun = unperformedOperand(op, v, what === "operand");
  if (notRun !== undefined) throw new EffectError(`${op}: ${what} is ${notRun}`);
  const got = Array.isArray(v) ? "a plain array" : v === null ? "null" : typeof v;
  throw new DTypeError(
    `${op}: ${what} is ${got}; operations take numbers, Tensors or traced values` +
      (Array.isArray(v) ? " — wrap arrays with tensor([...])" : ""),
  );
};

/** The same for a result: what it is and how to perform it. */
const unperformed = (v: unknown): string | undefined => {
  const name = unperformedName(v);
  if (name === undefined) return undefined;
  return name !== ""
    ? `${describeUnperformed(v, name)} An operation runs when a program yield*s it: \`return yield* ${name}(...)\`, not \`return ${name}(...)\``
    : `${describeUnperformed(v, name)} Call a sub-program with \`yield* f(x)\` inside a program, or run it with \`run(f, x)\` at top level`;
};

/**
 * The first unperformed operation or generator object in a program's result (the result itself,
 * or inside plain arrays and objects), with where it is: "[1]", ".loss".
 */
const findUnperformed = (v: unknown, path: string, depth: number): { path: string; what: string } | undefined => {
  if (typeof v !== "object" || v === null || depth > 64) return undefined;
  const what = unperformed(v);
  if (what !== undefined) return { path, what };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === "object" && x !== null) {
        const found = findUnperformed(x, `${path}[${i}]`, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === "object" && x !== null) {
      const found = findUnperformed(x, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
};

/**
 * A program's result, checked at its end: an operation or a generator object in it (returned
 * instead of performed) is an EffectError naming `name` and the fix. Returns `out`.
 */
export const checkResult = <R>(name: string, out: R): R => {
  if (typeof out !== "object" || out === null) return out;
  const found = findUnperformed(out, "", 0);
  if (found === undefined) return out;
  const where = found.path === "" ? "" : ` (at ${found.path} of its result)`;
  throw new EffectError(`${name}: the program returned${where} ${found.what}`);
};

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Methods of an operation object used outside a program: printed, it says how to use it; in arithmetic, it throws. */
export const operationHints = (): PropertyDescriptorMap => {
  const describe = (e: Effect): string =>
    `${e.name}(...): an operation, not yet performed. Use it inside a program with \`yield* ${e.name}(...)\`, ` +
    `and run the program with run(...): run(function* () { return yield* ${e.name}(...) })`;
  return {
    toString: { value(this: Effect) { return describe(this); }, writable: true, configurable: true },
    [INSPECT]: { value(this: Effect) { return describe(this); }, writable: true, configurable: true },
    [Symbol.toPrimitive]: {
      value(this: Effect, hint: string) {
        if (hint === "string") return describe(this);
        throw new EffectError(`${describe(this)}. It was used with JS arithmetic or comparison, where it has no value`);
      },
      writable: true,
      configurable: true,
    },
  };
};

/** The prototype of generators made by transformations' programs (one per transformation name). */
const programPrototypes = new Map<string, object>();
const GeneratorPrototype = Object.getPrototypeOf(function* () {}.prototype) as object;

/**
 * Makes the generators of `program` (a transformation's result, such as `grad(f)`) say what
 * they are when printed or used as a value: called directly, `grad(f)(x)` gives a generator, not
 * a gradient. Costs one assignment when the transformation is made; none per operation.
 */
export const markProgram = <F extends Function>(name: string, program: F): F => {
  let proto = programPrototypes.get(name);
  if (proto === undefined) {
    const describe = (): string =>
      `a ${name}(f)(...) generator, not its result: a transformed program runs with run(${name}(f), x) at top level, ` +
      `or with yield* ${name}(f)(x) inside a program`;
    proto = Object.create(GeneratorPrototype, {
      [PROGRAM]: { value: name },
      toString: { value: describe, writable: true, configurable: true },
      [INSPECT]: { value: describe, writable: true, configurable: true },
      [Symbol.toPrimitive]: {
        value(hint: string) {
          if (hint === "string") return describe();
          throw new EffectError(`${describe()}; it was used with JS arithmetic or comparison, where it has no value`);
        },
        writable: true,
        configurable: true,
      },
    }) as object;
    programPrototypes.set(name, proto);
  }
  (program as unknown as { prototype: object }).prototype = proto;
  return program;
};
