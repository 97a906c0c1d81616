// Short training runs of every example model (few steps, small data): the loss on a fixed set
// of examples must fall. The full runs live in examples/ (npm run example -- NAME).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jit, optim, run, tensor, trainLoop, valueAndGrad, type Tensor, type Value } from "../src/index.ts";
import { asciiDigits, loadMnist, MNIST_MEAN, MNIST_STD, mnistBatches, shiftImages } from "../examples/lib/mnist.ts";
import { loadCorpus, makeCorpus, sequences } from "../examples/lib/text.ts";
import { CLASSES, majorityBaseline, makeTrees } from "../examples/lib/trees.ts";
import { charLoss, charOptimizer, initCharModel, sampleChars, type CellKind } from "../examples/models/char-rnn.ts";
import { cnnLoss, countParams, evaluateCnn, initCnn } from "../examples/models/mnist-cnn.ts";
import { evaluateTrees, initTreeLstm, oneHotRows, stagedTreeLoss, treeLoss, treeOptimizer, treeTables } from "../examples/models/tree-lstm.ts";

const quiet = { progress: "none" as const };
const total = <P, B>(loss: (p: P, b: B) => Generator<any, Value, unknown>, params: P, items: readonly B[]): number =>
  items.reduce((acc, b) => {
    const v = run(loss, params, b);
    return acc + (typeof v === "number" ? v : (v as Tensor).item());
  }, 0);

describe("MNIST CNN (mnist-cnn, demo)", () => {
  const { train, test } = loadMnist({ trainSize: 300, testSize: 100, seed: 5 });

  it("loads real digits: a seeded split, normalized images, labels 0..9", () => {
    expect(train.x.shape).toEqual([300, 1, 28, 28]);
    expect(train.x.dtype).toBe("float32");
    expect(test.pixels.shape).toEqual([100, 784]);
    const px = test.pixels.data;
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    expect(new Set(train.labels).size).toBe(10);
    // the same seed gives the same split; another seed another
    const again = loadMnist({ trainSize: 300, testSize: 100, seed: 5 });
    expect(Array.from(again.test.labels)).toEqual(Array.from(test.labels));
    expect(Array.from(loadMnist({ trainSize: 300, testSize: 100, seed: 6 }).test.labels)).not.toEqual(Array.from(test.labels));
    // every real digit has ink in its middle 20×20 and blank corners
    for (let i = 0; i < 100; i++) {
      let ink = 0;
      for (let r = 4; r < 24; r++) for (let c = 4; c < 24; c++) ink += px[i * 784 + r * 28 + c]!;
      expect(ink).toBeGreaterThan(10);
      expect(px[i * 784]! + px[i * 784 + 27]! + px[i * 784 + 27 * 28]! + px[i * 784 + 783]!).toBe(0);
    }
    const art = asciiDigits(test.pixels, [0, 1], ["first", "second"]);
    const lines = art.split("\n");
    expect(lines.length).toBe(13);
    expect(lines.at(-1)).toMatch(/^first +second$/);
    expect(art).toMatch(/[#%@]/);
  });

  it("shiftImages moves each digit by at most maxShift pixels and fills in the background", () => {
    const bg = Math.fround(-MNIST_MEAN / MNIST_STD); // as stored in float32
    const buf = new Float32Array(3 * 784).fill(bg);
    for (let i = 0; i < 3; i++) buf[i * 784 + 14 * 28 + 14] = 2.5; // one bright pixel in the middle of each
    const x = tensor(buf, { shape: [3, 1, 28, 28] });
    expect(Array.from(shiftImages(x, 0, 1).data)).toEqual(Array.from(x.data));
    const moved = new Set<number>();
    for (let seed = 0; seed < 4; seed++) {
      const out = shiftImages(x, 2, seed).data;
      for (let i = 0; i < 3; i++) {
        const img = out.subarray(i * 784, (i + 1) * 784);
        const bright = [...img.keys()].filter((k) => img[k] === 2.5);
        expect(bright.length).toBe(1);
        const [r, c] = [Math.floor(bright[0]! / 28), bright[0]! % 28];
        expect(Math.abs(r - 14)).toBeLessThanOrEqual(2);
        expect(Math.abs(c - 14)).toBeLessThanOrEqual(2);
        moved.add(bright[0]!);
        expect(img.filter((v) => v === bg).length).toBe(783);
      }
    }
    expect(moved.size).toBeGreaterThan(3); // not always the same offset
    const batch = mnistBatches(train, 100, 0, 1);
    expect(batch.length).toBe(3);
    expect(batch[0]!.x.shape).toEqual([100, 1, 28, 28]);
  });

  it("has Lantern's architecture (21,840 parameters) and its loss falls in a few steps", () => {
    const params = initCnn(0);
    expect(countParams(params)).toBe(21_840);
    expect(params.conv1.w.dtype).toBe("float32");
    const probe = mnistBatches(train, 100, 0).slice(0, 1);
    const before = total(cnnLoss, params, probe);
    expect(before).toBeGreaterThan(2.0); // about ln 10 at the start
    const result = trainLoop({ params, lossFn: cnnLoss, optimizer: optim.adam({ lr: 0.003 }), data: mnistBatches(train, 25, 1), epochs: 1, ...quiet });
    expect(result.steps).toBe(12);
    const after = total(cnnLoss, result.params, probe);
    expect(after).toBeLessThan(before * 0.85); // 2.30 → 1.60 when written
    const { accuracy, predictions } = evaluateCnn(result.params, test.x, test.labels, 40);
    expect(predictions.length).toBe(100);
    expect(accuracy).toBeGreaterThan(0.25); // well above chance (0.1) after 12 steps (0.38 when written)
  });
});

describe("character models (char-rnn, lstm)", () => {
  const corpus = loadCorpus();

  it("reads the corpus into a small vocabulary", () => {
    expect(corpus.text.length).toBeGreaterThan(3000);
    expect(corpus.chars.length).toBeLessThanOrEqual(30);
    expect(corpus.chars).toContain(" ");
    const small = makeCorpus("Ab, c!\nab.");
    expect(small.text).toBe("ab, c ab.");
    expect(small.chars).toEqual([" ", ",", ".", "a", "b", "c"]);
    const seqs = sequences(small, 3);
    expect(seqs[0]).toEqual({ inputs: [3, 4, 1], targets: [4, 1, 0] });
    expect(seqs.length).toBe(2);
  });

  for (const kind of ["rnn", "lstm"] as CellKind[]) {
    it(`${kind}: the summed cross-entropy falls, and sampling is seeded`, () => {
      const params = initCharModel(kind, corpus.chars.length, 24, 0);
      const seqs = sequences(corpus, 20).slice(0, 12);
      const before = total(charLoss, params, seqs);
      expect(before / seqs.length).toBeCloseTo(20 * Math.log(corpus.chars.length), 0); // uniform at the start
      const result = trainLoop({ params, lossFn: charLoss, optimizer: charOptimizer(0.1), data: seqs, epochs: 4, ...quiet });
      const after = total(charLoss, result.params, seqs);
      expect(after).toBeLessThan(before * 0.8);
      const a = sampleChars(result.params, [corpus.index.get("t")!], 30, 3);
      expect(a.length).toBe(30);
      expect(a.every((id) => Number.isInteger(id) && id >= 0 && id < corpus.chars.length)).toBe(true);
      expect(sampleChars(result.params, [corpus.index.get("t")!], 30, 3)).toEqual(a);
    });
  }
});

describe("Tree-LSTM (tree-lstm)", () => {
  it("generates seeded trees in post-order whose labels follow the leaves", () => {
    const trees = makeTrees({ count: 20, seed: 9, minLeaves: 3, maxLeaves: 8, vocab: 10 });
    expect(makeTrees({ count: 20, seed: 9, minLeaves: 3, maxLeaves: 8, vocab: 10 })).toEqual(trees);
    for (const tree of trees) {
      const leaves = tree.filter((n) => n.lch < 0).length;
      expect(leaves).toBeGreaterThanOrEqual(3);
      expect(leaves).toBeLessThanOrEqual(8);
      expect(tree.length).toBe(2 * leaves - 1);
      const sums: number[] = [];
      tree.forEach((n, i) => {
        if (n.lch < 0) sums.push(n.word < 3 ? -1 : n.word >= 7 ? 1 : 0);
        else {
          expect(n.lch).toBeLessThan(i);
          expect(n.rch).toBeLessThan(i);
          sums.push(sums[n.lch]! + sums[n.rch]!);
        }
        expect(n.label).toBe(Math.max(0, Math.min(4, sums[i]! + 2)));
        expect(n.label).toBeLessThan(CLASSES);
      });
    }
    const base = majorityBaseline(trees);
    expect(base.nodes).toBeGreaterThan(0.2);
    expect(base.nodes).toBeLessThan(1);
  });

  it("the staged model (fixpoint, jit) computes the eager model's loss and gradient on every tree", () => {
    const trees = makeTrees({ count: 6, seed: 5, minLeaves: 1, maxLeaves: 7, vocab: 12 });
    const { params, embeddings } = initTreeLstm({ vocab: 12, embedding: 16, hidden: 12, seed: 2 });
    const staged = jit(valueAndGrad(stagedTreeLoss));
    const onehot = oneHotRows("float32");
    for (const tree of trees) {
      const [l1, g1] = run(staged, params, { tables: treeTables(tree, 13), embeddings, onehot }) as [Tensor, typeof params];
      const [l2, g2] = run(valueAndGrad(treeLoss), params, { tree, embeddings }) as [Tensor, typeof params];
      expect(Math.abs(l1.item() - l2.item())).toBeLessThan(1e-5 * Math.abs(l2.item()));
      const flat = (g: typeof params) => [g.cell.Wx, g.cell.bx, g.cell.Ul, g.cell.Ur, g.cell.b, g.out.W, g.out.b!] as Tensor[];
      flat(g1).forEach((t, k) => {
        const want = flat(g2)[k]!;
        const scale = Math.max(1e-3, ...Array.from(want.data, Math.abs));
        t.data.forEach((v, i) => expect(Math.abs(v - want.data[i]!)).toBeLessThan(1e-4 * scale));
      });
    }
    expect(staged.info.compiles).toBe(1);
  });

  it("the loss over the nodes falls in a short run", () => {
    const trees = makeTrees({ count: 8, seed: 4, minLeaves: 3, maxLeaves: 6, vocab: 12 });
    const { params, embeddings } = initTreeLstm({ vocab: 12, embedding: 16, hidden: 12, seed: 1 });
    const data = trees.map((tree) => ({ tree, embeddings }));
    const before = total(treeLoss, params, data);
    const result = trainLoop({ params, lossFn: treeLoss, optimizer: treeOptimizer(0.05), data, epochs: 4, ...quiet });
    const after = total(treeLoss, result.params, data);
    expect(after).toBeLessThan(before * 0.8);
    const acc = evaluateTrees(result.params, embeddings, trees);
    expect(acc.nodes).toBeGreaterThanOrEqual(0);
    expect(acc.nodes).toBeLessThanOrEqual(1);
  });
});

describe("npm run example", () => {
  it("lists the examples when the name is unknown, and every listed example exists", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "examples/run.ts", "no-such-example"], { encoding: "utf8", timeout: 15_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no example named "no-such-example"/);
    const names = [...r.stderr.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(["mnist-cnn", "char-rnn", "lstm", "tree-lstm", "demo"]));
    for (const name of names) expect(existsSync(`examples/${name}.ts`)).toBe(true);
  });
});
