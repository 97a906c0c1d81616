// jit on the GPU: a staged program (the typed IR jit records) run on WebGPU. Runs of elementwise
// equations become fused shaders (./fused.ts); every other equation runs its primitive's GPU
// kernel; numbers (a learning rate, a loop counter) are computed in JS. A call records all of
// its dispatches into one command buffer (GpuContext.batch) and submits it once. An
// intermediate's buffer goes back to the pool right after its last read, so the next
// dispatches of the call, and the next calls, reuse the same buffers.
//
// Branches and loops run here too (their bodies as sub-programs), as long as what decides them
// is a number: a predicate computed on the GPU could only be read asynchronously.
import type { Primitive } from "../../../effects/primitive.ts";
import type { Atom, Block, Eqn, PrimEqn, Var } from "../../../effects/staged-program.ts";
import type { Value } from "../../../effects/value.ts";
import { BackendError } from "../../errors.ts";
import { addP } from "../../primitives/binary.ts";
import { concatP, reshapeP, sliceP } from "../../primitives/shape.ts";
import { blocksOf, operandsOf } from "../../staging/ir.ts";
import { isKnownZero } from "../../staging/known-zeros.ts";
import { runtime } from "../../staging/runtime.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { DeviceTensor } from "../device-tensor.ts";
import type { GpuContext } from "./context.ts";
import type { FusedRun } from "./fused.ts";
import { Frame, Owned } from "./call-state.ts";
import { liveReads, planBlock, type Plan } from "./plan.ts";

/** Runs a primitive on operands of which at least one is a GPU tensor (the backend's `execute`). */
export type Execute = <P>(prim: Primitive<P>, args: readonly Value[], params: P) => Value;

/** A compiled GPU program: the call, and its text (the fused shaders and the kernel calls). */
export interface GpuProgram {
  (inputs: readonly Value[]): Value[];
  readonly source: string;
}

/** A closure of the staged program (a pullback, a recursive function). */
type Fn = (args: readonly unknown[]) => Value[];

/** Compiles `root` (the top-level block of a jitted program) for `ctx`. */
export function compileProgram(ctx: GpuContext, execute: Execute, root: Block): GpuProgram {
  const uses = liveReads(root);
  const plans = new Map<Block, Plan>();
  const shaders: string[] = [];
  const listing: string[] = [];
  const planOf = (b: Block): Plan => {
    let plan = plans.get(b);
    if (plan === undefined) plans.set(b, (plan = planBlock(b, uses, listing, shaders)));
    return plan;
  };

  /**
   * Runs a block in a new frame over `parent`. `owned` counts, for the call, how many variables
   * hold each GPU tensor it made (the arguments and constants are there as Infinity): a tensor is
   * disposed when its last holder is released.
   */
  const runBlock = (b: Block, args: readonly unknown[], parent: Frame | null, owned: Owned): Value[] => {
    const frame = new Frame(parent);
    b.inputs.forEach((v, i) => frame.set(v.id, args[i]));
    const { steps, release, handOff } = planOf(b);
    const read = (a: Atom): unknown => (a.kind === "const" ? a.value : frame.get(a.v.id));
    const define = (v: Var, value: unknown): void => {
      frame.set(v.id, value);
      owned.hold(value);
    };
    for (let k = 0; k < steps.length; k++) {
      const s = steps[k]!;
      if (s.kind === "fused") runFused(s.run, read, define);
      else runEqn(s.eqn, frame, read, define, owned);
      for (const id of release[k]!) owned.drop(frame.get(id));
    }
    // The results go to the caller, held once each: it lets go of them when it is done.
    const results = b.outputs.map((a) => read(a) as Value);
    results.forEach((r) => owned.hold(r));
    for (const id of handOff) owned.drop(frame.get(id));
    return results;
  };

  const runFused = (run: FusedRun, read: (a: Atom) => unknown, define: (v: Var, value: unknown) => void): void => {
    const tensors = run.tensors.map(read);
    if (!tensors.every((t) => t instanceof DeviceTensor)) {
      // a CPU tensor among the operands: the operations one by one give the backend's error
      for (const e of run.eqns) define(e.out, apply(e, e.inputs.map(read)));
      return;
    }
    const info = new Uint32Array(1 + run.numbers.length);
    info[0] = run.size;
    const bits = new Float32Array(info.buffer, 4);
    run.numbers.forEach((a, k) => (bits[k] = read(a) as number));
    const outs = run.outputs.map(() => ctx.allocate(run.shape));
    if (run.size > 0)
      ctx.dispatchBuffers(run.code, info, [...outs.map((o) => o.buffer), ...tensors.map((t) => ctx.bufferOf(t as DeviceTensor))], ctx.grid(run.size));
    run.outputs.forEach((v, k) => define(v, outs[k]!.tensor));
  };

  /** A primitive on these operands: on the GPU if one is a GPU tensor, else in JS (numbers, CPU constants). */
  const run = <P>(prim: Primitive<P>, args: readonly unknown[], params: P): Value => {
    const values = args as readonly Value[];
    return values.some((a) => a instanceof DeviceTensor) ? execute(prim, values, params) : prim.impl(values, params);
  };
  const apply = (e: PrimEqn, args: readonly unknown[]): Value => run(e.prim, args, e.params);

  /** A value that decides a branch or loop, on the host (the CPU's rules then apply: runtime.truthy, runtime.branch). */
  const onHost = (x: unknown, what: string): Value => {
    if (x instanceof DeviceTensor)
      throw new BackendError(
        `jit (webgpu): ${what} is decided by a value computed on the GPU, which can be read only asynchronously; ` +
          "compute it from numbers (arguments that are JS numbers), or run this program without jit",
      );
    return x as Value;
  };

  const row = (x: unknown, t: number): unknown => {
    if (typeof x === "function" || Array.isArray(x)) return (x as unknown[])[t];
    const v = x as Tensor;
    const starts = v.shape.map((_, d) => (d === 0 ? t : 0));
    const ends = v.shape.map((n, d) => (d === 0 ? t + 1 : n));
    const cut = run(sliceP, [v], { starts, ends });
    const r = run(reshapeP, [cut], { shape: v.shape.slice(1) });
    if (cut instanceof DeviceTensor) cut.dispose(); // (the row views its buffer)
    return r;
  };

  const stack = (rows: readonly unknown[], v: Var): Value => {
    if (rows.some((r) => r instanceof DeviceTensor)) {
      const one = [1, ...v.shape.slice(1)];
      const parts = rows.map((r) => execute(reshapeP, [r as Value], { shape: one }) as DeviceTensor);
      const whole = execute(concatP, parts, { axis: 0 });
      parts.forEach((p) => p.dispose()); // (views: the rows keep their buffers until let go)
      return whole;
    }
    return runtime.stack(rows as readonly Value[], v.shape, v.dtype === "float32" ? 1 : 0);
  };

  const runEqn = (e: Eqn, frame: Frame, read: (a: Atom) => unknown, define: (v: Var, value: unknown) => void, owned: Owned): void => {
    const sub = (b: Block, args: readonly unknown[]): Value[] => runBlock(b, args, frame, owned);
    /** Defines the outputs from results a sub-program handed over (held), then lets go of those. */
    const setOuts = (outs: readonly Var[], values: readonly unknown[]): void => {
      outs.forEach((v, i) => define(v, values[i]));
      values.forEach((v) => owned.drop(v));
    };
    switch (e.kind) {
      case "prim":
        return define(e.out, apply(e, e.inputs.map(read)));
      case "cond": {
        const ops = e.operands.map(read);
        return setOuts(e.outs, sub(runtime.truthy(onHost(read(e.pred), "a cond's predicate")) ? e.then : e.else, ops));
      }
      case "switch": {
        const k = runtime.branch(onHost(read(e.index), "a switchCase's index"), e.branches.length);
        return setOuts(e.outs, sub(e.branches[k]!, e.operands.map(read)));
      }
      case "while": {
        // The loop holds its carry; the previous one is let go after each step, unless a
        // closure of the body may read it later.
        const keep = planOf(e.body).inputsCaptured || planOf(e.cond).inputsCaptured;
        let carry = e.init.map(read);
        carry.forEach((c) => owned.hold(c));
        const collected: unknown[] = [];
        for (;;) {
          const [go] = sub(e.cond, carry);
          owned.drop(go);
          if (!runtime.truthy(onHost(go, "a whileLoop's condition"))) break;
          const next = sub(e.body, carry);
          if (!keep) carry.forEach((c) => owned.drop(c));
          carry = next.slice(0, carry.length);
          if (e.collect) collected.push(next[carry.length]);
        }
        return setOuts(e.outs, e.collect ? [...carry, collected] : carry);
      }
      case "scan": {
        const xs = e.xs.map(read);
        const length = e.length >= 0 ? e.length : (xs[0] as unknown[]).length;
        // The loop holds its carry and the rows it cut; it lets go of each after its step,
        // unless a closure of the body may read it later; the ys until they are stacked.
        const keep = planOf(e.body).inputsCaptured;
        let carry = e.init.map(read);
        carry.forEach((c) => owned.hold(c));
        const ys: unknown[][] = e.outs.slice(carry.length).map(() => []);
        for (let s = 0; s < length; s++) {
          const t = e.reverse ? length - 1 - s : s;
          const rows = xs.map((x) => row(x, t));
          rows.forEach((r) => owned.hold(r));
          const res = sub(e.body, [...carry, ...rows]);
          if (!keep) [...carry, ...rows].forEach((v) => owned.drop(v));
          carry = res.slice(0, carry.length);
          ys.forEach((y, i) => y.push(res[carry.length + i]));
        }
        if (e.reverse) ys.forEach((y) => y.reverse());
        const stacked = ys.map((y, i) => {
          const v = e.outs[carry.length + i]!;
          if (v.fn) return y;
          const whole = stack(y, v);
          owned.hold(whole); // (handed over as the loop's results are)
          y.forEach((r) => owned.drop(r));
          return whole;
        });
        return setOuts(e.outs, [...carry, ...stacked]);
      }
      case "fix": {
        const fn: Fn = (args) => runBlock(e.body, args, inner, owned);
        // the function's own frame holds it, so the calls inside its body find it
        const inner = new Frame(frame);
        inner.set(-1 - e.fn, fn);
        return setOuts(e.outs, fn(e.args.map(read)));
      }
      case "call":
        return setOuts(e.outs, (frame.get(-1 - e.fn) as Fn)(e.args.map(read)));
      case "lambda": {
        const fn: Fn = (args) => runBlock(e.body, args, frame, owned);
        return define(e.out, fn);
      }
      case "apply":
        return setOuts(e.outs, (read(e.fn) as Fn)(e.args.map(read)));
      case "accumulator":
        return define(e.out, { value: null as Value | null });
      case "accumulate": {
        const acc = read(e.acc) as { value: Value | null };
        const v = read(e.value) as Value;
        if (isKnownZero(v)) return;
        acc.value = acc.value === null ? v : run(addP, [acc.value, v], undefined);
        return;
      }
      case "readAccumulator": {
        const acc = read(e.acc) as { value: Value | null };
        const value = acc.value ?? ctx.upload(new Float32Array(e.out.shape.reduce((a, b) => a * b, 1)), e.out.shape);
        acc.value = null;
        return define(e.out, value);
      }
    }
  };

  // Tensors the call did not make (its arguments, the program's constants) are never disposed.
  const constants: DeviceTensor[] = [];
  const findConstants = (b: Block): void => {
    for (const e of b.eqns) {
      for (const a of operandsOf(e)) if (a.kind === "const" && a.value instanceof DeviceTensor) constants.push(a.value);
      blocksOf(e).forEach(findConstants);
    }
    for (const a of b.outputs) if (a.kind === "const" && a.value instanceof DeviceTensor) constants.push(a.value);
  };
  findConstants(root);
  const program = (inputs: readonly Value[]): Value[] => {
    ctx.checkAlive("jit");
    const owned = new Owned([...inputs, ...constants]);
    // (the results stay held: they are the caller's)
    return ctx.batch(() => runBlock(root, inputs, null, owned));
  };
  planOf(root); // the top level's shaders now; a nested block's at its first run
  return Object.defineProperty(program, "source", {
    get: () => `${listing.join("\n")}\n${shaders.map((code, k) => `// fused[${k}]\n${code}`).join("\n")}`,
  }) as GpuProgram;
}
