// Checkpoints as Effects. The file format is yieldiff's own (src/checkpoint.ts: magic, format
// version, CRC-32'd JSON header, little-endian data); here its header is an Effect `Schema`, so
// loading decodes and validates the header (format version, dtypes, shapes, byte lengths, the
// tree) with Schema before any data is touched, and fails with a typed `CheckpointError` whose
// `reason` and message say what is wrong. The payload (the data section and the pytree) is
// decoded by the core's `decodeCheckpoint`, which checks the data checksum and the `like` tree.
//
// Files are read and written through the CheckpointFiles service (./files.ts): yieldiff/effect/node
// provides one over `node:fs/promises` (effect's own `FileSystem` needs a platform package, which
// yieldiff does not depend on). Saving is atomic: a crash or an error leaves the old file or the new one.
import { Effect, Result, Schema } from "effect";
import {
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  CheckpointError,
  crc32,
  decodeCheckpoint,
  encodeCheckpoint,
  type CheckpointErrorReason,
} from "../checkpoint.ts";
import { fmt } from "../errors.ts";
import { sizeProblem } from "../tensor/shape.ts";
import { Tensor, fromBuffer } from "../tensor/tensor.ts";
import { attempt } from "./errors.ts";
import { CheckpointFiles } from "./files.ts";

export { CheckpointError, CHECKPOINT_VERSION, type CheckpointErrorReason };

/** The fixed prefix: magic (8 bytes), version, header length, header CRC-32, data CRC-32 (uint32 LE each). */
export const PREFIX_BYTES = 24;
/** Trees nested deeper than this are refused (as the core does). */
const MAX_DEPTH = 256;
const BYTES_PER = { float32: 4, float64: 8 } as const;
const align8 = (n: number): number => Math.ceil(n / 8) * 8;

// ---------------------------------------------------------------------------------------------
// The header as a Schema

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));

/** The format version this library reads and writes. */
export const FormatVersion = Schema.Literal(CHECKPOINT_VERSION);

/** A leaf's element type. */
export const DType = Schema.Literals(["float32", "float64"]);

/** Where one leaf's values lie in the data section, and what they are. */
export const Leaf = Schema.Struct({
  dtype: DType,
  shape: Schema.Array(NonNegativeInt).check(Schema.isMaxLength(32)),
  /** Byte offset from the start of the data section (a multiple of 8). */
  offset: NonNegativeInt.check(Schema.isMultipleOf(8)),
  /** Byte length: the shape's size × the dtype's bytes. */
  bytes: NonNegativeInt,
}).check(
  Schema.makeFilter((l) => {
    const tooLarge = sizeProblem(l.shape);
    if (tooLarge !== undefined) return { path: ["shape"], issue: `shape ${fmt(l.shape)} has ${tooLarge}` };
    const size = l.shape.reduce((a, d) => a * d, 1);
    const need = size * BYTES_PER[l.dtype];
    return need === l.bytes
      ? undefined
      : { path: ["bytes"], issue: `shape [${l.shape.join(", ")}] of ${l.dtype} needs ${need} bytes, the header says ${l.bytes}` };
  }),
);
export type Leaf = typeof Leaf.Type;

/** A node of the saved tree: a leaf reference, an array, or an object as [key, node] pairs. */
export type TreeNode =
  | { readonly t: "tensor" | "number"; readonly leaf: number }
  | { readonly t: "array"; readonly items: readonly TreeNode[] }
  | { readonly t: "object"; readonly entries: readonly (readonly [string, TreeNode])[] };

const Child = Schema.suspend((): Schema.Codec<TreeNode> => TreeNode);
/** The schema of a saved tree's node. */
export const TreeNode: Schema.Codec<TreeNode> = Schema.Union([
  Schema.Struct({ t: Schema.Literals(["tensor", "number"]), leaf: NonNegativeInt }),
  Schema.Struct({ t: Schema.Literal("array"), items: Schema.Array(Child) }),
  // (a key that appears twice is reported by the header's `consistent` check: a check here would
  // fail this member of the union, and the union's message would lead with the other members')
  Schema.Struct({ t: Schema.Literal("object"), entries: Schema.Array(Schema.Tuple([Schema.String, Child])) }),
]);

/**
 * No object has a key twice; every leaf is used exactly once; number leaves are float64 scalars;
 * leaves are in order, disjoint, inside the data.
 */
const consistent = Schema.makeFilter((h: { tree: TreeNode; leaves: readonly Leaf[]; dataBytes: number }) => {
  const used = new Uint8Array(h.leaves.length);
  const stack: TreeNode[] = [h.tree];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.t === "array") stack.push(...n.items);
    else if (n.t === "object") {
      const seen = new Set<string>();
      for (const [k, c] of n.entries) {
        if (seen.has(k)) return { path: ["tree"], issue: `the key ${JSON.stringify(k)} appears twice in one object` };
        seen.add(k);
        stack.push(c);
      }
    } else {
      if (n.leaf >= h.leaves.length) return { path: ["tree"], issue: `a ${n.t} node refers to leaf ${n.leaf}, but there are ${h.leaves.length} leaves` };
      if (used[n.leaf]) return { path: ["tree"], issue: `leaf ${n.leaf} is used twice` };
      used[n.leaf] = 1;
      const l = h.leaves[n.leaf]!;
      if (n.t === "number" && (l.dtype !== "float64" || l.shape.length !== 0))
        return { path: ["leaves", n.leaf], issue: `number leaf ${n.leaf} is not a float64 scalar` };
    }
  }
  const unused = used.indexOf(0);
  if (unused !== -1) return { path: ["leaves", unused], issue: `leaf ${unused} is not used by the tree` };
  let end = 0;
  for (let i = 0; i < h.leaves.length; i++) {
    const { offset, bytes } = h.leaves[i]!;
    if (offset < end) return { path: ["leaves", i, "offset"], issue: `leaf ${i} starts at byte ${offset}, inside the previous leaf (which ends at ${end})` };
    if (offset + bytes > h.dataBytes)
      return { path: ["leaves", i], issue: `leaf ${i} claims bytes ${offset}..${offset + bytes} of a data section of ${h.dataBytes} bytes` };
    end = offset + bytes;
  }
  return undefined;
});

/** The JSON header of a checkpoint file. */
export const Header = Schema.Struct({
  format: Schema.Literal("yieldiff-checkpoint"),
  tree: TreeNode,
  leaves: Schema.Array(Leaf),
  /** Byte length of the data section. */
  dataBytes: NonNegativeInt,
}).check(consistent);
export type Header = typeof Header.Type;

/** The fixed binary prefix, read before the header. */
export interface Prefix {
  readonly version: number;
  readonly headerLength: number;
  readonly headerCrc: number;
  readonly dataCrc: number;
}

// ---------------------------------------------------------------------------------------------
// Decoding

const failWith = (reason: CheckpointErrorReason, message: string, path?: string): Effect.Effect<never, CheckpointError> =>
  Effect.fail(new CheckpointError(reason, `loadCheckpoint: ${message}`, path));

const decodeVersion = Schema.decodeUnknownResult(FormatVersion);
const decodeHeaderValue = Schema.decodeUnknownResult(Header);

/** Nesting depth of a parsed JSON value, measured without recursion (a hostile header could be deep). */
const jsonDepth = (root: unknown, limit: number): number => {
  let max = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > limit) return max;
    if (typeof v === "object" && v !== null) for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
  return max;
};

/**
 * Reads and validates the prefix and the header of checkpoint bytes: the magic, the format
 * version, the header's checksum, the header against the `Header` schema, and every length
 * against the real size of the bytes. The data section is not read.
 *
 * `bytes` may also be only the start of a file of `fileSize` bytes (the prefix, and the header
 * when the prefix is valid and the header fits in the file): the lengths are then checked
 * against `fileSize`, so that a file's data need not be read to learn that it is too short or
 * too long.
 */
export const decodeHeader = (
  bytes: Uint8Array,
  path?: string,
  fileSize: number = bytes.length,
): Effect.Effect<{ prefix: Prefix; header: Header }, CheckpointError> =>
  Effect.suspend(() => {
    const fail = (reason: CheckpointErrorReason, message: string) => failWith(reason, message, path);
    const size = fileSize;
    for (let i = 0; i < Math.min(8, size, bytes.length); i++)
      if (bytes[i] !== CHECKPOINT_MAGIC.charCodeAt(i))
        return fail("bad-magic", 'the file does not start with the checkpoint magic bytes "YDFCKPT\\n"; it is not a yieldiff checkpoint');
    if (size < PREFIX_BYTES) return fail("truncated", `the file has ${size} bytes, fewer than the ${PREFIX_BYTES}-byte prefix of a checkpoint`);
    if (bytes.length < PREFIX_BYTES) return fail("truncated", `only ${bytes.length} bytes of the ${PREFIX_BYTES}-byte prefix were given`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, PREFIX_BYTES);
    const prefix: Prefix = {
      version: view.getUint32(8, true),
      headerLength: view.getUint32(12, true),
      headerCrc: view.getUint32(16, true),
      dataCrc: view.getUint32(20, true),
    };
    const version = decodeVersion(prefix.version);
    if (Result.isFailure(version))
      return fail("unsupported-version", `format version ${prefix.version} is not supported (this yieldiff reads version ${CHECKPOINT_VERSION})`);
    if (prefix.headerLength > size - PREFIX_BYTES)
      return fail("truncated", `the header claims ${prefix.headerLength} bytes but only ${size - PREFIX_BYTES} follow the prefix`);
    if (bytes.length < PREFIX_BYTES + prefix.headerLength)
      return fail("truncated", `only ${bytes.length - PREFIX_BYTES} of the header's ${prefix.headerLength} bytes were given`);
    const headerBytes = bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + prefix.headerLength);
    if (crc32(headerBytes) !== prefix.headerCrc) return fail("corrupted", "the header's CRC-32 does not match: the file is corrupted");
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
    } catch (e) {
      return fail("bad-header", `the header is not valid UTF-8 JSON (${(e as Error).message})`);
    }
    if (jsonDepth(raw, 2 * MAX_DEPTH + 8) > 2 * MAX_DEPTH + 8) return fail("bad-header", `the header's tree is nested deeper than ${MAX_DEPTH} levels`);
    const decoded = decodeHeaderValue(raw, { errors: "first" });
    if (Result.isFailure(decoded)) return fail("bad-header", `the header does not match the checkpoint header schema: ${decoded.failure.message}`);
    const header = decoded.success;
    const available = size - align8(PREFIX_BYTES + prefix.headerLength);
    if (header.dataBytes > available)
      return fail("truncated", `the header claims ${header.dataBytes} bytes of data but the file holds ${Math.max(0, available)} after the header`);
    if (header.dataBytes < available) return fail("corrupted", `the file has ${available - header.dataBytes} bytes more than its header accounts for`);
    return Effect.succeed({ prefix, header });
  });

/** Options of `load` and `decode`. */
export interface LoadOptions {
  /**
   * A pytree the checkpoint must match: the same structure, and at each tensor the same shape
   * and dtype (a "mismatch" CheckpointError names the first difference). It is only read.
   */
  readonly like?: unknown;
}

const withPath = (path: string | undefined) => (e: CheckpointError) =>
  path === undefined || e.path !== undefined ? e : new CheckpointError(e.reason, e.message, path);

/** Decodes checkpoint bytes: the header with the `Header` schema, then the payload (fresh pytree). */
export const decode = <T = unknown>(bytes: Uint8Array, options: LoadOptions = {}, path?: string): Effect.Effect<T, CheckpointError> =>
  decodeHeader(bytes, path).pipe(
    Effect.andThen(attempt(() => decodeCheckpoint<T>(bytes, options), (e): e is CheckpointError => e instanceof CheckpointError)),
    Effect.mapError(withPath(path)),
  );

/**
 * The bytes of the checkpoint at `path`, from the provided CheckpointFiles (a CheckpointError
 * when they cannot be read; NodeCheckpointFiles reads a regular file only, and only as far as
 * its header declares).
 */
export const readBytes = (path: string): Effect.Effect<Uint8Array, CheckpointError> =>
  Effect.flatMap(Effect.service(CheckpointFiles), (files) => files.read(path));

/** Reads, validates and decodes the checkpoint at `path`; fails with a typed CheckpointError. */
export const load = <T = unknown>(path: string, options: LoadOptions = {}): Effect.Effect<T, CheckpointError> =>
  readBytes(path).pipe(Effect.flatMap((bytes) => decode<T>(bytes, options, path)));

/** True when a file exists at `path`. */
export const exists = (path: string): Effect.Effect<boolean, CheckpointError> =>
  Effect.flatMap(Effect.service(CheckpointFiles), (files) => files.exists(path));

// ---------------------------------------------------------------------------------------------
// Encoding and atomic saving

/** The bytes of a checkpoint of `value` (a pytree of numbers and tensors in plain objects and arrays). */
export const encode = (value: unknown): Effect.Effect<Uint8Array, CheckpointError> =>
  attempt(() => encodeCheckpoint(value), (e): e is CheckpointError => e instanceof CheckpointError);

/**
 * Writes `bytes` to `path` atomically (with the provided CheckpointFiles; NodeCheckpointFiles
 * writes a temporary file next to it, flushes it to disk and renames it over `path`, and is
 * not interrupted halfway); on any error `path` is untouched.
 */
export const writeAtomic = (path: string, bytes: Uint8Array): Effect.Effect<void, CheckpointError> =>
  Effect.flatMap(Effect.service(CheckpointFiles), (files) => files.write(path, bytes));

/** Saves `value` to `path` atomically (see `writeAtomic`); the file loads with `load` or the core `loadCheckpoint`. */
export const save = (path: string, value: unknown): Effect.Effect<void, CheckpointError> =>
  encode(value).pipe(
    Effect.mapError(withPath(path)),
    Effect.flatMap((bytes) => writeAtomic(path, bytes)),
  );

// ---------------------------------------------------------------------------------------------
// Training checkpoints: params, optimizer state and progress in one file

/** What training needs to continue exactly where it stopped. */
export interface TrainingCheckpoint<P, S> {
  readonly params: P;
  /** The optimizer state. */
  readonly state: S;
  /** Steps completed in all. */
  readonly step: number;
  /** The epoch (0-based) the next step belongs to, and the steps of it already done. */
  readonly epoch: number;
  readonly stepInEpoch: number;
  /** The loss of every completed step (its length is `step`). */
  readonly losses: readonly number[];
}

/** The progress part of a training checkpoint, as stored (numbers are float64 scalars in the file). */
export const Progress = Schema.Struct({ step: NonNegativeInt, epoch: NonNegativeInt, stepInEpoch: NonNegativeInt });

const TrainingFile = Schema.Struct({
  params: Schema.Unknown,
  state: Schema.Unknown,
  progress: Progress,
  losses: Schema.instanceOf(Tensor),
}).check(
  Schema.makeFilter((f) =>
    f.losses.shape.length === 1 && f.losses.size === f.progress.step
      ? undefined
      : { path: ["losses"], issue: `holds ${f.losses.size} losses (shape [${f.losses.shape.join(", ")}]) for ${f.progress.step} steps` },
  ),
);
const decodeTrainingFile = Schema.decodeUnknownResult(TrainingFile);

/** The pytree stored for a training checkpoint. */
const toTree = <P, S>(c: TrainingCheckpoint<P, S>) => ({
  params: c.params,
  state: c.state,
  progress: { step: c.step, epoch: c.epoch, stepInEpoch: c.stepInEpoch },
  losses: fromBuffer(Float64Array.from(c.losses), [c.losses.length]),
});

/** Saves a training checkpoint atomically. */
export const saveTraining = <P, S>(path: string, checkpoint: TrainingCheckpoint<P, S>): Effect.Effect<void, CheckpointError> =>
  Effect.suspend(() => save(path, toTree(checkpoint)));

/** The shape of the `losses` leaf a header declares (so that `like` accepts any history length). */
const lossesShape = (header: Header): number[] => {
  if (header.tree.t !== "object") return [0];
  const node = header.tree.entries.find(([k]) => k === "losses")?.[1];
  return node?.t === "tensor" ? header.leaves[node.leaf]!.shape.slice() : [0];
};

/**
 * Loads a training checkpoint. `like.params` and `like.state` are the live parameters and
 * optimizer state: the file must match them (tree, shapes, dtypes); they are only read, so a
 * failed load leaves them as they were.
 */
export const loadTraining = <P, S>(
  path: string,
  like: { readonly params: P; readonly state: S },
): Effect.Effect<TrainingCheckpoint<P, S>, CheckpointError> =>
  Effect.gen(function* () {
    const bytes = yield* readBytes(path);
    const { header } = yield* decodeHeader(bytes, path);
    const shape = lossesShape(header);
    const likeTree = {
      params: like.params,
      state: like.state,
      progress: { step: 0, epoch: 0, stepInEpoch: 0 },
      losses: fromBuffer(new Float64Array(shape.reduce((a, d) => a * d, 1)), shape),
    };
    const raw = yield* decode(bytes, { like: likeTree }, path);
    const file = decodeTrainingFile(raw);
    if (Result.isFailure(file)) return yield* failWith("mismatch", `not a training checkpoint: ${file.failure.message}`, path);
    const { params, state, progress, losses } = file.success;
    return { params: params as P, state: state as S, ...progress, losses: Array.from(losses.buf) };
  });
