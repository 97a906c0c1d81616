// Bad input must be a tagged error with a message that says what is wrong: this checks both.
import { expect } from "vitest";

/** `f()` throws an error whose `_tag` is `tag` and whose message matches `text`. */
export const expectTagged = (f: () => unknown, tag: string, text: RegExp): void => {
  let err: (Error & { _tag?: string }) | undefined;
  try {
    f();
  } catch (e) {
    err = e as Error & { _tag?: string };
  }
  expect(err, "it throws").toBeDefined();
  expect(err!._tag).toBe(tag);
  expect(err!.message).toMatch(text);
};
