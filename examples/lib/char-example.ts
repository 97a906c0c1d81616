// The training run that the char-rnn and lstm examples share.
import { trainLoop } from "../../src/index.ts";
import { charLoss, charOptimizer, initCharModel, sampleChars, type CellKind, type CharRnnParams } from "../models/char-rnn.ts";
import { loadCorpus, sequences } from "./text.ts";

export function runCharExample(kind: CellKind, epochs: number, passes: number): { first: number; last: number } {
  const corpus = loadCorpus();
  const seqLength = 20;
  const sample = (params: CharRnnParams, seed: number): string =>
    sampleChars(params, [corpus.index.get("t")!], 160, seed).map((i) => corpus.chars[i]).join("");
  console.log(
    `${kind === "rnn" ? "vanilla RNN" : "LSTM"} (hidden 50) on ${corpus.ids.length} characters of examples/data/river-notes.txt, ` +
      `vocabulary of ${corpus.chars.length}; ${passes} passes over the text per epoch; loss = summed cross-entropy over ${seqLength} characters (${(seqLength * Math.log(corpus.chars.length)).toFixed(1)} for a uniform guess)`,
  );
  const result = trainLoop({
    params: initCharModel(kind, corpus.chars.length, 50, 0),
    lossFn: charLoss,
    optimizer: charOptimizer(0.1),
    // an epoch is `passes` walks over the text, each from a different offset so that the
    // sequences are cut in new places
    data: (epoch) => Array.from({ length: passes }, (_, k) => sequences(corpus, seqLength, (epoch * passes + k) % seqLength)).flat(),
    epochs,
    onEpochEnd: ({ epoch, params }) => ({ sample: JSON.stringify(sample(params, epoch).slice(0, 48)) }),
  });
  const first = result.epochLosses[0]!;
  const last = result.epochLosses.at(-1)!;
  console.log(`loss per sequence: ${first.toFixed(2)} in the first epoch → ${last.toFixed(2)} in the last (${result.steps} iterations, ${((1000 * result.seconds) / result.steps).toFixed(1)} ms each)`);
  console.log(`sampled text:\n  t${sample(result.params, 7)}`);
  return { first, last };
}
