// The module vitest.webgpu.config.ts makes of the docs' WebGPU blocks.
declare module "virtual:webgpu-doc-blocks" {
  /** Each block: where it is, its Output if the page shows one, and a loader that runs it. */
  export const blocks: readonly { readonly name: string; readonly output: string | null; load(): Promise<unknown> }[];
}
