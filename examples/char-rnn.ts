// min-char-rnn (WORKLOADS W3: vanilla RNN, hidden 50, sequences of 20, Adagrad lr 0.1 with a
// ±5 clip) on examples/data/river-notes.txt; prints the loss falling and sampled text.
//   npm run example -- char-rnn
import { runCharExample } from "./lib/char-example.ts";
import { isMain } from "./lib/main.ts";

export const main = () => runCharExample("rnn", 10, 4);

if (isMain(import.meta.url)) main();
