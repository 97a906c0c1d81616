// npm run build: dist/ afresh — ESM JavaScript, .d.ts declarations and source maps (with the
// TypeScript inlined, as the sources are not shipped) — from src/ and effects/ by tsc, which
// rewrites the sources' .ts import paths to .js (tsconfig.build.json).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
