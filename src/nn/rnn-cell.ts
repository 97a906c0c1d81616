// Elman RNN cell: h' = tanh(x Wxh + h Whh + b).
import { shapeOf, type Value } from "../../effects/value.ts";
import { add, matmul, tanh } from "../ops.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { glorotUniform, zeros, type Initializer } from "./init.ts";
import { checkOptions } from "../options.ts";
import { INIT_OPTIONS, checkLastAxis, checkParam, checkSize, draw, type Gen, type InitOptions, type Seed } from "./util.ts";

/** The parameters of `rnnCell`: Wxh `[input, hidden]`, Whh `[hidden, hidden]`, b `[hidden]`. */
export interface RnnCellParams<T extends Value = Value> {
  Wxh: T;
  Whh: T;
  b: T;
}

export interface RnnCellInitOptions extends InitOptions {
  /** Initializer of Wxh and Whh (default glorotUniform). */
  wInit?: Initializer;
  /** Initializer of b (default zeros). */
  bInit?: Initializer;
}

/** { Wxh [inputSize, hiddenSize], Whh [hiddenSize, hiddenSize], b [hiddenSize] }. */
function init(seed: Seed, inputSize: number, hiddenSize: number, options: RnnCellInitOptions = {}): RnnCellParams<Tensor> {
  checkOptions("rnnCell.init", options, { ...INIT_OPTIONS, wInit: "function", bInit: "function" });
  checkSize("rnnCell.init", "inputSize", inputSize);
  checkSize("rnnCell.init", "hiddenSize", hiddenSize);
  const w = options.wInit ?? glorotUniform();
  return {
    Wxh: draw(w, seed, 0, [inputSize, hiddenSize], options.dtype),
    Whh: draw(w, seed, 1, [hiddenSize, hiddenSize], options.dtype),
    b: draw(options.bInit ?? zeros(), seed, 2, [hiddenSize], options.dtype),
  };
}

/** x [..., in], h [..., hidden] → the next h [..., hidden]. */
function* apply(params: RnnCellParams, x: Value, h: Value): Gen<Value> {
  const Wxh = checkParam("rnnCell.apply", params, "Wxh", [-1, -1]);
  const [inF, hid] = shapeOf(Wxh) as [number, number];
  const Whh = checkParam("rnnCell.apply", params, "Whh", [hid, hid]);
  const b = checkParam("rnnCell.apply", params, "b", [hid]);
  checkLastAxis("rnnCell.apply", x, inF);
  checkLastAxis("rnnCell.apply", h, hid, "h");
  const z = yield* add(yield* add(yield* matmul(x, Wxh), yield* matmul(h, Whh)), b);
  return yield* tanh(z);
}

/** An Elman RNN cell: h' = tanh(x Wxh + h Whh + b). */
export const rnnCell = {
  /** Parameters for `inputSize` → `hiddenSize` from an integer seed or a key (`random.key`). */
  init,
  /** One step: the new hidden state from input x and hidden state h. */
  apply,
};
