// Splitting long generated programs into functions V8 will optimize.

/**
 * A long program (an unrolled loop: thousands of statements) split into functions of about
 * CHUNK lines, called in order: V8 does not optimize a function beyond ~60 KB of bytecode, and
 * unoptimized generated code ran several times slower. Values crossing from one piece to a later
 * one go through an array of registers. `units` are the line indices where top-level statement
 * groups end (a piece never splits one).
 */
const CHUNK = 400;
export function chunked(lines: readonly string[], units: readonly number[]): { helpers: string; body: string[] } {
  if (lines.length <= 2 * CHUNK) return { helpers: "", body: [...lines] };
  const pieces: string[][] = [];
  let from = 0;
  for (const end of units) {
    if (end - from >= CHUNK || end === lines.length) {
      pieces.push(lines.slice(from, end));
      from = end;
    }
  }
  if (from < lines.length) pieces.push(lines.slice(from));
  const declared = pieces.map((p) => {
    const names = new Set<string>();
    for (const l of p) for (const m of l.matchAll(/(?:const|let) ([^=;]+)[=;]/g)) for (const n of m[1]!.split(",")) if (/^v\d+$/.test(n.trim())) names.add(n.trim());
    return names;
  });
  const used = pieces.map((p) => new Set(p.join("\n").match(/\bv\d+\b/g) ?? []));
  const imports = pieces.map((_, i) => [...used[i]!].filter((n) => !declared[i]!.has(n)));
  // Each crossing value gets a slot of a dense register array.
  const slot = new Map<string, number>();
  for (const list of imports) for (const n of list) if (!slot.has(n)) slot.set(n, slot.size);
  let helpers = "";
  const body: string[] = [`const R = new Array(${slot.size}).fill(0);`];
  pieces.forEach((p, i) => {
    const exports = [...declared[i]!].filter((n) => slot.has(n));
    helpers +=
      `function part${i}(I, R) {\n` +
      imports[i]!.map((n) => `  const ${n} = R[${slot.get(n)}];\n`).join("") +
      p.join("\n") +
      "\n" +
      exports.map((n) => `  R[${slot.get(n)}] = ${n};\n`).join("") +
      "}\n";
    body.push(i === pieces.length - 1 ? `return part${i}(I, R);` : `part${i}(I, R);`);
  });
  return { helpers, body };
}
