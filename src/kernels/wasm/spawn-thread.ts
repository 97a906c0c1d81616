// Starting a thread that runs a fixed program, wherever the runtime has threads: worker_threads in
// Node, Deno and Bun (reached through process.getBuiltinModule, so that no bundler sees a node:
// import), a module Web Worker from a Blob where there is none (browsers). Its start data (which
// may hold shared memory) is passed once; nothing else crosses between the threads as messages.
import { builtinModule } from "../../runtime-modules.ts";

/** A started thread. */
export interface Thread {
  /**
   * Whether it starts only while the creating thread's event loop runs (a Web Worker: a browser
   * sets it up through tasks on that thread, so a creator that blocks in Atomics.wait until it
   * has started waits in vain); a worker_threads Worker starts on its own.
   */
  readonly startsWithEventLoop: boolean;
  /** Calls `listener` once, with why, when the thread throws outside its program or exits. */
  onGone(listener: (why: string) => void): void;
  terminate(): Promise<void>;
}

/** Which threads spawnThread uses: "auto" (worker_threads where the runtime has them, else Web Workers); tests set "web". */
export const threadKind = { use: "auto" as "auto" | "web" };

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: "error" | "exit", listener: (x: unknown) => void): void;
}
type NodeWorkerCtor = new (code: string, options: { eval: true; workerData: unknown; execArgv: string[] }) => NodeWorker;

interface WebWorker {
  postMessage(data: unknown): void;
  terminate(): void;
  addEventListener(type: "error", listener: (e: { message?: string }) => void): void;
}
interface WebApis {
  Worker?: new (url: string, options: { type: "module"; name?: string }) => WebWorker;
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL?(blob: object): string; revokeObjectURL?(url: string): void };
}

/**
 * Starts a thread running `program` (JavaScript source that defines the function `entry`),
 * which is called with `data` on the new thread; throws if the runtime has no threads.
 */
export function spawnThread(program: string, entry: string, data: unknown): Thread {
  const wt = threadKind.use === "auto" ? builtinModule<{ Worker?: NodeWorkerCtor }>("node:worker_threads") : undefined;
  if (typeof wt?.Worker === "function") return nodeThread(wt.Worker, program, entry, data);
  return webThread(program, entry, data);
}

function nodeThread(Worker: NodeWorkerCtor, program: string, entry: string, data: unknown): Thread {
  const source = `"use strict";\n${program}\n${entry}(require("node:worker_threads").workerData);\n`;
  // No inherited command-line options: a loader such as --import tsx would run in the worker
  // too, and its start-up can wait on the calling thread, which is blocked waiting for the worker.
  const worker = new Worker(source, { eval: true, workerData: data, execArgv: [] });
  worker.unref();
  return {
    startsWithEventLoop: false,
    onGone(listener) {
      worker.on("error", (e) => listener(`the worker threw: ${String(e)}`));
      worker.on("exit", (code) => listener(`the worker exited (code ${String(code)})`));
    },
    terminate: () => worker.terminate().then(() => undefined),
  };
}

function webThread(program: string, entry: string, data: unknown): Thread {
  const { Worker, Blob, URL } = globalThis as WebApis;
  if (typeof Worker !== "function" || typeof Blob !== "function" || typeof URL?.createObjectURL !== "function")
    throw new Error("this runtime has no worker threads (neither worker_threads nor Web Workers)");
  const source = `${program}\nself.onmessage = (e) => { self.onmessage = null; ${entry}(e.data); };\n`;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module", name: "yieldiff-gemm" });
  worker.postMessage(data);
  let gone: ((why: string) => void) | undefined;
  worker.addEventListener("error", (e) => gone?.(`the worker threw: ${e.message ?? "an error"}`));
  return {
    startsWithEventLoop: true,
    onGone(listener) {
      gone = listener;
    },
    terminate: async () => {
      worker.terminate();
      URL.revokeObjectURL?.(url);
      gone?.("the worker was terminated");
    },
  };
}
