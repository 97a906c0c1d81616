// The state of one call of jit's GPU program: the values of each running block (a frame per
// activation) and the GPU tensors the call holds.
import { DeviceTensor } from "../device-tensor.ts";

/** Values of one activation of a block; a nested block's frame reads its enclosing ones. */
export class Frame {
  private readonly values = new Map<number, unknown>();
  constructor(private readonly parent: Frame | null) {}
  get(id: number): unknown {
    for (let f: Frame | null = this; f !== null; f = f.parent) {
      const v = f.values.get(id);
      if (v !== undefined || f.values.has(id)) return v;
    }
    throw new Error(`jit (webgpu): internal error: variable v${id} read before it was computed`);
  }
  set(id: number, v: unknown): void {
    this.values.set(id, v);
  }
}

/**
 * The GPU tensors of one call and how many holders each has (the variables defined to it, a
 * loop's carry, a sub-program's results on their way to the caller): a tensor the call made is
 * disposed, its buffer back in the pool, when its last holder lets go. The call's arguments and
 * the program's constants are never disposed.
 */
export class Owned {
  private readonly counts = new Map<DeviceTensor, number>();
  constructor(kept: readonly unknown[]) {
    for (const t of kept) if (t instanceof DeviceTensor) this.counts.set(t, Infinity);
  }
  hold(v: unknown): void {
    if (v instanceof DeviceTensor) this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
  }
  drop(v: unknown): void {
    if (!(v instanceof DeviceTensor)) return;
    const n = (this.counts.get(v) ?? 0) - 1;
    this.counts.set(v, n);
    if (n === 0) v.dispose();
  }
}
