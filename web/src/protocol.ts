// The messages between the page and its training worker (./worker/train-worker.ts).

/** Page → worker. */
export type ToWorker =
  /** `oneThread`: why matmuls must run on one thread; without it they may use two. */
  | { type: "train"; digitsUrl: string; epochs: number; oneThread?: string }
  /** A 28×28 image (grey levels in [0, 1], row by row) to classify with the current parameters. */
  | { type: "predict"; id: number; pixels: Float32Array };

/** What the worker's engine runs on (shown under the page). */
export interface EngineInfo {
  wasm: string;
  fma: boolean;
  threads: string;
}

/** Worker → page. */
export type FromWorker =
  | { type: "status"; text: string }
  | { type: "engine"; engine: EngineInfo }
  | { type: "start"; steps: number; epochs: number; nTrain: number; nTest: number }
  | { type: "step"; step: number; epoch: number; loss: number; stepsPerSecond: number }
  | { type: "accuracy"; step: number; accuracy: number }
  | { type: "done"; steps: number; seconds: number; accuracy: number }
  | { type: "prediction"; id: number; probabilities: number[] | null }
  | { type: "error"; message: string };
