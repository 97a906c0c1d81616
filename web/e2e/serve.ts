// Serves the built page (web/dist) as `npm run web` does — vite preview with the headers of
// cross-origin isolation — on a free port of localhost.
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { preview } from "vite";

export async function servePage(): Promise<{ url: string; close(): Promise<void> }> {
  const config = fileURLToPath(new URL("../vite.config.ts", import.meta.url));
  if (!existsSync(fileURLToPath(new URL("../dist/index.html", import.meta.url)))) throw new Error("web/dist is missing: run npm run build:web first");
  const server = await preview({ configFile: config, logLevel: "warn", preview: { host: "127.0.0.1", port: 0, open: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error("vite preview did not say where it listens");
  return { url, close: () => server.close() };
}
