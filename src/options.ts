// Options objects of the public API. Each function that takes one checks it against the keys it
// accepts (its spec): a key it does not know — a typo, or an option it does not support, such as
// a dilation for a convolution without one — is a ValueError listing the accepted keys, never
// silently ignored; a value of the wrong kind is a ValueError too. Finer checks (ranges,
// integers, pairs) stay with each function. To accept a new option, add its key to the spec.
import { ValueError, show } from "./errors.ts";

/** The kind of value an option takes. "any" leaves the value to the function's own check. */
export type Kind = "number" | "integer" | "boolean" | "string" | "function" | "object" | "array" | "any";

/** An option's value check where a kind is not precise enough. */
export interface Custom {
  readonly is: (v: unknown) => boolean;
  /** What the value must be, for the message: "a positive integer or a pair [h, w]". */
  readonly what: string;
}

/** The accepted keys of an options object, each with the kinds of value it takes (any of them). */
export type OptionSpec = Readonly<Record<string, Kind | readonly Kind[] | Custom>>;

const isKind: Record<Kind, (v: unknown) => boolean> = {
  number: (v) => typeof v === "number",
  integer: (v) => typeof v === "number" && Number.isInteger(v),
  boolean: (v) => typeof v === "boolean",
  string: (v) => typeof v === "string",
  function: (v) => typeof v === "function",
  object: (v) => typeof v === "object" && v !== null && !Array.isArray(v),
  array: (v) => Array.isArray(v),
  any: () => true,
};

const kindText: Record<Kind, string> = {
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  string: "a string",
  function: "a function",
  object: "an object",
  array: "an array",
  any: "anything",
};

const orList = (xs: readonly string[]): string => (xs.length <= 1 ? (xs[0] ?? "") : `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`);

/** Edit distance (a swap of neighbours counts one; case is ignored), for "did you mean". */
const distance = (a: string, b: string): number => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++)
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[x.length]![y.length]!;
};

const suggestion = (key: string, accepted: readonly string[]): string => {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of accepted) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 3)) ? ` (did you mean ${best}?)` : "";
};

/**
 * Checks `options` of operation `op` against `spec` and returns it. `undefined` passes (the
 * defaults), and so does a key whose value is undefined; anything but an object, an own key not
 * in `spec`, or a value of a kind its key does not take is a ValueError naming `op`, the key,
 * and the accepted keys. `path` names a nested options object in messages ("evaluate").
 */
export function checkOptions<T>(op: string, options: T, spec: OptionSpec, path = ""): T {
  if (options === undefined) return options;
  const where = path === "" ? "options" : path;
  const accepted = Object.keys(spec);
  const list = accepted.length === 0 ? "none" : accepted.join(", ");
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new ValueError(`${op}: ${where} must be an object with the keys ${list} (each optional unless said otherwise), got ${show(options)}`);
  for (const key of Object.keys(options)) {
    const v = (options as Record<string, unknown>)[key];
    if (v === undefined) continue; // not given: the default, whatever the key
    const name = path === "" ? key : `${path}.${key}`;
    const kinds = Object.prototype.hasOwnProperty.call(spec, key) ? spec[key] : undefined;
    if (kinds === undefined)
      throw new ValueError(
        `${op}: option ${name} is not supported${suggestion(key, accepted)}; the accepted ${path === "" ? "options" : `keys of ${path}`} are ${list}`,
      );
    if (typeof kinds === "object" && !Array.isArray(kinds)) {
      const custom = kinds as Custom;
      if (!custom.is(v)) throw new ValueError(`${op}: option ${name} must be ${custom.what}, got ${show(v)}`);
      continue;
    }
    const ks = (typeof kinds === "string" ? [kinds] : kinds) as readonly Kind[];
    if (!ks.some((k) => isKind[k](v))) throw new ValueError(`${op}: option ${name} must be ${orList(ks.map((k) => kindText[k]))}, got ${show(v)}`);
  }
  return options;
}
