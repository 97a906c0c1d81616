// LSTM cell with fused gate weights: z = x Wx + h Wh + b, split into the gates i, f, g, o
// (in that order along the last axis); c' = σ(f)·c + σ(i)·tanh(g); h' = σ(o)·tanh(c').
import { shapeOf, type Value } from "../../effects/value.ts";
import { add, matmul, mul, sigmoid, tanh } from "../ops.ts";
import { ValueError } from "../errors.ts";
import { full, tensor } from "../tensor/create.ts";
import type { DType, Tensor } from "../tensor/tensor.ts";
import { glorotUniform, type Initializer } from "./init.ts";
import { checkOptions } from "../options.ts";
import { INIT_OPTIONS, checkLastAxis, checkParam, checkSize, drawGates, splitLast, type Gen, type InitOptions, type Seed } from "./util.ts";

/** The parameters of `lstmCell`: Wx `[input, 4·hidden]`, Wh `[hidden, 4·hidden]`, b `[4·hidden]` (gates i, f, g, o). */
export interface LstmCellParams<T extends Value = Value> {
  Wx: T;
  Wh: T;
  b: T;
}

export interface LstmCellInitOptions extends InitOptions {
  /** Initializer of each gate's block of Wx and Wh (default glorotUniform, fans of one gate). */
  wInit?: Initializer;
  /** Initial value of the forget gate's bias (default 0; 1 is a common choice). */
  forgetBias?: number;
}

/** { Wx [inputSize, 4·hidden], Wh [hidden, 4·hidden], b [4·hidden] }, gates i, f, g, o. */
function init(seed: Seed, inputSize: number, hiddenSize: number, options: LstmCellInitOptions = {}): LstmCellParams<Tensor> {
  checkOptions("lstmCell.init", options, { ...INIT_OPTIONS, wInit: "function", forgetBias: "number" });
  checkSize("lstmCell.init", "inputSize", inputSize);
  checkSize("lstmCell.init", "hiddenSize", hiddenSize);
  const w = options.wInit ?? glorotUniform();
  const forget = options.forgetBias ?? 0;
  if (typeof forget !== "number" || !Number.isFinite(forget))
    throw new ValueError(`lstmCell.init: forgetBias must be a finite number, got ${String(forget)}`);
  const h = hiddenSize;
  // (the values made here, then put on the current backend as any constructor's)
  const values = new Float64Array(4 * h);
  values.fill(forget, h, 2 * h);
  const zeros = full([4 * h], 0, options.dtype);
  const b = forget === 0 ? zeros : tensor(values, { dtype: zeros.dtype });
  return {
    Wx: drawGates(w, seed, 0, 4, [inputSize, h], options.dtype),
    Wh: drawGates(w, seed, 4, 4, [h, h], options.dtype),
    b,
  };
}

/** Zero state [h, c], each of shape [...batch, hiddenSize]. */
const zeroState = (hiddenSize: number, batch: readonly number[] = [], dtype?: DType): [Tensor, Tensor] => [
  full([...batch, hiddenSize], 0, dtype),
  full([...batch, hiddenSize], 0, dtype),
];

/** x [..., in] and state [h, c] (each [..., hidden]) → the next [h, c]. */
function* apply(params: LstmCellParams, x: Value, state: readonly [Value, Value]): Gen<[Value, Value]> {
  const Wx = checkParam("lstmCell.apply", params, "Wx", [-1, -1]);
  const [inF, four] = shapeOf(Wx) as [number, number];
  const hid = four / 4;
  const Wh = checkParam("lstmCell.apply", params, "Wh", [hid, four]);
  const b = checkParam("lstmCell.apply", params, "b", [four]);
  const [h, c] = state;
  checkLastAxis("lstmCell.apply", x, inF);
  checkLastAxis("lstmCell.apply", h, hid, "h");
  checkLastAxis("lstmCell.apply", c, hid, "c");
  const z = yield* add(yield* add(yield* matmul(x, Wx), yield* matmul(h, Wh)), b);
  const [i, f, g, o] = yield* splitLast(z, 4);
  const c2 = yield* add(yield* mul(yield* sigmoid(f!), c), yield* mul(yield* sigmoid(i!), yield* tanh(g!)));
  const h2 = yield* mul(yield* sigmoid(o!), yield* tanh(c2));
  return [h2, c2];
}

/** An LSTM cell with fused gate weights (gates i, f, g, o along the last axis). */
export const lstmCell = {
  /** Parameters for `inputSize` → `hiddenSize` from an integer seed or a key (`random.key`). */
  init,
  /** One step: the new state [h, c] from input x and the state [h, c]. */
  apply,
  /** The zero state [h, c]. */
  zeroState,
};
