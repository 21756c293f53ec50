// The output cap (src/server/runner/output-buffer.ts) and command-line splitting plus byte sizes
// (src/server/executors/shell-words.ts).
import { describe, expect, it } from "vitest";
import { parseByteSize, splitShellWords } from "../../src/server/executors/shell-words.js";
import { OutputBuffer } from "../../src/server/runner/output-buffer.js";
import { DkronError } from "../../src/shared/errors.js";

describe("OutputBuffer", () => {
  const b = (s: string) => Buffer.from(s);

  it("keeps everything up to the limit, untruncated", () => {
    const o = new OutputBuffer(10);
    o.push(b("hello "));
    o.push(b("you!"));
    expect(o.toString()).toBe("hello you!");
    expect(o.truncated).toBe(false);
  });

  it("keeps the last N bytes across many small chunks", () => {
    const o = new OutputBuffer(8);
    let all = "";
    for (let i = 0; i < 50; i++) {
      const s = `${i},`;
      all += s;
      o.push(b(s));
    }
    expect(o.toString()).toBe(all.slice(-8));
    expect(o.truncated).toBe(true);
  });

  it("keeps the tail of a single chunk larger than the limit", () => {
    const o = new OutputBuffer(5);
    o.push(b("0123456789"));
    expect(o.toString()).toBe("56789");
    expect(o.truncated).toBe(true);
  });

  it("trims inside a chunk when dropping whole chunks is not enough", () => {
    const o = new OutputBuffer(6);
    o.push(b("aaaa"));
    o.push(b("bbbb"));
    o.push(b("cc"));
    expect(o.toString()).toBe("bbbbcc");
    o.push(b("d"));
    expect(o.toString()).toBe("bbbccd");
    expect(o.truncated).toBe(true);
  });

  it("repeated toString calls agree and the limit holds with large input", () => {
    const o = new OutputBuffer(256_000);
    const chunk = Buffer.alloc(64 * 1024, "x");
    for (let i = 0; i < 40; i++) o.push(chunk);
    o.push(b("END"));
    const s = o.toString();
    expect(Buffer.byteLength(s)).toBe(256_000);
    expect(s.endsWith("xxxEND")).toBe(true);
    expect(o.toString()).toBe(s);
  });

  it("empty output is empty and untruncated", () => {
    const o = new OutputBuffer(4);
    expect(o.toString()).toBe("");
    expect(o.truncated).toBe(false);
  });
});

describe("splitShellWords", () => {
  it.each<[string, string[]]>([
    ["echo hello world", ["echo", "hello", "world"]],
    ["  spaced\t\tout  \n", ["spaced", "out"]],
    ["echo 'single quoted  words'", ["echo", "single quoted  words"]],
    ['echo "double quoted"', ["echo", "double quoted"]],
    ["echo 'no $expansion or \\escape here'", ["echo", "no $expansion or \\escape here"]],
    ['echo "a \\"quote\\" and \\\\ and \\$HOME"', ["echo", 'a "quote" and \\ and $HOME']],
    ['echo "keeps \\n as is"', ["echo", "keeps \\n as is"]],
    ["echo escaped\\ space", ["echo", "escaped space"]],
    ["echo \\'literal\\'", ["echo", "'literal'"]],
    ["echo con'cat'\"enated\"", ["echo", "concatenated"]],
    ["echo '' \"\"", ["echo", "", ""]],
    ["sh -c 'exit 3'", ["sh", "-c", "exit 3"]],
    ["", []],
    ["   ", []],
  ])("%j → %j", (line, words) => {
    expect(splitShellWords(line)).toEqual(words);
  });

  it.each(["echo 'oops", 'echo "oops', "echo 'a' \"b"])("rejects an unterminated quote in %j", (line) => {
    let caught: unknown;
    try {
      splitShellWords(line);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DkronError);
    expect((caught as DkronError).code).toBe("invalid_argument");
    expect((caught as DkronError).field).toBe("executor_config.command");
    expect((caught as DkronError).message).toMatch(/unterminated/);
  });
});

describe("parseByteSize", () => {
  it.each<[string, number]>([
    ["1048576", 1048576],
    ["0", 0],
    ["100b", 100],
    ["1k", 1024],
    ["1KB", 1024],
    ["2KiB", 2048],
    ["512MB", 512 * 1024 ** 2],
    ["512mb", 512 * 1024 ** 2],
    ["1G", 1024 ** 3],
    ["1.5GB", 1.5 * 1024 ** 3],
    ["2T", 2 * 1024 ** 4],
    [" 64 MiB ", 64 * 1024 ** 2],
  ])("%j = %d bytes", (s, n) => {
    expect(parseByteSize(s)).toBe(n);
  });

  it.each(["", "lots", "MB", "-1MB", "1XB", "1 2", "1i", "1.MB"])("rejects %j naming executor_config.mem_limit", (s) => {
    let caught: unknown;
    try {
      parseByteSize(s);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DkronError);
    expect((caught as DkronError).field).toBe("executor_config.mem_limit");
  });
});
