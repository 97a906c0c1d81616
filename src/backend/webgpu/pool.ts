// GPU buffers by size bucket (powers of two from 256 bytes): a released buffer waits in its
// bucket for the next request of that bucket, so a training loop that makes the same shapes
// every step allocates nothing after its first steps. `peakBytes` reports the most ever held.
import type { GpuBuffer, GpuDevice } from "./gpu-types.ts";
import { Usage } from "./gpu-types.ts";

const MIN_BYTES = 256;
const USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

/** The bucket's byte size for a request of `bytes`. */
export const bucketBytes = (bytes: number): number => {
  let b = MIN_BYTES;
  while (b < bytes) b *= 2;
  return b;
};

export class BufferPool {
  private readonly free = new Map<number, GpuBuffer[]>();
  /** Bytes of every buffer the pool made and has not destroyed (in use or waiting). */
  heldBytes = 0;
  /** The most `heldBytes` has been. */
  peakBytes = 0;
  /** Bytes of buffers in use (not waiting in a bucket). */
  inUseBytes = 0;

  constructor(private readonly device: GpuDevice) {}

  /** A storage buffer of at least `bytes` (its contents are whatever it held before). */
  acquire(bytes: number): GpuBuffer {
    const size = bucketBytes(bytes);
    const waiting = this.free.get(size);
    const reused = waiting?.pop();
    this.inUseBytes += size;
    if (reused) return reused;
    const buffer = this.device.createBuffer({ size, usage: USAGE });
    this.heldBytes += size;
    if (this.heldBytes > this.peakBytes) this.peakBytes = this.heldBytes;
    return buffer;
  }

  /** Puts a buffer back in its bucket. */
  release(buffer: GpuBuffer): void {
    this.inUseBytes -= buffer.size;
    let list = this.free.get(buffer.size);
    if (!list) this.free.set(buffer.size, (list = []));
    list.push(buffer);
  }

  /** Destroys every waiting buffer (the in-use ones stay). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list.splice(0)) {
      this.heldBytes -= b.size;
      b.destroy();
    }
  }
}
