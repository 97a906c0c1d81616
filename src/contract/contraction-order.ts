// The order in which einsum contracts three or more operands, two at a time. Greedy, as
// opt_einsum's default for many operands: at each step, among the pairs that share an index,
// contract the one whose product removes the most memory (size of the product minus the sizes of
// the pair); when no pair shares an index, take the outer product with the smallest result.
// The product goes to the end of the list.

/** One operand's indices, one per axis. */
export type Indices = readonly string[];

/** The indices the product of operands i and j keeps: those the output or another operand needs, a's first. */
export const keptIndices = (terms: readonly Indices[], i: number, j: number, output: Indices): string[] => {
  const needed = new Set(output);
  terms.forEach((t, k) => {
    if (k !== i && k !== j) for (const c of t) needed.add(c);
  });
  const kept: string[] = [];
  for (const c of [...terms[i]!, ...terms[j]!]) if (needed.has(c) && !kept.includes(c)) kept.push(c);
  return kept;
};

/**
 * The pairs to contract, in order: each pair gives positions in the current list of operands;
 * both are removed and their product appended.
 */
export function contractionOrder(terms: readonly Indices[], output: Indices, sizes: ReadonlyMap<string, number>): [number, number][] {
  const list = terms.map((t) => t.slice());
  const size = (t: Indices): number => t.reduce((n, c) => n * sizes.get(c)!, 1);
  const steps: [number, number][] = [];
  while (list.length > 1) {
    let best: { i: number; j: number; key: [number, number] } | undefined;
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const shared = list[i]!.some((c) => list[j]!.includes(c));
        const product = size(keptIndices(list, i, j, output));
        // pairs that share an index first, by memory removed; then outer products, smallest first
        const key: [number, number] = shared ? [0, product - size(list[i]!) - size(list[j]!)] : [1, product];
        if (best === undefined || key[0] < best.key[0] || (key[0] === best.key[0] && key[1] < best.key[1])) best = { i, j, key };
      }
    const { i, j } = best!;
    const kept = keptIndices(list, i, j, output);
    list.splice(j, 1);
    list.splice(i, 1);
    list.push(kept);
    steps.push([i, j]);
  }
  return steps;
}
