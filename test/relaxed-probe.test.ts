// Relaxed-SIMD instructions appear in a kernel module only when the engine's feature probe said
// it has them: an engine without relaxed SIMD (iOS Safari) rejects a whole module that contains
// one. The main test project runs with YIELDIFF_NO_FMA=1, which decides the probe as "no", as an
// engine without relaxed SIMD would; every module built then must be free of them.
import { describe, expect, it } from "vitest";
import { convModuleBytes } from "../src/kernels/wasm/conv-module.ts";
import { elementwiseModuleBytes } from "../src/kernels/wasm/elementwise-module.ts";
import { SGEMM, gemmFma, gemmModuleBytes } from "../src/kernels/wasm/gemm-module.ts";
import { sharedGemmModuleBytes } from "../src/kernels/wasm/gemm-shared-module.ts";
import { gemvModuleBytes } from "../src/kernels/wasm/gemv-module.ts";
import { poolModuleBytes } from "../src/kernels/wasm/pool-module.ts";
import { vectorModuleBytes } from "../src/kernels/wasm/vector-module.ts";

/** f32x4.relaxed_madd: the SIMD prefix 0xFD, then opcode 0x105 as LEB128. */
const RELAXED_MADD = [0xfd, 0x85, 0x02];
const contains = (bytes: Uint8Array, seq: readonly number[]): boolean =>
  bytes.some((_, i) => seq.every((b, j) => bytes[i + j] === b));

describe("relaxed SIMD only after the probe", () => {
  it("a gemm module built with fused multiply-add holds relaxed_madd (the pattern is found)", () => {
    expect(contains(gemmModuleBytes({ ...SGEMM, fma: true }), RELAXED_MADD)).toBe(true);
  });

  it.runIf(process.env.YIELDIFF_NO_FMA === "1")("where the probe says no, no module holds a relaxed-SIMD instruction", () => {
    expect(gemmFma()).toBe(false);
    const modules = { gemm: gemmModuleBytes(), shared: sharedGemmModuleBytes(), conv: convModuleBytes(), gemv: gemvModuleBytes(), elementwise: elementwiseModuleBytes(), vector: vectorModuleBytes(), pool: poolModuleBytes() };
    for (const [name, bytes] of Object.entries(modules)) expect(contains(bytes, RELAXED_MADD), name).toBe(false);
  });
});
