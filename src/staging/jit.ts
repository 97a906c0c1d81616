// jit: stage a program once per input signature (shapes, dtypes, pytree structure), compile the
// staged program to JavaScript, and run the compiled function on later calls; the compiled
// programs of the most recently used signatures are kept (jit-key.ts makes the signature).
import { StagingTrace, capturedFromEnclosing } from "../../effects/stage.ts";
import { withTrace } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { flatten } from "../pytree.ts";
import { markProgram } from "../misuse.ts";
import { checkOptions } from "../options.ts";
import { checkProgram, runToEnd, type AnyProgram, type Gen } from "../transforms/common.ts";
import { varLike } from "../number-kind.ts";
import { compile, type CompileOptions, type Compiled } from "./codegen.ts";
import { ValueError } from "../errors.ts";
import { installedDevice, type DeviceBackend } from "../backend/device.ts";
import { backend } from "../backend/backend.ts";
import { anyOnDevice, devicesInUse } from "../../effects/device.ts";
import { printBlock, type Block } from "./ir.ts";
import { arraysAsTensors } from "../tensor/typed-array.ts";
import { anyTraced, signature } from "./jit-key.ts";
import { LruCache } from "./lru.ts";

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
  /** How many compiled signatures were dropped to keep the cache within `cacheSize`. */
  evictions: number;
  /** Calls run as plain programs because an argument was traced by an enclosing transformation. */
  inlined: number;
  /** Generated source per signature in the cache, least recently used first. */
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
  /**
   * How many signatures (argument shapes, dtypes, pytree structures and static values) keep
   * their compiled program, default 64 (`DEFAULT_JIT_CACHE_SIZE`). A call with a new signature
   * beyond that drops the least recently used one, which compiles again if it comes back
   * (`info.evictions` counts them). A positive integer, or Infinity for no bound.
   */
  cacheSize?: number;
}

/** The number of compiled signatures a jitted function keeps unless `cacheSize` says otherwise. */
export const DEFAULT_JIT_CACHE_SIZE = 64;

/** Stages `f` into a typed program and compiles it; recompiles for each new signature. */
export function jit<A extends unknown[], R>(f: (...args: A) => Gen<R>, options: JitOptions = {}): Jitted<A, R> {
  checkProgram("jit", f);
  if (options === null || typeof options !== "object")
    throw new ValueError(`jit: options must be an object such as { reuseOutputs: true }, got ${String(options)}`);
  checkOptions("jit", options, { reuseOutputs: "any", cacheSize: "any" }); // values: checked below
  const reuse = options.reuseOutputs ?? false;
  if (typeof reuse !== "boolean") throw new ValueError(`jit: reuseOutputs must be true or false, got ${String(reuse)}`);
  const size = options.cacheSize ?? DEFAULT_JIT_CACHE_SIZE;
  if (!(size === Infinity || (Number.isSafeInteger(size) && size >= 1)))
    throw new ValueError(`jit: cacheSize must be a positive integer or Infinity, got ${String(size)}`);
  const cache = new LruCache<string, Entry>(size);
  const info: JitInfo = { compiles: 0, hits: 0, evictions: 0, inlined: 0, sources: () => [...cache.values()].map((e) => e.compiled.source) };
  const jitted = function* jitProgram(...args: A): Gen<R> {
    const leaves: Value[] = [];
    const argsKey = signature(args, leaves);
    // Under an enclosing transformation (grad of a jitted program, a jit inside a jit) the
    // program runs as itself: the enclosing handlers see its operations.
    if (anyTraced(leaves)) {
      info.inlined++;
      return yield* f(...args);
    }
    // Arguments on the GPU, or WebGPU chosen (the tensors the program makes go there): the staged
    // program compiles to GPU shaders. The key tells GPU arguments apart; "D": compiled for the device.
    const device = devicesInUse && (anyOnDevice(leaves) || backend() === "webgpu") ? installedDevice() : null;
    const key = device === null ? argsKey : `D${argsKey}`;
    let entry = cache.get(key);
    if (entry) info.hits++;
    else {
      try {
        entry = stage(f as AnyProgram, args, { reuseOutputs: reuse }, device);
      } catch (e) {
        // The program reads a value of an enclosing transformation through a closure: it runs
        // as itself, so that the transformation sees (and differentiates) its operations.
        if (!capturedFromEnclosing(e)) throw e;
        info.inlined++;
        return yield* f(...args);
      }
      info.evictions += cache.set(key, entry);
      info.compiles++;
    }
    return entry.rebuild(entry.compiled(leaves)) as R;
  };
  return Object.assign(markProgram("jit", jitted), { info });
}

function stage(f: AnyProgram, args: readonly unknown[], options: CompileOptions = {}, device: DeviceBackend | null = null): Entry {
  const flat = flatten(arraysAsTensors("jit", args));
  return withTrace(
    new StagingTrace(),
    (trace) => {
      const inputs = flat.leaves.map((leaf) => varLike(trace, leaf));
      const out = runToEnd("jit", f as AnyProgram, flat.rebuild(inputs.map((v) => trace.value(v))) as unknown[]);
      const outFlat = flatten(out);
      const block: Block = { inputs, eqns: trace.topEquations(), outputs: outFlat.leaves.map((v) => trace.atom(v)) };
      // (on a device, results are fresh pooled buffers: reuseOutputs has nothing to save there)
      return { compiled: device === null ? compile(block, options) : device.compile(block), block, rebuild: outFlat.rebuild };
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
