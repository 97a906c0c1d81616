import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  CheckpointError,
  crc32,
  decodeCheckpoint,
  encodeCheckpoint,
  type CheckpointErrorReason,
} from "../src/checkpoint.ts";
import { loadCheckpoint, saveCheckpoint } from "../src/node/index.ts";
import { Tensor, optim, randn, tensor, zeros } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "yieldiff-ckpt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (): string => join(dir, `ckpt-${counter++}.ydf`);

const makeParams = () => ({
  conv: { w: randn([2, 1, 3, 3], { seed: 1, dtype: "float32" }), b: tensor([0.5, -0.25], { dtype: "float32" }) },
  layers: [
    { w: randn([3, 4], { seed: 2 }), b: zeros([4]) },
    { w: randn([4, 2], { seed: 3, dtype: "float32" }), b: tensor([1, 2], { dtype: "float32" }) },
  ],
  scale: 1.5,
  empty: [] as Tensor[],
  none: {},
  zeroSized: zeros([0, 3], "float32"),
  scalar: tensor(3.25),
  special: tensor([NaN, -0, Infinity, -Infinity, 1e-310, 3.4e38], { dtype: "float64" }),
});

/** Every leaf's dtype, shape and exact values (NaN and -0 compared by bits), with the tree's shape. */
const snapshot = (x: unknown): unknown => {
  if (x instanceof Tensor) return { dtype: x.dtype, shape: [...x.shape], bits: Array.from(new Uint8Array(x.data.buffer)) };
  if (typeof x === "number") return { number: Object.is(x, -0) ? "-0" : String(x) };
  if (Array.isArray(x)) return x.map(snapshot);
  if (typeof x === "object" && x !== null) {
    const out: Record<string, unknown> = Object.create(null);
    for (const k of Object.keys(x)) out[k] = snapshot((x as Record<string, unknown>)[k]);
    return { proto: Object.getPrototypeOf(x) === Object.prototype, keys: Object.keys(x), values: out };
  }
  return x;
};

const reasonOf = (f: () => unknown): CheckpointErrorReason | "no error" | string => {
  try {
    f();
    return "no error";
  } catch (e) {
    if (e instanceof CheckpointError) {
      expect(e._tag).toBe("CheckpointError");
      expect(e.message).toMatch(/checkpoint/i);
      return e.reason;
    }
    return `unexpected ${(e as Error).name}: ${(e as Error).message}`;
  }
};

/** Parses a checkpoint's header, lets `edit` change it, and writes it back with valid CRCs. */
const withHeader = (bytes: Uint8Array, edit: (header: any) => void, data?: Uint8Array): Uint8Array => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(24, 24 + hlen)));
  const oldStart = Math.ceil((24 + hlen) / 8) * 8;
  const body = data ?? bytes.subarray(oldStart);
  edit(header);
  const h = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((24 + h.length) / 8) * 8;
  const out = new Uint8Array(start + body.length);
  out.set(bytes.subarray(0, 24));
  const ov = new DataView(out.buffer);
  ov.setUint32(12, h.length, true);
  ov.setUint32(16, crc32(h), true);
  ov.setUint32(20, crc32(body), true);
  out.set(h, 24);
  out.set(body, start);
  return out;
};

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const bytes = new TextEncoder().encode("hello, checkpoint");
    expect(crc32(bytes.subarray(5), crc32(bytes.subarray(0, 5)))).toBe(crc32(bytes));
  });
});

describe("saveCheckpoint / loadCheckpoint round trip", () => {
  it("restores nested float32 and float64 pytrees exactly (structure, dtypes, shapes, bits)", () => {
    const params = makeParams();
    const path = fresh();
    saveCheckpoint(path, params);
    const loaded = loadCheckpoint(path);
    expect(snapshot(loaded)).toEqual(snapshot(params));
    const again = loadCheckpoint(path, { like: params });
    expect(snapshot(again)).toEqual(snapshot(params));
    // fresh objects and buffers, not the live ones
    expect((loaded as any).conv.w).not.toBe(params.conv.w);
    expect(typeof (loaded as any).scale).toBe("number");
    expect((loaded as any).conv.w.dtype).toBe("float32");
    expect((loaded as any).layers[0].w.dtype).toBe("float64");
  });

  it("round-trips a bare tensor, a bare number and random trees", () => {
    for (const p of [tensor([[1, 2], [3, 4]], { dtype: "float32" }), 7, [1, [2, [3]]]]) {
      const path = fresh();
      saveCheckpoint(path, p);
      expect(snapshot(loadCheckpoint(path))).toEqual(snapshot(p));
    }
    const leaf = fc.oneof(
      fc.double(),
      fc
        .tuple(fc.array(fc.double(), { maxLength: 6 }), fc.constantFrom("float32" as const, "float64" as const))
        .map(([v, dtype]) => tensor(v, { dtype })),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("node"), { maxLength: 3 }), fc.dictionary(fc.string(), tie("node"), { maxKeys: 3, noNullPrototype: true })),
    })).node;
    fc.assert(
      fc.property(tree, (t) => {
        const loaded = decodeCheckpoint(encodeCheckpoint(t), { like: t });
        expect(snapshot(loaded)).toEqual(snapshot(t));
      }),
      { numRuns: 100 },
    );
  });

  it("saves optimizer state next to the parameters, so training can resume", () => {
    const params = { w: randn([3, 2], { seed: 8, dtype: "float32" }), b: zeros([2], "float32") };
    const optimizers: optim.Optimizer<any>[] = [optim.adam({ lr: 0.01 }), optim.sgd({ lr: 0.1, momentum: 0.9 }), optim.adagrad({ lr: 0.1 })];
    for (const opt of optimizers) {
      const grads = { w: randn([3, 2], { seed: 9, dtype: "float32" }), b: tensor([1, -1], { dtype: "float32" }) };
      const [p1, s1] = opt.update(grads, opt.init(params), params);
      const path = fresh();
      saveCheckpoint(path, { params: p1, state: s1 });
      const back = loadCheckpoint<{ params: typeof p1; state: typeof s1 }>(path, { like: { params: p1, state: s1 } });
      expect(snapshot(back)).toEqual(snapshot({ params: p1, state: s1 }));
      // the next step from the reloaded state equals the next step from the live one
      const [pa] = opt.update(grads, s1, p1);
      const [pb] = opt.update(grads, back.state, back.params);
      expect(snapshot(pb)).toEqual(snapshot(pa));
    }
  });

  it("writes atomically: no temporary file is left, and an existing checkpoint is replaced whole", () => {
    const path = fresh();
    saveCheckpoint(path, { w: tensor([1, 2, 3]) });
    saveCheckpoint(path, { w: tensor([4, 5, 6]) });
    expect((loadCheckpoint(path) as any).w.toArray()).toEqual([4, 5, 6]);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a failed save leaves the old file untouched and no temporary file", () => {
    const path = fresh();
    saveCheckpoint(path, { w: tensor([1, 2, 3]) });
    const before = readFileSync(path);
    expect(reasonOf(() => saveCheckpoint(path, { w: tensor([1]), name: "not a leaf" }))).toBe("unsupported-value");
    expect(reasonOf(() => saveCheckpoint(path, { w: new Map() }))).toBe("unsupported-value");
    const cyclic: any = { a: tensor([1]) };
    cyclic.self = cyclic;
    expect(reasonOf(() => saveCheckpoint(path, cyclic))).toBe("unsupported-value");
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(reasonOf(() => saveCheckpoint(join(dir, "no-such-dir", "x.ydf"), { w: tensor([1]) }))).toBe("io");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("reports a missing file as an io error", () => {
    expect(reasonOf(() => loadCheckpoint(join(dir, "missing.ydf")))).toBe("io");
  });
});

describe("loadCheckpoint rejects damaged files", () => {
  const params = makeParams();
  const good = encodeCheckpoint(params);
  const hlen = new DataView(good.buffer).getUint32(12, true);
  const dataStart = Math.ceil((24 + hlen) / 8) * 8;

  /** Loads `bytes` from a file with the live params as `like`; returns the reason and checks the params are intact. */
  const loadBytes = (bytes: Uint8Array): string => {
    const path = fresh();
    writeFileSync(path, bytes);
    const before = snapshot(params);
    const reason = reasonOf(() => loadCheckpoint(path, { like: params }));
    expect(snapshot(params)).toEqual(before);
    expect(reasonOf(() => decodeCheckpoint(bytes))).toBe(reason);
    return reason;
  };

  it("accepts the undamaged file", () => {
    expect(loadBytes(good)).toBe("no error");
  });

  it("truncated at any of several points", () => {
    const cuts = [0, 3, 8, 12, 23, 24, 24 + Math.floor(hlen / 2), 24 + hlen, dataStart, dataStart + 5, good.length - 8, good.length - 1];
    for (const cut of cuts) {
      const reason = loadBytes(good.subarray(0, cut));
      expect([cut, reason]).toEqual([cut, "truncated"]);
    }
  });

  it("a flipped byte in the header or data fails the checksum", () => {
    for (const at of [24, 24 + Math.floor(hlen / 2), 24 + hlen - 1, dataStart, dataStart + 13, good.length - 1]) {
      const bad = good.slice();
      bad[at]! ^= 0x40;
      expect([at, loadBytes(bad)]).toEqual([at, "corrupted"]);
    }
    const badCrc = good.slice();
    badCrc[20]! ^= 1;
    expect(loadBytes(badCrc)).toBe("corrupted");
  });

  it("every single-bit flip anywhere in a small file is caught", () => {
    const small = encodeCheckpoint({ w: tensor([1, 2], { dtype: "float32" }), b: 0.5 });
    for (let at = 0; at < small.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = small.slice();
        bad[at]! ^= 1 << bit;
        const reason = reasonOf(() => decodeCheckpoint(bad));
        expect(["truncated", "bad-magic", "unsupported-version", "corrupted", "bad-header"], `byte ${at} bit ${bit}`).toContain(reason);
      }
    }
  });

  it("trailing bytes after the data are rejected", () => {
    const longer = new Uint8Array(good.length + 8);
    longer.set(good);
    expect(loadBytes(longer)).toBe("corrupted");
  });

  it("bad magic and unsupported versions", () => {
    const notOurs = good.slice();
    notOurs.set(new TextEncoder().encode("PK\x03\x04"), 0);
    expect(loadBytes(notOurs)).toBe("bad-magic");
    expect(loadBytes(new TextEncoder().encode("hello"))).toBe("bad-magic");
    const v2 = good.slice();
    new DataView(v2.buffer).setUint32(8, 2, true);
    expect(loadBytes(v2)).toBe("unsupported-version");
  });

  it("a header claiming more bytes than the file holds is rejected before anything is allocated", () => {
    // Claims far beyond what any typed array could hold: allocating first would throw a RangeError
    // (an "io" or unexpected error here), not the "truncated" checkpoint error.
    const hugeHeader = good.slice();
    new DataView(hugeHeader.buffer).setUint32(12, 0xffffffff, true);
    expect(loadBytes(hugeHeader)).toBe("truncated");

    const hugeData = withHeader(good, (h) => {
      h.dataBytes = 2 ** 52;
    });
    expect(loadBytes(hugeData)).toBe("truncated");

    const hugeLeaf = withHeader(good, (h) => {
      const last = h.leaves.length - 1;
      h.leaves[last].shape = [2 ** 20, 2 ** 20];
      h.leaves[last].bytes = 2 ** 43;
    });
    expect(loadBytes(hugeLeaf)).toBe("truncated");

    const inconsistent = withHeader(good, (h) => {
      h.leaves[0].bytes = h.leaves[0].bytes * 2; // bytes disagree with the shape
    });
    expect(loadBytes(inconsistent)).toBe("bad-header");

    const overlapping = withHeader(good, (h) => {
      h.leaves[1].offset = 0;
    });
    expect(loadBytes(overlapping)).toBe("bad-header");
  });

  it("malformed headers (valid checksum) are rejected, not evaluated", () => {
    const cases: ((h: any) => void)[] = [
      (h) => {
        h.format = "something else";
      },
      (h) => {
        h.leaves[0].dtype = "int32";
      },
      (h) => {
        h.leaves[0].shape = [-1, 2];
      },
      (h) => {
        h.leaves[0].shape = ["2"];
      },
      (h) => {
        h.tree = { t: "function", body: "process.exit(1)" };
      },
      (h) => {
        h.tree = { t: "tensor", leaf: 999 };
      },
      (h) => {
        h.tree.entries.push(["again", h.tree.entries[0][1]]); // a leaf used twice
      },
      (h) => {
        h.tree.entries.push(h.tree.entries[0]); // a duplicate key
      },
      (h) => {
        h.tree.entries = []; // leaves that no node uses
      },
    ];
    for (const edit of cases) expect(loadBytes(withHeader(good, edit))).toBe("bad-header");
    const notJson = good.slice();
    const h = new TextEncoder().encode("{".padEnd(hlen, " "));
    notJson.set(h, 24);
    new DataView(notJson.buffer).setUint32(16, crc32(h), true);
    expect(loadBytes(notJson)).toBe("bad-header");
    let deep: any = { t: "number", leaf: 0 };
    for (let i = 0; i < 300; i++) deep = { t: "array", items: [deep] };
    const deepFile = withHeader(
      encodeCheckpoint(1),
      (hd) => {
        hd.tree = deep;
      },
    );
    expect(reasonOf(() => decodeCheckpoint(deepFile))).toBe("bad-header");
  });
});

describe("loadCheckpoint with `like`", () => {
  const params = { dense: { w: randn([3, 2], { seed: 4, dtype: "float32" }), b: zeros([2], "float32") }, layers: [zeros([2]), zeros([3])], t: 2 };
  const path = fresh();
  saveCheckpoint(path, params);

  const expectMismatch = (like: unknown, pattern: RegExp): void => {
    const before = snapshot(like);
    try {
      loadCheckpoint(path, { like });
      expect.unreachable("the load should have failed");
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect((e as CheckpointError).reason).toBe("mismatch");
      expect((e as CheckpointError).message).toMatch(pattern);
    }
    expect(snapshot(like)).toEqual(before);
  };

  it("rejects a different shape, naming the parameter and both shapes", () => {
    expectMismatch({ ...params, dense: { ...params.dense, w: zeros([2, 3], "float32") } }, /params\.dense\.w: shape \[3, 2\] in the file, \[2, 3\] expected/);
  });
  it("rejects a different dtype", () => {
    expectMismatch({ ...params, dense: { ...params.dense, b: zeros([2], "float64") } }, /params\.dense\.b: dtype float32 in the file, float64 expected/);
  });
  it("rejects missing and extra keys, array lengths, and leaf kinds", () => {
    expectMismatch({ ...params, extra: zeros([1]) }, /missing keys \["extra"\]/);
    const { t: _t, ...withoutT } = params;
    expectMismatch(withoutT, /unexpected keys \["t"\]/);
    expectMismatch({ ...params, layers: [zeros([2])] }, /params\.layers: .*expected 1 items/);
    expectMismatch({ ...params, t: zeros([]) }, /params\.t: the file has a number, expected a float64 tensor/);
    expectMismatch({ ...params, layers: { 0: zeros([2]), 1: zeros([3]) } }, /params\.layers: the file has an array of 2, expected an object/);
  });
});

describe("keys that name prototypes", () => {
  it("__proto__, constructor and prototype stay ordinary keys and never pollute Object.prototype", () => {
    const evil = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted2": 2}}, "prototype": 3}');
    // JSON.parse gives own keys; put tensors in them the same way (defineProperty, not assignment)
    Object.defineProperty(evil, "__proto__", { value: { polluted: tensor([1, 2]) }, enumerable: true, writable: true, configurable: true });
    expect(Object.keys(evil)).toEqual(["__proto__", "constructor", "prototype"]);
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const path = fresh();
    saveCheckpoint(path, evil);
    const loaded = loadCheckpoint(path, { like: evil }) as Record<string, any>;
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect(({} as any).polluted).toBeUndefined();
    expect(({} as any).polluted2).toBeUndefined();
    expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
    expect(Object.keys(loaded)).toEqual(["__proto__", "constructor", "prototype"]);
    expect(Object.prototype.hasOwnProperty.call(loaded, "__proto__")).toBe(true);
    const own = Object.getOwnPropertyDescriptor(loaded, "__proto__")!.value;
    expect(own.polluted.toArray()).toEqual([1, 2]);
    expect(Object.getOwnPropertyDescriptor(loaded, "constructor")!.value.prototype.polluted2).toBe(2);
    expect(loaded.prototype).toBe(3);
    expect(typeof ({} as any).constructor).toBe("function");
  });

  it("a hand-made header with prototype keys at the top level is harmless", () => {
    const bytes = withHeader(encodeCheckpoint({ a: 1 }), (h) => {
      h.tree = { t: "object", entries: [["__proto__", { t: "object", entries: [["isAdmin", { t: "number", leaf: 0 }]] }]] };
    });
    const loaded = decodeCheckpoint(bytes) as Record<string, unknown>;
    expect(({} as any).isAdmin).toBeUndefined();
    expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
    expect((loaded as any).isAdmin).toBeUndefined();
    expect(Object.keys(loaded)).toEqual(["__proto__"]);
  });

});
