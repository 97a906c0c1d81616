// A setup file of the browser test suite (vitest.browser.config.ts). A page has no process.env;
// the library reads its switches (YIELDIFF_NO_FMA, YIELDIFF_NO_WASM, YIELDIFF_THREADS) from
// process.env only where one exists, and some test files read process.env too. This gives the
// page the environment its project names, as the Node projects' `env` does.
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    env: Record<string, string>;
  }
}

const g = globalThis as { process?: { env: Record<string, string | undefined> } };
g.process ??= { env: { ...inject("env") } };
