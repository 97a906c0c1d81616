// Character-level recurrent models, after Karpathy's min-char-rnn as Lantern benchmarks it
// (WORKLOADS W3 and W4): one-hot inputs, hidden 50, sequences of 20, h0 = c0 = 0 per sequence,
// the loss the sum over the steps of softmax cross-entropy, Adagrad lr 0.1 with an elementwise
// clip to [-5, 5], weights N(0, 0.01²) and zero biases, float32.
//   rnn:  h = tanh(x Wxh + h Whh + b)                    (nn.rnnCell)
//   lstm: gates i, f, g, o from x Wx + h Wh + b; c, h    (nn.lstmCell)
// The prediction is y = h Why + by (nn.linear).
import { concat, nn, optim, Random, run, softmax, softmaxCrossEntropy, Tensor, type Effect, type Value } from "../../src/index.ts";
import type { Sequence } from "../lib/text.ts";

type Gen<R> = Generator<Effect, R, unknown>;
export type CellKind = "rnn" | "lstm";

export interface CharRnnParams<T extends Value = Value> {
  rnn?: nn.RnnCellParams<T>;
  lstm?: nn.LstmCellParams<T>;
  out: nn.LinearParams<T>;
}

export function initCharModel(kind: CellKind, vocab: number, hidden = 50, seed = 0): CharRnnParams<Tensor> {
  const opts = { wInit: nn.init.normal(0.01), dtype: "float32" as const };
  const out = nn.linear.init(seed * 8 + 2, hidden, vocab, opts) as nn.LinearParams<Tensor>;
  if (kind === "rnn") return { rnn: nn.rnnCell.init(seed * 8 + 1, vocab, hidden, opts) as nn.RnnCellParams<Tensor>, out };
  return { lstm: nn.lstmCell.init(seed * 8 + 1, vocab, hidden, opts) as nn.LstmCellParams<Tensor>, out };
}

/** The one-hot rows [1, vocab] of every character, made once per vocabulary size. */
const oneHots = new Map<number, Tensor[]>();
export const oneHot = (id: number, vocab: number): Tensor => {
  let rows = oneHots.get(vocab);
  if (!rows) {
    rows = Array.from({ length: vocab }, (_, i) => {
      const buf = new Float32Array(vocab);
      buf[i] = 1;
      return new Tensor(buf, [1, vocab]);
    });
    oneHots.set(vocab, rows);
  }
  return rows[id]!;
};

const vocabOf = (params: CharRnnParams): number => (params.out.W as { shape: readonly number[] }).shape[1]!;
const hiddenOf = (params: CharRnnParams): number => (params.out.W as { shape: readonly number[] }).shape[0]!;

/** One step of the recurrence: state → state (h, and c for the LSTM). */
function* cellStep(params: CharRnnParams, x: Value, state: Value[]): Gen<Value[]> {
  if (params.rnn) return [yield* nn.rnnCell.apply(params.rnn, x, state[0]!)];
  return yield* nn.lstmCell.apply(params.lstm!, x, [state[0]!, state[1]!]);
}

const zeroState = (params: CharRnnParams): Value[] => {
  const h = new Tensor(new Float32Array(hiddenOf(params)), [1, hiddenOf(params)]);
  return params.rnn ? [h] : [h, h];
};

/** Sum over the sequence of the softmax cross-entropy of the next character. */
export function* charLoss(params: CharRnnParams, seq: Sequence): Gen<Value> {
  const vocab = vocabOf(params);
  let state = zeroState(params);
  const hs: Value[] = [];
  for (const id of seq.inputs) {
    state = yield* cellStep(params, oneHot(id, vocab), state);
    hs.push(state[0]!);
  }
  // All the steps' predictions at once: [T, hidden] → [T, vocab].
  const logits = yield* nn.linear.apply(params.out, yield* concat(hs, 0));
  return yield* softmaxCrossEntropy(logits, seq.targets, { reduction: "sum" });
}

/** Adagrad lr 0.1, eps 1e-8, elementwise clip to [-5, 5] (min-char-rnn's). */
export const charOptimizer = (lr = 0.1) => optim.adagrad({ lr, eps: 1e-8, clipValue: 5 });

/** Samples `length` characters after priming the model with `prime` (seeded; temperature < 1 is greedier). */
export function sampleChars(params: CharRnnParams, prime: readonly number[], length: number, seed: number, temperature = 0.7): number[] {
  const vocab = vocabOf(params);
  const rng = new Random(seed);
  const out: number[] = [];
  function* step(state: Value[], id: number): Gen<[Value[], Value]> {
    const next = yield* cellStep(params, oneHot(id, vocab), state);
    const logits = yield* nn.linear.apply(params.out, next[0]!);
    return [next, yield* softmax(logits, -1)];
  }
  let state = zeroState(params);
  let probs: Tensor | undefined;
  for (const id of prime) [state, probs] = run(step, state, id) as [Value[], Tensor];
  let id = prime[prime.length - 1] ?? 0;
  for (let k = 0; k < length; k++) {
    if (probs) {
      // sample from p^(1/T), renormalized
      const p = Array.from(probs.data, (v) => Math.pow(v, 1 / temperature));
      const total = p.reduce((a, b) => a + b, 0);
      let u = rng.uniform() * total;
      id = p.length - 1;
      for (let c = 0; c < p.length; c++) {
        u -= p[c]!;
        if (u <= 0) {
          id = c;
          break;
        }
      }
    }
    out.push(id);
    [state, probs] = run(step, state, id) as [Value[], Tensor];
  }
  return out;
}
