// Node's modules where the runtime has them, without importing any: Node, Deno and Bun expose
// process.getBuiltinModule, browsers have no process. Modules that use this stay importable by
// any bundler, and fall back to what a browser can do when it gives undefined.

interface RuntimeProcess {
  getBuiltinModule?(id: string): unknown;
}

/** The built-in module `id` (e.g. "node:worker_threads"), or undefined where there is none. */
export function builtinModule<T>(id: string): T | undefined {
  const p = (globalThis as { process?: RuntimeProcess }).process;
  try {
    return p?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/** An installed CommonJS package, loaded synchronously next to this file, or undefined where it is missing or cannot be loaded. */
export function optionalPackage<T>(id: string): T | undefined {
  const mod = builtinModule<{ createRequire?(from: string): (id: string) => unknown }>("node:module");
  if (typeof mod?.createRequire !== "function") return undefined;
  try {
    return mod.createRequire(import.meta.url)(id) as T;
  } catch {
    return undefined;
  }
}
