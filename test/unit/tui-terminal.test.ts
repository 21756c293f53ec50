// FrameWriter: whole frames in, only the changed lines out.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { diffFrame, FrameWriter } from "../../src/tui/terminal.js";
import { until } from "../helpers/until.js";

class FakeTerminal extends EventEmitter {
  columns = 20;
  rows = 5;
  out: string[] = [];
  write(s: string) {
    this.out.push(s);
    return true;
  }
}

describe("diffFrame", () => {
  it("rewrites changed lines in place and blanks lines no longer drawn", () => {
    expect(diffFrame(["a", "b", "c"], ["a", "B", "c"], 24)).toBe("\x1b[2;1H\x1b[2KB");
    expect(diffFrame(["a", "b", "c"], ["a"], 24)).toBe("\x1b[2;1H\x1b[2K\x1b[3;1H\x1b[2K");
    expect(diffFrame(["a"], ["a"], 24)).toBe("");
  });

  it("never writes below the last row", () => {
    expect(diffFrame([], ["1", "2", "3"], 2)).toBe("\x1b[1;1H\x1b[2K1\x1b[2;1H\x1b[2K2");
  });
});

describe("FrameWriter", () => {
  it("draws the first frame whole, then only what changed, in one synchronized write", async () => {
    const term = new FakeTerminal();
    const w = new FrameWriter(term, 0);
    w.write("one\ntwo\nthree");
    await until(() => term.out.length === 1);
    expect(term.out[0]).toContain("\x1b[2J");
    expect(term.out[0]).toContain("three");
    w.write("one\nTWO\nthree");
    await until(() => term.out.length === 2);
    expect(term.out[1]).toMatch(/^\x1b\[\?2026h/);
    expect(term.out[1]).toMatch(/\x1b\[\?2026l$/);
    expect(term.out[1]).toContain("\x1b[2;1H\x1b[2KTWO");
    expect(term.out[1]).not.toContain("one");
    expect(term.out[1]).not.toContain("three");
    w.close();
  });

  it("keeps only the latest of frames written in one tick, and ignores cursor and erase codes", async () => {
    const term = new FakeTerminal();
    const w = new FrameWriter(term, 0);
    w.write("a");
    w.write("b");
    w.write("\x1b[2K\x1b[1A");
    await until(() => term.out.length === 1);
    expect(term.out[0]).toContain("b");
    expect(term.out[0]).not.toMatch(/\x1b\[2Ka/);
    w.close();
  });

  it("redraws everything after a resize and passes the resize on", async () => {
    const term = new FakeTerminal();
    const w = new FrameWriter(term, 0);
    let resized = 0;
    w.on("resize", () => resized++);
    w.write("x\ny");
    await until(() => term.out.length === 1);
    term.rows = 10;
    term.emit("resize");
    expect(resized).toBe(1);
    expect(w.rows).toBe(10);
    w.write("x\ny");
    await until(() => term.out.length === 2);
    expect(term.out[1]).toContain("\x1b[2J");
    expect(term.out[1]).toContain("x");
    w.close();
    term.emit("resize");
    expect(resized).toBe(1);
  });
});
