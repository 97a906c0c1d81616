// JavaScript from a staged program. Scalar arithmetic is emitted inline (a chain of scalar
// operations becomes plain JS expressions); every other operation calls its kernel. Loops and
// branches become real `for`/`while`/`if` statements. The source holds only generated
// identifiers, numeric literals and fixed text — never a user string: constants, primitives
// and their parameters are passed in arrays and referenced by index.
import type { Primitive } from "../../effects/primitive.ts";
import type { Value } from "../../effects/value.ts";
import { Tensor } from "../tensor/tensor.ts";
import { isNumberAtom, type Atom, type Block, type Eqn, type PrimEqn, type Var } from "./ir.ts";
import { runtime } from "./runtime.ts";
import { countUses, liveEquations, reusableVars } from "./analysis.ts";
import { aliasesOperand, contraction, isAddition, isBroadcast, isRelayout, isRowIndex, sumAxes, zeroPad } from "./capabilities.ts";
import { chunked } from "./chunked.ts";
import { buildTape, TAPE_MIN, TapeOps, type Tape } from "./scalar-tape.ts";
import { contiguousOffset, disjoint, isOuterProduct, sliceOffset, withoutLeadingOnes, type Piece } from "./layout.ts";
import { newScratch } from "../tensor/scratch.ts";
import { wasmUnavailableReason } from "../kernels/wasm/gemm.ts";
import { ElementwiseCode, elementwiseOf, hasSimdKernel } from "./elementwise-code.ts";

/** Up to this many elements, even one elementwise operation becomes an inline loop. */
const SINGLE_LOOP_MAX = 4096;

/**
 * A count or an offset written into the generated source. Only numbers the compiler computed
 * from validated shapes reach the source; this keeps it so (a non-integer here is a bug).
 */
const count = (n: number): string => {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new Error(`jit: internal error: ${typeof n} ${String(n)} is not a count to write into generated code`);
  return String(n);
};

export interface Compiled {
  (inputs: readonly Value[]): Value[];
  /** The generated source, for reading and for tests. */
  readonly source: string;
}

export interface CompileOptions {
  /** The results live in buffers the program keeps and overwrites on its next call (see jit). */
  reuseOutputs?: boolean;
}

export function compile(block: Block, options: CompileOptions = {}): Compiled {
  // (decided when the program compiles; if WebAssembly is switched off later, the kernels run
  // their JS loops, one operation at a time)
  // (asked only when a large elementwise run needs it: asking loads the WebAssembly modules)
  let simdKnown: boolean | undefined;
  const simd = (): boolean => (simdKnown ??= wasmUnavailableReason() === undefined);
  const prims: Primitive<unknown>[] = [];
  const params: unknown[] = [];
  const consts: Value[] = [];
  // Shapes of results, frozen once (a Tensor takes a frozen shape as is, else copies it).
  const shapes: (readonly number[])[] = [];
  const shapeIds = new Map<string, number>();
  const shapeRef = (shape: readonly number[]): string => {
    const key = shape.join(",");
    let k = shapeIds.get(key);
    if (k === undefined) {
      k = shapes.push(Object.freeze([...shape])) - 1;
      shapeIds.set(key, k);
    }
    return `Z[${k}]`;
  };
  const name = (v: Var): string => `v${v.id}`;
  const atom = (a: Atom): string => {
    if (a.kind === "var") return name(a.v);
    const c = a.value;
    if (typeof c === "number" && Number.isFinite(c)) return Object.is(c, -0) ? "(-0)" : `(${String(c)})`;
    consts.push(c);
    return `C[${consts.length - 1}]`;
  };
  // Elementwise primitives' code from their scalar expressions; helper functions are constants.
  const helperRefs = new Map<unknown, string>();
  const elementwise = new ElementwiseCode((fn) => {
    let ref = helperRefs.get(fn);
    if (ref === undefined) {
      ref = `C[${consts.push(fn as unknown as Value) - 1}]`;
      helperRefs.set(fn, ref);
    }
    return ref;
  });
  /** Scalar arithmetic on numbers: inline JS, or an instruction of a tape in a long run. */
  const inlineScalar = (e: Eqn): e is PrimEqn => e.kind === "prim" && e.out.scalar && elementwiseOf(e.prim) !== undefined && e.inputs.every(isNumberAtom);
  const scalarTemplate = (e: PrimEqn): string => elementwise.template(e.prim);
  const tapeOps = new TapeOps();
  const tapes: Tape[] = [];
  const emitTape = (run: readonly PrimEqn[], indent: string): void => {
    const { tape, loads, stores } = buildTape(run, (e) => scalarTemplate(e)!, tapeOps, uses);
    const k = tapes.push(tape) - 1;
    for (const [r, id] of loads) lines.push(`${indent}T[${k}].regs[${count(r)}] = v${id};`);
    lines.push(`${indent}runTape(T[${k}].code, T[${k}].regs);`);
    for (const [r, id] of stores) lines.push(`${indent}const v${id} = T[${k}].regs[${count(r)}];`);
  };

  const lines: string[] = [];
  let fresh = 0;
  // The program's results are computed outside the scratch memory: no copy out on return.
  const resultIds = new Set(block.outputs.flatMap((a) => (a.kind === "var" ? [a.v.id] : [])));
  const result = (expr: string, v: Var): string => (resultIds.has(v.id) ? `K.outside(() => ${expr})` : expr);
  const uses = countUses(block);
  const reusable = reusableVars(block);
  const reused: (Float32Array | Float64Array)[] = [];
  const reusedIds = new Set<number>();
  // accumulate(acc, v) where v is a fresh result read nowhere else: a matmul is computed into
  // the accumulator (one pass over a weight gradient instead of two, no temporary); any other
  // kernel's result becomes the accumulator's buffer on the first add instead of a copy.
  const intoAccumulator = new Map<number, PrimEqn>();
  const owned = new Set<number>();
  const planAccumulates = (eqns: readonly Eqn[]): void => {
    const made = new Map<number, PrimEqn>();
    for (const e of eqns) {
      // (only a tensor result read once can be an accumulated value below, one the accumulator
      // may keep or a product computed into it: no entry for the others)
      if (e.kind === "prim" && !e.out.scalar && uses.get(e.out.id) === 1 && !aliasesOperand(e.prim)) made.set(e.out.id, e);
      if (e.kind !== "accumulate" || e.value.kind !== "var" || uses.get(e.value.v.id) !== 1) continue;
      const src = made.get(e.value.v.id);
      if (src && contraction(src.prim, src.params) && !src.out.scalar) intoAccumulator.set(src.out.id, src);
      else if (src) owned.add(src.out.id);
    }
  };
  const absorbed = new Set<number>();
  /**
   * Finds sums (trees of adds, each partial sum read only by the next) whose terms are all
   * `leafOf` something (null: not a term of this kind) and which `accept` takes; records each
   * root's leaves in `into` and marks the terms and partial sums as absorbed: not computed.
   */
  const planSums = <L>(eqns: readonly Eqn[], into: Map<number, L[]>, leafOf: (e: PrimEqn) => L | null, accept: (root: PrimEqn, leaves: L[]) => boolean): void => {
    // Terms and partial sums are tensors (a number is never a pad, a product or a sum of them):
    // scalar equations, millions in an unrolled scalar program, need no entry.
    const def = new Map<number, PrimEqn>();
    for (const e of eqns) if (e.kind === "prim" && !e.out.scalar) def.set(e.out.id, e);
    const terms = (a: Atom, out: Var, inner: number[]): L[] | null => {
      if (a.kind !== "var" || uses.get(a.v.id) !== 1) return null;
      const e = def.get(a.v.id);
      if (!e || e.out.dtype !== out.dtype || !sameKind(e.out, out) || absorbed.has(e.out.id)) return null;
      const leaf = isAddition(e.prim) ? null : leafOf(e);
      if (leaf !== null) {
        inner.push(e.out.id);
        return [leaf];
      }
      const sub = isAddition(e.prim) ? sumTerms(e, inner) : null;
      if (sub) inner.push(e.out.id);
      return sub;
    };
    const sumTerms = (e: PrimEqn, inner: number[]): L[] | null => {
      const [x, y] = e.inputs;
      const tx = x && terms(x, e.out, inner);
      const ty = tx && y && terms(y, e.out, inner);
      return tx && ty ? [...tx, ...ty] : null;
    };
    for (let i = eqns.length - 1; i >= 0; i--) {
      const e = eqns[i]!;
      if (e.kind !== "prim" || e.out.scalar || !isAddition(e.prim) || absorbed.has(e.out.id)) continue;
      const inner: number[] = [];
      const leaves = sumTerms(e, inner);
      if (!leaves || !accept(e, leaves)) continue;
      into.set(e.out.id, leaves);
      inner.forEach((id) => absorbed.add(id));
    }
  };
  // A sum of zero-padded pieces that do not overlap (the gradient of slicing a vector into
  // gates: pad + add per gate) is built as one buffer with each piece copied into place.
  const assembled = new Map<number, Piece[]>();
  const pieceOf = (e: PrimEqn): Piece | null => {
    const src = e.inputs[0]!;
    const pad = zeroPad(e.prim, e.params);
    if (!pad || src.kind !== "var" || src.v.scalar || src.v.dtype !== e.out.dtype) return null;
    const offset = contiguousOffset(src.v.shape, pad);
    return offset === null ? null : { src, offset, size: src.v.shape.reduce((x, y) => x * y, 1) };
  };
  // A sum of outer products (a weight's gradient in an unrolled RNN: hᵀ·g per step, added up)
  // is one matrix product of the stacked vectors, Xᵀ·Y: the weight-sized sum is written once
  // instead of once per step, and T products and T − 1 additions become one kernel call.
  const outerSums = new Map<number, [Atom, Atom][]>();
  const outerOf = (e: PrimEqn): [Atom, Atom] | null => (isOuterProduct(e) ? [e.inputs[0]!, e.inputs[1]!] : null);
  const emitBlock = (b: Block, indent: string, live: Set<number>, onUnit?: () => void): string[] => {
    const eqns = absorbed.size === 0 ? liveEquations(b, live) : liveEquations(b, live).filter((e) => e.kind !== "prim" || !absorbed.has(e.out.id));
    // (sums are of tensors, accumulations of accumulate equations: a block without any, such as
    // an unrolled scalar program, skips their planning)
    let tensors = false;
    let accumulates = false;
    for (const e of eqns) {
      if (e.kind === "prim") tensors ||= !e.out.scalar;
      else accumulates ||= e.kind === "accumulate";
    }
    if (tensors) {
      planSums(eqns, outerSums, outerOf, (root) => root.out.shape.length === 2);
      planSums(eqns, assembled, pieceOf, (_root, pieces) => disjoint(pieces));
    }
    if (absorbed.size > 0)
      for (let k = eqns.length - 1; k >= 0; k--) {
        const e = eqns[k]!;
        if (e.kind === "prim" && absorbed.has(e.out.id)) eqns.splice(k, 1);
      }
    if (accumulates) planAccumulates(eqns);
    const outputs = new Set(b.outputs.flatMap((a) => (a.kind === "var" ? [a.v.id] : [])));
    let scalarRunEnd = 0; // the end of the run of scalar arithmetic last looked at
    for (let i = 0; i < eqns.length; ) {
      const e = eqns[i]!;
      if (i >= scalarRunEnd && inlineScalar(e)) {
        let j = i + 1;
        while (j < eqns.length && inlineScalar(eqns[j]!)) j++;
        scalarRunEnd = j;
        if (j - i >= TAPE_MIN) {
          emitTape(eqns.slice(i, j) as PrimEqn[], indent);
          i = j;
          onUnit?.();
          continue;
        }
      }
      if (e.kind === "prim" && intoAccumulator.has(e.out.id)) {
        i++; // computed by the accumulate that reads it
        continue;
      }
      // A run of elementwise operations on tensors of one shape becomes one loop.
      let j = i;
      const first = eqns[i]!;
      while (j < eqns.length && fusible(eqns[j]!) && sameKind((eqns[j] as PrimEqn).out, (first as PrimEqn).out)) j++;
      // (a single operation too, on a small tensor: a loop of a few elements costs less than
      // the general kernel's shape checks and broadcasting set-up)
      if (j - i >= 2 && simdRun(eqns.slice(i, j) as PrimEqn[])) {
        while (i < j) emitEqn(eqns[i++]!, indent);
      } else if (j - i >= 2 || (j - i === 1 && (first as PrimEqn).out.shape.reduce((a, b) => a * b, 1) <= SINGLE_LOOP_MAX)) {
        emitFused(eqns.slice(i, j) as PrimEqn[], indent, outputs);
        i = j;
      } else emitEqn(eqns[i++]!, indent);
      onUnit?.();
    }
    return b.outputs.map(atom);
  };
  /**
   * A run of large elementwise operations whose kernels all run in WebAssembly SIMD
   * (../kernels/vector.ts) when every tensor operand is laid out as the result. A JS loop costs
   * ~2 ns per element however many operations it fuses; each of these, copies in and out
   * included, a few tenths: so such a run calls their kernels one by one instead of becoming a loop.
   */
  const simdRun = (group: readonly PrimEqn[]): boolean =>
    group[0]!.out.shape.reduce((a, b) => a * b, 1) > SINGLE_LOOP_MAX &&
    group.every((e) => hasSimdKernel(e.prim) && e.inputs.every((a) => isNumberAtom(a) || sameKind(kindOf(a), e.out))) &&
    simd();
  /** An elementwise operation whose tensor operands all have the output's shape and dtype. */
  const fusible = (e: Eqn): boolean =>
    e.kind === "prim" &&
    !assembled.has(e.out.id) &&
    !outerSums.has(e.out.id) &&
    !e.out.scalar &&
    ((elementwiseOf(e.prim) !== undefined && e.inputs.every((a) => isNumberAtom(a) || sameKind(kindOf(a), e.out) || isSplat(a, e.out) || sameLayout(a, e.out))) ||
      sliceOffset(e) !== null ||
      unitSum(e) ||
      (isBroadcast(e.prim) && isSplat(e.inputs[0]!, e.out)));
  const kindOf = (a: Atom): { shape: readonly number[]; dtype: string } => (a.kind === "var" ? a.v : (a.value as Tensor));
  /** An operand laid out like the result but for leading axes of extent 1 ([n] in [1, n]). */
  const sameLayout = (a: Atom, out: Var): boolean => {
    const k = kindOf(a);
    if (isNumberAtom(a) || k.dtype !== out.dtype) return false;
    const [x, y] = [withoutLeadingOnes(k.shape), withoutLeadingOnes(out.shape)];
    return x.length === y.length && x.every((d, i) => d === y[i]) && k.shape.length <= out.shape.length;
  };
  /** A one-element tensor operand broadcast over the loop: read as element 0. */
  const isSplat = (a: Atom, out: Var): boolean => {
    const k = kindOf(a);
    return !isNumberAtom(a) && k.dtype === out.dtype && k.shape.every((d) => d === 1) && k.shape.length <= out.shape.length;
  };
  /** sum over every axis of a small tensor of the result's dtype. */
  const isSmallTotal = (e: PrimEqn): boolean => {
    const axes = sumAxes(e.prim, e.params);
    if (!axes || isNumberAtom(e.inputs[0]!)) return false;
    const x = kindOf(e.inputs[0]!);
    const total = x.shape.every((d, k) => axes.includes(k) || d === 1); // one element out
    return x.dtype === e.out.dtype && total && axes.length > 0 && !unitSum(e) && x.shape.reduce((a, b) => a * b, 1) <= SINGLE_LOOP_MAX;
  };
  /** sum over axes of extent 1 only: element for element, 0 + x (as the kernel adds it to 0). */
  const unitSum = (e: PrimEqn): boolean => {
    const axes = sumAxes(e.prim, e.params);
    if (!axes || isNumberAtom(e.inputs[0]!) || e.out.scalar) return false;
    const x = kindOf(e.inputs[0]!);
    return x.dtype === e.out.dtype && axes.length > 0 && axes.every((k) => x.shape[k] === 1);
  };
  const sameKind = (a: { shape: readonly number[]; dtype: string }, b: Var): boolean =>
    a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, k) => d === b.shape[k]);
  const emitFused = (group: PrimEqn[], indent: string, blockOutputs: Set<number>): void => {
    const shape = group[0]!.out.shape;
    const f32 = group[0]!.out.dtype === "float32";
    const n = shape.reduce((a, b) => a * b, 1);
    const inside = new Map<number, number>(); // uses of each variable within the group
    for (const e of group) for (const a of e.inputs) if (a.kind === "var") inside.set(a.v.id, (inside.get(a.v.id) ?? 0) + 1);
    const defined = new Set(group.map((e) => e.out.id));
    // Results read after the loop are written to buffers; the rest live in loop locals.
    const kept = group.filter((e) => blockOutputs.has(e.out.id) || (uses.get(e.out.id) ?? 0) > (inside.get(e.out.id) ?? 0));
    const buffers = new Map<string, string>();
    /** The loop's read of an operand; `flat`: element i whatever its shape (same size). */
    const read = (a: Atom, flat = false): string => {
      if (isNumberAtom(a)) return atom(a);
      if (a.kind === "var" && defined.has(a.v.id)) return `t${a.v.id}`;
      const src = atom(a);
      let b = buffers.get(src);
      if (!b) {
        b = `b${fresh++}`;
        buffers.set(src, b);
        lines.push(`${indent}const ${b} = ${src}.buf;`);
      }
      return !flat && isSplat(a, group[0]!.out) && !sameKind(kindOf(a), group[0]!.out) ? `${b}[0]` : `${b}[i]`;
    };
    const body: string[] = [];
    for (const e of group) {
      const offset = sliceOffset(e);
      if (offset !== null) {
        // a contiguous run of a tensor computed before the loop: read in place
        const src = read(e.inputs[0]!).slice(0, -"[i]".length);
        body.push(`const t${e.out.id} = ${src}[i + ${count(offset)}];`);
        continue;
      }
      if (unitSum(e)) {
        // (a unit sum: same elements in the same order, another shape)
        const v = read(e.inputs[0]!, true);
        body.push(`const t${e.out.id} = ${f32 ? `Math.fround(0 + ${v})` : `0 + ${v}`};`);
        continue;
      }
      const args = e.inputs.map((a) => read(a));
      if (isBroadcast(e.prim)) {
        body.push(`const t${e.out.id} = ${args[0]};`); // one element, read as element 0
        continue;
      }
      // (locals as statements, inline: a call in a long loop body is not always inlined by V8)
      const { prelude, value: expr } = elementwise.element(e.prim, args, `e${e.out.id}`);
      body.push(...prelude);
      body.push(`const t${e.out.id} = ${f32 ? `Math.fround(${expr})` : expr};`);
    }
    for (const e of kept) {
      if (reusable.has(e.out.id)) {
        // Read only by kernels within one call: one buffer, made once, serves every call.
        reusedIds.add(e.out.id);
        reused.push(f32 ? new Float32Array(n) : new Float64Array(n));
        lines.push(`${indent}const o${e.out.id} = B[${reused.length - 1}];`);
      } else lines.push(`${indent}const o${e.out.id} = K.${resultIds.has(e.out.id) ? "allocResult" : "alloc"}(${f32 ? 1 : 0}, ${count(n)});`);
    }
    lines.push(`${indent}for (let i = 0; i < ${count(n)}; i++) {`);
    lines.push(...body.map((l) => `${indent}  ${l}`));
    lines.push(...kept.map((e) => `${indent}  o${e.out.id}[i] = t${e.out.id};`), `${indent}}`);
    for (const e of kept) lines.push(`${indent}const ${name(e.out)} = K.tensor(o${e.out.id}, ${shapeRef(shape)});`);
  };
  const bindInputs = (b: Block, values: readonly string[], indent: string): void => {
    b.inputs.forEach((v, i) => lines.push(`${indent}const ${name(v)} = ${values[i]};`));
  };
  const emitEqn = (e: Eqn, indent: string): void => {
    if (e.kind === "prim") {
      if (e.out.scalar && elementwiseOf(e.prim) !== undefined && e.inputs.every(isNumberAtom)) {
        const { prelude, value } = elementwise.statements(e.prim, e.inputs.map(atom), `e${e.out.id}`);
        for (const l of prelude) lines.push(`${indent}${l}`);
        lines.push(`${indent}const ${name(e.out)} = ${value};`);
      } else if (isRelayout(e.prim) && !isNumberAtom(e.inputs[0]!) && !e.out.scalar) {
        // a new shape over the same (immutable) buffer
        lines.push(`${indent}const ${name(e.out)} = K.tensor(${atom(e.inputs[0]!)}.buf, ${shapeRef(e.out.shape)});`);
      } else if (isRowIndex(e.prim) && !isNumberAtom(e.inputs[0]!)) {
        const [x, i] = e.inputs.map(atom);
        lines.push(`${indent}const ${name(e.out)} = K.index(${x}, ${i}, ${e.out.scalar ? "null" : shapeRef(e.out.shape)});`);
      } else if (isSmallTotal(e)) {
        // the sum of all elements of a small tensor, in order, in double (as the kernel sums)
        const x = e.inputs[0]!;
        const n = kindOf(x).shape.reduce((a, b) => a * b, 1);
        const f32 = e.out.dtype === "float32";
        const id = e.out.id;
        lines.push(`${indent}let s${id} = 0;`, `${indent}{`, `${indent}  const b = ${atom(x)}.buf;`);
        lines.push(`${indent}  for (let i = 0; i < ${count(n)}; i++) s${id} += b[i];`, `${indent}}`);
        if (e.out.scalar) lines.push(`${indent}const ${name(e.out)} = ${f32 ? `Math.fround(s${id})` : `s${id}`};`);
        else {
          lines.push(`${indent}const o${id} = K.alloc(${f32 ? 1 : 0}, 1);`, `${indent}o${id}[0] = s${id};`);
          lines.push(`${indent}const ${name(e.out)} = K.tensor(o${id}, ${shapeRef(e.out.shape)});`);
        }
      } else if (outerSums.has(e.out.id)) {
        const pairs = outerSums.get(e.out.id)!.flat().map(atom).join(", ");
        lines.push(`${indent}const ${name(e.out)} = K.outerSum([${pairs}], ${shapeRef(e.out.shape)}, ${resultIds.has(e.out.id) ? 1 : 0});`);
      } else if (assembled.has(e.out.id)) {
        // disjoint zero-padded pieces summed: each piece copied into place
        const f32 = e.out.dtype === "float32" ? 1 : 0;
        lines.push(`${indent}const o${e.out.id} = K.alloc(${f32 ? 1 : 0}, ${count(e.out.shape.reduce((a, b) => a * b, 1))});`);
        for (const piece of assembled.get(e.out.id)!) lines.push(`${indent}o${e.out.id}.set(${atom(piece.src)}.buf, ${count(piece.offset)});`);
        lines.push(`${indent}const ${name(e.out)} = K.tensor(o${e.out.id}, ${shapeRef(e.out.shape)});`);
      } else {
        prims.push(e.prim);
        params.push(e.params);
        const k = prims.length - 1;
        const call = `P[${k}].impl([${e.inputs.map(atom).join(", ")}], Q[${k}])`;
        const b = e.inputs[1];
        const flags = contraction(e.prim, e.params);
        if (flags && !e.out.scalar && !(b?.kind === "var" && reusedIds.has(b.v.id))) {
          // A few rows times a weight: the weight stays in WebAssembly memory for the call. (Not
          // for a reused buffer: its contents change within the call, in a loop.)
          const [x, w] = e.inputs.map(atom);
          lines.push(`${indent}const ${name(e.out)} = ${result(`K.matvec(${x}, ${w}, ${flags.transA}, ${flags.transB}) ?? ${call}`, e.out)};`);
        } else lines.push(`${indent}const ${name(e.out)} = ${result(call, e.out)};`);
      }
      return;
    }
    if (e.kind === "accumulator") return void lines.push(`${indent}const ${name(e.out)} = K.accumulator();`);
    if (e.kind === "accumulate") {
      const mm = e.value.kind === "var" ? intoAccumulator.get(e.value.v.id) : undefined;
      if (mm) {
        const p = contraction(mm.prim, mm.params)!;
        const [a, b] = mm.inputs.map(atom);
        return void lines.push(`${indent}K.accumulateMatmul(${atom(e.acc)}, ${a}, ${b}, ${p.transA ? 1 : 0}, ${p.transB ? 1 : 0});`);
      }
      const own = e.value.kind === "var" && owned.has(e.value.v.id) ? 1 : 0;
      return void lines.push(`${indent}K.accumulate(${atom(e.acc)}, ${atom(e.value)}, ${own});`);
    }
    if (e.kind === "readAccumulator") {
      const v = e.out;
      return void lines.push(`${indent}const ${name(v)} = K.readAccumulator(${atom(e.acc)}, ${shapeRef(v.shape)}, ${v.dtype === "float32" ? 1 : 0});`);
    }
    if (e.kind === "lambda") {
      const params = e.body.inputs.map(() => `a${fresh++}`);
      lines.push(`${indent}const ${name(e.out)} = function (${params.join(", ")}) {`);
      bindInputs(e.body, params, `${indent}  `);
      const res = emitBlock(e.body, `${indent}  `, new Set());
      lines.push(`${indent}  return [${res.join(", ")}];`, `${indent}};`);
      return;
    }
    const outs = e.outs.map(name);
    if (outs.length > 0) lines.push(`${indent}let ${outs.join(", ")};`);
    if (e.kind === "cond") {
      const operands = e.operands.map(atom);
      lines.push(`${indent}if (K.truthy(${atom(e.pred)})) {`);
      bindInputs(e.then, operands, `${indent}  `);
      const t = emitBlock(e.then, `${indent}  `, new Set());
      lines.push(...t.map((r, i) => `${indent}  ${outs[i]} = ${r};`), `${indent}} else {`);
      bindInputs(e.else, operands, `${indent}  `);
      const f = emitBlock(e.else, `${indent}  `, new Set());
      lines.push(...f.map((r, i) => `${indent}  ${outs[i]} = ${r};`), `${indent}}`);
    } else if (e.kind === "switch") {
      const operands = e.operands.map(atom);
      lines.push(`${indent}switch (K.branch(${atom(e.index)}, ${count(e.branches.length)})) {`);
      e.branches.forEach((b, k) => {
        lines.push(`${indent}  case ${count(k)}: {`);
        bindInputs(b, operands, `${indent}    `);
        const r = emitBlock(b, `${indent}    `, new Set());
        lines.push(...r.map((x, i) => `${indent}    ${outs[i]} = ${x};`), `${indent}    break;`, `${indent}  }`);
      });
      lines.push(`${indent}}`);
    } else if (e.kind === "while") {
      const carry = e.init.map(() => `c${fresh++}`);
      const list = e.collect ? `l${fresh++}` : "";
      lines.push(`${indent}let ${e.init.map((a, i) => `${carry[i]} = ${atom(a)}`).join(", ")};`);
      if (list) lines.push(`${indent}const ${list} = [];`);
      lines.push(`${indent}for (;;) {`, `${indent}  {`);
      bindInputs(e.cond, carry, `${indent}    `);
      const [c] = emitBlock(e.cond, `${indent}    `, new Set());
      lines.push(`${indent}    if (!K.truthy(${c})) break;`, `${indent}  }`);
      bindInputs(e.body, carry, `${indent}  `);
      const next = emitBlock(e.body, `${indent}  `, new Set());
      lines.push(`${indent}  ${carry.map((cv, i) => `${cv} = ${next[i]}`).join(", ")};`);
      if (list) lines.push(`${indent}  ${list}.push(${next[carry.length]});`);
      lines.push(`${indent}}`);
      lines.push(`${indent}${carry.map((cv, i) => `${outs[i]} = ${cv}`).join(", ")};`);
      if (list) lines.push(`${indent}${outs[carry.length]} = ${list};`);
    } else if (e.kind === "scan") {
      const nCarry = e.init.length;
      const carry = e.init.map(() => `c${fresh++}`);
      const ys = e.outs.slice(nCarry).map(() => `y${fresh++}`);
      const xs = e.xs.map(atom);
      const t = `t${fresh++}`;
      const length = e.length >= 0 ? count(e.length) : `${xs[0]}.length`;
      if (carry.length > 0) lines.push(`${indent}let ${e.init.map((a, i) => `${carry[i]} = ${atom(a)}`).join(", ")};`);
      if (ys.length > 0) lines.push(`${indent}const ${ys.map((y) => `${y} = []`).join(", ")};`);
      lines.push(e.reverse ? `${indent}for (let ${t} = ${length} - 1; ${t} >= 0; ${t}--) {` : `${indent}for (let ${t} = 0; ${t} < ${length}; ${t}++) {`);
      const rowOf = (x: string, k: number): string => (e.xs[k]!.kind === "var" && (e.xs[k] as { v: Var }).v.fn ? `${x}[${t}]` : `K.row(${x}, ${t})`);
      bindInputs(e.body, [...carry, ...xs.map(rowOf)], `${indent}  `);
      const res = emitBlock(e.body, `${indent}  `, new Set());
      if (carry.length > 0) lines.push(`${indent}  ${carry.map((cv, i) => `${cv} = ${res[i]}`).join(", ")};`);
      ys.forEach((y, i) => lines.push(`${indent}  ${y}.push(${res[nCarry + i]});`));
      lines.push(`${indent}}`);
      if (carry.length > 0) lines.push(`${indent}${carry.map((cv, i) => `${outs[i]} = ${cv}`).join(", ")};`);
      ys.forEach((y, i) => {
        const v = e.outs[nCarry + i]!;
        if (e.reverse) lines.push(`${indent}${y}.reverse();`);
        if (v.fn) lines.push(`${indent}${outs[nCarry + i]} = ${y};`); // a list of closures
        else lines.push(`${indent}${outs[nCarry + i]} = K.stack(${y}, ${shapeRef(v.shape)}, ${v.dtype === "float32" ? 1 : 0});`);
      });
    } else if (e.kind === "fix") {
      // A real recursive function; it is a closure, so its body may read the enclosing values.
      const params = e.body.inputs.map(() => `a${fresh++}`);
      lines.push(`${indent}const f${e.fn} = function (${params.join(", ")}) {`);
      bindInputs(e.body, params, `${indent}  `);
      const res = emitBlock(e.body, `${indent}  `, new Set());
      lines.push(`${indent}  return [${res.join(", ")}];`, `${indent}};`);
      lines.push(`${indent}[${outs.join(", ")}] = f${e.fn}(${e.args.map(atom).join(", ")});`);
    } else if (e.kind === "call") lines.push(`${indent}[${outs.join(", ")}] = f${e.fn}(${e.args.map(atom).join(", ")});`);
    else lines.push(`${indent}[${outs.join(", ")}] = ${atom(e.fn)}(${e.args.map(atom).join(", ")});`);
  };

  bindInputs(block, block.inputs.map((_, i) => `I[${i}]`), "  ");
  const units = [lines.length]; // where each top-level statement group ends
  const results = emitBlock(block, "  ", new Set(), () => units.push(lines.length));
  // Results must outlive the call: those in scratch memory are copied out.
  lines.push(`  return [${results.map((r) => `K.out(S, ${r})`).join(", ")}];`);
  units.push(lines.length);
  // Intermediates live in this program's scratch memory, weights pinned in WebAssembly memory,
  // until the (outermost) call returns.
  const { helpers, body } = chunked(lines, units);
  const interpreter = tapeOps.empty ? "" : tapeOps.source("runTape");
  const source =
    `"use strict";\n${interpreter}${helpers}return function compiled(I) {\n  const scratch = K.enter(S);\n  const kept = K.enterResults(RS, I);\n  K.begin();\n  try {\n` +
    `${body.map((l) => `  ${l}`).join("\n")}\n  } finally {\n    K.end();\n    K.leaveResults(RS, kept);\n    K.leave(S, scratch);\n  }\n};`;
  const kept = options.reuseOutputs ? newScratch() : null;
  const fn = new Function("P", "Q", "C", "K", "B", "S", "Z", "RS", "T", source)(prims, params, consts, runtime, reused, newScratch(), shapes, kept, tapes) as (
    inputs: readonly Value[],
  ) => Value[];
  return Object.assign(fn, { source });
}
