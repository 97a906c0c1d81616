// Messages that misled: each names the real problem and the operation the user called.
import { describe, expect, it } from "vitest";
import { Cause, Effect as Fx, Exit } from "effect";
import {
  run, grad, jit, tensor, zeros, sum, mean, softmax, concat, reshape, dynamicIndex, conv2d, maxPool2d, takeRows,
  decodeCheckpoint, CheckpointError, IndexError, ShapeError, ValueError, YieldiffError, type Effect, type Value,
} from "../src/index.ts";
import { perform, caught } from "./perform.ts";
import { crc32 } from "../src/checkpoint.ts";
import { decodeHeader } from "../src/effect/checkpoint.ts";

const expectTagged = (f: () => unknown, cls: abstract new (...a: never[]) => YieldiffError, parts: (string | RegExp)[], absent: (string | RegExp)[] = []): Error => {
  const e = caught(f);
  expect(e).toBeInstanceOf(cls);
  for (const p of parts) {
    if (typeof p === "string") expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
  for (const p of absent) {
    if (typeof p === "string") expect(e.message).not.toContain(p);
    else expect(e.message).not.toMatch(p);
  }
  return e;
};

describe("NaN and Infinity are shown as themselves, not as null", () => {
  it("in shapes", () => {
    expectTagged(() => zeros([NaN, 6]), ShapeError, ["[NaN, 6]"], ["null"]);
    expectTagged(() => perform(() => reshape(zeros([6]), [NaN, 6])), ShapeError, ["reshape", "[NaN, 6]"], ["null"]);
    expectTagged(() => tensor([1], { shape: [Infinity] }), ShapeError, ["[Infinity]"], ["null"]);
  });

  it("in options and dtypes", () => {
    expectTagged(() => perform(() => conv2d(zeros([1, 1, 3, 3]), zeros([1, 1, 1, 1]), { stride: NaN })), ValueError, ["stride", "NaN"], ["null"]);
    expectTagged(() => perform(() => maxPool2d(zeros([1, 1, 4, 4]), { size: [2, NaN] })), ValueError, ["size", "[2, NaN]"], ["null"]);
    expectTagged(() => zeros([2], NaN as never), YieldiffError, ["NaN"], ["null"]);
  });

  it("in a checkpoint's header", () => {
    const e = caught(() => decodeCheckpoint(withHeader(header({ shape: "[1e400]", bytes: 0 }))));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toContain("[Infinity]");
    expect(e.message).not.toContain("null");
  });
});

describe("reshape with more than one -1", () => {
  it("says only one entry may be -1", () => {
    expectTagged(() => perform(() => reshape(zeros([6]), [-1, -1])), ShapeError, ["reshape", "[-1, -1]", /only one/]);
    expectTagged(() => perform(() => reshape(zeros([6]), [-1, 2, -1])), ShapeError, [/only one/]);
  });
});

describe("an axis of a 0-d value", () => {
  it("says a scalar has no axes instead of offering the range [0, -1]", () => {
    for (const op of [() => sum(zeros([]), 0), () => mean(3, 0), () => softmax(zeros([]), 0), () => sum(zeros([]), 0.5)]) {
      const e = expectTagged(() => perform(op), IndexError, [/no axes/]);
      expect(e.message).not.toContain("[0, -1]");
    }
    // rank >= 1 keeps the range
    expectTagged(() => perform(() => sum(zeros([2]), 3)), IndexError, ["[-1, 0]"]);
  });

  it("concat of 0-d values still says to reshape them", () => {
    expectTagged(() => perform(() => concat([zeros([]), zeros([])])), ShapeError, ["concat", "reshape"]);
  });
});

describe("indices that are not integers say so", () => {
  it("dynamicIndex, Tensor.at and takeRows", () => {
    expectTagged(() => perform(() => dynamicIndex(zeros([3]), 0.5)), IndexError, ["dynamicIndex", "0.5", /not an integer/], ["out of range"]);
    expectTagged(() => zeros([3]).at(0.5), IndexError, ["at", "0.5", /not an integer/], ["out of range"]);
    expectTagged(() => takeRows(zeros([3, 2]), [0, 1.5]), IndexError, ["takeRows", "1.5", /not an integer/], ["out of range"]);
    // out of range stays out of range
    expectTagged(() => perform(() => dynamicIndex(zeros([3]), 5)), IndexError, ["5", "out of range"]);
    expectTagged(() => zeros([3]).at(3), IndexError, ["out of range"]);
  });
});

describe("errors name the operation the user called, not an internal primitive", () => {
  it("the gradient of dynamicIndex with a bad index inside jit", () => {
    const g = jit(grad(function* (x: Value, i: Value) {
      return yield* sum(yield* dynamicIndex(x, i));
    }));
    for (const i of [5, 0.5]) {
      const e = expectTagged(() => run(g, zeros([3]), tensor(i)), IndexError, ["dynamicIndex", String(i)]);
      expect(e.message).not.toContain("Adjoint");
    }
  });
});

/** The bytes of a checkpoint whose header is the JSON text `header` and whose data is `dataBytes` zeros. */
const withHeader = ({ text, dataBytes }: { text: string; dataBytes: number }): Uint8Array => {
  const headerBytes = new TextEncoder().encode(text);
  const dataStart = Math.ceil((24 + headerBytes.length) / 8) * 8;
  const out = new Uint8Array(dataStart + dataBytes);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = "YDFCKPT\n".charCodeAt(i);
  view.setUint32(8, 1, true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, crc32(headerBytes), true);
  view.setUint32(20, crc32(new Uint8Array(dataBytes)), true);
  out.set(headerBytes, 24);
  return out;
};
const header = ({ shape, bytes }: { shape: string; bytes: number }) => ({
  text: `{"format":"yieldiff-checkpoint","tree":{"t":"tensor","leaf":0},"leaves":[{"dtype":"float64","shape":${shape},"offset":0,"bytes":${bytes}}],"dataBytes":${bytes}}`,
  dataBytes: bytes,
});

const effectFailure = async (bytes: Uint8Array): Promise<CheckpointError> => {
  const exit = await Fx.runPromiseExit(decodeHeader(bytes));
  if (!Exit.isFailure(exit)) throw new Error("expected a failure");
  const found = Cause.findErrorOption(exit.cause);
  if (found._tag !== "Some") throw new Error("expected a typed failure");
  return found.value;
};

describe("a checkpoint object with a duplicate key", () => {
  const dup = withHeader({
    text:
      `{"format":"yieldiff-checkpoint","tree":{"t":"object","entries":[["a",{"t":"number","leaf":0}],["a",{"t":"number","leaf":1}]]},` +
      `"leaves":[{"dtype":"float64","shape":[],"offset":0,"bytes":8},{"dtype":"float64","shape":[],"offset":8,"bytes":8}],"dataBytes":16}`,
    dataBytes: 16,
  });

  it("is reported as such by the core", () => {
    const e = caught(() => decodeCheckpoint(dup));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toContain(`the key "a" appears twice`);
  });

  it("is reported first, and alone, by yieldiff/effect's header schema", async () => {
    const e = await effectFailure(dup);
    expect(e.reason).toBe("bad-header");
    expect(e.message).toMatch(/schema: the key "a" appears twice/);
    expect(e.message).not.toContain(`Expected "tensor" | "number"`);
  });
});
