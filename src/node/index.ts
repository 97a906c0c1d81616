// yieldiff/node: what needs a file system (Node, Deno, Bun). Everything else is in "yieldiff",
// which imports no node: module and runs in browsers too.
export { saveCheckpoint, loadCheckpoint } from "./checkpoint-files.ts";
export { writeSvg, writeLossCurveSvg } from "./svg-file.ts";
