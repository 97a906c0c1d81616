// Where the constructors (tensor, zeros, ones, full, randn, rand) put a new tensor: null keeps it
// on the CPU (the default; one null check per constructor call), otherwise the current device
// backend uploads it.
import type { Tensor } from "../tensor/tensor.ts";

type Placement = (t: Tensor, op: string) => Tensor;
let placement: Placement | null = null;

/** Sets where new tensors go (setBackend does). */
export const setPlacement = (p: Placement | null): void => {
  placement = p;
};

/** A newly made tensor on the current backend. */
export const placed = (t: Tensor, op: string): Tensor => (placement === null ? t : placement(t, op));
