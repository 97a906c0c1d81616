// Writing an SVG (such as ../train/svg.ts's loss curve) to a file, atomically.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { lossCurveSvg, type LossCurveOptions } from "../train/svg.ts";

/** Writes `svg` to `path` (folders created as needed) through a temporary file renamed over it; returns the path. */
export function writeSvg(path: string, svg: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, svg);
  renameSync(tmp, path);
  return path;
}

/** Writes the loss curve of `losses` (see `lossCurveSvg`) to `path`; returns the path. */
export function writeLossCurveSvg(path: string, losses: readonly number[], options: LossCurveOptions = {}): string {
  return writeSvg(path, lossCurveSvg(losses, options));
}
