// A tensor whose elements live on a device (a GPU buffer), not in JS memory. It is a Tensor, so
// shapes, dtypes and every operation's checks work unchanged; its elements are read back only
// asynchronously (dataAsync, toArrayAsync, toCpu). A synchronous read — `toArray()`, `item()`,
// a CPU kernel reaching `buf` — throws a BackendError that names the async form, never a wrong
// number. Several tensors may share one device buffer (reshape): the buffer goes back to its
// pool when the last of them is disposed or garbage-collected.
import { BackendError, fmt } from "../errors.ts";
import { sizeOf, type Shape } from "../tensor/shape.ts";
import { Tensor, type BackendName, type Buffer, type NestedArray } from "../tensor/tensor.ts";

/** A device buffer of float32 elements, shared by the tensors that view it. */
export interface DeviceStorage {
  readonly backend: Exclude<BackendName, "cpu">;
  /** Its elements (float32), at least the viewing tensors' size. */
  readonly length: number;
  /** How many live tensors view it. */
  refs: number;
  /** Reads `n` elements back. */
  read(n: number): Promise<Float32Array>;
  /** Returns the buffer to its pool (called when `refs` reaches 0). */
  release(): void;
}

const EMPTY = new Float32Array(0);

const unref = (s: DeviceStorage): void => {
  if (--s.refs === 0) s.release();
};
const collected = new FinalizationRegistry<DeviceStorage>(unref);

const syncRead = (what: string, shape: readonly number[], backend: string): BackendError =>
  new BackendError(
    `${what}: a ${backend} tensor of shape ${fmt(shape)} cannot be read synchronously (its elements are on the GPU); ` +
      "read it with `await t.toArrayAsync()` or `await t.dataAsync()`, or move it with `await toCpu(t)`",
  );

/** A tensor on a device backend (see setBackend). Made by the backend's kernels and by `toDevice`. */
export class DeviceTensor extends Tensor {
  #storage: DeviceStorage | null;

  /** @internal Takes one reference to `storage`. */
  constructor(storage: DeviceStorage, shape: Shape) {
    super(EMPTY, shape);
    const size = sizeOf(shape);
    Object.defineProperty(this, "size", { value: size, enumerable: true });
    // Anything that reaches for the elements synchronously (a CPU kernel too) gets the error.
    Object.defineProperty(this, "buf", {
      get: () => {
        throw syncRead("a CPU operation", this.shape, storage.backend);
      },
    });
    storage.refs++;
    this.#storage = storage;
    collected.register(this, storage, this);
  }

  override get backend(): BackendName {
    return this.#storage?.backend ?? "webgpu";
  }

  /** @internal The device buffer; a BackendError after dispose. */
  get storage(): DeviceStorage {
    const s = this.#storage;
    if (s === null)
      throw new BackendError(`a disposed webgpu tensor of shape ${fmt(this.shape)} was used; dispose() a tensor only after its last use`);
    return s;
  }

  override dispose(): void {
    const s = this.#storage;
    if (s === null) return;
    this.#storage = null;
    collected.unregister(this);
    unref(s);
  }

  override async dataAsync(): Promise<Buffer> {
    return this.storage.read(this.size);
  }

  override async toArrayAsync(): Promise<NestedArray> {
    return new Tensor(await this.dataAsync(), this.shape).toArray();
  }

  override get data(): Buffer {
    throw syncRead("data", this.shape, this.backend);
  }
  override toArray(): NestedArray {
    throw syncRead("toArray", this.shape, this.backend);
  }
  override item(): number {
    throw syncRead("item", this.shape, this.backend);
  }
  override at(): number {
    throw syncRead("at", this.shape, this.backend);
  }
  override valueOf(): number {
    throw syncRead("valueOf (a tensor used as a number)", this.shape, this.backend);
  }
  override toString(): string {
    return `Tensor(${this.dtype}, ${fmt(this.shape)}, ${this.backend})`;
  }
}
