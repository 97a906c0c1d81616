// The second panel: a function of x typed by the user, parsed without eval
// (./expression/parse.ts), and plotted with its first and second derivatives — grad and
// grad∘grad of the program it becomes. A mistake shows a message beside the input.
import { curves, grid } from "./expression/derivatives.ts";
import { parseExpression } from "./expression/parse.ts";
import { ExpressionError } from "./expression/tokens.ts";
import { drawFunctionPlot } from "./ui/function-plot.ts";

const POINTS = 400;
const DEBOUNCE_MS = 120;

export function functionPanel(): void {
  const q = <T extends HTMLElement>(id: string): T => document.querySelector<T>(`[data-testid="${id}"]`)!;
  const input = q<HTMLInputElement>("expression");
  const error = q("expression-error");
  const plot = q<HTMLCanvasElement>("function-plot");
  const from = q<HTMLInputElement>("x-from");
  const to = q<HTMLInputElement>("x-to");
  let timer: ReturnType<typeof setTimeout> | undefined;

  const update = (): void => {
    const lo = Number(from.value), hi = Number(to.value);
    try {
      if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new ExpressionError("the range of x must go from a smaller number to a larger one", -1);
      const tree = parseExpression(input.value);
      drawFunctionPlot(plot, curves(tree, grid(lo, hi, POINTS)));
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      plot.classList.remove("stale");
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
      if (e instanceof ExpressionError && e.at >= 0) {
        input.setAttribute("aria-invalid", "true");
        input.setSelectionRange?.(e.at, Math.min(input.value.length, e.at + 1));
      }
      plot.classList.add("stale");
    }
  };
  const later = (): void => {
    clearTimeout(timer);
    timer = setTimeout(update, DEBOUNCE_MS);
  };
  for (const el of [input, from, to]) el.addEventListener("input", later);
  for (const button of document.querySelectorAll<HTMLButtonElement>("[data-example]"))
    button.addEventListener("click", () => {
      input.value = button.dataset.example!;
      update();
    });
  update();
}
