// The environment switches the kernels read at load (YIELDIFF_NO_WASM, YIELDIFF_NO_FMA,
// YIELDIFF_THREADS), where there is an environment: Node's process.env; none in a browser.

/** The variable's value, or undefined (unset, or no process.env here). */
export const envValue = (name: string): string | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];

/** Whether a switch is on: set to anything but "", "0" or "false". */
export const envFlag = (name: string): boolean => {
  const v = envValue(name);
  return v !== undefined && v !== "" && v !== "0" && v !== "false";
};
