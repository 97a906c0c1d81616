// A tiny WebAssembly assembler: just enough binary format (LEB128, the type / import / function /
// export / code sections) and instructions (i32 arithmetic, structured control flow, scalar and
// 128-bit SIMD loads and stores, f32x4 / f64x2 arithmetic) to emit the gemm kernels from
// TypeScript at load time. No binary is checked in and nothing but the TypeScript source builds it.
//
// Code is written as expressions: an `Expr` appends its instructions to a function body, so
// `i32.add(get(x), i32.const(4))` pushes x + 4. Control flow uses labels instead of relative
// depths: `block(exit => [...])` binds `exit`, and `br(exit)` computes the depth when emitted.

export type ValType = "i32" | "f32" | "f64" | "v128";
const TYPE_CODE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`uleb: ${n} is not a non-negative integer`);
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number): number[] {
  if (!Number.isInteger(n)) throw new RangeError(`sleb: ${n} is not an integer`);
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];
const name = (s: string): number[] => {
  const b = utf8(s);
  return [...uleb(b.length), ...b];
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** A local variable (parameters are locals too). */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** A branch target bound by `block` or `loop`. */
export interface Label {
  readonly id: symbol;
}

export type Expr = (f: Func) => void;

/** One function being assembled: its signature, locals and body. */
export class Func {
  readonly code: number[] = [];
  readonly params: Local[];
  private readonly extra: ValType[] = [];
  private readonly labels: symbol[] = [];

  constructor(
    readonly name: string,
    paramTypes: readonly ValType[],
    readonly results: readonly ValType[],
    readonly exported = true,
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  local(type: ValType): Local {
    this.extra.push(type);
    return { index: this.params.length + this.extra.length - 1, type };
  }

  emit(...bytes: number[]): void {
    for (const b of bytes) this.code.push(b);
  }

  /** Appends statements/expressions in order. */
  body(...exprs: Expr[]): this {
    for (const e of exprs) e(this);
    return this;
  }

  /** @internal */
  pushLabel(): Label {
    const id = Symbol();
    this.labels.push(id);
    return { id };
  }

  /** @internal */
  popLabel(): void {
    this.labels.pop();
  }

  /** @internal The relative depth of a label from the current position. */
  depth(l: Label): number {
    const at = this.labels.lastIndexOf(l.id);
    if (at < 0) throw new Error(`asm: branch to a label that is not in scope in ${this.name}`);
    return this.labels.length - 1 - at;
  }

  signature(): number[] {
    return [0x60, ...vec(this.params.map((p) => [TYPE_CODE[p.type]])), ...vec(this.results.map((t) => [TYPE_CODE[t]]))];
  }

  encode(): number[] {
    if (this.labels.length !== 0) throw new Error(`asm: unbalanced blocks in ${this.name}`);
    const groups: number[][] = [];
    for (let i = 0; i < this.extra.length; ) {
      let j = i;
      while (j < this.extra.length && this.extra[j] === this.extra[i]) j++;
      groups.push([...uleb(j - i), TYPE_CODE[this.extra[i]!]]);
      i = j;
    }
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/**
 * A module that imports one memory ("env", "memory") and defines the given functions, exporting
 * those marked exported under their names. Functions call each other by index = position.
 * A `shared` memory (threads share it) must declare a maximum.
 */
export function assemble(funcs: readonly Func[], memoryPages: { initial: number; maximum?: number; shared?: boolean }): Uint8Array {
  const sigs: string[] = [];
  const sigBytes: number[][] = [];
  const typeIndex = funcs.map((f) => {
    const s = f.signature();
    const key = s.join(",");
    let i = sigs.indexOf(key);
    if (i < 0) {
      i = sigs.length;
      sigs.push(key);
      sigBytes.push(s);
    }
    return i;
  });
  if (memoryPages.shared && memoryPages.maximum === undefined) throw new Error("asm: a shared memory needs a maximum");
  const limits =
    memoryPages.maximum === undefined
      ? [0x00, ...uleb(memoryPages.initial)]
      : [memoryPages.shared ? 0x03 : 0x01, ...uleb(memoryPages.initial), ...uleb(memoryPages.maximum)];
  const imports = vec([[...name("env"), ...name("memory"), 0x02, ...limits]]);
  const exports = vec(funcs.flatMap((f, i) => (f.exported ? [[...name(f.name), 0x00, ...uleb(i)]] : [])));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(sigBytes)),
    ...section(2, imports),
    ...section(3, vec(typeIndex.map((t) => uleb(t)))),
    ...section(7, exports),
    ...section(10, vec(funcs.map((f) => f.encode()))),
  ]);
}

// ---- instructions ---------------------------------------------------------------------------

const op = (...bytes: number[]): Expr => (f) => f.emit(...bytes);
/** Emits the operands in order, then the opcode bytes. */
const apply = (opcode: number[], ...args: Expr[]): Expr => (f) => {
  for (const a of args) a(f);
  f.emit(...opcode);
};
const simd = (n: number): number[] => [0xfd, ...uleb(n)];
/** memarg: alignment exponent and constant byte offset. */
const mem = (opcode: number[], align: number, offset: number): number[] => [...opcode, ...uleb(align), ...uleb(offset)];

export const get = (l: Local): Expr => op(0x20, ...uleb(l.index));
export const set = (l: Local, v: Expr): Expr => apply([0x21, ...uleb(l.index)], v);
export const tee = (l: Local, v: Expr): Expr => apply([0x22, ...uleb(l.index)], v);
/** Statements in sequence. */
export const seq = (...s: Expr[]): Expr => (f) => {
  for (const e of s) e(f);
};
export const call = (index: number, ...args: Expr[]): Expr => apply([0x10, ...uleb(index)], ...args);
export const drop = (v: Expr): Expr => apply([0x1a], v);
export const ret = (): Expr => op(0x0f);

export const block = (body: (exit: Label) => Expr[]): Expr => (f) => {
  f.emit(0x02, 0x40);
  const l = f.pushLabel();
  for (const e of body(l)) e(f);
  f.popLabel();
  f.emit(0x0b);
};
/** A loop: branching to its label jumps back to the top. */
export const loop = (body: (top: Label) => Expr[]): Expr => (f) => {
  f.emit(0x03, 0x40);
  const l = f.pushLabel();
  for (const e of body(l)) e(f);
  f.popLabel();
  f.emit(0x0b);
};
export const br = (l: Label): Expr => (f) => f.emit(0x0c, ...uleb(f.depth(l)));
export const brIf = (l: Label, cond: Expr): Expr => (f) => {
  cond(f);
  f.emit(0x0d, ...uleb(f.depth(l)));
};
export const if_ = (cond: Expr, then: Expr[], otherwise?: Expr[]): Expr => (f) => {
  cond(f);
  f.emit(0x04, 0x40);
  f.pushLabel();
  for (const e of then) e(f);
  if (otherwise) {
    f.emit(0x05);
    for (const e of otherwise) e(f);
  }
  f.popLabel();
  f.emit(0x0b);
};

/** for (i = from; i < to; i += step) body — `to` is re-evaluated each iteration (keep it a local). */
export const forRange = (i: Local, from: Expr, to: Expr, step: number, body: Expr[]): Expr =>
  seq(
    set(i, from),
    block((exit) => [
      loop((top) => [
        brIf(exit, i32.geS(get(i), to)),
        ...body,
        set(i, i32.add(get(i), i32.const(step))),
        br(top),
      ]),
    ]),
  );

export const i32 = {
  const: (n: number): Expr => op(0x41, ...sleb(n | 0)),
  add: (a: Expr, b: Expr): Expr => apply([0x6a], a, b),
  sub: (a: Expr, b: Expr): Expr => apply([0x6b], a, b),
  mul: (a: Expr, b: Expr): Expr => apply([0x6c], a, b),
  divU: (a: Expr, b: Expr): Expr => apply([0x6e], a, b),
  shl: (a: Expr, b: Expr): Expr => apply([0x74], a, b),
  and: (a: Expr, b: Expr): Expr => apply([0x71], a, b),
  or: (a: Expr, b: Expr): Expr => apply([0x72], a, b),
  eqz: (a: Expr): Expr => apply([0x45], a),
  eq: (a: Expr, b: Expr): Expr => apply([0x46], a, b),
  ne: (a: Expr, b: Expr): Expr => apply([0x47], a, b),
  ltS: (a: Expr, b: Expr): Expr => apply([0x48], a, b),
  gtS: (a: Expr, b: Expr): Expr => apply([0x4a], a, b),
  leS: (a: Expr, b: Expr): Expr => apply([0x4c], a, b),
  geS: (a: Expr, b: Expr): Expr => apply([0x4e], a, b),
  /** cond ? a : b (both evaluated). */
  select: (a: Expr, b: Expr, cond: Expr): Expr => apply([0x1b], a, b, cond),
  load: (addr: Expr, offset = 0): Expr => apply(mem([0x28], 2, offset), addr),
  store: (addr: Expr, v: Expr, offset = 0): Expr => apply(mem([0x36], 2, offset), addr, v),
};
export const min = (a: Expr, b: Expr): Expr => i32.select(a, b, i32.ltS(a, b));

export const f32 = {
  const: (x: number): Expr => {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return op(0x43, ...b);
  },
  load: (addr: Expr, offset = 0): Expr => apply(mem([0x2a], 2, offset), addr),
  store: (addr: Expr, v: Expr, offset = 0): Expr => apply(mem([0x38], 2, offset), addr, v),
};
export const f64 = {
  load: (addr: Expr, offset = 0): Expr => apply(mem([0x2b], 3, offset), addr),
  store: (addr: Expr, v: Expr, offset = 0): Expr => apply(mem([0x39], 3, offset), addr, v),
};

/** memory.copy (dst, src, bytes) and memory.fill (dst, byte, bytes): bulk-memory instructions. */
export const memory = {
  copy: (dst: Expr, src: Expr, n: Expr): Expr => apply([0xfc, ...uleb(10), 0x00, 0x00], dst, src, n),
  fill: (dst: Expr, byte: Expr, n: Expr): Expr => apply([0xfc, ...uleb(11), 0x00], dst, byte, n),
};

export const v128 = {
  /** Alignment hint 2^4 = 16 bytes; misaligned addresses still work (it is only a hint). */
  load: (addr: Expr, offset = 0): Expr => apply(mem(simd(0x00), 4, offset), addr),
  store: (addr: Expr, v: Expr, offset = 0): Expr => apply(mem(simd(0x0b), 4, offset), addr, v),
  load32Splat: (addr: Expr, offset = 0): Expr => apply(mem(simd(0x09), 2, offset), addr),
  load64Splat: (addr: Expr, offset = 0): Expr => apply(mem(simd(0x0a), 3, offset), addr),
  zero: (): Expr => op(...simd(0x0c), ...new Array<number>(16).fill(0)),
};
export const f32x4 = {
  splat: (x: Expr): Expr => apply(simd(0x13), x),
  sqrt: (a: Expr): Expr => apply(simd(0xe3), a),
  add: (a: Expr, b: Expr): Expr => apply(simd(0xe4), a, b),
  sub: (a: Expr, b: Expr): Expr => apply(simd(0xe5), a, b),
  mul: (a: Expr, b: Expr): Expr => apply(simd(0xe6), a, b),
  div: (a: Expr, b: Expr): Expr => apply(simd(0xe7), a, b),
  /** NaN if either is NaN (as Math.min). */
  min: (a: Expr, b: Expr): Expr => apply(simd(0xe8), a, b),
  max: (a: Expr, b: Expr): Expr => apply(simd(0xe9), a, b),
};
/**
 * Relaxed SIMD's f32x4 a * b + c: one rounding where the engine fuses it (V8 on a CPU with FMA),
 * two otherwise; the same choice every time on one machine.
 */
export const f32x4RelaxedMadd = (a: Expr, b: Expr, c: Expr): Expr => apply(simd(0x105), a, b, c);
export const f64x2 = {
  splat: (x: Expr): Expr => apply(simd(0x14), x),
  sqrt: (a: Expr): Expr => apply(simd(0xef), a),
  add: (a: Expr, b: Expr): Expr => apply(simd(0xf0), a, b),
  sub: (a: Expr, b: Expr): Expr => apply(simd(0xf1), a, b),
  mul: (a: Expr, b: Expr): Expr => apply(simd(0xf2), a, b),
  div: (a: Expr, b: Expr): Expr => apply(simd(0xf3), a, b),
  min: (a: Expr, b: Expr): Expr => apply(simd(0xf4), a, b),
  max: (a: Expr, b: Expr): Expr => apply(simd(0xf5), a, b),
};
