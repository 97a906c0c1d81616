// End-to-end test of the demo page in Debian's Chromium, driven by playwright-core (npm run
// test:page builds the page first): the page is cross-origin isolated; a function that does not
// parse shows a message and a good one clears it; a blank canvas gives no prediction; training
// in the worker reaches 90% test accuracy, the page answering meanwhile; a "1" and a "0" drawn
// with the mouse are read as 1 and 0; no console error anywhere (page or workers). Saves
// out/web-demo.png. YIELDIFF_PAGE_QUERY (e.g. "threads=1") is added to the page's address.
import { mkdirSync } from "node:fs";
import { chromium, type Page } from "playwright-core";
import { chromiumLaunchOptions } from "../../test/browser/chromium.ts";
import { servePage } from "./serve.ts";
import { ONE, ZERO, type Stroke } from "./strokes.ts";

const TRAIN_TIMEOUT_MS = 90_000;
const SCREENSHOT = "out/web-demo.png";

const results: { name: string; ok: boolean; detail: string }[] = [];
const t0 = performance.now();
const seconds = (from = t0): string => `${((performance.now() - from) / 1000).toFixed(1)} s`;

async function check(name: string, body: () => Promise<string | void>): Promise<void> {
  const start = performance.now();
  try {
    const detail = (await body()) ?? "";
    results.push({ name, ok: true, detail });
    console.log(`  ✓ ${name}${detail ? `: ${detail}` : ""} (${seconds(start)})`);
  } catch (e) {
    results.push({ name, ok: false, detail: e instanceof Error ? e.message : String(e) });
    console.log(`  ✗ ${name}: ${e instanceof Error ? e.message : String(e)} (${seconds(start)})`);
  }
}

function expect(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

const testId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);
const text = async (page: Page, id: string): Promise<string> => ((await testId(page, id).textContent()) ?? "").trim();

async function draw(page: Page, strokes: Stroke[]): Promise<void> {
  const box = await testId(page, "draw-canvas").boundingBox();
  if (!box) throw new Error("the drawing canvas is not visible");
  for (const stroke of strokes) {
    const [first, ...rest] = stroke;
    await page.mouse.move(box.x + first![0] * box.width, box.y + first![1] * box.height);
    await page.mouse.down();
    for (const [x, y] of rest) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 2 });
    await page.mouse.up();
  }
}

/** The prediction once the page has one (the worker answers asynchronously). */
async function prediction(page: Page): Promise<{ digit: string; probabilities: number[] }> {
  await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]')?.textContent !== "", undefined, { timeout: 10_000 });
  const probabilities = await page.$$eval('[data-testid="probabilities"] [data-digit]', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.probability)));
  return { digit: await text(page, "prediction"), probabilities };
}

async function main(): Promise<number> {
  const server = await servePage();
  const browser = await chromium.launch(chromiumLaunchOptions());
  const consoleErrors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(`page: ${m.text()}`));
    page.on("pageerror", (e) => consoleErrors.push(`page: uncaught ${e.message}`));
    page.on("worker", (w) => w.on("console", (m) => m.type() === "error" && consoleErrors.push(`worker ${w.url()}: ${m.text()}`)));
    console.log(`page ${server.url} in ${(await browser.version()) || "Chromium"}`);

    await check("the page loads, cross-origin isolated", async () => {
      await page.goto(process.env.YIELDIFF_PAGE_QUERY ? `${server.url}?${process.env.YIELDIFF_PAGE_QUERY}` : server.url);
      expect(await page.evaluate(() => crossOriginIsolated), "crossOriginIsolated is false: the COOP/COEP headers are missing");
      expect((await text(page, "accuracy")) === "–", "accuracy is shown before training");
    });

    await check("a function that does not parse shows a message beside the input; a good one clears it", async () => {
      const input = testId(page, "expression");
      await input.fill("sin(x");
      await page.waitForFunction(() => document.querySelector('[data-testid="expression-error"]')?.textContent !== "");
      const message = await text(page, "expression-error");
      expect(/missing "\)"/.test(message), `unexpected message ${JSON.stringify(message)}`);
      await input.fill("x^3 - 3x");
      await page.waitForFunction(() => document.querySelector('[data-testid="expression-error"]')?.textContent === "");
      await input.fill("sin(3x) * exp(-x^2/4)");
      await page.waitForFunction(() => document.querySelector('[data-testid="expression-error"]')?.textContent === "");
      return `"sin(x" → ${message}`;
    });

    await check("a blank canvas gives no prediction", async () => {
      expect((await text(page, "prediction")) === "", "a prediction is shown for a blank canvas");
      expect(/draw a digit/.test(await text(page, "prediction-hint")), "no hint to draw a digit");
    });

    let trainSeconds = "";
    await check("training in the worker reaches 90% test accuracy", async () => {
      const start = performance.now();
      await testId(page, "train").click();
      await page.waitForFunction(() => /step \d+/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ""), undefined, { timeout: 30_000 });
      // The page answers while the worker trains: a typed mistake is reported at once.
      const typed = performance.now();
      await testId(page, "expression").fill("x^");
      await page.waitForFunction(() => document.querySelector('[data-testid="expression-error"]')?.textContent !== "", undefined, { timeout: 3_000 });
      const responded = `the page answered typing in ${((performance.now() - typed) / 1000).toFixed(2)} s while training`;
      await testId(page, "expression").fill("sin(3x) * exp(-x^2/4)");
      await page.waitForFunction(
        () => {
          const s = document.querySelector('[data-testid="status"]');
          if (s?.classList.contains("error")) return true;
          const a = parseFloat(document.querySelector('[data-testid="accuracy"]')?.textContent ?? "");
          return a >= 90;
        },
        undefined,
        { timeout: TRAIN_TIMEOUT_MS, polling: 100 },
      );
      const reached = seconds(start);
      const status = await text(page, "status");
      expect(!status.startsWith("error"), status);
      // Then let it finish, so that the drawings are read by the trained network.
      await page.waitForFunction(() => (document.querySelector('[data-testid="status"]') as HTMLElement | null)?.dataset.done === "true", undefined, { timeout: TRAIN_TIMEOUT_MS });
      trainSeconds = seconds(start);
      return `${await text(page, "accuracy")} after ${reached} (finished in ${trainSeconds}: ${await text(page, "status")}); ${responded}; ${await text(page, "engine")}`;
    });

    for (const [name, strokes, want] of [["1", ONE, "1"], ["0", ZERO, "0"]] as const) {
      await check(`a "${name}" drawn with the mouse is read as ${want}`, async () => {
        await testId(page, "clear").click();
        await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]')?.textContent === "");
        await draw(page, strokes);
        const { digit, probabilities } = await prediction(page);
        const sum = probabilities.reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - 1) < 1e-3, `the probabilities add up to ${sum}`);
        expect(digit === want, `read as ${digit} (probabilities ${probabilities.map((p) => p.toFixed(2)).join(" ")})`);
        return `p(${want}) = ${(100 * probabilities[Number(want)]!).toFixed(1)}%`;
      });
    }

    mkdirSync("out", { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await check("no console errors in the page or its workers", async () => {
      expect(consoleErrors.length === 0, consoleErrors.join("\n"));
    });
    console.log(`screenshot: ${SCREENSHOT}`);
  } finally {
    await browser.close();
    await server.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\npage end-to-end: ${results.length - failed} passed, ${failed} failed (${seconds()})`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
