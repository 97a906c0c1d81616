// The demo page (npm run build:web → web/dist/, npm run web serves it). The page and its worker
// import the library from source as `yieldiff`. Every response carries the headers of
// cross-origin isolation, without which a page has no SharedArrayBuffer and the 2-thread matmul
// runs on one thread.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { digitsAsset } from "./digits-asset.ts";

export const isolationHeaders = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  resolve: { alias: { yieldiff: fileURLToPath(new URL("../src/index.ts", import.meta.url)) } },
  plugins: [digitsAsset()],
  worker: { format: "es" },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", reportCompressedSize: true },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders, port: 4173, strictPort: false },
});
