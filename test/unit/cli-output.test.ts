import { jobJson } from "../helpers/fixtures.js";
import { describe, expect, it } from "vitest";
import {
  colorEnabled,
  formatDuration,
  makeStyle,
  relativeTime,
  renderKeyValues,
  renderTable,
  stripAnsi,
  truncate,
  visibleLength,
  type Column,
} from "../../src/cli/output.js";
import { executionState, executionsTable, jobsTable, membersTable } from "../../src/cli/views.js";
import type { Execution } from "../../src/shared/execution.js";
import type { Job } from "../../src/shared/job.js";
import type { Member } from "../../src/shared/member.js";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const ANSI = /\x1b\[/;

interface Row {
  name: string;
  n: number;
}
const cols: Column<Row>[] = [
  { header: "NAME", get: (r) => r.name, max: 10 },
  { header: "N", get: (r) => String(r.n), align: "right" },
  { header: "LAST", get: (r) => (r.n % 2 ? "odd" : "even"), color: (_r, t) => `\x1b[31m${t}\x1b[39m` },
];

describe("renderTable", () => {
  it("aligns columns to the widest cell and right-aligns numbers", () => {
    const out = renderTable<Row>([{ name: "a", n: 1 }, { name: "bbbb", n: 100 }], cols);
    expect(out).toBe(["NAME    N  LAST", "a       1  odd", "bbbb  100  even", ""].join("\n"));
  });

  it("truncates long cells with … to the column max", () => {
    const out = renderTable<Row>([{ name: "abcdefghijklmnop", n: 1 }], cols);
    const line = out.split("\n")[1]!;
    expect(line.startsWith("abcdefghi…")).toBe(true);
    expect(visibleLength(line.split("  ")[0]!)).toBe(10);
  });

  it("keeps alignment when colour is on: only the text is coloured", () => {
    const rows = [{ name: "a", n: 1 }, { name: "bbbb", n: 22 }];
    const colored = renderTable<Row>(rows, cols, makeStyle(true));
    expect(colored).toMatch(ANSI);
    expect(stripAnsi(colored)).toBe(renderTable<Row>(rows, cols, makeStyle(false)));
  });

  it("prints only the header for no rows, and never trailing spaces", () => {
    expect(renderTable<Row>([], cols)).toBe("NAME  N  LAST\n");
    const out = renderTable<Row>([{ name: "x", n: 1 }], [...cols, { header: "EMPTY", get: () => "" }]);
    for (const line of out.trimEnd().split("\n")) expect(line).toBe(line.trimEnd());
  });

  it("flattens newlines inside cells", () => {
    const out = renderTable([{ s: "a\nb" }], [{ header: "S", get: (r: { s: string }) => r.s }]);
    expect(out).toBe("S\na b\n");
  });
});

describe("truncate / renderKeyValues", () => {
  it("counts code points, not UTF-16 units", () => {
    expect(truncate("ééééé", 3)).toBe("éé…");
    expect(truncate("abc", 3)).toBe("abc");
  });

  it("aligns keys and indents continuation lines", () => {
    expect(renderKeyValues([["a", "1"], ["long key", "x\ny"]])).toBe("a         1\nlong key  x\n          y\n");
  });
});

describe("relativeTime / formatDuration", () => {
  it.each([
    [5_000, "in 5s"],
    [-180_000, "3m ago"],
    [-59_999, "59s ago"],
    [3_600_000 * 5, "in 5h"],
    [-3_600_000 * 36, "36h ago"],
    [-86_400_000 * 3, "3d ago"],
    [400, "now"],
  ])("%i ms → %s", (offset, text) => {
    expect(relativeTime(NOW + offset, NOW)).toBe(text);
  });

  it("says never for null", () => {
    expect(relativeTime(null, NOW)).toBe("never");
  });

  it.each([
    [850, "850ms"],
    [1234, "1.2s"],
    [42_000, "42s"],
    [184_000, "3m4s"],
    [120_000, "2m"],
    [3_600_000 * 2 + 180_000, "2h3m"],
    [86_400_000 * 3 + 3_600_000 * 4, "3d4h"],
  ])("%i ms lasts %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("colour", () => {
  it("is on only for a TTY without NO_COLOR", () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(undefined, {})).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: "" })).toBe(true);
    expect(colorEnabled(true, { TERM: "dumb" })).toBe(false);
  });

  it("makeStyle(false) never emits escapes", () => {
    const s = makeStyle(false);
    expect([s.bold("x"), s.red("x"), s.green("x"), s.dim("x")].join("")).toBe("xxxx");
  });
});

const job = (over: Partial<Job>): Job => jobJson("j", over);


describe("views", () => {
  const style = makeStyle(colorEnabled(false, {}));

  it("renders the job table with its columns, relative times and no ANSI off a TTY", () => {
    const out = jobsTable(
      [
        job({ name: "backup", next: at(5_000), last_success: at(-180_000), last_error: at(-600_000), status: "success", success_count: 3, error_count: 1 }),
        job({ name: "idle", disabled: true }),
      ],
      NOW,
      style,
    );
    expect(out).not.toMatch(ANSI);
    const [header, first, second] = out.split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "SCHEDULE", "NEXT", "LAST", "STATUS", "OK", "ERR", "ENABLED"]);
    expect(first!.split(/\s{2,}/)).toEqual(["backup", "@every 1m", "in 5s", "3m ago", "success", "3", "1", "yes"]);
    expect(second!.split(/\s{2,}/)).toEqual(["idle", "@every 1m", "never", "never", "untriggered", "0", "0", "no"]);
  });

  it("renders executions as running/success/failed with durations", () => {
    const exec = (over: Partial<Execution>): Execution => ({
      id: "1-n1",
      job_name: "backup",
      started_at: at(-60_000),
      finished_at: at(-58_500),
      success: true,
      output: "",
      node_name: "n1",
      group: 1,
      attempt: 1,
      ...over,
    });
    const rows = [
      exec({ id: "3-n1", finished_at: "0001-01-01T00:00:00Z", started_at: at(-2_000) }),
      exec({ id: "2-n1" }),
      exec({ id: "1-n1", success: false, attempt: 2 }),
    ];
    expect(rows.map(executionState)).toEqual(["running", "success", "failed"]);
    const lines = executionsTable(rows, NOW, style).trimEnd().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["ID", "JOB", "STARTED", "DURATION", "NODE", "STATUS", "ATTEMPT"]);
    expect(lines[1]!.split(/\s{2,}/)).toEqual(["3-n1", "backup", "2s ago", "2.0s", "n1", "running", "1"]);
    expect(lines[3]!.split(/\s{2,}/)).toEqual(["1-n1", "backup", "1m ago", "1.5s", "n1", "failed", "2"]);
  });

  it("renders members", () => {
    const m: Member = {
      id: "x",
      Name: "node1",
      Addr: "10.0.0.1",
      Port: 8946,
      Tags: { dc: "dc1" },
      Status: 1,
      ProtocolMin: 1,
      ProtocolMax: 5,
      ProtocolCur: 2,
      DelegateMin: 2,
      DelegateMax: 5,
      DelegateCur: 4,
      statusText: "alive",
      role: "server",
      leader: true,
      last_seen: at(-2_000),
      version: "0.1.0",
    };
    const lines = membersTable([m], NOW, style).trimEnd().split("\n");
    expect(lines[0]).toBe("NAME   ADDR           ROLE    STATUS  LEADER  TAGS    LAST SEEN");
    expect(lines[1]).toBe("node1  10.0.0.1:8946  server  alive   yes     dc=dc1  2s ago");
  });
});
