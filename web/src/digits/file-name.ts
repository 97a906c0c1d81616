// Where the page finds its digits file, next to index.html (web/digits-asset.ts writes it).
export const DIGITS_FILE = "mnist-digits.bin";
