// Contractions (tensordot, einsum), each a sequence of batched matrix products: what src/ops.ts exports.
export { tensordot, type TensordotAxes } from "./tensordot.ts";
export { einsum } from "./einsum.ts";
