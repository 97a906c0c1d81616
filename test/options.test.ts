// Options objects are checked: an unknown or unsupported key, or a value of the wrong kind, is a
// ValueError that names the operation, the key, and the keys it accepts — never silently ignored
// (conv2d's dilation and the poolings' padding were, before they were options).
import { describe, expect, it } from "vitest";
import { Cause, Effect as Fx, Exit } from "effect";
import {
  run, grad, valueAndGrad, jit, scan, tensor, zeros, ones, randn, rand, conv2d, maxPool2d, avgPool2d, sum, mul,
  softmaxCrossEntropy, nllLoss, mseLoss, binaryCrossEntropyWithLogits, optim, nn, trainLoop, batches, lossCurveSvg,
  encodeCheckpoint, decodeCheckpoint, ValueError, type Effect, type Value,
} from "../src/index.ts";
import { perform, caught } from "./perform.ts";
import { makeTrainer } from "../src/effect/index.ts";
import { checkOptions } from "../src/options.ts";

/** A tagged ValueError whose message has every part. */
const expectRejected = (f: () => unknown, parts: (string | RegExp)[]): Error => {
  const e = caught(f);
  expect(e).toBeInstanceOf(ValueError);
  expect((e as ValueError)._tag).toBe("ValueError");
  for (const p of parts) {
    if (typeof p === "string") expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
  return e;
};

const x = () => zeros([1, 1, 4, 4]);
const w = () => ones([1, 1, 3, 3]);

describe("operations", () => {
  it("conv2d rejects an option it does not have and lists the ones it has", () => {
    expectRejected(() => perform(() => conv2d(x(), w(), { bias: true } as never)), ["conv2d", "bias", "not supported", "stride, padding, dilation, groups"]);
    expectRejected(() => perform(() => conv2d(x(), w(), { dilations: 2 } as never)), ["conv2d", "dilations", "did you mean dilation?"]);
    expectRejected(() => perform(() => conv2d(x(), w(), { strides: 2 } as never)), ["conv2d", "strides", "did you mean stride?"]);
    expectRejected(() => perform(() => conv2d(x(), w(), { stride: "2" } as never)), ["conv2d", "stride", '"2"']);
    expectRejected(() => perform(() => conv2d(x(), w(), 2 as never)), ["conv2d", "options", "stride, padding"]);
  });

  it("maxPool2d and avgPool2d reject options they do not have", () => {
    expectRejected(() => perform(() => maxPool2d(x(), { size: 2, dilation: 1 } as never)), ["maxPool2d", "dilation", "size, stride, padding"]);
    expectRejected(() => perform(() => avgPool2d(x(), { size: 2, countIncludePad: false } as never)), ["avgPool2d", "countIncludePad", "size, stride, padding"]);
    expectRejected(() => perform(() => maxPool2d(x(), { size: 2, strides: 1 } as never)), ["maxPool2d", "did you mean stride?"]);
  });

  it("accepted options still work", () => {
    const y = perform(() => conv2d(x(), w(), { stride: 1, padding: [1, 1], extra: undefined } as never)) as { shape: number[] };
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect((perform(() => maxPool2d(x(), { size: 2, stride: undefined })) as { shape: number[] }).shape).toEqual([1, 1, 2, 2]);
  });
});

describe("constructors", () => {
  it("tensor, randn and rand", () => {
    expectRejected(() => tensor([1, 2], { dtpye: "float32" } as never), ["tensor", "dtpye", "did you mean dtype?", "dtype, shape"]);
    expect(() => tensor([1, 2], { shape: 2 } as never)).toThrow(/tensor: shape must be an array/); // a ShapeError, as every bad shape
    expectRejected(() => randn([2], { sed: 1 } as never), ["randn", "sed", "seed, dtype"]);
    expectRejected(() => rand([2], { seed: "1" } as never), ["rand", "seed", '"1"']);
    expectRejected(() => randn([2], 3 as never), ["randn", "options"]);
  });
});

describe("transformations", () => {
  function* f(a: Value, b: Value) {
    return yield* sum(yield* mul(a, b));
  }
  it("grad, valueAndGrad, jit and scan", () => {
    expectRejected(() => grad(f, { argnum: 1 } as never), ["grad", "argnum", "did you mean argnums?"]);
    expectRejected(() => valueAndGrad(f, { has_aux: true } as never), ["valueAndGrad", "has_aux", "argnums, hasAux"]);
    expectRejected(() => grad(f, { argnums: "1" } as never), ["grad", "argnums", '"1"']);
    expectRejected(() => jit(f, { reuseOutput: true } as never), ["jit", "reuseOutput", "reuseOutputs, cacheSize"]);
    expectRejected(
      () => run(function* () { return yield* scan(function* (c: Value) { return [c, c] as [Value, Value]; }, 1, [], { len: 2 } as never); }),
      ["scan", "len", "length"],
    );
    expect(run(grad(f, { argnums: 1 }), 2, 3)).toBe(2);
  });
});

describe("checkpoints", () => {
  it("decodeCheckpoint", () => {
    const bytes = encodeCheckpoint({ a: 1 });
    expectRejected(() => decodeCheckpoint(bytes, { lik: { a: 1 } } as never), ["decodeCheckpoint", "lik", "like"]);
    expect(decodeCheckpoint(bytes, { like: { a: 1 } })).toEqual({ a: 1 });
  });
});

describe("nn layers", () => {
  it("init options of every layer", () => {
    expectRejected(() => nn.linear.init(0, 2, 3, { bais: false } as never), ["linear.init", "bais", "did you mean bias?"]);
    expectRejected(() => nn.linear.init(0, 2, 3, { wInit: 5 } as never), ["linear.init", "wInit", "a function"]);
    expectRejected(() => nn.conv2d.init(0, 1, 2, 3, { stride: 2 } as never), ["conv2d.init", "stride", "wInit"]);
    expectRejected(() => nn.embedding.init(0, 5, 3, { wInit: nn.init.zeros() } as never), ["embedding.init", "wInit", "init"]);
    expectRejected(() => nn.rnnCell.init(0, 2, 3, { forgetBias: 1 } as never), ["rnnCell.init", "forgetBias"]);
    expectRejected(() => nn.lstmCell.init(0, 2, 3, { forget_bias: 1 } as never), ["lstmCell.init", "forget_bias", "forgetBias"]);
    expectRejected(() => nn.treeLstmCell.init(0, 2, 3, { dtyp: "float32" } as never), ["treeLstmCell.init", "dtyp", "dtype"]);
    expectRejected(() => nn.layerNorm.init(0, 3, { eps: 1e-3 } as never), ["layerNorm.init", "eps", "dtype"]);
    expect(nn.lstmCell.init(0, 2, 3, { forgetBias: 1, dtype: "float32" }).Wx.dtype).toBe("float32");
  });

  it("apply options: conv2d, layerNorm, dropout", () => {
    const p = nn.conv2d.init(0, 1, 1, 3);
    expectRejected(() => run(nn.conv2d.apply, p, x(), { dilatation: 2 } as never), ["conv2d", "dilatation", "did you mean dilation?"]);
    const ln = nn.layerNorm.init(0, 3);
    expectRejected(() => run(nn.layerNorm.apply, ln, zeros([2, 3]), { epsilon: 1e-3 } as never), ["layerNorm.apply", "epsilon", "eps"]);
    expectRejected(() => run(nn.dropout, zeros([3]), { rate: 0.5, seed: 1, training: true, p: 0.5 } as never), ["dropout", "p", "rate, seed, training"]);
  });
});

describe("losses", () => {
  it("every loss", () => {
    const logits = zeros([2, 3]);
    expectRejected(() => run(softmaxCrossEntropy, logits, [0, 1], { reduce: "sum" } as never), ["softmaxCrossEntropy", "reduce", "reduction"]);
    expectRejected(() => run(nllLoss, logits, [0, 1], { weight: 1 } as never), ["nllLoss", "weight", "reduction"]);
    expectRejected(() => run(mseLoss, logits, logits, { reduction: 1 } as never), ["mseLoss", "reduction", '"mean", "sum" or "none"']);
    expectRejected(() => run(binaryCrossEntropyWithLogits, logits, logits, { posWeight: 2 } as never), ["binaryCrossEntropyWithLogits", "posWeight"]);
  });
});

describe("optimizers", () => {
  it("sgd, adam, adamw, adagrad", () => {
    expectRejected(() => optim.sgd({ lr: 0.1, momentun: 0.9 } as never), ["sgd", "momentun", "did you mean momentum?", "nesterov", "inPlace"]);
    expectRejected(() => optim.sgd({ lr: "0.1" } as never), ["sgd", "lr", "a number or a function"]);
    expectRejected(() => optim.adam({ lr: 0.1, beta_1: 0.9 } as never), ["adam", "beta_1", "beta1"]);
    expectRejected(() => optim.adamw({ lr: 0.1, weight_decay: 0.1 } as never), ["adamw", "weight_decay", "weightDecay"]);
    expectRejected(() => optim.adam({ lr: 0.1, weightDecay: 0.1 } as never), ["adam", "weightDecay"]);
    expectRejected(() => optim.adagrad({ lr: 0.1, initialAccumulatorValue: 0.1 } as never), ["adagrad", "initialAccumulatorValue", "initialAccumulator"]);
    expectRejected(() => optim.sgd({ lr: 0.1, clipNorm: 1 } as never), ["sgd", "clipNorm", "clipGlobalNorm"]);
    expect(typeof optim.adamw({ lr: 0.1, weightDecay: 0.1, clipGlobalNorm: 1, inPlace: false }).update).toBe("function");
  });
});

describe("training helpers", () => {
  function* loss(p: Value, b: Value) {
    return yield* sum(yield* mul(p, b));
  }
  it("trainLoop, batches, lossCurveSvg", () => {
    const base = { params: 1, lossFn: loss, optimizer: optim.sgd({ lr: 0.1 }), data: [1], progress: "none" as const };
    expectRejected(() => trainLoop({ ...base, epoch: 2 } as never), ["trainLoop", "epoch", "did you mean epochs?"]);
    expectRejected(() => trainLoop({ ...base, jit: "yes" } as never), ["trainLoop", "jit", "true or false"]);
    expect(trainLoop(base).losses.length).toBe(1);
    expectRejected(() => [...batches(10, 2, { suffle: false } as never)], ["batches", "suffle", "shuffle, seed, dropLast"]);
    expectRejected(() => lossCurveSvg([1, 2], { titel: "x" } as never), ["lossCurveSvg", "titel", "title"]);
  });

  it("yieldiff/effect's makeTrainer, and its nested evaluate and checkpoint options", async () => {
    const base = { params: 1, loss, optimizer: optim.sgd({ lr: 0.1 }), data: [1] };
    const failure = async (options: unknown): Promise<unknown> => {
      const exit = await Fx.runPromiseExit(makeTrainer(options as never) as never);
      if (!Exit.isFailure(exit)) throw new Error("expected a failure");
      const found = Cause.findErrorOption(exit.cause);
      return found._tag === "Some" ? found.value : Cause.squash(exit.cause);
    };
    const e1 = (await failure({ ...base, epoch: 2 })) as Error;
    expect(e1).toBeInstanceOf(ValueError);
    expect(e1.message).toMatch(/fit: option epoch is not supported.*epochs/);
    const e2 = (await failure({ ...base, checkpoint: { path: "x.ckpt", evry: 2 } })) as Error;
    expect(e2).toBeInstanceOf(ValueError);
    expect(e2.message).toMatch(/checkpoint\.evry.*every/);
    const e3 = (await failure({ ...base, evaluate: { every: 1, run: () => Fx.succeed({}), at_end: false } })) as Error;
    expect(e3).toBeInstanceOf(ValueError);
    expect(e3.message).toMatch(/evaluate\.at_end.*atEnd/);
  });
});

describe("the shared helper", () => {
  it("passes undefined, undefined values and accepted keys; names nested paths", () => {
    const spec = { a: "number", b: ["string", "array"], c: { is: (v: unknown) => v === 1, what: "1" } } as const;
    expect(checkOptions("op", undefined, spec)).toBeUndefined();
    expect(checkOptions("op", { a: 1, b: undefined, c: 1 }, spec)).toEqual({ a: 1, b: undefined, c: 1 });
    expectRejected(() => checkOptions("op", { c: 2 }, spec), ["op: option c must be 1, got 2"]);
    expectRejected(() => checkOptions("op", { b: 2 }, spec), ["op: option b must be a string or an array, got 2"]);
    expectRejected(() => checkOptions("op", { z: 2 }, spec, "inner"), ["op: option inner.z is not supported", "a, b, c"]);
    expectRejected(() => checkOptions("op", null, spec), ["op: options must be an object", "got null"]);
    expectRejected(() => checkOptions("op", [1], spec), ["op: options must be an object"]);
  });
});
