// Shapes too large for a tensor: every path that allocates from a user-given shape checks the
// element count first and throws a tagged ShapeError naming the operation, the shape, the count
// and the limit — never the engine's untagged `RangeError: Invalid typed array length`.
import { describe, expect, it } from "vitest";
import {
  run, grad, jit, jacrev, hessian, tensor, zeros, ones, full, randn, rand, arange, eye, type Effect,
  add, mul, where, sum, matmul, reshape, broadcastTo, concat, take, conv2d, avgPool2d, scan,
  encodeCheckpoint, decodeCheckpoint, CheckpointError, ShapeError, YieldiffError, nn, takeRows,
} from "../src/index.ts";
import { perform, caught } from "./perform.ts";
import { Cause, Effect as Fx, Exit } from "effect";
import { crc32 } from "../src/checkpoint.ts";
import { decodeHeader } from "../src/effect/checkpoint.ts";
import { MAX_ELEMENTS } from "../src/tensor/shape.ts";

/** A ShapeError (tagged) whose message names every part. */
const expectTooLarge = (f: () => unknown, parts: (string | RegExp)[]): void => {
  const e = caught(f);
  expect(e).not.toBeInstanceOf(RangeError);
  expect(e).toBeInstanceOf(ShapeError);
  expect((e as ShapeError)._tag).toBe("ShapeError");
  for (const p of parts) {
    if (typeof p === "string") expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
  expect(e.message).toContain(String(MAX_ELEMENTS)); // the limit
};

describe("tensor constructors check the element count before allocating", () => {
  it("zeros, ones and full name the shape and its element count", () => {
    expectTooLarge(() => zeros([1e9, 1e9]), ["zeros", "[1000000000, 1000000000]", "1000000000000000000"]);
    expectTooLarge(() => ones([1e5, 1e5]), ["ones", "[100000, 100000]", "10000000000"]);
    expectTooLarge(() => zeros([2 ** 53]), ["zeros", String(2 ** 53)]);
    expectTooLarge(() => full([1e5, 1e5], 3), ["full", "[100000, 100000]"]);
    expectTooLarge(() => zeros([1e5, 1e5], "float32"), ["zeros"]);
  });

  it("randn and rand", () => {
    expectTooLarge(() => randn([1e9, 1e9]), ["randn", "[1000000000, 1000000000]"]);
    expectTooLarge(() => rand([1e5, 1e5], { seed: 1 }), ["rand", "[100000, 100000]"]);
  });

  it("arange and eye", () => {
    expectTooLarge(() => arange(1e12), ["arange", "1000000000000"]);
    expectTooLarge(() => arange(0, 1, 1e-12), ["arange"]);
    expectTooLarge(() => eye(1e6), ["eye", "[1000000, 1000000]", "1000000000000"]);
  });

  it("a size-0 shape whose other axes are huge (a reduction of it could not be allocated)", () => {
    expectTooLarge(() => zeros([0, 2 ** 52]), ["zeros", `[0, ${2 ** 52}]`]);
    expectTooLarge(() => tensor([], { shape: [0, 1e10] }), ["tensor", "[0, 10000000000]"]);
  });

  it("nn initializers name the initializer; dropoutMask and takeRows", () => {
    expectTooLarge(() => nn.linear.init(0, 1e5, 1e5), [/linear|init/, "[100000, 100000]"]);
    expectTooLarge(() => nn.dropoutMask([1e5, 1e5], 0.5, 1), ["dropoutMask", "[100000, 100000]"]);
    expectTooLarge(() => takeRows(zeros([2, 1e5]), new Int32Array(1e5)), ["takeRows", "[100000, 100000]"]);
  });

  it("a limit that allows ordinary tensors (empty ones included)", () => {
    expect(zeros([0, 1e6]).size).toBe(0);
    expect(zeros([1000, 1000]).size).toBe(1e6);
    expect(arange(0).size).toBe(0);
  });
});

describe("operations that make larger outputs check the output size", () => {
  it("broadcastTo and reshape", () => {
    expectTooLarge(() => perform(() => broadcastTo(1, [1e5, 1e5])), ["broadcastTo", "[100000, 100000]", "10000000000"]);
    expectTooLarge(() => perform(() => broadcastTo(zeros([1e5]), [1e5, 1e5])), ["broadcastTo"]);
    expectTooLarge(() => perform(() => reshape(zeros([0]), [0, 2 ** 40])), ["reshape", `[0, ${2 ** 40}]`]);
    expectTooLarge(() => perform(() => reshape(zeros([0]), [-1, 2 ** 40])), ["reshape"]);
  });

  it("broadcasting binary operations and where", () => {
    expectTooLarge(() => perform(() => add(zeros([1e5, 1]), zeros([1, 1e5]))), ["add", "[100000, 100000]", "10000000000"]);
    expectTooLarge(() => perform(() => mul(zeros([1e5]), zeros([1e5, 1]))), ["mul"]);
    expectTooLarge(() => perform(() => where(zeros([1e5, 1]), zeros([1e5]), 0)), ["where"]);
  });

  it("matmul", () => {
    expectTooLarge(() => perform(() => matmul(zeros([1e5, 1]), zeros([1, 1e5]))), ["matmul", "[100000, 100000]"]);
    expectTooLarge(() => perform(() => matmul(zeros([1e5, 0]), zeros([0, 1e5]))), ["matmul"]);
  });

  it("take with many indices", () => {
    expectTooLarge(() => perform(() => take(zeros([1, 1e5]), zeros([1e5]), 0)), ["take", "[100000, 100000]"]);
  });

  it("conv2d and pooling with huge padding", () => {
    expectTooLarge(() => perform(() => conv2d(zeros([1, 1, 1, 1]), zeros([1, 1, 1, 1]), { padding: 1e5 })), ["conv2d"]);
  });

  it("concat", () => {
    expectTooLarge(() => perform(() => concat([zeros([0, 2 ** 40]), zeros([0, 2 ** 40])])), ["zeros"]);
  });

  it("jacrev and hessian check the Jacobian's size before computing its rows", () => {
    function* identity(x: unknown) {
      return yield* mul(x as number, 1);
    }
    expectTooLarge(() => run(jacrev(identity), zeros([1e5])), ["jacrev", "[100000, 100000]"]);
    function* f(x: unknown) {
      return yield* sum(yield* mul(x as number, x as number));
    }
    expectTooLarge(() => run(hessian(f), zeros([1e5])), ["hessian", "[100000, 100000]"]);
  });

  it("inside jit, under grad and in a scan's stacked outputs", () => {
    const big = jit(function* (x: unknown) {
      return yield* broadcastTo(x as number, [1e5, 1e5]);
    });
    expectTooLarge(() => run(big, zeros([1])), ["broadcastTo"]);
    expectTooLarge(
      () => run(grad(function* (x: number) {
        return yield* sum(yield* add(yield* broadcastTo(x, [1e5, 1]), zeros([1e5])));
      }), 1),
      ["add", "[100000, 100000]"],
    );
    const scanned = jit(function* (c: unknown) {
      return yield* scan(function* (carry: unknown) {
        return [carry, yield* broadcastTo(carry as number, [1e5])] as [unknown, unknown];
      }, c, [], { length: 1e6 });
    });
    expectTooLarge(() => run(scanned, 1), ["scan", "[1000000, 100000]"]);
  });
});

/** The bytes of a checkpoint whose header is `header` (checksums recomputed, so only the header is wrong). */
const withHeader = (header: unknown): Uint8Array => {
  const headerBytes = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const dataStart = Math.ceil((24 + headerBytes.length) / 8) * 8;
  const out = new Uint8Array(dataStart);
  const view = new DataView(out.buffer);
  const magic = "YDFCKPT\n";
  for (let i = 0; i < 8; i++) out[i] = magic.charCodeAt(i);
  view.setUint32(8, 1, true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, crc32(headerBytes), true);
  view.setUint32(20, crc32(new Uint8Array(0)), true);
  out.set(headerBytes, 24);
  return out;
};

describe("checkpoints: a leaf's shape is checked like a tensor's", () => {
  it("a size-0 leaf whose other axes are huge is refused with the count and the limit", () => {
    const bytes = withHeader({
      format: "yieldiff-checkpoint",
      tree: { t: "tensor", leaf: 0 },
      leaves: [{ dtype: "float64", shape: [0, 2 ** 52], offset: 0, bytes: 0 }],
      dataBytes: 0,
    });
    const e = caught(() => decodeCheckpoint(bytes));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e).toBeInstanceOf(YieldiffError);
    expect((e as CheckpointError).reason).toBe("bad-header");
    expect(e.message).toContain(`[0, ${2 ** 52}]`);
    expect(e.message).toContain(String(MAX_ELEMENTS));
  });

  it("yieldiff/effect's header schema refuses it too", async () => {
    const bytes = withHeader({
      format: "yieldiff-checkpoint",
      tree: { t: "tensor", leaf: 0 },
      leaves: [{ dtype: "float32", shape: [2 ** 40, 0], offset: 0, bytes: 0 }],
      dataBytes: 0,
    });
    const exit = await Fx.runPromiseExit(decodeHeader(bytes));
    expect(Exit.isFailure(exit)).toBe(true);
    if (Exit.isFailure(exit)) {
      const found = Cause.findErrorOption(exit.cause);
      expect(found._tag).toBe("Some");
      const e = (found as { value: CheckpointError }).value;
      expect(e).toBeInstanceOf(CheckpointError);
      expect(e.reason).toBe("bad-header");
      expect(e.message).toContain(String(MAX_ELEMENTS));
    }
  });

  it("a legitimate empty leaf still loads", () => {
    const back = decodeCheckpoint<{ a: { shape: readonly number[] } }>(encodeCheckpoint({ a: zeros([0, 3]) }));
    expect(back.a.shape).toEqual([0, 3]);
  });
});
