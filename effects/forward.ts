// Forward mode: a box carries a primal and a tangent. On an operation the handler performs
// the primal work at the level below and applies the primitive's JVP rule — itself made of
// operations, so the levels below differentiate the tangent computation too.
import type { MaybeValue, Primitive } from "./primitive.ts";
import { Trace, bind, sealed } from "./trace.ts";
import { PrimalBox, type Value } from "./value.ts";

export class DualBox extends PrimalBox {
  declare readonly tangent: Value;
  constructor(trace: ForwardTrace, value: Value, tangent: Value) {
    super(trace, value);
    this.tangent = tangent; // declared, not defined: see Traced
  }
}

export class ForwardTrace extends Trace {
  constructor(readonly name: string) {
    super();
  }

  owns(v: unknown): v is DualBox {
    return v instanceof DualBox && v.trace === this;
  }

  process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
    const n = args.length;
    const primals = new Array<Value>(n);
    const tangents = new Array<MaybeValue>(n);
    for (let i = 0; i < n; i++) {
      const a = args[i]!;
      if (a instanceof DualBox && a.trace === this) {
        primals[i] = a.value;
        tangents[i] = a.tangent;
      } else {
        primals[i] = a;
        tangents[i] = null;
      }
    }
    let out: Value;
    let t: MaybeValue;
    if (prim.forward) ({ out, tangent: t } = prim.sealed ? sealed(this.level, prim, prim.forward, [primals, tangents, params]) : prim.forward(primals, tangents, params));
    else {
      out = bind(prim, primals, params);
      t = prim.jvp(primals, tangents, out, params);
    }
    return t === null ? out : new DualBox(this, out, t);
  }
}
