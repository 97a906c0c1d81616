// The digits file read back as the worker reads it (DecompressionStream), and its errors.
import { describe, expect, it } from "vitest";
import { PIXELS, browserGunzip, decodeDigits, header } from "../src/digits/format.ts";

const gzip = async (bytes: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());

async function file(labels: number[], nTrain: number): Promise<ArrayBuffer> {
  const n = labels.length;
  const body = new Uint8Array(n * (1 + PIXELS));
  body.set(labels);
  for (let k = 0; k < n; k++) body.fill(10 * k + 5, n + k * PIXELS, n + (k + 1) * PIXELS);
  const packed = await gzip(body);
  const out = new Uint8Array(12 + packed.length);
  out.set(header(nTrain, n - nTrain));
  out.set(packed, 12);
  return out.buffer;
}

describe("decodeDigits", () => {
  it("gives the training and test digits, grey levels over 255", async () => {
    const { train, test } = await decodeDigits(await file([3, 1, 4, 1, 5], 3), browserGunzip);
    expect(Array.from(train.labels)).toEqual([3, 1, 4]);
    expect(Array.from(test.labels)).toEqual([1, 5]);
    expect(train.pixels).toHaveLength(3 * PIXELS);
    expect(train.pixels[PIXELS]).toBeCloseTo(15 / 255, 7);
    expect(test.pixels[PIXELS + 7]).toBeCloseTo(45 / 255, 7);
  });

  it("refuses a file that is not one, or is cut short", async () => {
    await expect(decodeDigits(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).buffer, browserGunzip)).rejects.toThrow(/does not start with YDG1/);
    const good = new Uint8Array(await file([1, 2, 3], 2));
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(8, 5, true); // says 7 digits
    await expect(decodeDigits(lying.buffer, browserGunzip)).rejects.toThrow(/holds 2355 bytes for 7 digits; expected 5495/);
  });
});
