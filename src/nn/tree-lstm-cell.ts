// Binary Tree-LSTM cell (Tai et al. 2015, as in Lantern's sentiment model and WORKLOADS W5),
// with separate left and right forget gates and fused gate weights.
//   leaf, from an input x:  [i, o, u] = x Wx + bx;              c = σ(i)·tanh(u)
//   node, from (hl, cl), (hr, cr):  [i, fl, fr, o, u] = hl Ul + hr Ur + b
//                                c = σ(i)·tanh(u) + σ(fl)·cl + σ(fr)·cr
//   both:                       h = σ(o)·tanh(c)
import { shapeOf, type Value } from "../../effects/value.ts";
import { add, matmul, mul, sigmoid, tanh } from "../ops.ts";
import { ValueError } from "../errors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { glorotUniform, zeros, type Initializer } from "./init.ts";
import { checkOptions } from "../options.ts";
import { INIT_OPTIONS, checkLastAxis, checkParam, checkSize, draw, drawGates, splitLast, type Gen, type InitOptions, type Seed } from "./util.ts";

/** The parameters of `treeLstmCell`. */
export interface TreeLstmCellParams<T extends Value = Value> {
  /** Leaf input weights [inputSize, 3·hidden], gates i, o, u. */
  Wx: T;
  bx: T;
  /** Left and right child weights [hidden, 5·hidden], gates i, fl, fr, o, u. */
  Ul: T;
  Ur: T;
  b: T;
}

export interface TreeLstmCellInitOptions extends InitOptions {
  /** Initializer of each gate's block of Wx, Ul and Ur (default glorotUniform, fans of one gate). */
  wInit?: Initializer;
  /** Initializer of bx and b (default zeros). */
  bInit?: Initializer;
}

/** A node's state: [h, c]. */
export type TreeState = readonly [Value, Value];

function init(seed: Seed, inputSize: number, hiddenSize: number, options: TreeLstmCellInitOptions = {}): TreeLstmCellParams<Tensor> {
  checkOptions("treeLstmCell.init", options, { ...INIT_OPTIONS, wInit: "function", bInit: "function" });
  checkSize("treeLstmCell.init", "inputSize", inputSize);
  checkSize("treeLstmCell.init", "hiddenSize", hiddenSize);
  const w = options.wInit ?? glorotUniform();
  const bi = options.bInit ?? zeros();
  const h = hiddenSize;
  return {
    Wx: drawGates(w, seed, 0, 3, [inputSize, h], options.dtype),
    bx: draw(bi, seed, 3, [3 * h], options.dtype),
    Ul: drawGates(w, seed, 4, 5, [h, h], options.dtype),
    Ur: drawGates(w, seed, 9, 5, [h, h], options.dtype),
    b: draw(bi, seed, 14, [5 * h], options.dtype),
  };
}

const hiddenOf = (op: string, params: TreeLstmCellParams): number => {
  const Ul = checkParam(op, params, "Ul", [-1, -1]);
  const h = shapeOf(Ul)[0]!;
  checkParam(op, params, "Ul", [h, 5 * h]);
  return h;
};

/** A leaf from its input x [..., in] → [h, c]. */
function* leaf(params: TreeLstmCellParams, x: Value): Gen<[Value, Value]> {
  const hid = hiddenOf("treeLstmCell.leaf", params);
  const Wx = checkParam("treeLstmCell.leaf", params, "Wx", [-1, 3 * hid]);
  const bx = checkParam("treeLstmCell.leaf", params, "bx", [3 * hid]);
  checkLastAxis("treeLstmCell.leaf", x, shapeOf(Wx)[0]!);
  const [i, o, u] = yield* splitLast(yield* add(yield* matmul(x, Wx), bx), 3);
  const c = yield* mul(yield* sigmoid(i!), yield* tanh(u!));
  const h = yield* mul(yield* sigmoid(o!), yield* tanh(c));
  return [h, c];
}

/** An internal node from its children's states [hl, cl] and [hr, cr] → [h, c]. */
function* node(params: TreeLstmCellParams, left: TreeState, right: TreeState): Gen<[Value, Value]> {
  const hid = hiddenOf("treeLstmCell.node", params);
  const Ul = params.Ul;
  const Ur = checkParam("treeLstmCell.node", params, "Ur", [hid, 5 * hid]);
  const b = checkParam("treeLstmCell.node", params, "b", [5 * hid]);
  const [hl, cl] = left;
  const [hr, cr] = right;
  for (const [name, v] of [["left h", hl], ["left c", cl], ["right h", hr], ["right c", cr]] as const)
    checkLastAxis("treeLstmCell.node", v, hid, name);
  const z = yield* add(yield* add(yield* matmul(hl, Ul), yield* matmul(hr, Ur)), b);
  const [i, fl, fr, o, u] = yield* splitLast(z, 5);
  const fromInput = yield* mul(yield* sigmoid(i!), yield* tanh(u!));
  const fromLeft = yield* mul(yield* sigmoid(fl!), cl);
  const fromRight = yield* mul(yield* sigmoid(fr!), cr);
  const c = yield* add(yield* add(fromInput, fromLeft), fromRight);
  const h = yield* mul(yield* sigmoid(o!), yield* tanh(c));
  return [h, c];
}

/** `apply(params, x)` is `leaf`; `apply(params, left, right)` is `node`. */
function apply(params: TreeLstmCellParams, x: Value): Gen<[Value, Value]>;
function apply(params: TreeLstmCellParams, left: TreeState, right: TreeState): Gen<[Value, Value]>;
function apply(params: TreeLstmCellParams, a: Value | TreeState, b?: TreeState): Gen<[Value, Value]> {
  if (Array.isArray(a)) {
    if (!Array.isArray(b)) throw new ValueError("treeLstmCell.apply: an internal node takes two child states, [hl, cl] and [hr, cr]");
    return node(params, a as TreeState, b);
  }
  return leaf(params, a as Value);
}

/** A binary Tree-LSTM cell (Tai et al. 2015) with separate left and right forget gates. */
export const treeLstmCell = {
  /** Parameters for `inputSize` → `hiddenSize` from an integer seed or a key (`random.key`). */
  init,
  /** A leaf's state from an input x, or a node's from its children's states. */
  apply,
  /** A leaf's state [h, c] from an input x. */
  leaf,
  /** A node's state [h, c] from its left and right children's states. */
  node,
};
