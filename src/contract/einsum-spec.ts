// einsum's subscripts, as NumPy reads them: "ij,jk->ik" (explicit output) or "ij,jk" (implicit:
// the indices that appear once, in alphabetical order). Parsing checks them against the
// operands' shapes, so that a bad spec is an error naming einsum and the bad index.
import { ShapeError, ValueError, fmt, show } from "../errors.ts";

/** A parsed einsum: each operand's indices (one letter per axis), the output's, and each index's size. */
export interface EinsumSpec {
  readonly inputs: readonly (readonly string[])[];
  readonly output: readonly string[];
  readonly sizes: ReadonlyMap<string, number>;
}

const LETTER = /^[a-zA-Z]$/;

const checkLetters = (spec: string, group: string, what: string): string[] => {
  const letters = [...group];
  const bad = letters.find((c) => !LETTER.test(c));
  if (bad !== undefined)
    throw new ValueError(
      `einsum: ${show(bad)} in the ${what} of ${show(spec)} is not an index; indices are the letters a-z and A-Z, ` +
        "operands are separated by ',' and the output follows '->'",
    );
  return letters;
};

/** Parses `spec` for operands of `shapes`, checking every index against them. */
export function parseEinsum(spec: unknown, shapes: readonly (readonly number[])[]): EinsumSpec {
  if (typeof spec !== "string") throw new ValueError(`einsum: the first argument must be the subscripts string (e.g. "ij,jk->ik"), got ${show(spec)}`);
  const s = spec.replace(/\s+/g, "");
  if (s.includes("."))
    throw new ValueError(`einsum: ellipsis ("...") in ${show(spec)} is not supported; name every axis with a letter (e.g. "bij,bjk->bik" for a batch of products)`);
  const sides = s.split("->");
  if (sides.length > 2) throw new ValueError(`einsum: ${show(spec)} has more than one "->"; write the inputs, then one "->" and the output`);
  const groups = sides[0]!.split(",");
  if (groups.length !== shapes.length)
    throw new ValueError(
      `einsum: ${show(spec)} gives subscripts for ${groups.length} operand${groups.length === 1 ? "" : "s"} but ${shapes.length} ` +
        `${shapes.length === 1 ? "was" : "were"} passed; give one comma-separated group of indices per operand`,
    );
  const inputs = groups.map((g, k) => checkLetters(spec, g, `subscripts of operand ${k}`));
  const sizes = new Map<string, number>();
  const firstSeen = new Map<string, string>();
  inputs.forEach((letters, k) => {
    const shape = shapes[k]!;
    if (letters.length !== shape.length)
      throw new ShapeError(
        `einsum: operand ${k} has shape ${fmt(shape)} (rank ${shape.length}) but its subscripts ${show(groups[k])} name ` +
          `${letters.length} ax${letters.length === 1 ? "is" : "es"}; give one index per axis`,
      );
    letters.forEach((c, axis) => {
      const d = shape[axis]!;
      const seen = sizes.get(c);
      const here = `operand ${k} (axis ${axis} of ${fmt(shape)})`;
      if (seen === undefined) {
        sizes.set(c, d);
        firstSeen.set(c, here);
      } else if (seen !== d)
        throw new ShapeError(
          `einsum: index '${c}' has size ${seen} in ${firstSeen.get(c)} but size ${d} in ${here}; ` +
            `the axes one index names must have equal sizes (in ${show(spec)})`,
        );
    });
  });
  let output: string[];
  if (sides.length === 2) {
    output = checkLetters(spec, sides[1]!, "output");
    const twice = output.find((c, i) => output.indexOf(c) !== i);
    if (twice !== undefined)
      throw new ValueError(`einsum: output index '${twice}' appears twice in ${show(spec)}; an output index appears once (use a repeated input index for a diagonal)`);
    const unknown = output.find((c) => !sizes.has(c));
    if (unknown !== undefined)
      throw new ValueError(`einsum: output index '${unknown}' of ${show(spec)} appears in no operand; every output index must name an axis of an operand`);
  } else {
    const counts = new Map<string, number>();
    for (const letters of inputs) for (const c of letters) counts.set(c, (counts.get(c) ?? 0) + 1);
    output = [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort();
  }
  return { inputs, output, sizes };
}
