// The linear-algebra kernels on webgpu against the CPU's: cholesky, triangularSolve and LU (so
// solve, inv, det and slogdet), QR, eigh and SVD. Values, first derivatives in reverse and
// forward mode, second derivatives, stacks of matrices and vmap, at float32 tolerances (the GPU
// computes in float32, the CPU in float64 rounded once), on well-conditioned random matrices
// (symmetric positive-definite ones made as A·Aᵀ + n·I). Errors that the CPU raises from the
// values (not positive definite, a zero pivot) are NaN on the GPU.
import { describe, expect, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jvp, linalg, rand, run, setBackend, sum, tensor, toDevice, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

/** Uniform in [lo, hi), float32, from a seed. */
const f32 = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => lo + (hi - lo) * v), { shape });
};

/** A stack of symmetric positive-definite n × n matrices A·Aᵀ + n·I (float32). */
const spd = (batch: number[], n: number, seed: number): Tensor => {
  const a = f32([...batch, n, n], seed).data;
  const count = a.length / (n * n);
  const out = new Float32Array(a.length);
  for (let b = 0; b < count; b++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? n : 0;
        for (let k = 0; k < n; k++) s += a[b * n * n + i * n + k]! * a[b * n * n + j * n + k]!;
        out[b * n * n + i * n + j] = s;
      }
  return tensor(out, { shape: [...batch, n, n] });
};

/** Well-conditioned general matrices: random entries plus n·I (diagonally dominant enough). */
const wellConditioned = (batch: number[], n: number, seed: number): Tensor => {
  const a = f32([...batch, n, n], seed).data;
  const out = Float32Array.from(a, (v, e) => (Math.floor(e / n) % n === e % n ? v + n : v));
  return tensor(out, { shape: [...batch, n, n] });
};

/** Random matrices plus diag(0, 3, 6, …): eigenvalues far apart, so eigenvector derivatives (∝ 1/gap) stay well-conditioned in float32. */
const separated = (batch: number[], n: number, seed: number): Tensor => {
  const a = f32([...batch, n, n], seed).data;
  return tensor(Float32Array.from(a, (v, e) => (Math.floor(e / n) % n === e % n ? v + 3 * (e % n) : v)), { shape: [...batch, n, n] });
};

/** A triangular matrix with a diagonal away from zero (the other triangle random: it must not be read). */
const triangular = (batch: number[], n: number, seed: number): Tensor => {
  const a = f32([...batch, n, n], seed).data;
  return tensor(Float32Array.from(a, (v, e) => (Math.floor(e / n) % n === e % n ? 2 + v : v)), { shape: [...batch, n, n] });
};

const TOL = { rtol: 1e-3, atol: 1e-4 };
const TOL2 = { rtol: 5e-3, atol: 5e-4 };

type Op = (...xs: Value[]) => Y.Effect<Value> | Generator<Y.Effect<unknown>, Value, unknown>;

/** A loss that weighs each element differently (sin, so no symmetry hides a wrong entry). */
function* weighted(y: Value): Generator<Y.Effect<unknown>, Value, unknown> {
  return yield* sum(yield* Y.mul(yield* Y.sin(y), yield* Y.add(y, 1.5)));
}

/** Values, the reverse gradient of a weighted loss in every operand, and jvp, on webgpu against the CPU. */
const checkFirst = async (f: Op, xs: Tensor[], seed = 50): Promise<void> => {
  const value = function* (...xs: Value[]) { return yield* f(...xs); };
  const loss = function* (...xs: Value[]) { return yield* weighted(yield* f(...xs)); };
  const ts = xs.map((x, k) => f32(x.shape as number[], seed + k));
  await expectSameOnGpu(value, xs, TOL);
  await expectSameOnGpu(grad(loss, { argnums: xs.map((_, k) => k) }), xs, TOL);
  await expectSameOnGpu(function* (...args: Value[]) { return yield* jvp(value, args.slice(0, xs.length), args.slice(xs.length)); }, [...xs, ...ts], TOL);
};

/** Second order: the gradient of the gradient's squared norm (reverse over reverse) and the jvp of the gradient (forward over reverse). */
const checkSecond = async (f: Op, x: Tensor, ...consts: Tensor[]): Promise<void> => {
  const lossWith = (cs: Value[]) => function* (x: Value) { return yield* weighted(yield* f(x, ...cs)); };
  await expectSameOnGpu(function* (x: Value, ...cs: Value[]) {
    return yield* grad(function* (x: Value) { return yield* sum(yield* Y.square(yield* grad(lossWith(cs))(x))); })(x);
  }, [x, ...consts], TOL2);
  await expectSameOnGpu(function* (x: Value, t: Value, ...cs: Value[]) { return yield* jvp(grad(lossWith(cs)), [x], [t]); }, [x, f32(x.shape as number[], 77), ...consts], TOL2);
};

describe("webgpu: cholesky", () => {
  it("values, gradients and jvp: one matrix and a stack", async () => {
    await checkFirst((a) => linalg.cholesky(a), [spd([], 5, 1)]);
    await checkFirst((a) => linalg.cholesky(a), [spd([2, 3], 4, 2)]);
  });
  it("a non-symmetric operand: its symmetric part is factored, and the gradient is symmetric", async () => {
    const a = tensor(Float32Array.from(spd([], 4, 3).data, (v, e) => v + (e % 3) * 0.1), { shape: [4, 4] });
    await checkFirst((a) => linalg.cholesky(a), [a]);
  });
  it("second derivatives", () => checkSecond((a) => linalg.cholesky(a), spd([2], 4, 4)));
  it("vmap is the loop of single calls", async () => {
    await expectSameOnGpu(vmap(function* (a: Value) { return yield* linalg.cholesky(a); }), [spd([3], 4, 5)], TOL);
    await expectSameOnGpu(vmap(grad(function* (a: Value) { return yield* weighted(yield* linalg.cholesky(a)); })), [spd([3], 3, 6)], TOL);
  });
  it("a matrix that is not positive definite gives NaN (the CPU's ValueError needs its values), the others of the stack their factor", async () => {
    const good = spd([], 3, 7).data;
    const bad = Float32Array.from([1, 2, 0, 2, 1, 0, 0, 0, 1]);
    const stack = tensor(Float32Array.from([...good, ...bad]), { shape: [2, 3, 3] });
    await setBackend("webgpu");
    try {
      const l = (await (run(function* (a: Value) { return yield* linalg.cholesky(a); }, toDevice(stack)) as Tensor).dataAsync()) as Float32Array;
      expect(Array.from(l.subarray(9)).every(Number.isNaN)).toBe(true);
      await setBackend("cpu");
      const want = (run(function* (a: Value) { return yield* linalg.cholesky(a); }, tensor(good, { shape: [3, 3] })) as Tensor).data;
      Array.from(l.subarray(0, 9)).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5));
      expect(() => run(function* (a: Value) { return yield* linalg.cholesky(a); }, stack)).toThrow(/at batch index 1 .* is not positive definite/);
    } finally {
      await setBackend("cpu");
    }
  });
});

describe("webgpu: triangularSolve", () => {
  const b = f32([4, 3], 11);
  for (const [lower, transposeA] of [[true, false], [false, false], [true, true], [false, true]] as const)
    it(`lower ${lower}, transposeA ${transposeA}: values, gradients in a and b, jvp`, () =>
      checkFirst((a, b) => linalg.triangularSolve(a, b, { lower, transposeA }), [triangular([], 4, 12), b]));
  it("a vector b, batch axes broadcast between a and b", async () => {
    await checkFirst((a, b) => linalg.triangularSolve(a, b), [triangular([], 5, 13), f32([5], 14)]);
    await checkFirst((a, b) => linalg.triangularSolve(a, b, { lower: false }), [triangular([2, 1], 3, 15), f32([3, 3, 2], 16)]);
  });
  it("second derivatives", () => checkSecond((a, b) => linalg.triangularSolve(a, b!, { lower: false, transposeA: true }), triangular([], 4, 17), b));
  it("vmap is the loop of single calls", async () => {
    await expectSameOnGpu(vmap(function* (a: Value, b: Value) { return yield* linalg.triangularSolve(a, b); }), [triangular([3], 4, 18), f32([3, 4, 2], 19)], TOL);
    await expectSameOnGpu(function* (a: Value, bs: Value) {
      return yield* vmap(function* (b: Value) { return yield* linalg.triangularSolve(a, b, { lower: false }); }, 1)(bs);
    }, [triangular([], 4, 18), f32([4, 3, 2], 20)], TOL);
  });
  it("a zero on the diagonal gives NaN for that system (the CPU raises a ValueError)", async () => {
    const a = tensor(Float32Array.from([2, 0, 0, 1, 0, 0, 1, 1, 3, 2, 0, 0, 1, 1, 0, 1, 1, 3]), { shape: [2, 3, 3] });
    const bb = f32([2, 3, 2], 21);
    await setBackend("webgpu");
    try {
      const x = (await (run(function* (a: Value, b: Value) { return yield* linalg.triangularSolve(a, b); }, toDevice(a), toDevice(bb)) as Tensor).dataAsync()) as Float32Array;
      expect(Array.from(x.subarray(0, 6)).every(Number.isNaN)).toBe(true);
      expect(Array.from(x.subarray(6)).some(Number.isNaN)).toBe(false);
    } finally {
      await setBackend("cpu");
    }
    expect(() => run(function* (a: Value, b: Value) { return yield* linalg.triangularSolve(a, b); }, a, bb)).toThrow(/zero on its diagonal/);
  });
});

describe("webgpu: LU (solve, inv, det, slogdet)", () => {
  // rows shuffled so that partial pivoting exchanges rows
  const shuffled = (x: Tensor): Tensor => {
    const n = x.shape[x.shape.length - 1]!;
    const d = x.data;
    const out = new Float32Array(d.length);
    for (let e = 0; e < d.length; e++) {
      const m = Math.floor(e / (n * n));
      const i = Math.floor(e / n) % n;
      out[e] = d[m * n * n + ((i + 1) % n) * n + (e % n)]!; // row i ← row i + 1, cyclically
    }
    return tensor(out, { shape: x.shape as number[] });
  };
  const a = shuffled(wellConditioned([], 5, 31));
  const stack = shuffled(wellConditioned([2], 4, 32));
  it("solve: values, gradients in a and b, jvp (a vector b and a matrix b, a stack)", async () => {
    await checkFirst((a, b) => linalg.solve(a, b), [a, f32([5], 33)]);
    await checkFirst((a, b) => linalg.solve(a, b), [stack, f32([2, 4, 3], 34)]);
  });
  it("inv, det and slogdet: values, gradients, jvp", async () => {
    await checkFirst((a) => linalg.inv(a), [a]);
    await checkFirst((a) => linalg.det(a), [stack]);
    await checkFirst(function* (a) { const [s, l] = yield* linalg.slogdet(a); return yield* Y.mul(s, l); }, [stack]);
  });
  it("second derivatives of solve, inv and det", async () => {
    const b = f32([4, 2], 35);
    await checkSecond((a, b) => linalg.solve(a, b!), shuffled(wellConditioned([], 4, 36)), b);
    await checkSecond((a) => linalg.inv(a), shuffled(wellConditioned([], 3, 37)));
    await checkSecond((a) => linalg.det(a), shuffled(wellConditioned([], 3, 38)));
  });
  it("vmap is the loop of single calls", async () => {
    await expectSameOnGpu(vmap(function* (a: Value, b: Value) { return yield* linalg.solve(a, b); }), [stack, f32([2, 4], 39)], TOL);
    await expectSameOnGpu(vmap(grad(function* (a: Value) { const [, l] = yield* linalg.slogdet(a); return l; })), [stack], TOL);
  });
  it("a singular matrix: det 0 and slogdet (0, −∞) as on the CPU; solve gives NaN (the CPU's ValueError)", async () => {
    const sing = tensor(Float32Array.from([1, 2, 3, 2, 4, 6, 1, 0, 1]), { shape: [3, 3] });
    // (logAbsDet is log 0 there: SwiftShader's log(0) is about −88, not −∞, an elementwise matter; U's zero is checked through det and sign)
    await expectSameOnGpu(function* (a: Value) { return [yield* linalg.det(a), (yield* linalg.slogdet(a))[0]]; }, [sing], { rtol: 0, atol: 0 });
    await setBackend("webgpu");
    try {
      const x = (await (run(function* (a: Value) { return yield* linalg.solve(a, Y.ones([3], "float32")); }, toDevice(sing)) as Tensor).dataAsync()) as Float32Array;
      expect(Array.from(x).every(Number.isNaN)).toBe(true);
    } finally {
      await setBackend("cpu");
    }
  });
});

/** The results as one vector (so that one weighted loss reaches every factor). */
function* flat(xs: readonly Value[]): Generator<Y.Effect<unknown>, Value, unknown> {
  const parts: Value[] = [];
  for (const x of xs) parts.push(yield* Y.reshape(x, [(x as Tensor).size]));
  return yield* Y.concat(parts, 0);
}

describe("webgpu: qr", () => {
  const qr = function* (a: Value) { return yield* flat(yield* linalg.qr(a)); };
  it("tall, square and wide matrices and a stack: values, gradients, jvp", async () => {
    await checkFirst(qr, [f32([5, 3], 41)]);
    await checkFirst(qr, [wellConditioned([], 4, 42)]);
    await checkFirst(qr, [f32([3, 5], 43)]);
    await checkFirst(qr, [f32([2, 4, 3], 44)]);
  });
  it("second derivatives", () => checkSecond(qr, f32([4, 3], 45)));
  it("vmap is the loop of single calls", () => expectSameOnGpu(vmap(function* (a: Value) { return yield* linalg.qr(a); }), [f32([3, 4, 2], 46)], TOL));
  it("a zero column (no reflection) as on the CPU", () =>
    expectSameOnGpu(function* (a: Value) { return yield* linalg.qr(a); }, [tensor(Float32Array.from([0, 1, 0, 2, 0, 3, 0, 4]), { shape: [4, 2] })], TOL));
});

describe("webgpu: eigh", () => {
  const eigh = function* (a: Value) { return yield* flat(yield* linalg.eigh(a)); };
  // a sign-free function of the eigenvectors: V diag(w²) Vᵀ
  const matrixFunction = function* (a: Value) {
    const [w, v] = yield* linalg.eigh(a);
    return yield* Y.matmul(yield* Y.mul(v, yield* Y.expandDims(yield* Y.square(w), -2)), yield* Y.transpose(v));
  };
  it("values (ascending) and eigenvectors, gradients, jvp: one matrix and a stack", async () => {
    await checkFirst(eigh, [separated([], 5, 51)]);
    await checkFirst(eigh, [separated([2, 3], 4, 52)]);
    await checkFirst(matrixFunction, [f32([4, 4], 53)]);
  });
  it("second derivatives", () => checkSecond(matrixFunction, f32([4, 4], 54)));
  it("vmap is the loop of single calls", () => expectSameOnGpu(vmap(function* (a: Value) { return yield* linalg.eigh(a); }), [f32([3, 4, 4], 55)], TOL));
  it("a repeated eigenvalue: the same values, and the trace's gradient I", async () => {
    const eye = tensor(Float32Array.from([2, 0, 0, 0, 2, 0, 0, 0, 5]), { shape: [3, 3] });
    await expectSameOnGpu(function* (a: Value) { return yield* linalg.eigh(a); }, [eye], TOL);
    await expectSameOnGpu(grad(function* (a: Value) { const [w] = yield* linalg.eigh(a); return yield* sum(w); }), [eye], TOL);
  });
});

describe("webgpu: svd", () => {
  const svd = function* (a: Value) { return yield* flat(yield* linalg.svd(a)); };
  it("tall, square and wide matrices and a stack: values (descending), gradients, jvp", async () => {
    await checkFirst(svd, [f32([5, 3], 61)]);
    await checkFirst(svd, [f32([4, 4], 62)]);
    await checkFirst(svd, [f32([3, 5], 63)]);
    await checkFirst(svd, [f32([2, 4, 3], 64)]);
  });
  it("second derivatives of the nuclear norm Σ s", () => checkSecond(function* (a: Value) { return (yield* linalg.svd(a))[1]; }, f32([4, 3], 65)));
  it("vmap is the loop of single calls", () => expectSameOnGpu(vmap(function* (a: Value) { return yield* linalg.svd(a); }), [f32([3, 3, 4], 66)], TOL));
  it("a rank-deficient matrix: the CPU's singular values, U completed to orthonormal columns, a = U S Vᵀ", async () => {
    const a = tensor(Float32Array.from([1, 2, 3, 2, 4, 6, 1, 0, 1, 0, 1, 1]), { shape: [4, 3] }); // rank 2
    const checks = function* (a: Value) {
      const [u, s, vt] = yield* linalg.svd(a);
      const back = yield* Y.matmul(yield* Y.mul(u, s), vt);
      return [s, yield* Y.matmul(yield* Y.transpose(u), u), yield* Y.sub(back, a)];
    };
    const { got } = await expectSameOnGpu(function* (a: Value) { return (yield* linalg.svd(a))[1]; }, [a], { rtol: 1e-4, atol: 1e-5 });
    expect((got as number[])[2]).toBeLessThan(1e-5);
    await setBackend("webgpu");
    try {
      const [, utu, residual] = run(checks, toDevice(a)) as Tensor[];
      const g = (await utu!.toArrayAsync()) as number[][];
      g.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - (i === j ? 1 : 0))).toBeLessThan(1e-5)));
      const r = (await residual!.toArrayAsync()) as number[][];
      r.flat().forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5));
    } finally {
      await setBackend("cpu");
    }
  });
});

describe("webgpu: linalg under jit, and a larger matrix", () => {
  it("jit of a Gaussian log-likelihood's gradient (cholesky, triangularSolve, log of the diagonal, as the sum of L's upper triangle's rows) is the CPU's", async () => {
    const logLikelihood = function* (k: Value, y: Value) {
      const l = yield* linalg.cholesky(k);
      const z = yield* linalg.triangularSolve(l, y);
      const logDet = yield* sum(yield* Y.log(yield* Y.sum(yield* Y.triu(l), 1)));
      return yield* Y.neg(yield* Y.add(yield* Y.mul(0.5, yield* sum(yield* Y.square(z))), logDet));
    };
    const f = Y.jit(function* (k: Value, y: Value) { return yield* Y.valueAndGrad(logLikelihood, { argnums: [0, 1] })(k, y); });
    await expectSameOnGpu(f, [spd([], 6, 81), f32([6], 82)], TOL);
  });
  it("jit of qr, eigh, svd, solve and slogdet and of a gradient through them is the CPU's", async () => {
    const all = function* (a: Value, b: Value) {
      const [q, r] = yield* linalg.qr(a);
      const [w, v] = yield* linalg.eigh(a);
      const [u, s, vt] = yield* linalg.svd(a);
      const [sign, logAbs] = yield* linalg.slogdet(a);
      return [q, r, w, v, u, s, vt, yield* linalg.solve(a, b), sign, logAbs];
    };
    const loss = function* (a: Value, b: Value) {
      const [, r] = yield* linalg.qr(a);
      const [w] = yield* linalg.eigh(a);
      const [, s] = yield* linalg.svd(a);
      return yield* sum(yield* Y.add(yield* Y.add(yield* weighted(r), yield* weighted(w)), yield* Y.add(yield* weighted(s), yield* weighted(yield* linalg.solve(a, b)))));
    };
    const a = separated([], 4, 91);
    const b = f32([4, 2], 92);
    await expectSameOnGpu(Y.jit(all), [a, b], TOL);
    await expectSameOnGpu(Y.jit(grad(loss, { argnums: [0, 1] })), [a, b], TOL);
  });
  it("32 × 32: solve, eigh's eigenvalues and svd's singular values (on llvmpipe, whose loop limiter would cut eigh and svd short, a BackendError)", async () => {
    const a = wellConditioned([], 32, 83);
    const b = f32([32, 2], 84);
    await expectSameOnGpu(function* (a: Value, b: Value) { return yield* linalg.solve(a, b); }, [a, b], { rtol: 1e-3, atol: 1e-3 });
    const jacobi = function* (a: Value) {
      return [(yield* linalg.eigh(yield* Y.matmul(a, yield* Y.transpose(a))))[0], (yield* linalg.svd(a))[1]];
    };
    await setBackend("webgpu");
    const adapter = Y.backendInfo().adapter ?? "";
    await setBackend("cpu");
    if (!/llvmpipe/i.test(adapter)) return void (await expectSameOnGpu(jacobi, [a], { rtol: 1e-3, atol: 1e-3 }));
    await setBackend("webgpu");
    try {
      const onGpu = toDevice(a);
      expect(() => run(jacobi, onGpu)).toThrow(/linalg\.eigh: one GPU thread runs each matrix: a 32 × 32 matrix needs \d+ loop iterations in one GPU thread, and this adapter \(.*llvmpipe.*\) stops a shader's loops after 65535/);
    } finally {
      await setBackend("cpu");
    }
  });
});
