// The 2-thread matmul used from a module Web Worker that may block in Atomics.wait, as a page's
// training worker uses it (./threads-in-a-worker.ts runs there). Chromium starts a worker only
// while the thread that created it lets its event loop run, so the library must not wait for its
// own worker to load: products run on one thread at once, and on two once the creator has let
// its event loop run. (Only in the main browser project: loading the library's modules
// unbundled into a worker takes seconds.)
import { afterEach, describe, expect, it } from "vitest";
import type { Report } from "./threads-in-a-worker.ts";

/** A Web Worker, as this file uses it (the Node suite's type check has no DOM library). */
interface WebWorker {
  onmessage: ((e: { data: Report }) => void) | null;
  onerror: ((e: { message: string }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}

let worker: WebWorker | undefined;
afterEach(() => worker?.terminate());

describe("matmul on two threads from a Web Worker that may block", () => {
  it("runs products on one thread at once while its own worker loads, then on two, with the same bits", async () => {
    const Worker = (globalThis as unknown as { Worker: new (url: URL, options: { type: "module" }) => WebWorker }).Worker;
    worker = new Worker(new URL("./threads-in-a-worker.ts", import.meta.url), { type: "module" });
    const report = await new Promise<Report>((resolve, reject) => {
      worker!.onmessage = (e) => resolve(e.data);
      worker!.onerror = (e) => reject(new Error(e.message));
      worker!.postMessage(null);
    });
    expect(report.firstMs).toBeLessThan(1_000);
    expect(report.reasonAtOnce).toMatch(/^the worker is still loading/);
    expect(report.reason).toBeUndefined();
    expect(report.split).toBe(1);
    expect(report.same).toBe(true);
    expect(report.readyMs).toBeLessThan(5_000);
  });
});
