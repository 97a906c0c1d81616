// Analyses of a staged program that code generation needs: reads per variable, dead code,
// buffers that can be reused from call to call.
import { blocksOf, definedBy, isNumberAtom, operandsOf, type Atom, type Block, type Eqn } from "./ir.ts";
import { aliasesOperand } from "./capabilities.ts";

/**
 * A set of variable ids (small dense integers, from 0): a growable byte per id. A program of a
 * million operations has millions of variables, where hash sets cost seconds and gigabytes.
 */
export class IdSet {
  private bits = new Uint8Array(1024);
  has(id: number): boolean {
    return id < this.bits.length && this.bits[id] === 1;
  }
  add(id: number): void {
    if (id >= this.bits.length) this.grow(id);
    this.bits[id] = 1;
  }
  private grow(id: number): void {
    const bigger = new Uint8Array(Math.max(id + 1, this.bits.length * 2));
    bigger.set(this.bits);
    this.bits = bigger;
  }
}

/** How many times each variable id is read (0 for none): a growable array of counts. */
export class IdCounts {
  private counts = new Int32Array(1024);
  get(id: number): number {
    return id < this.counts.length ? this.counts[id]! : 0;
  }
  increment(id: number): void {
    if (id >= this.counts.length) {
      const bigger = new Int32Array(Math.max(id + 1, this.counts.length * 2));
      bigger.set(this.counts);
      this.counts = bigger;
    }
    this.counts[id]!++;
  }
}

/**
 * Variables whose buffer can be reused from call to call: never a result of any block (so they
 * cannot escape the call, as an output, a loop carry or a stacked y), never an operand of a
 * branch or loop, and read only by kernels that make fresh results.
 */
export function reusableVars(root: Block): { has(id: number): boolean } {
  const ok = new IdSet();
  const bad = new IdSet();
  // (a number has no buffer: scalar variables, most of an unrolled scalar program, need no mark)
  const mark = (a: Atom, fine: boolean): void => {
    if (a.kind !== "var" || a.v.scalar) return;
    if (fine) ok.add(a.v.id);
    else bad.add(a.v.id);
  };
  // Inside a recursive function every invocation needs buffers of its own: a nested call
  // would overwrite a shared one while its caller still reads it.
  const defineAll = (b: Block): void => {
    for (const e of b.eqns) {
      definedBy(e).forEach((v) => bad.add(v.id));
      blocksOf(e).forEach(defineAll);
    }
  };
  const readAll = (b: Block): void => {
    b.outputs.forEach((a) => mark(a, false));
    for (const e of b.eqns) {
      operandsOf(e).forEach((a) => mark(a, false));
      blocksOf(e).forEach(readAll);
    }
  };
  const visit = (b: Block): void => {
    b.outputs.forEach((a) => mark(a, false));
    for (const e of b.eqns) {
      if (e.kind === "prim") {
        if (!e.out.scalar || e.inputs.some((a) => !isNumberAtom(a))) e.inputs.forEach((a) => mark(a, !aliasesOperand(e.prim)));
        continue; // (no block inside)
      }
      operandsOf(e).forEach((a) => mark(a, false));
      // A closure runs after its block has returned: its buffers, and those it reads from the
      // enclosing blocks (a loop's step values it captured), must outlive the block.
      if (e.kind === "fix" || e.kind === "lambda") defineAll(e.body);
      if (e.kind === "lambda") readAll(e.body);
      blocksOf(e).forEach(visit);
    }
  };
  visit(root);
  return { has: (id) => ok.has(id) && !bad.has(id) };
}

/** How many times each variable is read, anywhere in the program (nested blocks included). */
export function countUses(root: Block): IdCounts {
  const uses = new IdCounts();
  const use = (a: Atom): void => {
    if (a.kind === "var") uses.increment(a.v.id);
  };
  const visit = (b: Block): void => {
    b.outputs.forEach(use);
    for (const e of b.eqns) {
      // (a primitive's equation, nearly all of them, reads its inputs and holds no block)
      if (e.kind === "prim") for (let i = 0; i < e.inputs.length; i++) use(e.inputs[i]!);
      else {
        operandsOf(e).forEach(use);
        blocksOf(e).forEach(visit);
      }
    }
  };
  visit(root);
  return uses;
}

/** The equations some output depends on, in order (dead code eliminated). */
export function liveEquations(b: Block, _outer: Set<number>): Eqn[] {
  const needed = new IdSet();
  const need = (a: Atom): void => {
    if (a.kind === "var") needed.add(a.v.id);
  };
  const needBlock = (x: Block): void => {
    // Everything a nested block reads from outside itself is needed too.
    x.outputs.forEach(need);
    for (const e of x.eqns) usesOf(e).forEach(need);
  };
  const usesOf = (e: Eqn): readonly Atom[] => {
    blocksOf(e).forEach(needBlock);
    return operandsOf(e);
  };
  b.outputs.forEach(need);
  const kept: Eqn[] = [];
  for (let i = b.eqns.length - 1; i >= 0; i--) {
    const e = b.eqns[i]!;
    if (e.kind === "prim") {
      // (the common case without the general helpers' arrays)
      if (!needed.has(e.out.id)) continue;
      for (let k = 0; k < e.inputs.length; k++) need(e.inputs[k]!);
      kept.push(e);
      continue;
    }
    const defines = definedBy(e);
    // Accumulating is an effect, and applying a closure may accumulate: both always run.
    const effect = e.kind === "accumulate" || e.kind === "apply";
    if (!effect && !defines.some((v) => needed.has(v.id))) continue;
    usesOf(e).forEach(need);
    kept.push(e);
  }
  return kept.reverse();
}
