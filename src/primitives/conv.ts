// conv2d and its two adjoints. The three are bilinear and closed under differentiation:
// with y = conv(x, w): x̄ = convT(ȳ, w), w̄ = wgrad(x, ȳ); and the adjoints of convT and wgrad
// are again conv, convT and wgrad.
import { definePrimitive, type Primitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { checkCt, conv2dInputGradKernel, conv2dKernel, conv2dWeightGradKernel } from "../kernels/conv.ts";
import { checkConv, type ConvSpec, type Pads } from "../kernels/conv-spec.ts";
import { avgPool2dGradKernel, avgPool2dKernel, checkPool2d, checkPooledCt } from "../kernels/pool.ts";
import { promote, Tensor } from "../tensor/tensor.ts";
import { tensorOf } from "./abstract.ts";
import { add } from "./binary.ts";
import * as S from "./shape.ts";
import { allBatched, foldImages, foldShape, perExample, unfoldImages } from "./batching.ts";

/** A convolution's options, normalized: stride, [[top, bottom], [left, right]] padding, dilation, groups. */
export type ConvParams = ConvSpec;
type Shaped = ConvParams & { readonly shape: readonly number[] };

const extras = (p: ConvParams) => ({ dilation: p.dilation, groups: p.groups });
const specOf = (p: ConvParams): ConvParams => ({ stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups });

const sum2 = (a: Value | null, b: Value | null): Value | null => (a === null ? b : b === null ? a : add(a, b));

export const conv2dP = definePrimitive<ConvParams>({
  name: "conv2d",
  abstractEval: ([x, w], p) => tensorOf(checkConv("conv2d", x!, w!, p).outShape, promote(x!.dtype, w!.dtype)),
  impl: (args, p) => conv2dKernel(args[0] as Tensor, args[1] as Tensor, p.stride, p.padding, extras(p)),
  jvp: ([x, w], [tx, tw], _out, p) =>
    sum2(tx === null ? null : conv2dRaw(tx!, w!, p), tw === null ? null : conv2dRaw(x!, tw!, p)),
  vjp: (ct, [x, w], _out, p, wanted) => [
    wanted[0] ? convT(ct, w!, { ...p, shape: shapeOf(x!) }) : null,
    wanted[1] ? wgrad(x!, ct, { ...p, shape: shapeOf(w!) }) : null,
  ],
  // Images batched, one filter: the batch folded into N. A filter per example: the examples as groups.
  batch: ([x, w], batched, p, size): Value =>
    batched[0] && !batched[1]
      ? unfoldImages(conv2dRaw(foldImages(x!), w!, p), size)
      : size === 0
        ? perExample(conv2dP, [x!, w!], batched, p, size)
        : exampleConv(allBatched([x!, w!], batched, size), p),
});

/** convT(c, w): the adjoint of conv2d in its input. */
export const conv2dInputGradP = definePrimitive<Shaped>({
  name: "conv2dInputGrad",
  abstractEval: ([c, w], p) => {
    checkCt("conv2dInputGrad", c!, checkConv("conv2dInputGrad", { shape: p.shape }, w!, p).outShape);
    return tensorOf(p.shape, promote(c!.dtype, w!.dtype));
  },
  impl: (args, p) => conv2dInputGradKernel(args[0] as Tensor, args[1] as Tensor, p.shape, p.stride, p.padding, extras(p)),
  jvp: ([c, w], [tc, tw], _out, p) =>
    sum2(tc === null ? null : convT(tc!, w!, p), tw === null ? null : convT(c!, tw!, p)),
  vjp: (g, [c, w], _out, p, wanted) => [
    wanted[0] ? conv2dRaw(g, w!, p) : null,
    wanted[1] ? wgrad(g, c!, { ...p, shape: shapeOf(w!) }) : null,
  ],
  batch: ([c, w], batched, p, size): Value =>
    batched[0] && !batched[1]
      ? unfoldImages(convT(foldImages(c!), w!, { ...p, shape: foldShape(p.shape, size) }), size)
      : size === 0
        ? perExample(conv2dInputGradP, [c!, w!], batched, p, size)
        : exampleConvT(allBatched([c!, w!], batched, size), p),
});

/** wgrad(x, c): the adjoint of conv2d in its filter. */
export const conv2dWeightGradP = definePrimitive<Shaped>({
  name: "conv2dWeightGrad",
  abstractEval: ([x, c], p) => {
    checkCt("conv2dWeightGrad", c!, checkConv("conv2dWeightGrad", x!, { shape: p.shape }, p).outShape);
    return tensorOf(p.shape, promote(x!.dtype, c!.dtype));
  },
  impl: (args, p) => conv2dWeightGradKernel(args[0] as Tensor, args[1] as Tensor, p.shape, p.stride, p.padding, 1, extras(p)),
  jvp: ([x, c], [tx, tc], _out, p) =>
    sum2(tx === null ? null : wgrad(tx!, c!, p), tc === null ? null : wgrad(x!, tc!, p)),
  vjp: (g, [x, c], _out, p, wanted) => [
    wanted[0] ? convT(c!, g, { ...p, shape: shapeOf(x!) }) : null,
    wanted[1] ? conv2dRaw(x!, g, p) : null,
  ],
  // A filter gradient per example (per-example gradients: vmap of grad): one kernel run over
  // the folded batch, each example's images summed apart.
  batch: ([x, c], batched, p, size): Value => bind(conv2dWeightGradsP, allBatched([x!, c!], batched, size), p),
});

/**
 * wgrads(x, c): one filter gradient per example — x [B, N, C, H, W] and c [B, N, O, OH, OW]
 * give [B, ...shape], example b's wgrad(x[b], c[b]). It is conv2dWeightGrad under vmap. Its
 * adjoints involve a filter per example, which conv2d and convT can only take one example at
 * a time.
 */
export const conv2dWeightGradsP: Primitive<Shaped> = definePrimitive<Shaped>({
  name: "conv2dWeightGrads",
  abstractEval: ([x, c], p) => {
    const fold = (s: readonly number[]): number[] => [s[0]! * s[1]!, ...s.slice(2)];
    checkCt("conv2dWeightGrad", { shape: fold(c!.shape) }, checkConv("conv2dWeightGrad", { shape: fold(x!.shape) }, { shape: p.shape }, p).outShape);
    return tensorOf([x!.shape[0]!, ...p.shape], promote(x!.dtype, c!.dtype));
  },
  impl: (args, p) => {
    const [x, c] = args as [Tensor, Tensor];
    const size = x.shape[0]!;
    const dw = conv2dWeightGradKernel(foldTensor(x), foldTensor(c), p.shape, p.stride, p.padding, size, extras(p));
    return new Tensor(dw.buf, [size, ...p.shape]);
  },
  jvp: ([x, c], [tx, tc], _out, p) =>
    sum2(tx === null ? null : bind(conv2dWeightGradsP, [tx!, c!], p), tc === null ? null : bind(conv2dWeightGradsP, [x!, tc!], p)),
  vjp: (g, [x, c], _out, p, wanted) => {
    const size = shapeOf(x!)[0]!;
    const both = [true, true];
    if (size === 0)
      return [
        wanted[0] ? perExample(conv2dInputGradP, [c!, g], both, { ...p, shape: shapeOf(x!).slice(1) }, size) : null,
        wanted[1] ? perExample(conv2dP, [x!, g], both, specOf(p), size) : null,
      ];
    return [wanted[0] ? exampleConvT([c!, g], { ...p, shape: shapeOf(x!).slice(1) }) : null, wanted[1] ? exampleConv([x!, g], specOf(p)) : null];
  },
  // vmap of vmap: the outer batch folded into the inner one.
  batch: (values, batched, p, size): Value => {
    const [x, c] = allBatched(values, batched, size).map((v) => foldImages(v));
    return unfoldImages(bind(conv2dWeightGradsP, [x!, c!], p), size);
  },
});

/** A concrete [B, N, ...] tensor as [B·N, ...], sharing its buffer. */
const foldTensor = (t: Tensor): Tensor => new Tensor(t.buf, [t.shape[0]! * t.shape[1]!, ...t.shape.slice(2)]);

/**
 * conv2d of a filter per example, as one convolution: the examples become groups. x [B, N, C, H, W]
 * read as [N, B·C, H, W] and w [B, O, C/G, KH, KW] as [B·O, C/G, KH, KW], with B·G groups,
 * give [N, B·O, OH, OW], read back as [B, N, O, OH, OW].
 */
const exampleConv = ([x, w]: readonly Value[], p: ConvParams): Value => {
  const [b, n, c, h, wd] = shapeOf(x!) as [number, number, number, number, number];
  const ws = shapeOf(w!);
  const xg = S.reshape(S.transpose(x!, [1, 0, 2, 3, 4]), [n, b * c, h, wd]);
  const y = conv2dRaw(xg, S.reshape(w!, [b * ws[1]!, ...ws.slice(2)]), { ...specOf(p), groups: b * p.groups });
  const ys = shapeOf(y);
  return S.transpose(S.reshape(y, [n, b, ws[1]!, ys[2]!, ys[3]!]), [1, 0, 2, 3, 4]);
};

/** convT of a filter per example, as exampleConv: c [B, N, O, OH, OW], w [B, O, C/G, KH, KW] give [B, N, ...p.shape[1:]]. */
const exampleConvT = ([c, w]: readonly Value[], p: Shaped): Value => {
  const [b, n, o, oh, ow] = shapeOf(c!) as [number, number, number, number, number];
  const ws = shapeOf(w!);
  const [, ch, h, wd] = p.shape as [number, number, number, number];
  const cg = S.reshape(S.transpose(c!, [1, 0, 2, 3, 4]), [n, b * o, oh, ow]);
  const dx = convT(cg, S.reshape(w!, [b * ws[1]!, ...ws.slice(2)]), { ...specOf(p), groups: b * p.groups, shape: [n, b * ch, h, wd] });
  return S.transpose(S.reshape(dx, [n, b, ch, h, wd]), [1, 0, 2, 3, 4]);
};

export const conv2dRaw = (x: Value, w: Value, p: ConvParams): Value => bind(conv2dP, [x, w], specOf(p));
/** convTranspose2d: the adjoint of conv2d in its input, for an input of shape `shape`. */
export const conv2dInputGradRaw = (c: Value, w: Value, p: Shaped): Value => bind(conv2dInputGradP, [c, w], p);
const convT = (c: Value, w: Value, p: Shaped): Value => bind(conv2dInputGradP, [c, w], p);
const wgrad = (x: Value, c: Value, p: Shaped): Value => bind(conv2dWeightGradP, [x, c], p);

export interface PoolParams {
  readonly size: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: Pads;
}

/** Average pooling is linear; its adjoint spreads each cotangent over its window. */
export const avgPool2dP = definePrimitive<PoolParams>({
  name: "avgPool2d",
  abstractEval: ([x], p) => tensorOf(checkPool2d("avgPool2d", x!, { size: p.size, stride: p.stride, padding: p.padding }).outShape, x!.dtype),
  impl: (args, p) => avgPool2dKernel(args[0] as Tensor, p.size, p.stride, p.padding),
  jvp: (_p, [t], _out, p) => (t === null ? null : avgPool2dRaw(t!, p)),
  vjp: (ct, [x], _out, p) => [bind(avgPool2dGradP, [ct], { ...p, shape: shapeOf(x!) })],
  batch: ([x], _batched, p, size): Value => unfoldImages(avgPool2dRaw(foldImages(x!), p), size),
});

export const avgPool2dGradP: Primitive<PoolParams & { shape: readonly number[] }> = definePrimitive<PoolParams & { shape: readonly number[] }>({
  name: "avgPool2dGrad",
  abstractEval: ([c], p) => {
    checkPooledCt(c!.shape, p.shape, p.size, p.stride, p.padding);
    return tensorOf(p.shape, c!.dtype);
  },
  impl: (args, p) => avgPool2dGradKernel(args[0] as Tensor, p.shape, p.size, p.stride, p.padding),
  jvp: (_p, [t], _out, p) => (t === null ? null : bind(avgPool2dGradP, [t!], p)),
  vjp: (g, _c, _out, p) => [avgPool2dRaw(g, p)],
  batch: ([c], _batched, p, size): Value => unfoldImages(bind(avgPool2dGradP, [foldImages(c!)], { ...p, shape: foldShape(p.shape, size) }), size),
});

export const avgPool2dRaw = (x: Value, p: PoolParams): Value => bind(avgPool2dP, [x], { size: p.size, stride: p.stride, padding: p.padding });
