// Debian's Chromium (apt-get install chromium), as the page's end-to-end test and the browser
// test suite start it: never a browser that a test tool downloads. YIELDIFF_CHROMIUM names
// another binary. As root Chromium needs --no-sandbox; the other switches keep it from reaching
// for the network (updates, sync, QUIC), which a closed network answers with refused
// connections. Playwright gives each launch a fresh, empty profile directory.
import { existsSync } from "node:fs";

export const chromiumPath = process.env.YIELDIFF_CHROMIUM || "/usr/bin/chromium";

export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Playwright's launch options for that Chromium; throws with the fix if it is not installed. */
export function chromiumLaunchOptions(): { executablePath: string; args: string[]; headless: boolean } {
  if (!existsSync(chromiumPath))
    throw new Error(`no Chromium at ${chromiumPath}: install Debian's (apt-get install -y chromium) or set YIELDIFF_CHROMIUM to a Chromium binary`);
  return { executablePath: chromiumPath, args: chromiumArgs, headless: true };
}
