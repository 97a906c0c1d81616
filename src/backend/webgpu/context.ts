// The WebGPU device as the kernels use it: its buffer pool, compiled pipelines (one per shader
// text), device tensors over pooled buffers, and `dispatch`, which runs one compute shader over
// a fresh output buffer (one command buffer per operation: eager execution). Validation errors
// are collected and thrown by the next read back, so a failing shader is never a silent zero;
// a lost device makes every later operation throw.
import { BackendError, fmt } from "../../errors.ts";
import { sizeOf, type Shape } from "../../tensor/shape.ts";
import { DeviceTensor, type DeviceStorage } from "../device-tensor.ts";
import { MAP_READ, Usage, type GpuBuffer, type GpuCommandEncoder, type GpuComputePass, type GpuComputePipeline, type GpuDevice } from "./gpu-types.ts";
import { BufferPool, bucketBytes } from "./pool.ts";

/**
 * Mesa's llvmpipe (the CPU adapter Deno's WebGPU takes on a machine without a GPU) stops a shader
 * invocation after this many loop iterations in all, leaving its result half-written, silently.
 */
export const LLVMPIPE_LOOP_LIMIT = 65_535;

/** How many distinct dispatch parameter buffers are kept for reuse (256 bytes each). */
const INFO_CACHE = 1024;
/** Parameter blocks up to this many words are cached (one 256-byte bucket). */
const INFO_CACHED_WORDS = 64;

/** Threads per workgroup of the one-thread-per-element kernels. */
export const GROUP = 256;

/** A shader's entry point with one thread per output element `i` (grids wider than 65,535 groups wrap into y); `info[0]` holds the count. */
export const THREAD_PER_ELEMENT = `@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = g.x + g.y * nw.x * ${GROUP}u;
  if (i >= info[0]) { return; }`;

/** A pooled device buffer viewed by tensors. */
class GpuStorage implements DeviceStorage {
  readonly backend = "webgpu" as const;
  refs = 0;
  constructor(
    private readonly ctx: GpuContext,
    readonly buffer: GpuBuffer,
    readonly length: number,
  ) {}
  read(n: number): Promise<Float32Array> {
    return this.ctx.read(this.buffer, n);
  }
  release(): void {
    if (!this.ctx.lost) this.ctx.releaseBuffer(this.buffer);
  }
}

export class GpuContext {
  readonly pool: BufferPool;
  private readonly pipelines = new Map<string, GpuComputePipeline>();
  private readonly infos = new Map<string, GpuBuffer>();
  /** Long parameter blocks of the dispatch being made: released once it is recorded or submitted. */
  private transient: GpuBuffer[] = [];
  private errors: Promise<{ readonly message: string } | null>[] = [];
  /** While a batch records (see `batch`): its encoder and pass, and the buffers freed meanwhile. */
  private recording: { encoder: GpuCommandEncoder; pass: GpuComputePass; freed: GpuBuffer[] } | null = null;
  /** Why the device was lost, once it was. */
  lost: string | null = null;

  constructor(
    readonly device: GpuDevice,
    readonly description: string,
  ) {
    this.pool = new BufferPool(device);
    void device.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message || "no message"}`;
    });
  }

  /** Whether this adapter cuts a shader's loops short (see LLVMPIPE_LOOP_LIMIT). */
  get cutsLoops(): boolean {
    return /llvmpipe/i.test(this.description);
  }

  /**
   * Throws where this adapter would cut a thread needing `iterations` loop iterations short: a
   * BackendError instead of a silently wrong result.
   */
  checkLoops(op: string, what: string, iterations: number): void {
    if (iterations > LLVMPIPE_LOOP_LIMIT && this.cutsLoops)
      throw new BackendError(
        `${op}: ${what} needs ${Math.round(iterations)} loop iterations in one GPU thread, and this adapter (${this.description}) ` +
          `stops a shader's loops after ${LLVMPIPE_LOOP_LIMIT}, which would leave the result half-written; run it on the CPU ` +
          "(move the operands with `await toCpu(t)`) or on another adapter",
      );
  }

  /** Throws if the device is gone (every operation checks first). */
  checkAlive(op: string): void {
    if (this.lost !== null)
      throw new BackendError(`${op}: the WebGPU device was lost (${this.lost}); its tensors are gone. The CPU backend still works: setBackend("cpu")`);
  }

  /**
   * A device tensor over a pooled buffer of `shape` that a dispatch will write (contents
   * undefined until then). While a batch records, a buffer freed earlier in the batch serves
   * again: the dispatch writing it comes after, in the same pass, those that read it.
   */
  allocate(shape: Shape): { tensor: DeviceTensor; buffer: GpuBuffer } {
    const n = sizeOf(shape);
    const bytes = Math.max(n, 1) * 4;
    const buffer = this.reuseInBatch(bytes) ?? this.pool.acquire(bytes);
    return { tensor: new DeviceTensor(new GpuStorage(this, buffer, n), shape), buffer };
  }

  /** A buffer of `bytes`' bucket freed earlier in the recording batch, if there is one. */
  private reuseInBatch(bytes: number): GpuBuffer | undefined {
    const freed = this.recording?.freed;
    if (freed === undefined || freed.length === 0) return undefined;
    const size = bucketBytes(bytes);
    for (let k = freed.length - 1; k >= 0; k--)
      if (freed[k]!.size === size) {
        const b = freed[k]!;
        freed[k] = freed[freed.length - 1]!;
        freed.pop();
        return b; // (still counted in use: its release was deferred)
      }
    return undefined;
  }

  /** A device tensor holding `data` (a fresh buffer: queue.writeBuffer runs before a batch's recorded commands). */
  upload(data: Float32Array, shape: Shape): DeviceTensor {
    const buffer = this.pool.acquire(Math.max(data.length, sizeOf(shape), 1) * 4);
    const tensor = new DeviceTensor(new GpuStorage(this, buffer, sizeOf(shape)), shape);
    if (data.length > 0) this.device.queue.writeBuffer(buffer, 0, data, 0, data.length);
    return tensor;
  }

  /** A tensor viewing `t`'s buffer under another shape of the same size (reshape). */
  view(t: DeviceTensor, shape: Shape): DeviceTensor {
    return new DeviceTensor(t.storage, shape);
  }

  /** The buffer behind a device tensor. */
  bufferOf(t: DeviceTensor): GpuBuffer {
    return (t.storage as GpuStorage).buffer;
  }

  /**
   * Returns a buffer to the pool, or, while a batch records, once the batch is submitted: a
   * buffer handed out again within the batch could be written by queue.writeBuffer (which runs
   * before the batch's commands) while a recorded command still has to read it.
   */
  releaseBuffer(buffer: GpuBuffer): void {
    if (this.recording !== null) this.recording.freed.push(buffer);
    else this.pool.release(buffer);
  }

  /**
   * Runs `f` with every dispatch recorded into one compute pass of one command buffer, submitted
   * at the end (a jitted program's call: one submit instead of one per operation). Each dispatch
   * of a pass sees the writes of the dispatches before it.
   */
  batch<T>(f: () => T): T {
    if (this.recording !== null) return f();
    const { device } = this;
    const encoder = device.createCommandEncoder();
    const recording = { encoder, pass: encoder.beginComputePass(), freed: [] as GpuBuffer[] };
    this.recording = recording;
    device.pushErrorScope("validation");
    try {
      return f();
    } finally {
      this.recording = null;
      recording.pass.end();
      device.queue.submit([encoder.finish()]);
      this.errors.push(device.popErrorScope());
      for (const b of recording.freed) this.pool.release(b);
    }
  }

  /**
   * The buffer holding a dispatch's parameters: one per distinct content, written once and
   * shared (read-only) by every dispatch with the same parameters — a loop's steps, a training
   * loop's calls — instead of a buffer and a write per dispatch. Past INFO_CACHE contents the
   * cache starts again (the old buffers go back to the pool after the commands reading them).
   */
  private infoBuffer(info: Uint32Array): GpuBuffer {
    if (info.length > INFO_CACHED_WORDS) {
      // (a long one, such as a scatter's index lists, is written for its dispatch alone)
      const b = this.pool.acquire(info.byteLength);
      this.device.queue.writeBuffer(b, 0, info, 0, info.length);
      this.transient.push(b);
      return b;
    }
    const key = info.join(",");
    let b = this.infos.get(key);
    if (b === undefined) {
      if (this.infos.size >= INFO_CACHE) {
        for (const old of this.infos.values()) this.releaseBuffer(old);
        this.infos.clear();
      }
      b = this.pool.acquire(Math.max(info.byteLength, 4));
      this.device.queue.writeBuffer(b, 0, info, 0, info.length);
      this.infos.set(key, b);
    }
    return b;
  }

  private pipeline(code: string): GpuComputePipeline {
    let p = this.pipelines.get(code);
    if (p === undefined) {
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
      this.pipelines.set(code, p);
    }
    return p;
  }

  /**
   * Runs `code` (entry point `main`; binding 0 `info`: the u32 parameters, binding 1 the
   * output, then the inputs) over `groups` workgroups.
   */
  dispatch(code: string, info: Uint32Array, output: GpuBuffer, inputs: readonly GpuBuffer[], groups: readonly [number, number?, number?]): void {
    this.dispatchBuffers(code, info, [output, ...inputs], groups);
  }

  /** Runs `code` with binding 0 `info` and bindings 1, 2, … the buffers (outputs and inputs, as the shader declares them). */
  dispatchBuffers(code: string, info: Uint32Array, buffers: readonly GpuBuffer[], groups: readonly [number, number?, number?]): void {
    const { device } = this;
    const recording = this.recording;
    // (a batch has one error scope around all of its commands)
    if (recording === null) device.pushErrorScope("validation");
    const pipeline = this.pipeline(code);
    const infoBuffer = this.infoBuffer(info);
    const entries = [infoBuffer, ...buffers].map((buffer, binding) => ({ binding, resource: { buffer } }));
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    if (recording !== null) {
      recording.pass.setPipeline(pipeline);
      recording.pass.setBindGroup(0, bindGroup);
      recording.pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
      this.releaseTransient();
      return;
    }
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    pass.end();
    device.queue.submit([encoder.finish()]);
    this.releaseTransient(); // (queue order: a later write to it comes after this dispatch's read)
    this.errors.push(device.popErrorScope());
  }

  private releaseTransient(): void {
    for (const b of this.transient.splice(0)) this.releaseBuffer(b);
  }

  /** The workgroup grid for `n` threads of GROUP each: x up to the per-dimension limit, then y. */
  grid(n: number): [number, number] {
    const groups = Math.ceil(n / GROUP);
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    return groups <= max ? [Math.max(groups, 1), 1] : [max, Math.ceil(groups / max)];
  }

  /** Reads `n` floats of `buffer` back (after every queued operation), throwing any error they raised. */
  async read(buffer: GpuBuffer, n: number): Promise<Float32Array> {
    this.checkAlive("read");
    const bytes = Math.max(n, 1) * 4;
    const staging = this.device.createBuffer({ size: bytes, usage: Usage.MAP_READ | Usage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    const pending = this.errors;
    this.errors = [];
    try {
      await staging.mapAsync(MAP_READ);
      const out = new Float32Array(n);
      out.set(new Float32Array(staging.getMappedRange(), 0, n));
      staging.unmap();
      const failures = (await Promise.all(pending)).filter((e) => e !== null);
      if (failures.length > 0)
        throw new BackendError(`webgpu: ${failures.length} operation(s) failed on the device: ${failures.map((e) => e!.message).join("; ")}`);
      return out;
    } finally {
      staging.destroy();
    }
  }
}

/** The error of a shape too large for one device buffer. */
export const tooLarge = (op: string, shape: readonly number[], limit: number): BackendError =>
  new BackendError(`${op}: a tensor of shape ${fmt(shape)} needs ${sizeOf(shape) * 4} bytes, over the device's buffer limit of ${limit}; keep it on the CPU`);
