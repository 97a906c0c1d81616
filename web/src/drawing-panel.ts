// The drawing panel: a digit drawn on the canvas is made MNIST-like (./digits/drawn-digit.ts) and
// classified by the training worker; the predicted digit and the ten probabilities show beside
// it. A blank canvas gives no prediction, and so does an untrained network.
import { toMnistImage } from "./digits/drawn-digit.ts";
import type { TrainingPanel } from "./training-panel.ts";
import { drawPad } from "./ui/draw-pad.ts";
import { probabilityBars } from "./ui/probability-bars.ts";

export function drawingPanel(training: TrainingPanel): void {
  const q = <T extends HTMLElement>(id: string): T => document.querySelector<T>(`[data-testid="${id}"]`)!;
  const prediction = q("prediction");
  const hint = q("prediction-hint");
  const showBars = probabilityBars(q("probabilities"));
  let asked = 0;

  const show = (probabilities: number[] | null, why: string): void => {
    showBars(probabilities);
    prediction.textContent = probabilities ? String(probabilities.indexOf(Math.max(...probabilities))) : "";
    hint.textContent = why;
  };

  const update = async (): Promise<void> => {
    const ticket = ++asked;
    const { ink, width, height } = pad.ink();
    const image = toMnistImage(ink, width, height);
    if (!image) return show(null, "draw a digit (0–9) in the box");
    const probabilities = await training.predict(image);
    if (ticket !== asked) return; // a newer drawing was sent meanwhile
    show(probabilities, probabilities ? "the network reads" : "train the network first, then it reads your digit");
  };
  const pad = drawPad(q<HTMLCanvasElement>("draw-canvas"), () => void update());
  q("clear").addEventListener("click", () => pad.clear());
  training.onImproved(() => void update());
  void update();
}
