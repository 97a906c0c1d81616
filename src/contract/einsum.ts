// einsum, as NumPy's (without ellipsis). Each operand first loses what only it has: a repeated
// index becomes a diagonal, an index no one else needs is summed. Then operands are contracted
// two at a time in the greedy order of contraction-order.ts, each pair one batched matmul (a
// broadcast product when the pair sums nothing; dot-general.ts), and the last one is transposed
// to the output's order.
import { shapeOf, type Value } from "../../effects/value.ts";
import { diagonal } from "../arrange/diagonal.ts";
import { checkOperand } from "../lax.ts";
import { sum } from "../primitives/reduce.ts";
import * as S from "../primitives/shape.ts";
import { contractionOrder, keptIndices, type Indices } from "./contraction-order.ts";
import { dotGeneral } from "./dot-general.ts";
import { parseEinsum } from "./einsum-spec.ts";

/** An operand on the way: its value and the index of each of its axes. */
interface Term {
  readonly value: Value;
  readonly indices: Indices;
}

/** Repeated indices of one operand become its diagonals ("ii" → "i"), one repeat at a time. */
const diagonals = (t: Term): Term => {
  let { value, indices } = t;
  for (;;) {
    const second = indices.findIndex((c, i) => indices.indexOf(c) !== i);
    if (second < 0) return { value, indices };
    const c = indices[second]!;
    const first = indices.indexOf(c);
    value = diagonal(value, first, second);
    indices = [...indices.filter((_, i) => i !== first && i !== second), c];
  }
};

/** Sums the axes whose index `needed` lacks. */
const sumUnneeded = (t: Term, needed: ReadonlySet<string>): Term => {
  const axes = t.indices.flatMap((c, i) => (needed.has(c) ? [] : [i]));
  if (axes.length === 0) return t;
  return { value: sum(t.value, { axes, keepdims: false }), indices: t.indices.filter((c) => needed.has(c)) };
};

/** The product of two operands keeping the indices `kept`: shared kept indices are batch axes, shared others are summed. */
const contractPair = (a: Term, b: Term, kept: Indices): Term => {
  const keep = new Set(kept);
  const a1 = sumUnneeded(a, new Set([...kept, ...b.indices]));
  const b1 = sumUnneeded(b, new Set([...kept, ...a1.indices]));
  const inB = (c: string): boolean => b1.indices.includes(c);
  const batch = a1.indices.filter((c) => inB(c) && keep.has(c));
  const summed = a1.indices.filter((c) => inB(c) && !keep.has(c));
  const value = dotGeneral(a1.value, b1.value, {
    batchA: batch.map((c) => a1.indices.indexOf(c)),
    batchB: batch.map((c) => b1.indices.indexOf(c)),
    contractA: summed.map((c) => a1.indices.indexOf(c)),
    contractB: summed.map((c) => b1.indices.indexOf(c)),
  });
  const indices = [...batch, ...a1.indices.filter((c) => !inB(c)), ...b1.indices.filter((c) => !a1.indices.includes(c))];
  return { value, indices };
};

/**
 * Σ over the indices the output lacks of the product of the operands, as NumPy's einsum with
 * subscripts `spec` ("ij,jk->ik"; without "->", the output is the indices that appear once,
 * in alphabetical order).
 */
export const einsum = (spec: string, operands: readonly Value[]): Value => {
  operands.forEach((x, k) => checkOperand("einsum", x, `operand ${k}`));
  const { inputs, output, sizes } = parseEinsum(spec, operands.map(shapeOf));
  let terms: Term[] = operands.map((value, k) => diagonals({ value, indices: inputs[k]! }));
  terms = terms.map((t, k) => {
    const needed = new Set(output);
    terms.forEach((u, m) => m !== k && u.indices.forEach((c) => needed.add(c)));
    return sumUnneeded(t, needed);
  });
  for (const [i, j] of contractionOrder(terms.map((t) => t.indices), output, sizes)) {
    const kept = keptIndices(terms.map((t) => t.indices), i, j, output);
    const product = contractPair(terms[i]!, terms[j]!, kept);
    terms.splice(j, 1);
    terms.splice(i, 1);
    terms.push(product);
  }
  const last = sumUnneeded(terms[0]!, new Set(output));
  return S.transpose(last.value, output.map((c) => last.indices.indexOf(c)));
};
