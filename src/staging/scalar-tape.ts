// Long runs of scalar arithmetic (an unrolled chain of a hundred thousand operations and its
// reverse pass) as data instead of source: each operation is a few integers of a tape that one
// small generated loop interprets over a register file of doubles. As JS source, such a run
// costs its text (~40 bytes per operation) to build, V8 to parse and compile it piece by piece,
// and then runs mostly unoptimized (each piece runs once per call); a tape is built in a few
// integer writes per operation and its loop is optimized after a few thousand steps.
import type { Atom, PrimEqn } from "./ir.ts";
import type { IdCounts } from "./analysis.ts";

/** Runs of at least this many scalar operations become a tape; shorter ones stay inline JS. */
export const TAPE_MIN = 2048;

/** One compiled tape: its code and its registers (constants preset at build time). */
export interface Tape {
  readonly code: Int32Array;
  readonly regs: Float64Array;
}

/** What code generation writes around a tape: values to load in before, and to read out after. */
export interface TapeUse {
  readonly tape: Tape;
  /** [register, variable id] of each operand computed before the run. */
  readonly loads: readonly (readonly [number, number])[];
  /** [register, variable id] of each result read after the run. */
  readonly stores: readonly (readonly [number, number])[];
}

/**
 * The interpreter's cases, shared by the tapes of one program: an expression template ($0, $1,
 * $2 are the operands) gets an opcode the first time it is seen.
 */
export class TapeOps {
  private readonly codes = new Map<string, number>();
  private readonly templates: string[] = [];
  private readonly arities: number[] = [];

  opcode(template: string): number {
    let op = this.codes.get(template);
    if (op === undefined) {
      op = this.templates.length;
      this.codes.set(template, op);
      this.templates.push(template);
      let arity = 0;
      for (let k = 0; k < 3; k++) if (template.includes(`$${k}`)) arity = k + 1;
      this.arities.push(arity);
    }
    return op;
  }

  /** How many operands instructions of `op` have (the template's highest $k, plus one). */
  arity(op: number): number {
    return this.arities[op]!;
  }

  get empty(): boolean {
    return this.templates.length === 0;
  }

  /**
   * The interpreter, as source: `function <name>(c, r)` runs tape code `c` over registers `r`.
   * An instruction is [opcode, result register, operand registers...].
   */
  source(name: string): string {
    const cases = this.templates.map((t, op) => {
      const arity = this.arities[op]!;
      const reads = Array.from({ length: arity }, (_, k) => `const x${k} = r[c[p + ${k + 2}]];`).join(" ");
      const expr = t.replace(/\$(\d)/g, (_m, k: string) => `x${k}`);
      return `      case ${op}: { ${reads} r[c[p + 1]] = ${expr}; p += ${arity + 2}; break; }\n`;
    });
    return (
      `function ${name}(c, r) {\n  const n = c.length;\n  for (let p = 0; p < n; ) {\n    switch (c[p]) {\n${cases.join("")}` +
      `      default: throw new Error("jit: internal error: bad tape opcode " + c[p]);\n    }\n  }\n}\n`
    );
  }
}

/**
 * The tape of a run of scalar equations (each `template(e)` an expression of its scalar
 * operands). `uses` counts every read of each variable in the program: a result read more often
 * than within the run is stored out after it.
 */
export function buildTape(run: readonly PrimEqn[], template: (e: PrimEqn) => string, ops: TapeOps, uses: IdCounts): TapeUse {
  // The opcode of each primitive, looked up once per primitive rather than per equation.
  const opcodes = new Map<unknown, number>();
  // Results are numbered densely from the run's smallest result id (ids grow as tracing goes).
  let lo = Infinity;
  let hi = -1;
  for (let i = 0; i < run.length; i++) {
    const id = run[i]!.out.id;
    if (id < lo) lo = id;
    if (id > hi) hi = id;
  }
  const regOfOut = new Int32Array(hi - lo + 1).fill(-1);
  const readsInRun = new Int32Array(hi - lo + 1);
  const regOfInput = new Map<number, number>();
  const constRegs = new Map<number, number>();
  const constants: [number, number][] = [];
  const loads: [number, number][] = [];
  let nextReg = 0;
  // A register per constant, per operand from before the run, per result.
  const reg = (a: Atom): number => {
    if (a.kind === "const") {
      const c = a.value as number;
      // (a Map's keys equate -0 with 0: -0 and NaN get a register per use)
      const shared = c !== 0 && !Number.isNaN(c);
      let r = shared ? constRegs.get(c) : undefined;
      if (r === undefined) {
        r = nextReg++;
        constants.push([r, c]);
        if (shared) constRegs.set(c, r);
      }
      return r;
    }
    const id = a.v.id;
    if (id >= lo && id <= hi && regOfOut[id - lo]! >= 0) {
      readsInRun[id - lo]!++;
      return regOfOut[id - lo]!;
    }
    let r = regOfInput.get(id);
    if (r === undefined) {
      r = nextReg++;
      regOfInput.set(id, r);
      loads.push([r, id]);
    }
    return r;
  };
  const code = new Int32Array(5 * run.length); // (at most 3 operands)
  let at = 0;
  for (let i = 0; i < run.length; i++) {
    const e = run[i]!;
    let op = opcodes.get(e.prim);
    if (op === undefined) opcodes.set(e.prim, (op = ops.opcode(template(e))));
    code[at++] = op;
    const outAt = at++;
    const arity = ops.arity(op);
    for (let k = 0; k < arity; k++) code[at++] = reg(e.inputs[k]!);
    code[outAt] = nextReg;
    regOfOut[e.out.id - lo] = nextReg++;
  }
  const stores: [number, number][] = [];
  for (const e of run) {
    const id = e.out.id;
    if (uses.get(id) > readsInRun[id - lo]!) stores.push([regOfOut[id - lo]!, id]);
  }
  const regs = new Float64Array(nextReg);
  for (const [r, c] of constants) regs[r] = c;
  return { tape: { code: code.slice(0, at), regs }, loads, stores };
}
