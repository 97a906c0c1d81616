// The training panel: the Train button starts the worker (./worker/train-worker.ts) on the digits
// file, and the panel shows its progress — status line, test accuracy, loss chart — as its
// messages come, redrawing at most once per frame. Drawings are classified through it.
import type { EngineInfo, FromWorker, ToWorker } from "./protocol.ts";
import { drawLossChart } from "./ui/loss-chart.ts";

export const EPOCHS = 2;

export interface TrainingPanel {
  /** Classifies a 28×28 image; resolves null before training has started. */
  predict(pixels: Float32Array): Promise<number[] | null>;
  /** Called whenever the parameters got markedly better (at each test evaluation). */
  onImproved(listener: () => void): void;
}

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`the page has no element with data-testid="${id}"`);
  return el;
};

export function trainingPanel(options: { digitsUrl: string; oneThread: string | undefined; onEngine(info: EngineInfo): void }): TrainingPanel {
  const button = byId<HTMLButtonElement>("train");
  const status = byId("status");
  const accuracyText = byId("accuracy");
  const chart = byId<HTMLCanvasElement>("loss-chart");

  let worker: Worker | undefined;
  let losses: number[] = [];
  let accuracies: { step: number; accuracy: number }[] = [];
  let totalSteps = 0;
  let frame = 0;
  let nextId = 0;
  const pending = new Map<number, (p: number[] | null) => void>();
  const improved: (() => void)[] = [];

  const redraw = (): void => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      drawLossChart(chart, { losses, accuracies, totalSteps });
    });
  };
  const fail = (message: string): void => {
    status.textContent = `error: ${message}`;
    status.classList.add("error");
    button.disabled = false;
  };

  const onMessage = (m: FromWorker): void => {
    switch (m.type) {
      case "status":
        status.textContent = m.text;
        break;
      case "engine":
        options.onEngine(m.engine);
        break;
      case "start":
        totalSteps = m.steps;
        status.textContent = `training on ${m.nTrain.toLocaleString("en")} digits, testing on ${m.nTest.toLocaleString("en")} others…`;
        break;
      case "step":
        losses.push(m.loss);
        status.textContent = `epoch ${m.epoch + 1}/${EPOCHS}, step ${m.step}/${totalSteps}: loss ${m.loss.toFixed(3)} (${m.stepsPerSecond.toFixed(0)} steps/s)`;
        redraw();
        break;
      case "accuracy":
        accuracies.push({ step: m.step, accuracy: m.accuracy });
        accuracyText.textContent = `${(100 * m.accuracy).toFixed(1)}%`;
        redraw();
        for (const f of improved) f();
        break;
      case "done":
        status.textContent = `trained: ${m.steps} steps in ${m.seconds.toFixed(1)} s; test accuracy ${(100 * m.accuracy).toFixed(1)}%`;
        status.dataset.done = "true";
        button.disabled = false;
        button.textContent = "Train again";
        break;
      case "prediction":
        pending.get(m.id)?.(m.probabilities);
        pending.delete(m.id);
        break;
      case "error":
        fail(m.message);
        break;
    }
  };

  button.addEventListener("click", () => {
    worker?.terminate();
    for (const resolve of pending.values()) resolve(null);
    pending.clear();
    losses = [];
    accuracies = [];
    accuracyText.textContent = "–";
    status.classList.remove("error");
    delete status.dataset.done;
    button.disabled = true;
    redraw();
    worker = new Worker(new URL("./worker/train-worker.ts", import.meta.url), { type: "module", name: "yieldiff-training" });
    worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
    worker.onerror = (e) => fail(e.message || "the training worker failed to start");
    const start: ToWorker = { type: "train", digitsUrl: options.digitsUrl, epochs: EPOCHS, ...(options.oneThread === undefined ? {} : { oneThread: options.oneThread }) };
    worker.postMessage(start);
  });
  redraw();

  return {
    predict(pixels) {
      if (!worker || losses.length === 0) return Promise.resolve(null);
      const id = nextId++;
      const message: ToWorker = { type: "predict", id, pixels };
      return new Promise((resolve) => {
        pending.set(id, resolve);
        worker!.postMessage(message, [pixels.buffer]);
      });
    },
    onImproved(listener) {
      improved.push(listener);
    },
  };
}
