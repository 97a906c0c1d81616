// Runs an example's main() when its file is the program being run (tsx examples/NAME.ts).
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const isMain = (metaUrl: string): boolean => {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(metaUrl));
  } catch {
    return false;
  }
};
