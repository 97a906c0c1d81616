// How jit's GPU program runs a block, decided once per block: its steps — runs of elementwise
// equations fused into one shader each (./fused.ts), the other equations one by one — and which
// variables each step reads for the last time, so that their buffers go back to the pool.
import type { Atom, Block, Eqn, PrimEqn, Var } from "../../../effects/staged-program.ts";
import { fmt } from "../../errors.ts";
import { blocksOf, operandsOf } from "../../staging/ir.ts";
import { liveEquations } from "../../staging/analysis.ts";
import { fuse, fusible, runInterface, type FusedRun } from "./fused.ts";

/** At most this many storage buffers per shader: WebGPU's default limit (info included). */
const MAX_BINDINGS = 8;
/** How far past the start of a fused run its equations are looked for. */
const LOOKAHEAD = 32;

export type Step =
  | { readonly kind: "fused"; readonly run: FusedRun }
  | { readonly kind: "eqn"; readonly eqn: Eqn };

/** A block's steps and, per step, the variables whose last read it is (their buffers go back to the pool after it). */
export interface Plan {
  readonly steps: readonly Step[];
  readonly release: readonly (readonly number[])[];
  /** Its results that only its own primitives read besides: the block lets go of them once the caller holds them. */
  readonly handOff: readonly number[];
  /** Whether something that outlives a run of the block (a closure) reads one of its inputs. */
  readonly inputsCaptured: boolean;
}

/** How many times each variable is read by the live equations of `root` and its nested blocks. */
export function liveReads(root: Block): Map<number, number> {
  // (reads by live equations only: a read by dead code must not keep a buffer from the pool)
  const uses = new Map<number, number>();
  const countReads = (b: Block): void => {
    const count = (a: Atom): void => {
      if (a.kind === "var") uses.set(a.v.id, (uses.get(a.v.id) ?? 0) + 1);
    };
    b.outputs.forEach(count);
    for (const e of liveEquations(b, new Set())) {
      operandsOf(e).forEach(count);
      blocksOf(e).forEach(countReads);
    }
  };
  countReads(root);
  return uses;
}

/**
 * The plan of block `b`. `uses`: liveReads of the whole program; `listing` and `shaders` collect
 * the program's text (a line per step, the fused shaders' WGSL).
 */
export function planBlock(b: Block, uses: ReadonlyMap<number, number>, listing: string[], shaders: string[]): Plan {
  const eqns = liveEquations(b, new Set());
  // reads of each variable in this block, and of those, reads by its primitives and fused runs
  const inBlock = new Map<number, number>();
  const direct = new Map<number, number>();
  const note = (map: Map<number, number>, a: Atom): void => {
    if (a.kind === "var") map.set(a.v.id, (map.get(a.v.id) ?? 0) + 1);
  };
  for (const e of eqns) {
    for (const a of operandsOf(e)) note(inBlock, a);
    if (e.kind === "prim") for (const a of e.inputs) note(direct, a);
  }
  b.outputs.forEach((a) => note(inBlock, a));
  /** Whether a variable the run defines is read by anything else (it is written to a buffer). */
  const readOutside = (group: readonly PrimEqn[]) => {
    const inside = new Map<number, number>();
    for (const g of group) for (const a of g.inputs) note(inside, a);
    return (v: Var): boolean => (uses.get(v.id) ?? 0) > (inside.get(v.id) ?? 0);
  };
  const steps: Step[] = [];
  const single = (e: Eqn): void => {
    steps.push({ kind: "eqn", eqn: e });
    if (e.kind === "prim") listing.push(`v${e.out.id} = ${e.prim.name}`);
  };
  const done = new Uint8Array(eqns.length);
  for (let i = 0; i < eqns.length; i++) {
    if (done[i]) continue;
    const e = eqns[i]!;
    if (e.kind !== "prim" || !fusible(e)) {
      single(e);
      continue;
    }
    // A run gathers the fusible equations of this shape that follow, past equations that do
    // not read the run (they run first: the run goes where its last equation was), up to an
    // equation that reads it or a branch or loop.
    const members = [e];
    const memberIds = new Set([e.out.id]);
    const before: number[] = []; // skipped equations that must run before the run
    let last = i;
    const bindings = (group: readonly PrimEqn[]): number => {
      const io = runInterface(group, readOutside(group));
      return 1 + io.outputs.length + io.tensors.length;
    };
    for (let j = i + 1; j < eqns.length && j - i <= LOOKAHEAD; j++) {
      if (done[j]) continue;
      const n = eqns[j]!;
      if (n.kind !== "prim") break;
      if (fusible(n) && fmt(n.out.shape) === fmt(e.out.shape) && bindings([...members, n]) <= MAX_BINDINGS) {
        members.push(n);
        memberIds.add(n.out.id);
        for (let k = last + 1; k < j; k++) if (!done[k]) before.push(k);
        last = j;
        continue;
      }
      if (n.inputs.some((a) => a.kind === "var" && memberIds.has(a.v.id))) break;
    }
    for (const k of before) {
      single(eqns[k]!);
      done[k] = 1;
    }
    for (let k = i; k <= last; k++) if (eqns[k]!.kind === "prim" && memberIds.has((eqns[k] as PrimEqn).out.id)) done[k] = 1;
    // (one operation alone runs the eager kernel: one shader per formula, not per shape)
    if (members.length === 1) {
      single(e);
      continue;
    }
    const run = fuse(members, readOutside(members));
    steps.push({ kind: "fused", run });
    shaders.push(run.code);
    listing.push(`${run.outputs.map((v) => `v${v.id}`).join(", ")} = fused[${shaders.length - 1}] ${members.map((g) => g.prim.name).join(" ")} over ${fmt(e.out.shape)}`);
  }
  // A block's intermediates read only by its primitives (not by a nested block, an accumulator
  // or a closure, which may keep them) go back to the pool after their last read: in a loop's
  // body too, at each iteration.
  const release: number[][] = steps.map(() => []);
  {
    const last = new Map<number, number>();
    steps.forEach((s, k) => {
      const reads = s.kind === "fused" ? [...s.run.tensors] : s.eqn.kind === "prim" ? s.eqn.inputs : [];
      for (const a of reads) if (a.kind === "var") last.set(a.v.id, k);
    });
    const outputs = new Set(b.outputs.flatMap((a) => (a.kind === "var" ? [a.v.id] : [])));
    const inputs = new Set(b.inputs.map((v) => v.id));
    for (const [id, k] of last)
      if (!outputs.has(id) && !inputs.has(id) && uses.get(id) === (direct.get(id) ?? 0) && uses.get(id) === (inBlock.get(id) ?? 0)) release[k]!.push(id);
  }
  const outputReads = new Map<number, number>();
  b.outputs.forEach((a) => note(outputReads, a));
  const onlyHere = (id: number): boolean => uses.get(id) === (direct.get(id) ?? 0) + (outputReads.get(id) ?? 0);
  const inputIds = new Set(b.inputs.map((v) => v.id));
  const handOff = [...outputReads.keys()].filter((id) => !inputIds.has(id) && onlyHere(id));
  return { steps, release, handOff, inputsCaptured: b.inputs.some((v) => !onlyHere(v.id)) };
}
