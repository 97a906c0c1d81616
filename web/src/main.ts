// The demo page: a CNN learns MNIST in a worker while the page stays responsive, reads the
// digits drawn on it, and a typed function is plotted with its derivatives.
import { DIGITS_FILE } from "./digits/file-name.ts";
import { drawingPanel } from "./drawing-panel.ts";
import { functionPanel } from "./function-panel.ts";
import type { EngineInfo } from "./protocol.ts";
import { trainingPanel } from "./training-panel.ts";
import "./style.css";

const engine = document.querySelector<HTMLElement>('[data-testid="engine"]')!;
const isolated = globalThis.crossOriginIsolated === true;
const oneThread = !isolated
  ? "the page is not cross-origin isolated (no SharedArrayBuffer)"
  : new URLSearchParams(location.search).get("threads") === "1"
    ? "threads=1 in the address"
    : undefined;
engine.textContent = isolated ? "cross-origin isolated" : "not cross-origin isolated: matmuls on one thread";

const showEngine = (info: EngineInfo): void => {
  engine.textContent = `training worker: ${info.wasm}${info.fma ? " with relaxed SIMD (fused multiply-add)" : ""}, matmul on ${info.threads}`;
};

const training = trainingPanel({ digitsUrl: new URL(DIGITS_FILE, document.baseURI).href, oneThread, onEngine: showEngine });
drawingPanel(training);
functionPanel();
