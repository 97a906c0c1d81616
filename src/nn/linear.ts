// Dense layer: y = x W + b, with W [in, out] and b [out]; x is [..., in].
import { shapeOf, type Value } from "../../effects/value.ts";
import { add, matmul } from "../ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { glorotUniform, zeros, type Initializer } from "./init.ts";
import { checkOptions } from "../options.ts";
import { INIT_OPTIONS, checkLastAxis, checkParam, checkSize, draw, type Gen, type InitOptions, type Seed } from "./util.ts";

/** The parameters of `linear`: W `[in, out]` and an optional bias b `[out]`. */
export interface LinearParams<T extends Value = Value> {
  W: T;
  b?: T;
}

export interface LinearInitOptions extends InitOptions {
  /** Initializer of W (default glorotUniform). */
  wInit?: Initializer;
  /** Initializer of b (default zeros). */
  bInit?: Initializer;
  /** With a bias b (default true). */
  bias?: boolean;
}

/** { W [inFeatures, outFeatures], b [outFeatures] }. */
function init(seed: Seed, inFeatures: number, outFeatures: number, options: LinearInitOptions = {}): LinearParams<Tensor> {
  checkOptions("linear.init", options, { ...INIT_OPTIONS, wInit: "function", bInit: "function", bias: "boolean" });
  checkSize("linear.init", "inFeatures", inFeatures);
  checkSize("linear.init", "outFeatures", outFeatures);
  const W = draw(options.wInit ?? glorotUniform(), seed, 0, [inFeatures, outFeatures], options.dtype);
  if (options.bias === false) return { W };
  return { W, b: draw(options.bInit ?? zeros(), seed, 1, [outFeatures], options.dtype) };
}

/** x [..., in] → [..., out]. */
function* apply(params: LinearParams, x: Value): Gen<Value> {
  const W = checkParam("linear.apply", params, "W", [-1, -1]);
  const [inF, outF] = shapeOf(W) as [number, number];
  checkLastAxis("linear.apply", x, inF);
  const y = yield* matmul(x, W);
  if (params.b === undefined) return y;
  return yield* add(y, checkParam("linear.apply", params, "b", [outF]));
}

/** A dense layer y = x W + b (W `[in, out]`, b `[out]`; x `[..., in]`). */
export const linear = {
  /** Parameters for `inFeatures` → `outFeatures` from an integer seed or a key (`random.key`). */
  init,
  /** The layer applied to x `[..., in]`: a program giving `[..., out]`. */
  apply,
};
