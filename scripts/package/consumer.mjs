// A fresh project with the packed yieldiff installed, as a new user makes one: `npm pack` (its
// prepare script builds dist/), then `npm install ./yieldiff-x.y.z.tgz effect` in an empty folder.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Packs the repository at `root` and installs the tarball into a new folder; returns that folder and the tarball. */
export function makeConsumer(root) {
  const work = mkdtempSync(join(tmpdir(), "yieldiff-package-"));
  const out = execFileSync(npm, ["pack", "--json", "--pack-destination", work], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const packed = JSON.parse(out.slice(out.indexOf("[")))[0];
  const tarball = join(work, packed.filename);
  const project = join(work, "consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  // effect (the peer of yieldiff/effect) and @types/node (for one TypeScript profile), at the versions this repository tests.
  const version = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
  const deps = ["effect", "@types/node"].map((name) => `${name}@${version(name)}`);
  execFileSync(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, ...deps], { cwd: project, stdio: ["ignore", "ignore", "inherit"] });
  return { work, project, tarball, packed };
}
