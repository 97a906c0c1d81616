// The JVP rule of a construct staged under jvp inside jit (Autodidax's cond_jvp_rule): the same
// construct, staged whole, applied to its programs' JVPs — each program maps primals and
// tangents to results and their tangents — so a branch stays one branch and a loop one loop,
// the tangents carried alongside.
import { DualBox, ForwardTrace } from "../../../effects/forward.ts";
import { StagingTrace, isCaptureError } from "../../../effects/stage.ts";
import { dynamicTrace } from "../../../effects/trace.ts";
import { Traced, type Value } from "../../../effects/value.ts";
import { zerosLike } from "../../number-kind.ts";
import { owner } from "./control-primitive.ts";

export interface Duals {
  readonly fwd: ForwardTrace;
  readonly staging: StagingTrace;
  readonly primals: readonly Value[];
  /** Zeros where the forward handler tracks no tangent. */
  readonly tangents: readonly Value[];
}

/**
 * The operands of a forward handler directly above staging, split into primals and tangents
 * that are staged values or constants; null in any other nesting (the construct is then
 * expressed in operations).
 */
export function dualsAboveStaging(operands: readonly Value[]): Duals | null {
  const fwd = owner(operands);
  const staging = dynamicTrace();
  if (!(fwd instanceof ForwardTrace) || !(staging instanceof StagingTrace)) return null;
  const primals = operands.map((o) => (fwd.owns(o) ? o.value : o));
  const tangents = operands.map((o) => (fwd.owns(o) ? o.tangent : zerosLike(o)));
  if ([...primals, ...tangents].some((v) => v instanceof Traced && v.trace !== staging)) return null;
  return { fwd, staging, primals, tangents };
}

/** Stages a construct whole; null when one of its programs reads a differentiated value through a closure. */
export function stagedWhole<R>(stage: () => R): R | null {
  try {
    return stage();
  } catch (e) {
    if (!isCaptureError(e)) throw e;
    return null;
  }
}

/** Staged results and their tangents as the forward handler's values. */
export const dualsOf = (fwd: ForwardTrace, values: readonly Value[], tangents: readonly Value[]): Value[] =>
  values.map((v, i) => new DualBox(fwd, v, tangents[i]!));
