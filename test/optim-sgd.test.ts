// optim.sgd with momentum, Nesterov momentum, dampening and weight decay: three steps against
// torch.optim.SGD's update rule worked by hand,
//   g ← g + wd·p;  v ← g (first step), then μ·v + (1 − dampening)·g;  p ← p − lr·(nesterov ? g + μ·v : v).
import { describe, expect, it } from "vitest";
import { Tensor, ValueError, grad, optim, run, sub, sum, square, tensor, type Value } from "../src/index.ts";

const grads = [2, -1, 0.5];
/** The parameter after each of three updates with the gradients above (w starts at 1, or a per-step gradient function of w). */
const steps = (opt: optim.Optimizer<optim.SgdState>, gs: readonly number[] = grads): number[] => {
  let params = { w: tensor([1]) };
  let state = opt.init(params);
  const out: number[] = [];
  for (const g of gs) {
    [params, state] = opt.update({ w: tensor([g]) }, state, params);
    out.push(params.w.item());
  }
  return out;
};
const close = (got: number[], want: number[]) => got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));

describe("sgd with momentum (torch.optim.SGD's rule)", () => {
  it("heavy ball: v = g, then μv + g; p −= lr·v", () => {
    // v: 2, 0.9·2 − 1 = 0.8, 0.9·0.8 + 0.5 = 1.22;  p: 1 − 0.2 = 0.8, 0.8 − 0.08 = 0.72, 0.72 − 0.122 = 0.598
    close(steps(optim.sgd({ lr: 0.1, momentum: 0.9 })), [0.8, 0.72, 0.598]);
  });

  it("Nesterov: p −= lr·(g + μv)", () => {
    // v: 2, 0.8, 1.22;  d: 2 + 1.8 = 3.8, −1 + 0.72 = −0.28, 0.5 + 1.098 = 1.598
    // p: 1 − 0.38 = 0.62, 0.62 + 0.028 = 0.648, 0.648 − 0.1598 = 0.4882
    close(steps(optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true })), [0.62, 0.648, 0.4882]);
  });

  it("dampening scales the gradient in the velocity after the first step", () => {
    // v: 2 (first step undampened), 0.9·2 + 0.5·(−1) = 1.3, 0.9·1.3 + 0.5·0.5 = 1.42
    // p: 0.8, 0.8 − 0.13 = 0.67, 0.67 − 0.142 = 0.528
    close(steps(optim.sgd({ lr: 0.1, momentum: 0.9, dampening: 0.5 })), [0.8, 0.67, 0.528]);
  });

  it("weight decay adds wd·p to the gradient before the momentum", () => {
    // g': 2 + 0.1·1 = 2.1 → v 2.1, p 0.79; g' −1 + 0.079 = −0.921 → v 0.9·2.1 − 0.921 = 0.969, p 0.79 − 0.0969 = 0.6931
    // g' 0.5 + 0.06931 = 0.56931 → v 0.9·0.969 + 0.56931 = 1.44141, p 0.6931 − 0.144141 = 0.548959
    close(steps(optim.sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.1 })), [0.79, 0.6931, 0.548959]);
  });

  it("without momentum: plain steps, and a state without velocity", () => {
    close(steps(optim.sgd({ lr: 0.1 })), [0.8, 0.9, 0.85]);
    expect("velocity" in optim.sgd({ lr: 0.1 }).init({ w: tensor([1]) })).toBe(false);
  });

  it("in place gives the same numbers; the state counts the steps and keeps the velocity", () => {
    const opt = optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, inPlace: true });
    close(steps(opt), [0.62, 0.648, 0.4882]);
    let params = { w: tensor([1, 2]) };
    let state = opt.init(params);
    [params, state] = opt.update({ w: tensor([2, -1]) }, state, params);
    expect(state.count).toBe(1);
    expect(Array.from((state.velocity as { w: Tensor }).w.buf)).toEqual([2, -1]);
  });

  it("minimizes a quadratic faster with momentum than without, in a training loop with grad", () => {
    const target = tensor([3, -2]);
    const loss = function* (w: Value) {
      return yield* sum(yield* square(yield* sub(w, target)));
    };
    const train = (opt: optim.Optimizer<optim.SgdState>): number => {
      let w = tensor([0, 0]);
      let state = opt.init(w);
      for (let k = 0; k < 20; k++) [w, state] = opt.update(run(grad(loss), w) as Tensor, state, w);
      return (run(loss, w) as Tensor).item();
    };
    const plain = train(optim.sgd({ lr: 0.02 }));
    expect(train(optim.sgd({ lr: 0.02, momentum: 0.9 }))).toBeLessThan(plain);
    expect(train(optim.sgd({ lr: 0.02, momentum: 0.9, nesterov: true }))).toBeLessThan(plain);
  });

  it("refuses Nesterov without momentum or with dampening, and out-of-range settings", () => {
    expect(() => optim.sgd({ lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum > 0 and dampening 0/);
    expect(() => optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, dampening: 0.1 })).toThrow(ValueError);
    expect(() => optim.sgd({ lr: 0.1, momentum: 0.9, dampening: 2 })).toThrow(/dampening must be a finite number in \[0, 1\]/);
    expect(() => optim.sgd({ lr: 0.1, momentum: -1 })).toThrow(/momentum/);
  });
});
