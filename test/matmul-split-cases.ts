// Products above the threads' size threshold, shared by the Node and browser thread tests:
// [m, k, n, transposeA, transposeB, dtype], split by rows or by columns, both dtypes.
export const SPLIT_CASES = [
  [170, 161, 171, false, false, "float32"],
  [64, 784, 256, false, true, "float32"],
  [784, 64, 256, true, false, "float32"],
  [9, 1200, 403, true, true, "float64"],
  [403, 1200, 9, false, false, "float64"],
] as const;
