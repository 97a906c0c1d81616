// Mouse strokes that draw digits on a canvas, as points in [0, 1] × [0, 1] of its box.

export type Stroke = readonly (readonly [number, number])[];

/** "1": one stroke down the middle, slightly slanted. */
export const ONE: Stroke[] = [Array.from({ length: 16 }, (_, i) => [0.53 - 0.04 * (i / 15), 0.18 + 0.64 * (i / 15)] as const)];

/** "0": an upright ellipse, closed. */
export const ZERO: Stroke[] = [
  Array.from({ length: 41 }, (_, i) => {
    const t = (2 * Math.PI * i) / 40;
    return [0.5 + 0.2 * Math.sin(t), 0.5 - 0.3 * Math.cos(t)] as const;
  }),
];
