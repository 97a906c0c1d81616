// The character model of char-rnn with an LSTM cell (WORKLOADS W4: gates i, f, g, o; hidden 50,
// sequences of 20, Adagrad lr 0.1 with a ±5 clip) on examples/data/river-notes.txt; prints the
// loss falling and sampled text.   npm run example -- lstm
import { runCharExample } from "./lib/char-example.ts";
import { isMain } from "./lib/main.ts";

export const main = () => runCharExample("lstm", 10, 4);

if (isMain(import.meta.url)) main();
