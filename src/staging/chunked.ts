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
    for (const l of p) declaredIn(l, names);
    return names;
  });
  const used = pieces.map((p) => {
    const names = new Set<string>();
    for (const l of p) usedIn(l, names);
    return names;
  });
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

// Scanners for the variable names (v<digits>) of generated lines, by hand: on a program of a
// million operations, regular expressions over every line cost seconds.
const isWord = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Adds the names a line declares (`const v1 = ...`, `let v2, v3;`): /(?:const|let) ([^=;]+)[=;]/ per match. */
function declaredIn(line: string, out: Set<string>): void {
  for (const kw of ["const ", "let "]) {
    let at = line.indexOf(kw);
    while (at >= 0) {
      const start = at + kw.length;
      let end = start;
      while (end < line.length && line.charCodeAt(end) !== 61 && line.charCodeAt(end) !== 59) end++; // '=' or ';'
      if (end < line.length && end > start)
        for (const part of line.slice(start, end).split(",")) {
          const n = part.trim();
          if (n.length > 1 && n.charCodeAt(0) === 118 && [...n.slice(1)].every((ch) => isDigit(ch.charCodeAt(0)))) out.add(n);
        }
      at = line.indexOf(kw, end);
    }
  }
}

/** Adds every name v<digits> a line mentions as a whole word (/\bv\d+\b/g). */
function usedIn(line: string, out: Set<string>): void {
  let at = line.indexOf("v");
  while (at >= 0) {
    let end = at + 1;
    if ((at === 0 || !isWord(line.charCodeAt(at - 1))) && end < line.length && isDigit(line.charCodeAt(end))) {
      while (end < line.length && isDigit(line.charCodeAt(end))) end++;
      if (end === line.length || !isWord(line.charCodeAt(end))) out.add(line.slice(at, end));
    }
    at = line.indexOf("v", end);
  }
}
