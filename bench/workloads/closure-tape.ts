// The floor for W1: a hand-written reverse mode in plain JS, one closure per operation.
class Var {
  d = 0;
  constructor(readonly v: number) {}
}

let tape: (() => void)[] = [];
const mul = (a: Var, b: Var): Var => {
  const o = new Var(a.v * b.v);
  tape.push(() => {
    a.d += o.d * b.v;
    b.d += o.d * a.v;
  });
  return o;
};
const add = (a: Var, b: Var): Var => {
  const o = new Var(a.v + b.v);
  tape.push(() => {
    a.d += o.d;
    b.d += o.d;
  });
  return o;
};
const sin = (a: Var): Var => {
  const o = new Var(Math.sin(a.v));
  tape.push(() => {
    a.d += o.d * Math.cos(a.v);
  });
  return o;
};

/** W1 by closure tape: [y, dy/dx]. */
export function closureTapeW1(x0: number, steps: number): [number, number] {
  tape = [];
  const x = new Var(x0);
  let y = x;
  for (let i = 0; i < steps; i++) y = add(sin(mul(y, x)), x);
  y.d = 1;
  for (let i = tape.length - 1; i >= 0; i--) tape[i]!();
  tape = [];
  return [y.v, x.d];
}

/** W1's primal alone: the cost of computing the values at all. */
export function primalW1(x: number, steps: number): number {
  let y = x;
  for (let i = 0; i < steps; i++) y = Math.sin(y * x) + x;
  return y;
}
