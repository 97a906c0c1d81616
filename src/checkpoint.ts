// Checkpoints: parameter pytrees (numbers and tensors inside plain objects and arrays) as the
// bytes of one binary file, and back. Reading and writing files is yieldiff/node's
// (../node/checkpoint-files.ts), so that this module runs wherever JavaScript runs.
//
// File layout (all integers little-endian):
//
//   offset  size  field
//   0       8     magic "YDFCKPT\n"
//   8       4     format version (uint32) = 1
//   12      4     header length in bytes (uint32)
//   16      4     CRC-32 of the header bytes (uint32)
//   20      4     CRC-32 of the data section (uint32)
//   24      H     header: UTF-8 JSON (see `Header`)
//   24+H    pad   zero bytes up to a multiple of 8
//   D       N     data: each leaf's values, little-endian float32/float64, 8-byte aligned
//
// The file ends exactly at D + N. Loading checks every length and offset against the real
// file size before it allocates anything, parses the header with JSON.parse only (nothing is
// evaluated), builds objects without prototypes being reachable (`__proto__`, `constructor`
// stay ordinary keys), and never writes to the `like` tree it compares against.
import { Traced, primal } from "../effects/value.ts";
import { YieldiffError, fmt, show } from "./errors.ts";
import { checkOptions, type OptionSpec } from "./options.ts";
import { sizeProblem } from "./tensor/shape.ts";
import { Tensor, fromBuffer, type Buffer, type DType } from "./tensor/tensor.ts";

/** What went wrong with a checkpoint, as a stable code (the message says it in words). */
export type CheckpointErrorReason =
  | "io" // the file could not be read or written
  | "not-a-file" // the path is a directory, a FIFO, a device or a socket: only regular files are read
  | "truncated" // the file is shorter than its own header says
  | "bad-magic" // not a yieldiff checkpoint
  | "unsupported-version" // written by a newer (or unknown) format version
  | "corrupted" // a checksum does not match, or the file is longer than it should be
  | "bad-header" // the header is not the JSON this format writes
  | "mismatch" // the file's tree, shapes or dtypes differ from `like`
  | "unsupported-value"; // saveCheckpoint was given something that is not a parameter pytree

/** A checkpoint that cannot be written or read: the reason code and a message saying what to do. */
export class CheckpointError extends YieldiffError {
  readonly _tag = "CheckpointError" as const;
  override name = "CheckpointError";
  readonly reason: CheckpointErrorReason;
  readonly path: string | undefined;
  constructor(reason: CheckpointErrorReason, message: string, path?: string) {
    super(path === undefined ? message : `${message} (file ${path})`);
    this.reason = reason;
    this.path = path;
  }
}

export const CHECKPOINT_MAGIC = "YDFCKPT\n";
/** The checkpoint format version this library writes and reads. */
export const CHECKPOINT_VERSION = 1;
const PREFIX = 24;
/** Nesting deeper than this is refused (a hostile header could otherwise exhaust the stack). */
const MAX_DEPTH = 256;

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, the polynomial of zip and PNG)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`; pass the previous result as `crc` to continue over several chunks. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Header

/** A node of the saved tree. Objects keep their keys as [key, node] pairs (never as JS keys). */
type Node =
  | { t: "tensor"; leaf: number }
  | { t: "number"; leaf: number }
  | { t: "array"; items: Node[] }
  | { t: "object"; entries: [string, Node][] };

interface LeafInfo {
  dtype: DType;
  shape: number[];
  /** Byte offset of the leaf's values, from the start of the data section. */
  offset: number;
  /** Byte length of the leaf's values (size × bytes per element). */
  bytes: number;
}

interface Header {
  format: "yieldiff-checkpoint";
  tree: Node;
  leaves: LeafInfo[];
  dataBytes: number;
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8 };
const align8 = (n: number): number => Math.ceil(n / 8) * 8;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

const pathKey = (path: string, key: string): string =>
  /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

// ---------------------------------------------------------------------------------------------
// Encoding

/** The bytes of a checkpoint of `params` (what `saveCheckpoint` writes). */
export function encodeCheckpoint(params: unknown): Uint8Array {
  const leaves: LeafInfo[] = [];
  const values: (number | Tensor)[] = [];
  let dataBytes = 0;
  const addLeaf = (value: number | Tensor, dtype: DType, shape: number[]): number => {
    const bytes = (value instanceof Tensor ? value.size : 1) * BYTES[dtype];
    leaves.push({ dtype, shape, offset: dataBytes, bytes });
    values.push(value);
    dataBytes = align8(dataBytes + bytes);
    return leaves.length - 1;
  };
  const seen = new Set<object>();
  const visit = (x: unknown, path: string, depth: number): Node => {
    if (depth > MAX_DEPTH) throw new CheckpointError("unsupported-value", `saveCheckpoint: ${path} is nested deeper than ${MAX_DEPTH} levels`);
    if (typeof x === "number") return { t: "number", leaf: addLeaf(x, "float64", []) };
    if (x instanceof Tensor) return { t: "tensor", leaf: addLeaf(x, x.dtype, x.shape.slice()) };
    if (x instanceof Traced)
      throw new CheckpointError(
        "unsupported-value",
        `saveCheckpoint: ${path} is a traced value (${x.toString()}); save parameters outside transformations, or pass primal(v)`,
      );
    if (typeof x === "object" && x !== null) {
      if (seen.has(x)) throw new CheckpointError("unsupported-value", `saveCheckpoint: ${path} refers back to one of its ancestors (a cycle)`);
      if (Array.isArray(x)) {
        seen.add(x);
        const items = x.map((v, i) => visit(v, `${path}[${i}]`, depth + 1));
        seen.delete(x);
        return { t: "array", items };
      }
      if (isPlainObject(x)) {
        seen.add(x);
        const entries = Object.keys(x).map((k): [string, Node] => [k, visit(x[k], pathKey(path, k), depth + 1)]);
        seen.delete(x);
        return { t: "object", entries };
      }
    }
    const what = x === null ? "null" : typeof x === "object" ? `an instance of ${(x as object).constructor?.name ?? "a class"}` : typeof x;
    throw new CheckpointError(
      "unsupported-value",
      `saveCheckpoint: ${path} is ${what}; a checkpoint holds numbers and tensors inside plain objects and arrays`,
    );
  };
  const tree = visit(params, "params", 0);
  const header: Header = { format: "yieldiff-checkpoint", tree, leaves, dataBytes };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align8(PREFIX + headerBytes.length);
  const out = new Uint8Array(dataStart + dataBytes);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = CHECKPOINT_MAGIC.charCodeAt(i);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, crc32(headerBytes), true);
  out.set(headerBytes, PREFIX);
  for (let i = 0; i < leaves.length; i++) {
    const { dtype, offset } = leaves[i]!;
    const v = values[i]!;
    const at = dataStart + offset;
    if (typeof v === "number") view.setFloat64(at, v, true);
    else writeValues(out, view, at, v.buf, dtype);
  }
  view.setUint32(20, crc32(out.subarray(dataStart)), true);
  return out;
}

const writeValues = (out: Uint8Array, view: DataView, at: number, buf: Buffer, dtype: DType): void => {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), at);
    return;
  }
  const step = BYTES[dtype];
  for (let i = 0; i < buf.length; i++) {
    if (dtype === "float32") view.setFloat32(at + i * step, buf[i]!, true);
    else view.setFloat64(at + i * step, buf[i]!, true);
  }
};

// ---------------------------------------------------------------------------------------------
// Decoding

/** Where the bytes come from: a file (read on demand) or memory. */
export interface CheckpointSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; the caller has checked the range against `size`. */
  read(offset: number, length: number): Uint8Array;
}

/** Options of `decodeCheckpoint` and `loadCheckpoint`. */
export interface LoadOptions {
  /**
   * A pytree the checkpoint must match: the same structure (object keys, array lengths, numbers
   * where numbers are), and at each tensor the same shape and dtype. It is only read.
   */
  like?: unknown;
}

/** Decodes checkpoint bytes (what `encodeCheckpoint` made), with the same checks as `loadCheckpoint`. */
export function decodeCheckpoint<T = unknown>(bytes: Uint8Array, options: LoadOptions = {}): T {
  checkOptions("decodeCheckpoint", options, LOAD_OPTIONS);
  const source: CheckpointSource = { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
  return decodeSource(source, options) as T;
}

/** The options decodeCheckpoint and loadCheckpoint accept (any other key is a ValueError). */
export const LOAD_OPTIONS: OptionSpec = { like: "any" };

const fail = (reason: CheckpointErrorReason, message: string): never => {
  throw new CheckpointError(reason, `loadCheckpoint: ${message}`);
};

/** Decodes a checkpoint read through `src` (only the ranges it needs, each checked first). */
export function decodeSource(src: CheckpointSource, options: LoadOptions): unknown {
  checkOptions("loadCheckpoint", options, LOAD_OPTIONS);
  // 1. The fixed prefix.
  const start = src.read(0, Math.min(src.size, PREFIX));
  for (let i = 0; i < Math.min(8, start.length); i++)
    if (start[i] !== CHECKPOINT_MAGIC.charCodeAt(i))
      fail("bad-magic", "the file does not start with the checkpoint magic bytes \"YDFCKPT\\n\"; it is not a yieldiff checkpoint");
  if (src.size < PREFIX) fail("truncated", `the file has ${src.size} bytes, fewer than the ${PREFIX}-byte prefix of a checkpoint`);
  const prefix = start;
  const view = new DataView(prefix.buffer, prefix.byteOffset, PREFIX);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION)
    fail("unsupported-version", `format version ${version} is not supported (this yieldiff reads version ${CHECKPOINT_VERSION})`);
  const headerLength = view.getUint32(12, true);
  const headerCrc = view.getUint32(16, true);
  const dataCrc = view.getUint32(20, true);

  // 2. The header: its claimed length is checked against the file size before it is read.
  if (headerLength > src.size - PREFIX)
    fail("truncated", `the header claims ${headerLength} bytes but only ${src.size - PREFIX} follow the prefix`);
  const headerBytes = src.read(PREFIX, headerLength);
  if (crc32(headerBytes) !== headerCrc) fail("corrupted", "the header's CRC-32 does not match: the file is corrupted");
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (e) {
    return fail("bad-header", `the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  const dataStart = align8(PREFIX + headerLength);
  const header = checkHeader(raw, src.size, dataStart);
  // The zero padding between header and data is covered by no checksum: it must be zero.
  if (src.read(PREFIX + headerLength, dataStart - PREFIX - headerLength).some((b) => b !== 0))
    fail("corrupted", "the padding after the header is not zero: the file is corrupted");

  // 3. The data section: every range was checked in checkHeader, so these reads are in bounds.
  const data = src.read(dataStart, header.dataBytes);
  if (crc32(data) !== dataCrc) fail("corrupted", "the data section's CRC-32 does not match: the file is corrupted");

  // 4. Compare with `like` before building anything the caller sees.
  if (options.like !== undefined) compareLike(header, header.tree, options.like, "params", 0);

  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const leafValue = (i: number, asNumber: boolean): number | Tensor => {
    const { dtype, shape, offset, bytes } = header.leaves[i]!;
    if (asNumber) return dv.getFloat64(offset, true);
    const n = bytes / BYTES[dtype];
    const buf = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    if (LITTLE_ENDIAN) new Uint8Array(buf.buffer).set(data.subarray(offset, offset + bytes));
    else
      for (let k = 0; k < n; k++)
        buf[k] = dtype === "float32" ? dv.getFloat32(offset + 4 * k, true) : dv.getFloat64(offset + 8 * k, true);
    return fromBuffer(buf, shape);
  };
  const build = (node: Node): unknown => {
    switch (node.t) {
      case "number":
        return leafValue(node.leaf, true);
      case "tensor":
        return leafValue(node.leaf, false);
      case "array":
        return node.items.map(build);
      case "object": {
        // A plain object, with every key defined as an own data property: "__proto__" and
        // "constructor" become ordinary keys and never reach a prototype.
        const out: Record<string, unknown> = {};
        for (const [k, child] of node.entries)
          Object.defineProperty(out, k, { value: build(child), enumerable: true, writable: true, configurable: true });
        return out;
      }
    }
  };
  return build(header.tree);
}

/** Validates the parsed header against the format and the file size; returns it typed. */
function checkHeader(raw: unknown, fileSize: number, dataStart: number): Header {
  const bad = (what: string): never => fail("bad-header", `the header is malformed: ${what}`);
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  const own = (o: Record<string, unknown>, k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
  if (!isObj(raw)) return bad("not a JSON object");
  if (own(raw, "format") !== "yieldiff-checkpoint") bad(`"format" is not "yieldiff-checkpoint"`);
  const dataBytes = own(raw, "dataBytes");
  if (typeof dataBytes !== "number" || !Number.isSafeInteger(dataBytes) || dataBytes < 0) return bad(`"dataBytes" is not a non-negative integer`);
  // The claimed data size against the real file size, before anything is allocated for it.
  const available = fileSize - dataStart;
  if (dataBytes > available)
    fail("truncated", `the header claims ${dataBytes} bytes of data but the file holds ${Math.max(0, available)} after the header`);
  if (dataBytes < available) fail("corrupted", `the file has ${available - dataBytes} bytes more than its header accounts for`);

  const rawLeaves = own(raw, "leaves");
  if (!Array.isArray(rawLeaves)) return bad(`"leaves" is not an array`);
  const leaves: LeafInfo[] = [];
  let end = 0;
  for (let i = 0; i < rawLeaves.length; i++) {
    const l = rawLeaves[i];
    if (!isObj(l)) return bad(`leaf ${i} is not an object`);
    const dtype = own(l, "dtype");
    if (dtype !== "float32" && dtype !== "float64") return bad(`leaf ${i} has dtype ${show(dtype)}; expected "float32" or "float64"`);
    const shape = own(l, "shape");
    if (!Array.isArray(shape) || shape.length > 32 || !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0))
      return bad(`leaf ${i} has shape ${show(shape)}; expected up to 32 non-negative integers`);
    const offset = own(l, "offset");
    const bytes = own(l, "bytes");
    if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0 || offset % 8 !== 0)
      return bad(`leaf ${i} has offset ${show(offset)}; expected a non-negative multiple of 8`);
    if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 0) return bad(`leaf ${i} has byte length ${show(bytes)}`);
    let size = 1;
    for (const d of shape as number[]) size *= d;
    if (size * BYTES[dtype] !== bytes)
      return bad(`leaf ${i}: shape ${fmt(shape as number[])} of ${dtype} needs ${size * BYTES[dtype]} bytes, the header says ${bytes}`);
    // Every claimed range lies inside the data section and after the previous leaf.
    if (offset < end) return bad(`leaf ${i} starts at byte ${offset}, inside the previous leaf (which ends at ${end})`);
    if (offset + bytes > dataBytes)
      fail("truncated", `leaf ${i} claims bytes ${offset}..${offset + bytes} of a data section of ${dataBytes} bytes`);
    const tooLarge = sizeProblem(shape as number[]); // a size-0 leaf whose other axes are huge
    if (tooLarge !== undefined) return bad(`leaf ${i} has shape ${fmt(shape as number[])}, which has ${tooLarge}`);
    end = offset + bytes;
    leaves.push({ dtype, shape: (shape as number[]).slice(), offset, bytes });
  }

  const used = new Uint8Array(leaves.length);
  const checkNode = (n: unknown, depth: number): Node => {
    if (depth > MAX_DEPTH) return bad(`the tree is nested deeper than ${MAX_DEPTH} levels`);
    if (!isObj(n)) return bad("a tree node is not an object");
    const t = own(n, "t");
    if (t === "tensor" || t === "number") {
      const leaf = own(n, "leaf");
      if (typeof leaf !== "number" || !Number.isInteger(leaf) || leaf < 0 || leaf >= leaves.length)
        return bad(`a ${t} node refers to leaf ${show(leaf)}, but there are ${leaves.length} leaves`);
      if (used[leaf]) return bad(`leaf ${leaf} is used twice`);
      used[leaf] = 1;
      if (t === "number" && (leaves[leaf]!.dtype !== "float64" || leaves[leaf]!.shape.length !== 0))
        return bad(`number leaf ${leaf} is not a float64 scalar`);
      return { t, leaf };
    }
    if (t === "array") {
      const items = own(n, "items");
      if (!Array.isArray(items)) return bad(`an array node has no "items" array`);
      return { t, items: items.map((c) => checkNode(c, depth + 1)) };
    }
    if (t === "object") {
      const entries = own(n, "entries");
      if (!Array.isArray(entries)) return bad(`an object node has no "entries" array`);
      const keys = new Set<string>();
      const out: [string, Node][] = [];
      for (const e of entries) {
        if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== "string") return bad("an object entry is not a [key, node] pair");
        if (keys.has(e[0])) return bad(`the key ${JSON.stringify(e[0])} appears twice in one object`);
        keys.add(e[0]);
        out.push([e[0], checkNode(e[1], depth + 1)]);
      }
      return { t, entries: out };
    }
    return bad(`a tree node has type ${show(t)}`);
  };
  const tree = checkNode(own(raw, "tree"), 0);
  const unused = used.indexOf(0);
  if (unused !== -1) bad(`leaf ${unused} is not used by the tree`);
  return { format: "yieldiff-checkpoint", tree, leaves, dataBytes };
}

/** Throws a "mismatch" CheckpointError naming the first place where the file differs from `like`. */
function compareLike(header: Header, node: Node, like: unknown, path: string, depth: number): void {
  const mismatch = (what: string): never => fail("mismatch", `the checkpoint does not match the expected parameters at ${path}: ${what}`);
  const describe = (n: Node): string =>
    n.t === "tensor"
      ? `a ${header.leaves[n.leaf]!.dtype} tensor of shape ${fmt(header.leaves[n.leaf]!.shape)}`
      : n.t === "number"
        ? "a number"
        : n.t === "array"
          ? `an array of ${n.items.length}`
          : `an object with keys ${JSON.stringify(n.entries.map(([k]) => k))}`;
  const likeValue: unknown = like instanceof Traced ? primal(like) : like;
  if (depth > MAX_DEPTH) mismatch("nested too deeply");
  if (typeof likeValue === "number") {
    if (node.t !== "number") mismatch(`the file has ${describe(node)}, expected a number`);
    return;
  }
  if (likeValue instanceof Tensor) {
    if (node.t !== "tensor") return mismatch(`the file has ${describe(node)}, expected a ${likeValue.dtype} tensor of shape ${fmt(likeValue.shape)}`);
    const leaf = header.leaves[node.leaf]!;
    const sameShape = leaf.shape.length === likeValue.shape.length && leaf.shape.every((d, i) => d === likeValue.shape[i]);
    if (!sameShape) mismatch(`shape ${fmt(leaf.shape)} in the file, ${fmt(likeValue.shape)} expected`);
    if (leaf.dtype !== likeValue.dtype) mismatch(`dtype ${leaf.dtype} in the file, ${likeValue.dtype} expected`);
    return;
  }
  if (Array.isArray(likeValue)) {
    if (node.t !== "array") return mismatch(`the file has ${describe(node)}, expected an array of ${likeValue.length}`);
    if (node.items.length !== likeValue.length) mismatch(`the file has an array of ${node.items.length}, expected ${likeValue.length} items`);
    node.items.forEach((child, i) => compareLike(header, child, likeValue[i], `${path}[${i}]`, depth + 1));
    return;
  }
  if (isPlainObject(likeValue)) {
    const keys = Object.keys(likeValue);
    if (node.t !== "object") return mismatch(`the file has ${describe(node)}, expected an object with keys ${JSON.stringify(keys)}`);
    const fileKeys = node.entries.map(([k]) => k);
    const missing = keys.filter((k) => !fileKeys.includes(k));
    const extra = fileKeys.filter((k) => !keys.includes(k));
    if (missing.length > 0 || extra.length > 0)
      mismatch(
        [missing.length ? `missing keys ${JSON.stringify(missing)}` : "", extra.length ? `unexpected keys ${JSON.stringify(extra)}` : ""]
          .filter(Boolean)
          .join(", "),
      );
    for (const [k, child] of node.entries) compareLike(header, child, likeValue[k], pathKey(path, k), depth + 1);
    return;
  }
  mismatch(`expected a number, a tensor, an array or a plain object in \`like\`, got ${likeValue === null ? "null" : typeof likeValue}`);
}
