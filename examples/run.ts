// npm run example -- NAME: runs examples/NAME.ts.
const EXAMPLES: Record<string, string> = {
  "mnist-cnn": "Lantern's MNIST CNN on the real digits, to ≥ 97% test accuracy",
  "char-rnn": "a character-level vanilla RNN on a small text; prints samples",
  lstm: "the same with an LSTM cell",
  "tree-lstm": "a binary Tree-LSTM on generated sentiment-like trees",
  demo: "the demo: MNIST CNN with a progress bar, ASCII digits and a loss curve",
  "effect-train": "the MNIST CNN as an Effect program: Ctrl-C saves, running again resumes",
  newton: "Newton's method with grad and hessian on the Rosenbrock function",
};

const name = process.argv[2];
if (name === undefined || !Object.hasOwn(EXAMPLES, name)) {
  const width = Math.max(...Object.keys(EXAMPLES).map((n) => n.length));
  const list = Object.entries(EXAMPLES)
    .map(([n, d]) => `  ${n.padEnd(width)}  ${d}`)
    .join("\n");
  console.error(`${name === undefined ? "which example?" : `no example named ${JSON.stringify(name)}`}\nusage: npm run example -- NAME\n${list}`);
  process.exit(1);
}
const mod = (await import(`./${name}.ts`)) as { main: () => unknown };
await mod.main();
