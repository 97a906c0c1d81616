// The Threefry-2x32 block cipher (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011) with 20 rounds: the hash behind JAX's default generator. A key (two 32-bit words)
// encrypts a counter (two 32-bit words) into two 32-bit words. All arithmetic is on 32-bit
// integers (`| 0`, `Math.imul`-free: only additions, rotations and xors), so every platform
// gives the same words.

/** Rotation amounts of the even and odd groups of four rounds. */
const ROT_A = [13, 15, 26, 6] as const;
const ROT_B = [17, 29, 16, 24] as const;
/** The key-schedule parity constant of Threefish/Threefry. */
const PARITY = 0x1bd11bda;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/**
 * Encrypts the counter (x0, x1) with the key (k0, k1); writes the two output words (as
 * unsigned numbers) to out[at] and out[at + 1].
 */
export const threefry2x32Into = (k0: number, k1: number, x0: number, x1: number, out: { [i: number]: number }, at: number): void => {
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = ks0 ^ ks1 ^ PARITY;
  let a = (x0 + ks0) | 0;
  let b = (x1 + ks1) | 0;
  // five groups of four rounds, each group followed by a key injection
  for (let g = 0; g < 5; g++) {
    const rot = g % 2 === 0 ? ROT_A : ROT_B;
    for (let r = 0; r < 4; r++) {
      a = (a + b) | 0;
      b = rotl(b, rot[r]!) ^ a;
    }
    // injection g + 1 adds key words (g + 1) mod 3 and (g + 2) mod 3, and the injection count
    const s = (g + 1) % 3;
    a = (a + (s === 0 ? ks0 : s === 1 ? ks1 : ks2)) | 0;
    const t = (g + 2) % 3;
    b = (b + (t === 0 ? ks0 : t === 1 ? ks1 : ks2) + g + 1) | 0;
  }
  out[at] = a >>> 0;
  out[at + 1] = b >>> 0;
};

/** The two words Threefry-2x32 makes of the counter (x0, x1) under the key (k0, k1). */
export const threefry2x32 = (key: readonly [number, number], counter: readonly [number, number]): [number, number] => {
  const out: [number, number] = [0, 0];
  threefry2x32Into(key[0], key[1], counter[0], counter[1], out, 0);
  return out;
};
