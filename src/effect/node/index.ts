// yieldiff/effect/node: yieldiff/effect's file system, for Node (and Deno, Bun).
//
//   NodeCheckpointFiles   the layer that gives Checkpoint.save / load and fit's checkpoints real files
//   runMain               runs a main program with those files, Ctrl-C turned into interruption
export { NodeCheckpointFiles, nodeCheckpointFiles } from "./files.ts";
export { runMain } from "./run-main.ts";
