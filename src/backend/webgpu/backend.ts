// The WebGPU backend: finds an adapter and device, and runs primitives on device tensors, one
// dispatch per operation. Which kernel runs is decided here only: elementwise primitives by
// their scalar expression (any of them), the others by this table. A primitive with no GPU
// kernel yet is a BackendError naming it — never a CPU kernel reading a GPU buffer.
import { abstractOf } from "../../../effects/abstract.ts";
import type { Abstract, Primitive } from "../../../effects/primitive.ts";
import type { Value } from "../../../effects/value.ts";
import { BackendError, fmt } from "../../errors.ts";
import { avgPool2dGradP, avgPool2dP, conv2dInputGradP, conv2dP, conv2dWeightGradP, conv2dWeightGradsP, type ConvParams, type PoolParams } from "../../primitives/conv.ts";
import { matmulP, type MatmulParams } from "../../primitives/matmul.ts";
import { logSoftmaxP, logsumexpP, sumP, type ReduceParams } from "../../primitives/reduce.ts";
import { extremum, maxPool, type ExtremumParams, type MaxPoolParams } from "../../primitives/select.ts";
import { broadcastToP, concatP, padP, reshapeP, scatterAddP, sliceP, takeP, transposeP, type TakeParams } from "../../primitives/shape.ts";
import { stopGradientP } from "../../primitives/stop-gradient.ts";
import { triangleP } from "../../primitives/triangular.ts";
import { scatterByIndexP, takeByIndexP, type ScatterByIndexParams, type TakeByIndexParams } from "../../primitives/take-by-index.ts";
import type { TriangleParams } from "../../kernels/triangular.ts";
import { flipP, type FlipParams } from "../../primitives/flip.ts";
import { argReduceP, type ArgReduceParams } from "../../primitives/arg-reduce.ts";
import { cumprodP, cumsumP, prodP, type ScanParams } from "../../primitives/scan-reduce.ts";
import { dynamicSliceP, dynamicUpdateSliceP, type SliceParams, type UpdateParams } from "../../primitives/dynamic-slice.ts";
import { dynamicIndexAdjointP, dynamicIndexP } from "../../primitives/dynamic-index.ts";
import { argsortP, sorted, topKIndicesP, topKValues, type SortParams, type TopKParams } from "../../primitives/sorting.ts";
import { choleskyP } from "../../primitives/linalg/cholesky.ts";
import { luP } from "../../primitives/linalg/lu.ts";
import { qrP } from "../../primitives/linalg/qr.ts";
import { eighP } from "../../primitives/linalg/eigh.ts";
import { svdP } from "../../primitives/linalg/svd.ts";
import { categoricalP, type CategoricalParams } from "../../random/primitives.ts";
import { triangularSolveP, type TriangularSolveParams } from "../../primitives/linalg/triangular-solve.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { float64OnDevice } from "../backend.ts";
import type { DeviceBackend } from "../device.ts";
import { DeviceTensor } from "../device-tensor.ts";
import { GpuContext } from "./context.ts";
import { compileProgram } from "./program.ts";
import { elementwise } from "./elementwise.ts";
import * as gather from "./gather.ts";
import * as conv from "./conv.ts";
import * as pool from "./pooling.ts";
import type { GpuAdapter, GpuLike } from "./gpu-types.ts";
import * as layout from "./layout.ts";
import { matmul } from "./matmul.ts";
import * as reduce from "./reduce.ts";
import { cumulative } from "./scan.ts";
import * as window from "./window.ts";
import * as sort from "./sort.ts";
import { prod } from "./prod.ts";
import * as dynamicIndex from "./dynamic-index.ts";
import { overwrite } from "./copy.ts";
import { triangle } from "./triangle.ts";
import * as byIndex from "./take-by-index.ts";
import * as linalg from "./linalg/index.ts";
import * as random from "./random.ts";

/** A GPU kernel: the device tensors (or numbers) in, the primitive's abstract result known. */
type Kernel = (ctx: GpuContext, args: readonly Value[], params: never, out: Abstract) => Value;

const dev = (v: Value): DeviceTensor => v as DeviceTensor;
const kernel = <P>(k: (ctx: GpuContext, args: readonly Value[], params: P, out: Abstract) => Value): Kernel => k as Kernel;

const KERNELS = new Map<Primitive<never>, Kernel>([
  [reshapeP, kernel<{ shape: readonly number[] }>((ctx, [x], p) => ctx.view(dev(x!), p.shape))],
  [stopGradientP, kernel((_ctx, [x]) => x!)],
  [transposeP, kernel<{ perm: readonly number[] }>((ctx, [x], p) => layout.transpose(ctx, dev(x!), p.perm))],
  [broadcastToP, kernel<{ shape: readonly number[] }>((ctx, [x], p) => layout.broadcastTo(ctx, dev(x!), p.shape))],
  [sliceP, kernel<{ starts: readonly number[]; ends: readonly number[] }>((ctx, [x], p) => layout.slice(ctx, dev(x!), p.starts, p.ends))],
  [padP, kernel<{ starts: readonly number[]; shape: readonly number[] }>((ctx, [x], p) => layout.pad(ctx, dev(x!), p.starts, p.shape))],
  [flipP, kernel<FlipParams>((ctx, [x], p) => layout.flip(ctx, dev(x!), p.axes))],
  [triangleP, kernel<TriangleParams>((ctx, [x], p) => triangle(ctx, dev(x!), p))],
  [cumsumP, kernel<ScanParams>((ctx, [x], p) => cumulative(ctx, dev(x!), p.axis, "sum", p.reverse))],
  [cumprodP, kernel<ScanParams>((ctx, [x], p) => cumulative(ctx, dev(x!), p.axis, "prod", p.reverse))],
  [dynamicSliceP, kernel<SliceParams>((ctx, [x, ...starts], p) => window.dynamicSlice(ctx, dev(x!), starts, p.sizes, p.rows))],
  [dynamicUpdateSliceP, kernel<UpdateParams>((ctx, [x, u, ...starts], p) => window.dynamicUpdateSlice(ctx, dev(x!), dev(u!), starts, p.rows))],
  [dynamicIndexP, kernel((ctx, [x, i], _p, out) => dynamicIndex.dynamicIndex(ctx, dev(x!), i!, out.shape))],
  [dynamicIndexAdjointP, kernel<{ shape: readonly number[] }>((ctx, [v, i], p) => dynamicIndex.dynamicIndexAdjoint(ctx, v!, i!, p.shape))],
  [concatP, kernel<{ axis: number }>((ctx, xs, p, out) => gather.concat(ctx, xs.map(dev), p.axis, out.shape))],
  [takeP, kernel<TakeParams>((ctx, [x], p, out) => gather.take(ctx, dev(x!), p.indices, p.axis, out.shape))],
  [takeByIndexP, kernel<TakeByIndexParams>((ctx, [x, i], p, out) => byIndex.takeByIndex(ctx, dev(x!), dev(i!), p.axis, p.fill, out.shape))],
  [scatterByIndexP, kernel<ScatterByIndexParams>((ctx, [v, i], p, out) => byIndex.scatterByIndex(ctx, dev(v!), dev(i!), p.axis, p.dim, out.shape))],
  [scatterAddP, kernel<TakeParams & { dimSize: number }>((ctx, [v], p, out) =>
    gather.scatterAdd(ctx, dev(v!), p.indices, p.indexShape.length, p.axis, p.dimSize, out.shape),
  )],
  [conv2dP, kernel<ConvParams>((ctx, [x, w], p, out) => conv.conv2d(ctx, dev(x!), dev(w!), p, out.shape))],
  [conv2dInputGradP, kernel<ConvParams>((ctx, [c, w], p, out) => conv.conv2dInputGrad(ctx, dev(c!), dev(w!), p, out.shape))],
  [conv2dWeightGradP, kernel<ConvParams>((ctx, [x, c], p, out) => conv.conv2dWeightGrad(ctx, dev(x!), dev(c!), p, out.shape))],
  [conv2dWeightGradsP, kernel<ConvParams & { shape: readonly number[] }>((ctx, [x, c], p) => conv.conv2dWeightGrads(ctx, dev(x!), dev(c!), p, p.shape))],
  [avgPool2dP, kernel<PoolParams>((ctx, [x], p, out) => pool.avgPool2d(ctx, dev(x!), p, out.shape))],
  [avgPool2dGradP, kernel<PoolParams & { shape: readonly number[] }>((ctx, [c], p) => pool.avgPool2dGrad(ctx, dev(c!), p, p.shape))],
  [maxPool.gather, kernel<MaxPoolParams>((ctx, [x, v], p, out) => pool.maxPool2dGather(ctx, dev(x!), dev(v!), p, out.shape))],
  [maxPool.scatter, kernel<MaxPoolParams>((ctx, [x, c], p) => pool.maxPool2dScatter(ctx, dev(x!), dev(c!), p))],
  [sumP, kernel<ReduceParams>((ctx, [x], p, out) => reduce.sum(ctx, dev(x!), p.axes, out.shape))],
  [prodP, kernel<ReduceParams>((ctx, [x], p, out) => prod(ctx, dev(x!), p.axes, out.shape))],
  [logsumexpP, kernel<ReduceParams>((ctx, [x], p, out) => reduce.logsumexp(ctx, dev(x!), p.axes, out.shape))],
  [logSoftmaxP, kernel<ReduceParams>((ctx, [x], p) => reduce.logSoftmax(ctx, dev(x!), p.axes))],
  [matmulP, kernel<MatmulParams>((ctx, [a, b], p, out) => matmul(ctx, dev(a!), dev(b!), p.transA, p.transB, out.shape))],
  [argReduceP, kernel<ArgReduceParams>((ctx, [x], p, out) => reduce.argReduce(ctx, dev(x!), p.axis, out.shape, p.kind === "max" ? ">" : "<"))],
  [extremum.gather, kernel<ExtremumParams>((ctx, [x, v], p, out) => reduce.selectGather(ctx, dev(x!), dev(v!), p.axes, out.shape, p.kind === "max" ? ">" : "<"))],
  [extremum.scatter, kernel<ExtremumParams>((ctx, [x, c], p) => reduce.selectScatter(ctx, dev(x!), dev(c!), p.axes, p.kind === "max" ? ">" : "<"))],
  [sorted.gather, kernel<SortParams>((ctx, [x, v], p, out) => sort.gather(ctx, dev(x!), dev(v!), p.axis, dev(x!).shape[p.axis]!, "ascending", out.shape))],
  [sorted.scatter, kernel<SortParams>((ctx, [x, c], p) => sort.scatter(ctx, dev(x!), dev(c!), p.axis, dev(x!).shape[p.axis]!, "ascending"))],
  [argsortP, kernel<SortParams>((ctx, [x], p, out) => sort.positions(ctx, dev(x!), p.axis, dev(x!).shape[p.axis]!, "ascending", out.shape))],
  [topKValues.gather, kernel<TopKParams>((ctx, [x, v], p, out) => sort.gather(ctx, dev(x!), dev(v!), dev(x!).shape.length - 1, p.k, "descending", out.shape))],
  [topKValues.scatter, kernel<TopKParams>((ctx, [x, c], p) => sort.scatter(ctx, dev(x!), dev(c!), dev(x!).shape.length - 1, p.k, "descending"))],
  [topKIndicesP, kernel<TopKParams>((ctx, [x], p, out) => sort.positions(ctx, dev(x!), dev(x!).shape.length - 1, p.k, "descending", out.shape))],
  [choleskyP, kernel((ctx, [a]) => linalg.cholesky(ctx, dev(a!)))],
  [triangularSolveP, kernel<TriangularSolveParams>((ctx, [a, b], p) => linalg.triangularSolve(ctx, dev(a!), dev(b!), p))],
  [luP, kernel((ctx, [a], _p, out) => linalg.lu(ctx, dev(a!), out.shape))],
  [qrP, kernel((ctx, [a], _p, out) => linalg.qr(ctx, dev(a!), out.shape))],
  [eighP, kernel((ctx, [a], _p, out) => linalg.eigh(ctx, dev(a!), out.shape))],
  [svdP, kernel((ctx, [a], _p, out) => linalg.svd(ctx, dev(a!), out.shape))],
  [categoricalP, kernel<CategoricalParams>((ctx, [k, l], p, out) => random.categorical(ctx, k as Tensor, dev(l!), p, out.shape))],
] as [Primitive<never>, Kernel][]);

/** Primitives whose positions are float64 on the CPU and float32 here (exact up to 2^24). */
const POSITIONS = new Set<Primitive<never>>([argReduceP, argsortP, topKIndicesP, categoricalP] as Primitive<never>[]);

/** Operands that are CPU data a kernel reads on the CPU: a sampler's keys (Threefry words in float64). */
const HOST_OPERAND = new Map<Primitive<never>, number>([[categoricalP as Primitive<never>, 0]]);

const ADAPTER_HELP =
  "In Chromium without a GPU, start it with --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader --enable-unsafe-swiftshader " +
  "(SwiftShader runs WebGPU on the CPU); in Node, pass a WebGPU binding's entry point: setBackend(\"webgpu\", { gpu })";

/** Opens the WebGPU device: `gpu` or navigator.gpu; a BackendError says what is missing. */
export async function createWebGPUBackend(gpu?: GpuLike): Promise<DeviceBackend> {
  const entry = gpu ?? (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (entry === undefined || entry === null)
    throw new BackendError(
      "setBackend(\"webgpu\"): this runtime has no WebGPU (navigator.gpu is undefined: Node without a binding, a browser without WebGPU, " +
        `or a page that is not a secure context such as http on another host than localhost). ${ADAPTER_HELP}`,
    );
  let adapter: GpuAdapter | null;
  try {
    adapter = await entry.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    throw new BackendError(`setBackend("webgpu"): requestAdapter failed (${(e as Error).message}). ${ADAPTER_HELP}`);
  }
  if (adapter === null)
    throw new BackendError(`setBackend("webgpu"): WebGPU exists here but offers no adapter (no usable GPU, or WebGPU is disabled). ${ADAPTER_HELP}`);
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const info = adapter.info ?? {};
  const description = [info.vendor, info.architecture, info.description].filter((s) => s).join(" ") || "unknown adapter";
  return webgpuBackend(new GpuContext(device, description));
}

const mixed = (op: string, i: number): BackendError =>
  new BackendError(
    `${op}: operand ${i} is a cpu tensor and another operand is a webgpu tensor; an operation runs on one backend: ` +
      "move it with toDevice(t), or the GPU one with `await toCpu(t)`",
  );

const webgpuBackend = (ctx: GpuContext): DeviceBackend & { readonly context: GpuContext } => {
  const backend: DeviceBackend & { readonly context: GpuContext } = {
    name: "webgpu",
    description: ctx.description,
    context: ctx,
    memory: () => ({ inUseBytes: ctx.pool.inUseBytes, heldBytes: ctx.pool.heldBytes, peakBytes: ctx.pool.peakBytes }),
    overwrite: (target, source) => overwrite(ctx, target, source),
    upload(t: Tensor, op: string): DeviceTensor {
      if (t.dtype === "float64") throw float64OnDevice(op);
      ctx.checkAlive(op);
      const limit = ctx.device.limits.maxStorageBufferBindingSize;
      if (t.size * 4 > limit) throw new BackendError(`${op}: a tensor of shape ${fmt(t.shape)} is over the device's buffer limit of ${limit} bytes; keep it on the CPU`);
      return ctx.upload(t.buf as Float32Array, t.shape);
    },
    execute<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
      const op = prim.name;
      ctx.checkAlive(op);
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a instanceof Tensor && !(a instanceof DeviceTensor) && HOST_OPERAND.get(prim as Primitive<never>) !== i) throw mixed(op, i);
      }
      const k = KERNELS.get(prim as Primitive<never>);
      if (k === undefined && prim.elementwise === undefined) {
        // a program applied as one primitive (sealed ones do not come here) runs its operations, each dispatched on its own
        if (prim.inline) return prim.impl(args, params);
        throw new BackendError(
          `${op} is not yet available on webgpu; run it on the CPU: move its operands with \`await toCpu(t)\` ` +
            "(and the result back with toDevice). docs/webgpu.md lists the operations the GPU has",
        );
      }
      const out = prim.abstractEval(args.map(abstractOf), params);
      if (out.scalar)
        throw new BackendError(`${op}: its result is a JS number, which a webgpu tensor gives only asynchronously; read it with \`await t.toArrayAsync()\``);
      if (out.dtype === "float64" && !POSITIONS.has(prim as Primitive<never>)) throw float64OnDevice(op);
      return k !== undefined ? k(ctx, args, params as never, out) : elementwise(ctx, prim as Primitive<unknown>, args, out);
    },
    compile: (block) => compileProgram(ctx, (prim, args, params) => backend.execute(prim, args, params), block),
  };
  return backend;
};
