// The lower (tril) or upper (triu) triangle of the matrices in the last two axes, the other
// elements zero. Multiplying by a fixed 0/1 mask is linear and self-adjoint, so the tangent and
// the cotangent are the same triangle of theirs; leading axes (a vmap batch too) are matrices.
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { checkTriangle, triangleKernel, type TriangleParams } from "../kernels/triangular.ts";
import { tensorOf } from "./abstract.ts";
import { asTensor } from "./shape.ts";

export const triangleP = definePrimitive<TriangleParams>({
  name: "triangle",
  abstractEval: ([x], p) => (checkTriangle(x!.shape, p), tensorOf(x!.shape, x!.dtype)),
  impl: (args, p) => triangleKernel(asTensor(args[0]!), p),
  jvp: (_p, [t], _out, p) => (t === null ? null : triangle(t!, p)),
  vjp: (ct, _x, _out, p) => [triangle(ct, p)],
  batch: ([x], _batched, p): Value => bind(triangleP, [x!], p),
});

export const triangle = (x: Value, p: TriangleParams): Value => bind(triangleP, [x], p);
