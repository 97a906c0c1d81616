// conv2d and its two adjoints. The three are bilinear and closed under differentiation:
// with y = conv(x, w): x̄ = convT(ȳ, w), w̄ = wgrad(x, ȳ); and the adjoints of convT and wgrad
// are again conv, convT and wgrad.
import { definePrimitive, type Primitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { checkConv2d, checkCt, conv2dInputGradKernel, conv2dKernel, conv2dWeightGradKernel } from "../kernels/conv.ts";
import { avgPool2dGradKernel, avgPool2dKernel, checkPool2d, checkPooledCt } from "../kernels/pool.ts";
import { promote, type Tensor } from "../tensor/tensor.ts";
import { tensorOf } from "./abstract.ts";
import { add } from "./binary.ts";
import { foldImages, foldShape, perExample, unfoldImages } from "./batching.ts";

export interface ConvParams {
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
}
type Shaped = ConvParams & { readonly shape: readonly number[] };

const sum2 = (a: Value | null, b: Value | null): Value | null => (a === null ? b : b === null ? a : add(a, b));

export const conv2dP = definePrimitive<ConvParams>({
  name: "conv2d",
  abstractEval: ([x, w], p) => tensorOf(checkConv2d(x!, w!, p.stride, p.padding).outShape, promote(x!.dtype, w!.dtype)),
  impl: (args, p) => conv2dKernel(args[0] as Tensor, args[1] as Tensor, p.stride, p.padding),
  jvp: ([x, w], [tx, tw], _out, p) =>
    sum2(tx === null ? null : conv2dRaw(tx!, w!, p), tw === null ? null : conv2dRaw(x!, tw!, p)),
  vjp: (ct, [x, w], _out, p, wanted) => [
    wanted[0] ? convT(ct, w!, { ...p, shape: shapeOf(x!) }) : null,
    wanted[1] ? wgrad(x!, ct, { ...p, shape: shapeOf(w!) }) : null,
  ],
  // Images batched, one filter: the batch folded into N. A filter per example: per example.
  batch: ([x, w], batched, p, size): Value =>
    batched[0] && !batched[1] ? unfoldImages(conv2dRaw(foldImages(x!), w!, p), size) : perExample(conv2dP, [x!, w!], batched, p, size),
});

/** convT(c, w): the adjoint of conv2d in its input. */
export const conv2dInputGradP = definePrimitive<Shaped>({
  name: "conv2dInputGrad",
  abstractEval: ([c, w], p) => {
    checkCt("conv2dInputGrad", c!, checkConv2d({ shape: p.shape }, w!, p.stride, p.padding).outShape);
    return tensorOf(p.shape, promote(c!.dtype, w!.dtype));
  },
  impl: (args, p) => conv2dInputGradKernel(args[0] as Tensor, args[1] as Tensor, p.shape, p.stride, p.padding),
  jvp: ([c, w], [tc, tw], _out, p) =>
    sum2(tc === null ? null : convT(tc!, w!, p), tw === null ? null : convT(c!, tw!, p)),
  vjp: (g, [c, w], _out, p, wanted) => [
    wanted[0] ? conv2dRaw(g, w!, p) : null,
    wanted[1] ? wgrad(g, c!, { ...p, shape: shapeOf(w!) }) : null,
  ],
  batch: ([c, w], batched, p, size): Value =>
    batched[0] && !batched[1]
      ? unfoldImages(convT(foldImages(c!), w!, { ...p, shape: foldShape(p.shape, size) }), size)
      : perExample(conv2dInputGradP, [c!, w!], batched, p, size),
});

/** wgrad(x, c): the adjoint of conv2d in its filter. */
export const conv2dWeightGradP = definePrimitive<Shaped>({
  name: "conv2dWeightGrad",
  abstractEval: ([x, c], p) => {
    checkCt("conv2dWeightGrad", c!, checkConv2d(x!, { shape: p.shape }, p.stride, p.padding).outShape);
    return tensorOf(p.shape, promote(x!.dtype, c!.dtype));
  },
  impl: (args, p) => conv2dWeightGradKernel(args[0] as Tensor, args[1] as Tensor, p.shape, p.stride, p.padding),
  jvp: ([x, c], [tx, tc], _out, p) =>
    sum2(tx === null ? null : wgrad(tx!, c!, p), tc === null ? null : wgrad(x!, tc!, p)),
  vjp: (g, [x, c], _out, p, wanted) => [
    wanted[0] ? convT(c!, g, { ...p, shape: shapeOf(x!) }) : null,
    wanted[1] ? conv2dRaw(x!, g, p) : null,
  ],
  // A filter gradient per example.
  batch: (values, batched, p, size): Value => perExample(conv2dWeightGradP, values, batched, p, size),
});

export const conv2dRaw = (x: Value, w: Value, p: ConvParams): Value => bind(conv2dP, [x, w], { stride: p.stride, padding: p.padding });
const convT = (c: Value, w: Value, p: Shaped): Value => bind(conv2dInputGradP, [c, w], p);
const wgrad = (x: Value, c: Value, p: Shaped): Value => bind(conv2dWeightGradP, [x, c], p);

export interface PoolParams {
  readonly size: readonly [number, number];
  readonly stride: readonly [number, number];
}

/** Average pooling is linear; its adjoint spreads each cotangent over its window. */
export const avgPool2dP = definePrimitive<PoolParams>({
  name: "avgPool2d",
  abstractEval: ([x], p) => tensorOf(checkPool2d("avgPool2d", x!, { size: p.size, stride: p.stride }).outShape, x!.dtype),
  impl: (args, p) => avgPool2dKernel(args[0] as Tensor, p.size, p.stride),
  jvp: (_p, [t], _out, p) => (t === null ? null : avgPool2dRaw(t!, p)),
  vjp: (ct, [x], _out, p) => [bind(avgPool2dGradP, [ct], { ...p, shape: shapeOf(x!) })],
  batch: ([x], _batched, p, size): Value => unfoldImages(avgPool2dRaw(foldImages(x!), p), size),
});

export const avgPool2dGradP: Primitive<PoolParams & { shape: readonly number[] }> = definePrimitive<PoolParams & { shape: readonly number[] }>({
  name: "avgPool2dGrad",
  abstractEval: ([c], p) => {
    checkPooledCt(c!.shape, p.shape, p.size, p.stride);
    return tensorOf(p.shape, c!.dtype);
  },
  impl: (args, p) => avgPool2dGradKernel(args[0] as Tensor, p.shape, p.size, p.stride),
  jvp: (_p, [t], _out, p) => (t === null ? null : bind(avgPool2dGradP, [t!], p)),
  vjp: (g, _c, _out, p) => [avgPool2dRaw(g, p)],
  batch: ([c], _batched, p, size): Value => unfoldImages(bind(avgPool2dGradP, [foldImages(c!)], { ...p, shape: foldShape(p.shape, size) }), size),
});

export const avgPool2dRaw = (x: Value, p: PoolParams): Value => bind(avgPool2dP, [x], { size: p.size, stride: p.stride });
