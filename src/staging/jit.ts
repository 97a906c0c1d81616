// jit: stage a program once per input signature (shapes, dtypes, pytree structure), compile the
// staged program to JavaScript, and run the compiled function on later calls.
import { drive } from "../../effects/driver.ts";
import { StagingTrace } from "../../effects/stage.ts";
import { withTrace } from "../../effects/trace.ts";
import { Traced, dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { flatten, isLeaf } from "../pytree.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkProgram, start, type AnyProgram, type Gen } from "../transforms/common.ts";
import { compile, type CompileOptions, type Compiled } from "./codegen.ts";
import { ValueError } from "../errors.ts";
import { printBlock, type Block } from "./ir.ts";

interface Entry {
  readonly compiled: Compiled;
  readonly block: Block;
  readonly rebuild: (leaves: readonly unknown[]) => unknown;
}

/** What a jitted program has done: compilations, cache hits, and the generated code. */
export interface JitInfo {
  /** How many times a new signature was staged and compiled. */
  compiles: number;
  /** How many calls reused compiled code. */
  hits: number;
  /** Calls run as plain programs because an argument was traced by an enclosing transformation. */
  inlined: number;
  /** Generated source per signature. */
  sources(): string[];
}

/** A program compiled by `jit`, with its `info`. */
export type Jitted<A extends unknown[], R> = ((...args: A) => Gen<R>) & { readonly info: JitInfo };

/** Options of `jit`. */
export interface JitOptions {
  /**
   * Each call writes its tensor results into the buffers of the previous call's results instead
   * of new ones, as PyTorch keeps a parameter's `.grad`: no allocation per call, which matters
   * when a training step returns large gradients. A result is then valid only until the next
   * call of the same jitted function (per signature): consume it first (an optimizer step does),
   * or copy it. Default false.
   */
  reuseOutputs?: boolean;
}

/** Stages `f` into a typed program and compiles it; recompiles for each new signature. */
export function jit<A extends unknown[], R>(f: (...args: A) => Gen<R>, options: JitOptions = {}): Jitted<A, R> {
  checkProgram("jit", f);
  if (options === null || typeof options !== "object")
    throw new ValueError(`jit: options must be an object such as { reuseOutputs: true }, got ${String(options)}`);
  const reuse = options.reuseOutputs ?? false;
  if (typeof reuse !== "boolean") throw new ValueError(`jit: reuseOutputs must be true or false, got ${String(reuse)}`);
  const cache = new Map<string, Entry>();
  const info: JitInfo = { compiles: 0, hits: 0, inlined: 0, sources: () => [...cache.values()].map((e) => e.compiled.source) };
  const jitted = function* jitProgram(...args: A): Gen<R> {
    const leaves: Value[] = [];
    const key = signature(args, leaves);
    // Under an enclosing transformation (grad of a jitted program, a jit inside a jit) the
    // program runs as itself: the enclosing handlers see its operations.
    if (leaves.some((leaf) => leaf instanceof Traced)) {
      info.inlined++;
      return yield* f(...args);
    }
    let entry = cache.get(key);
    if (entry) info.hits++;
    else {
      entry = stage(f as AnyProgram, args, { reuseOutputs: reuse });
      cache.set(key, entry);
      info.compiles++;
    }
    return entry.rebuild(entry.compiled(leaves)) as R;
  };
  return Object.assign(jitted, { info });
}

function stage(f: AnyProgram, args: readonly unknown[], options: CompileOptions = {}): Entry {
  const flat = flatten(args);
  return withTrace(
    new StagingTrace(),
    (trace) => {
      const inputs = flat.leaves.map((leaf) => trace.newVar(shapeOf(leaf), dtypeOf(leaf), typeof leaf === "number"));
      const out = drive(start("jit", f, flat.rebuild(inputs.map((v) => trace.value(v))) as unknown[]));
      const outFlat = flatten(out);
      const block: Block = { inputs, eqns: trace.topEquations(), outputs: outFlat.leaves.map((v) => trace.atom(v)) };
      return { compiled: compile(block, options), block, rebuild: outFlat.rebuild };
    },
    true,
  );
}

/** The staged program of `f` for these arguments, readable with `toString()`. */
export function makeIR<A extends unknown[]>(f: (...args: A) => Gen<unknown>): (...args: A) => {
  block: Block;
  source: string;
  /** The IR as text. */
  toString(): string;
} {
  checkProgram("makeIR", f);
  return (...args: A) => {
    const { block, compiled } = stage(f as AnyProgram, args);
    return { block, source: compiled.source, toString: () => printBlock(block) };
  };
}

// The cache key: leaf kinds and shapes, the pytree structure, and any other argument by value
// (strings, booleans) or identity (objects, functions). Only ever a Map key, never code.
const ids = new WeakMap<object, number>();
let nextId = 0;
const identity = (o: object): number => {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
};

/** The signature of `x`; collects its leaves, in flatten's order, into `leaves` on the way. */
function signature(x: unknown, leaves: Value[]): string {
  if (isLeaf(x)) {
    leaves.push(x);
    return typeof x === "number" ? "n" : x instanceof Tensor ? `t${x.dtype}[${x.shape.join(",")}]` : "?";
  }
  if (Array.isArray(x)) {
    let s = "[";
    for (let i = 0; i < x.length; i++) s += (i > 0 ? "," : "") + signature(x[i], leaves);
    return `${s}]`;
  }
  if (typeof x === "object" && x !== null) {
    const proto = Object.getPrototypeOf(x);
    if (proto === Object.prototype || proto === null) {
      let s = "{";
      for (const k of Object.keys(x)) s += `${JSON.stringify(k)}:${signature((x as Record<string, unknown>)[k], leaves)},`;
      return `${s}}`;
    }
    return `#${identity(x)}`;
  }
  if (typeof x === "function") return `#${identity(x)}`;
  return `${typeof x}:${String(x)}`;
}

