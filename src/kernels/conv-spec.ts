// The options of a 2-d convolution, normalized and checked against the operands' shapes:
// stride, padding (a number, [ph, pw], [[top, bottom], [left, right]], "same" or "valid"),
// dilation and groups; and the output shape they give. Shapes only, so abstract evaluation
// (staging) and the kernels check alike. convTranspose2d's shapes are here too: it is the
// adjoint of a convolution, whose options it names.
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import { sizeProblem } from "../tensor/shape.ts";

export type Pair = readonly [number, number];
/** Zero padding per spatial axis: [[top, bottom], [left, right]]. */
export type Pads = readonly [Pair, Pair];

/** A convolution's options, normalized. */
export interface ConvSpec {
  readonly stride: Pair;
  readonly padding: Pads;
  readonly dilation: Pair;
  readonly groups: number;
}

const isCount = (d: unknown, min: number): d is number => Number.isInteger(d) && (d as number) >= min;

/** A number or a pair [h, w] of integers >= min (`undefined` gives [min, min]). */
export const pairOption = (op: string, name: string, v: unknown, min: number): [number, number] => {
  if (v === undefined) return [min, min];
  if (isCount(v, min)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && isCount(v[0], min) && isCount(v[1], min)) return [v[0], v[1]];
  const what = min > 0 ? "a positive integer" : "a non-negative integer";
  throw new ValueError(`${op}: ${name} must be ${what} or a pair [h, w] of them, got ${show(v)}`);
};

const EXPLICIT_PADDING = "a non-negative integer, a pair [ph, pw] or a pair of pairs [[top, bottom], [left, right]]";
const PADDING_FORMS = `${EXPLICIT_PADDING.replace(" or ", ", ")}, "same" or "valid"`;

/**
 * Explicit padding as [[top, bottom], [left, right]] ("same" needs the shapes: see `samePads`).
 * `strings` is false for an operation without "same" / "valid" (convTranspose2d).
 */
export const padsOption = (op: string, v: unknown, strings = true): Pads | "same" => {
  if (v === undefined || (strings && v === "valid")) return [[0, 0], [0, 0]];
  if (strings && v === "same") return "same";
  if (isCount(v, 0)) return [[v, v], [v, v]];
  if (Array.isArray(v) && v.length === 2) {
    if (isCount(v[0], 0) && isCount(v[1], 0)) return [[v[0], v[0]], [v[1], v[1]]];
    const side = (s: unknown): s is [number, number] => Array.isArray(s) && s.length === 2 && isCount(s[0], 0) && isCount(s[1], 0);
    if (side(v[0]) && side(v[1])) return [[v[0][0], v[0][1]], [v[1][0], v[1][1]]];
  }
  throw new ValueError(`${op}: padding must be ${strings ? PADDING_FORMS : EXPLICIT_PADDING}, got ${show(v)}`);
};

/** "same" padding as JAX and TensorFlow: the output has ⌈in / stride⌉ positions, any odd padding goes at the end. */
export const samePads = (inSize: Pair, kernel: Pair, stride: Pair, dilation: Pair): Pads => {
  const axis = (i: 0 | 1): Pair => {
    const out = Math.ceil(inSize[i] / stride[i]);
    const total = Math.max(0, (out - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - inSize[i]);
    const lo = Math.floor(total / 2);
    return [lo, total - lo];
  };
  return [axis(0), axis(1)];
};

/** Output positions along one axis (possibly < 1: the caller reports it). */
export const outSize = (inSize: number, pad: Pair, kernel: number, stride: number, dilation: number): number =>
  Math.floor((inSize + pad[0] + pad[1] - ((kernel - 1) * dilation + 1)) / stride) + 1;

const showPads = (p: Pads): string => `[[${p[0].join(", ")}], [${p[1].join(", ")}]]`;

/**
 * Checks conv2d's operands (x [N, C, H, W], w [O, C / groups, KH, KW]; anything with a shape)
 * and raw options, and gives the normalized options and the output shape [N, O, OH, OW].
 */
export function checkConv(
  op: string,
  x: { readonly shape: readonly number[] },
  w: { readonly shape: readonly number[] },
  options: { stride?: unknown; padding?: unknown; dilation?: unknown; groups?: unknown },
): ConvSpec & { outShape: number[] } {
  const xs = x.shape;
  const ws = w.shape;
  if (xs.length !== 4)
    throw new ShapeError(`${op}: x ${fmt(xs)} has rank ${xs.length}; x must be [N, C, H, W] (add a batch axis with reshape)`);
  if (ws.length !== 4)
    throw new ShapeError(`${op}: w ${fmt(ws)} has rank ${ws.length}; w must be [outChannels, inChannels / groups, KH, KW]`);
  const groups = options.groups ?? 1;
  if (!isCount(groups, 1)) throw new ValueError(`${op}: groups must be a positive integer, got ${show(groups)}`);
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, cg, kh, kw] = ws as [number, number, number, number];
  if (c % groups !== 0)
    throw new ShapeError(`${op}: x ${fmt(xs)} has ${c} channels, which ${groups} groups do not divide; the channel count must be a multiple of groups`);
  if (o % groups !== 0)
    throw new ShapeError(`${op}: w ${fmt(ws)} has ${o} output channels, which ${groups} groups do not divide; the output channel count must be a multiple of groups`);
  if (cg * groups !== c)
    throw new ShapeError(
      `${op}: x ${fmt(xs)} has ${c} channels but w ${fmt(ws)} expects ${cg * groups} (${cg} per group × ${groups} group${groups > 1 ? "s" : ""}); ` +
        "w's second axis (inChannels / groups) times groups must equal x's channel axis C — check the layouts x [N, C, H, W], w [O, C / groups, KH, KW]",
    );
  if (kh < 1 || kw < 1) throw new ShapeError(`${op}: w ${fmt(ws)} has an empty kernel; KH and KW must be at least 1`);
  const stride = pairOption(op, "stride", options.stride, 1);
  const dilation = pairOption(op, "dilation", options.dilation, 1);
  const given = padsOption(op, options.padding);
  const padding = given === "same" ? samePads([h, wd], [kh, kw], stride, dilation) : given;
  const oh = outSize(h, padding[0], kh, stride[0], dilation[0]);
  const ow = outSize(wd, padding[1], kw, stride[1], dilation[1]);
  const ekh = (kh - 1) * dilation[0] + 1;
  const ekw = (kw - 1) * dilation[1] + 1;
  if (oh < 1 || ow < 1) {
    const dil = dilation[0] > 1 || dilation[1] > 1 ? ` (dilated by ${fmt(dilation)}: ${ekh}x${ekw})` : "";
    throw new ShapeError(
      `${op}: kernel ${kh}x${kw}${dil} of w ${fmt(ws)} is larger than the padded input ${h + padding[0][0] + padding[0][1]}x` +
        `${wd + padding[1][0] + padding[1][1]} of x ${fmt(xs)} with padding ${showPads(padding)}, so the output would be empty; ` +
        "use a smaller kernel or dilation, or more padding",
    );
  }
  const outShape = [n, o, oh, ow];
  const what = `${op}: x ${fmt(xs)} with w ${fmt(ws)}, stride ${fmt(stride)}, padding ${showPads(padding)}, dilation ${fmt(dilation)}`;
  const problem = sizeProblem(outShape);
  if (problem !== undefined) throw new ShapeError(`${what} gives an output of shape ${fmt(outShape)}, which has ${problem}`);
  const patches = [cg * kh * kw, oh * ow]; // im2col's buffer: one column per output position
  const colProblem = sizeProblem(patches);
  if (colProblem !== undefined)
    throw new ShapeError(`${what} unfolds into patches of shape ${fmt(patches)} (C/groups*KH*KW by OH*OW), which has ${colProblem}`);
  return { stride, padding, dilation, groups, outShape };
}

/**
 * convTranspose2d's shapes: x [N, C_in, H, W], w [C_in, C_out, KH, KW] (PyTorch) give
 * [N, C_out, (H − 1)·sh − top − bottom + KH, ...]; it is the adjoint of conv2d with the same w
 * (as [O, C, KH, KW]), stride and padding, whose input has that shape.
 */
export function checkConvTranspose(
  op: string,
  x: { readonly shape: readonly number[] },
  w: { readonly shape: readonly number[] },
  options: { stride?: unknown; padding?: unknown },
): { stride: Pair; padding: Pads; outShape: number[] } {
  const xs = x.shape;
  const ws = w.shape;
  if (xs.length !== 4)
    throw new ShapeError(`${op}: x ${fmt(xs)} has rank ${xs.length}; x must be [N, C_in, H, W] (add a batch axis with reshape)`);
  if (ws.length !== 4) throw new ShapeError(`${op}: w ${fmt(ws)} has rank ${ws.length}; w must be [C_in, C_out, KH, KW] (PyTorch's layout)`);
  if (xs[1] !== ws[0])
    throw new ShapeError(
      `${op}: x ${fmt(xs)} has ${xs[1]} channels but w ${fmt(ws)} takes ${ws[0]}; w's first axis (C_in) must equal x's channel axis — ` +
        "convTranspose2d's weight is [C_in, C_out, KH, KW], as PyTorch's (conv2d's is [O, C, KH, KW])",
    );
  const [n, , h, wd] = xs as [number, number, number, number];
  const [, cout, kh, kw] = ws as [number, number, number, number];
  if (kh < 1 || kw < 1) throw new ShapeError(`${op}: w ${fmt(ws)} has an empty kernel; KH and KW must be at least 1`);
  const stride = pairOption(op, "stride", options.stride, 1);
  const padding = padsOption(op, options.padding, false) as Pads;
  const oh = (h - 1) * stride[0] - padding[0][0] - padding[0][1] + kh;
  const ow = (wd - 1) * stride[1] - padding[1][0] - padding[1][1] + kw;
  if (h < 1 || wd < 1 || oh < 1 || ow < 1)
    throw new ShapeError(
      `${op}: x ${fmt(xs)} with w ${fmt(ws)}, stride ${fmt(stride)} and padding ${showPads(padding)} gives an output of ` +
        `${oh}x${ow} positions ((H − 1)·stride − padding + K); it must be at least 1x1 — use less padding`,
    );
  const outShape = [n, cout, oh, ow];
  const problem = sizeProblem(outShape);
  if (problem !== undefined) throw new ShapeError(`${op}: the output shape ${fmt(outShape)} has ${problem}`);
  return { stride, padding, outShape };
}
