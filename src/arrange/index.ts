// Shape operations built from the shape primitives (and flip and triangle): what src/ops.ts exports.
export { squeeze, expandDims } from "./axes.ts";
export { stack, split } from "./stack.ts";
export { tile, repeat } from "./tile.ts";
export { flip } from "./flip.ts";
export { tril, triu } from "./triangle.ts";
export { diag, trace } from "./diagonal.ts";
export { pad, type PadMode, type PadOptions } from "./pad.ts";
