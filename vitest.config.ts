import { defineConfig } from "vitest/config";
import { relaxedProbeBytes } from "./src/kernels/wasm/gemm-module.ts";

// Node 20 lacks Map.groupBy, which vitest's reporter uses when it prints a failure.
const mapWithGroupBy = Map as unknown as { groupBy?: unknown };
if (typeof mapWithGroupBy.groupBy !== "function") {
  mapWithGroupBy.groupBy = <K, V>(items: Iterable<V>, key: (item: V, index: number) => K): Map<K, V[]> => {
    const groups = new Map<K, V[]>();
    let i = 0;
    for (const item of items) {
      const k = key(item, i++);
      const list = groups.get(k);
      if (list) list.push(item);
      else groups.set(k, [item]);
    }
    return groups;
  };
}

// Engines that have relaxed SIMD by default (Node 22 and later) need no flag, and may not know it.
const relaxedByDefault = WebAssembly.validate(relaxedProbeBytes());

export default defineConfig({
  test: {
    testTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["test/*.test.ts"],
          pool: "threads",
          // The float32 products without fused multiply-add on every engine, so that the kernels'
          // bit-for-bit tests hold where the engine has relaxed SIMD too (Node 22 and later).
          env: { YIELDIFF_NO_FMA: "1" },
        },
      },
      {
        extends: true,
        test: {
          // The fused multiply-add path, on Node 20 behind its flag (the default from Node 22).
          name: "relaxed-simd",
          include: ["test/relaxed-simd/*.test.ts"],
          pool: "forks",
          execArgv: relaxedByDefault ? [] : ["--experimental-wasm-relaxed-simd"],
        },
      },
    ],
  },
});
