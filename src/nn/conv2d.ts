// 2-d convolution layer: y = conv2d(x, w) + b, with x [N, C, H, W], w [O, C, KH, KW], b [O].
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import type { Conv2dOptions } from "../lax.ts";
import { add, conv2d as conv, reshape } from "../ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { heUniform, zeros, type Initializer } from "./init.ts";
import { checkOptions } from "../options.ts";
import { INIT_OPTIONS, checkParam, checkSize, draw, type Gen, type InitOptions, type Seed } from "./util.ts";

/** The parameters of `conv2d`: w `[O, C, KH, KW]` and an optional bias b `[O]`. */
export interface Conv2dParams<T extends Value = Value> {
  w: T;
  b?: T;
}

export interface Conv2dInitOptions extends InitOptions {
  /** Initializer of w (default heUniform, fans from [O, C, KH, KW]). */
  wInit?: Initializer;
  /** Initializer of b (default zeros). */
  bInit?: Initializer;
  /** With a bias b (default true). */
  bias?: boolean;
  /** Channel groups (default 1): w is then [O, C / groups, KH, KW]; pass the same `groups` to apply. */
  groups?: number;
}

const kernelDims = (k: number | readonly [number, number]): [number, number] => {
  const [kh, kw] = typeof k === "number" ? [k, k] : Array.isArray(k) && k.length === 2 ? k : [NaN, NaN];
  if (!Number.isInteger(kh) || !Number.isInteger(kw) || kh <= 0 || kw <= 0)
    throw new ValueError(`conv2d.init: kernelSize must be a positive integer or [kh, kw], got ${show(k)}`);
  return [kh, kw];
};

/** { w [outChannels, inChannels, kh, kw], b [outChannels] }. */
function init(
  seed: Seed,
  inChannels: number,
  outChannels: number,
  kernelSize: number | readonly [number, number],
  options: Conv2dInitOptions = {},
): Conv2dParams<Tensor> {
  checkOptions("conv2d.init", options, { ...INIT_OPTIONS, wInit: "function", bInit: "function", bias: "boolean", groups: "number" });
  checkSize("conv2d.init", "inChannels", inChannels);
  checkSize("conv2d.init", "outChannels", outChannels);
  const groups = checkSize("conv2d.init", "groups", options.groups ?? 1);
  if (inChannels % groups !== 0 || outChannels % groups !== 0)
    throw new ValueError(
      `conv2d.init: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}; pick a common divisor`,
    );
  const [kh, kw] = kernelDims(kernelSize);
  const w = draw(options.wInit ?? heUniform(), seed, 0, [outChannels, inChannels / groups, kh, kw], options.dtype);
  if (options.bias === false) return { w };
  return { w, b: draw(options.bInit ?? zeros(), seed, 1, [outChannels], options.dtype) };
}

/** x [N, C, H, W] → [N, O, OH, OW]; `options` as the conv2d operation (stride, padding, dilation, groups). */
function* apply(params: Conv2dParams, x: Value, options: Conv2dOptions = {}): Gen<Value> {
  const w = checkParam("conv2d.apply", params, "w", [-1, -1, -1, -1]);
  const O = shapeOf(w)[0]!;
  const xs = shapeOf(x);
  const groups = options.groups ?? 1;
  const channels = shapeOf(w)[1]! * groups;
  if (xs.length !== 4 || xs[1] !== channels)
    throw new ShapeError(
      `conv2d.apply: input has shape ${fmt(xs)}; expected [N, ${channels}, H, W] for filters ${fmt(shapeOf(w))}` +
        (groups === 1 ? "" : ` in ${groups} groups`),
    );
  const y = yield* conv(x, w, options);
  if (params.b === undefined) return y;
  const b = checkParam("conv2d.apply", params, "b", [O]);
  return yield* add(y, yield* reshape(b, [O, 1, 1]));
}

/** A 2-d convolution layer y = conv2d(x, w) + b (x `[N, C, H, W]`, w `[O, C, KH, KW]`, b `[O]`). */
export const conv2d = {
  /** Parameters from an integer seed or a key (`random.key`). */
  init,
  /** The layer applied to x `[N, C, H, W]` (stride and padding as the `conv2d` operation's). */
  apply,
};
