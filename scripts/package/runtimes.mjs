// The runtimes the packed package must run in, each started from npm's binaries (npx), the
// machine's own Node for its major. `engines` names Node 22, 24 and 26; Node 20 (end of life)
// is run too, to see that the core still works there.
import { spawnSync } from "node:child_process";

const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const here = Number(process.versions.node.split(".")[0]);

const node = (major) =>
  here === major ? { name: `Node ${major}`, cmd: process.execPath, args: [] } : { name: `Node ${major}`, cmd: npx, args: ["-y", "-p", `node@${major}`, "node"] };

/** Each runtime's name and how to run a script with it (append the script's path). */
export const RUNTIMES = [
  node(20),
  node(22),
  node(24),
  node(26),
  { name: "Bun", cmd: npx, args: ["-y", "bun"] },
  { name: "Deno", cmd: npx, args: ["-y", "deno", "run", "-A"] },
];

/** Runs `script` with a runtime in `cwd`; returns its exit status and output. */
export function runWith(runtime, script, cwd, env = {}) {
  const r = spawnSync(runtime.cmd, [...runtime.args, script], { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: r.status ?? -1, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}
