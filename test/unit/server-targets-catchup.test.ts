// Target selection (src/server/scheduler/targets.ts) and catch-up (src/server/scheduler/catchup.ts):
// tags AND-ed, value:N with the lowest N winning, injected randomness, no tags = all; which missed
// instants fire for none/last/all within the window, and lastBetween against a brute force.
import { describe, expect, it } from "vitest";
import { CATCHUP_ALL_LIMIT, lastBetween, missedInstants } from "../../src/server/scheduler/catchup.js";
import { parseTagValue, selectTargets, type Candidate } from "../../src/server/scheduler/targets.js";
import { parseSchedule, type Schedule } from "../../src/shared/cron/index.js";
import { parseJobInput, type JobSpec } from "../../src/shared/job.js";

const node = (name: string, tags: Record<string, string> = {}): Candidate => ({ name, tags });
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe("selectTargets", () => {
  const live = [
    node("n3", { role: "web", dc: "eu" }),
    node("n1", { role: "web", dc: "us" }),
    node("n2", { role: "web", dc: "eu" }),
    node("n4", { role: "db", dc: "eu" }),
  ];

  it("no tags = every live node, sorted", () => {
    expect(selectTargets({}, live)).toEqual({ nodes: ["n1", "n2", "n3", "n4"] });
  });

  it("every job tag must match (AND)", () => {
    expect(selectTargets({ role: "web" }, live).nodes).toEqual(["n1", "n2", "n3"]);
    expect(selectTargets({ role: "web", dc: "eu" }, live).nodes).toEqual(["n2", "n3"]);
    expect(selectTargets({ dc: "eu" }, live).nodes).toEqual(["n2", "n3", "n4"]);
  });

  it("a node without the tag key does not match", () => {
    expect(selectTargets({ gpu: "yes" }, [...live, node("n5", { gpu: "yes" })]).nodes).toEqual(["n5"]);
  });

  it("value:N picks N of the matching nodes, the lowest N winning", () => {
    expect(selectTargets({ role: "web:2" }, live, seq(0)).nodes).toHaveLength(2);
    const r = selectTargets({ role: "web:2", dc: "eu:1" }, live, seq(0));
    expect(r.nodes).toHaveLength(1);
    expect(["n2", "n3"]).toContain(r.nodes[0]);
    // more than there are: all of them
    expect(selectTargets({ role: "web:10" }, live).nodes).toEqual(["n1", "n2", "n3"]);
  });

  it("uses the injected random source (deterministic picks)", () => {
    // pool sorted n1 n2 n3; one pick at index floor(r * 3)
    expect(selectTargets({ role: "web:1" }, live, seq(0)).nodes).toEqual(["n1"]);
    expect(selectTargets({ role: "web:1" }, live, seq(0.5)).nodes).toEqual(["n2"]);
    expect(selectTargets({ role: "web:1" }, live, seq(0.99)).nodes).toEqual(["n3"]);
    // the same source gives the same answer, and every node can be chosen
    const picks = new Set<string>();
    for (const r of [0, 0.2, 0.4, 0.6, 0.8, 0.99]) {
      const a = selectTargets({ role: "web:2" }, live, seq(r, 0.7)).nodes;
      expect(selectTargets({ role: "web:2" }, live, seq(r, 0.7)).nodes).toEqual(a);
      expect(a).toHaveLength(2);
      expect(a).toEqual([...a].sort());
      a.forEach((n) => picks.add(n));
    }
    expect([...picks].sort()).toEqual(["n1", "n2", "n3"]);
  });

  it("is independent of the order nodes are listed in", () => {
    const reversed = [...live].reverse();
    expect(selectTargets({ role: "web:2" }, reversed, seq(0.3, 0.6)).nodes).toEqual(selectTargets({ role: "web:2" }, live, seq(0.3, 0.6)).nodes);
  });

  it("says why nothing matched", () => {
    const r = selectTargets({ role: "cache", dc: "eu:1" }, live);
    expect(r.nodes).toEqual([]);
    expect(r.reason).toContain("role=cache");
    expect(r.reason).toContain("dc=eu");
    expect(selectTargets({}, []).reason).toMatch(/no live node/);
    expect(selectTargets({ role: "web:0" }, live)).toMatchObject({ nodes: [], reason: expect.stringContaining("0") });
  });

  it("parseTagValue splits a trailing :N only", () => {
    expect(parseTagValue("web")).toEqual({ value: "web", count: undefined });
    expect(parseTagValue("web:3")).toEqual({ value: "web", count: 3 });
    expect(parseTagValue("a:b:2")).toEqual({ value: "a:b", count: 2 });
    expect(parseTagValue("web:x")).toEqual({ value: "web:x", count: undefined });
  });
});

/** Latest instant in (from, to] by walking every instant: the reference for lastBetween. */
function bruteLast(s: Schedule, from: number, to: number): number | null {
  let last: number | null = null;
  for (let t = s.next(from); t !== null && t <= to; t = s.next(t)) last = t;
  return last;
}

/** Small deterministic PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("lastBetween", () => {
  const schedules: Array<[string, string, number]> = [
    // spec, timezone, the largest range to brute-force over (ms)
    ["* * * * * *", "", 20 * 60_000],
    ["*/7 * * * * *", "", 3 * 3600_000],
    ["0 */15 * * * *", "", 3 * 86_400_000],
    ["0 0 3 * * *", "", 40 * 86_400_000],
    ["0 30 2 * * *", "Europe/Berlin", 60 * 86_400_000],
    ["0 0 9 * * 1-5", "America/New_York", 60 * 86_400_000],
    ["0 0 0 29 2 *", "", 12 * 365 * 86_400_000],
    ["@every 7s", "", 3 * 3600_000],
    ["@every 1h30m", "", 30 * 86_400_000],
    ["@at 2026-03-29T01:30:00Z", "", 400 * 86_400_000],
  ];

  it.each(schedules)("matches a brute force for %s (tz %j)", (spec, timezone, maxRange) => {
    const s = parseSchedule(spec, { jobName: "catchup_job", timezone });
    const rnd = prng(spec.length * 7919 + maxRange);
    const base = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 40; i++) {
      const from = base + Math.floor(rnd() * 400 * 86_400_000);
      const to = from + Math.floor(rnd() * maxRange);
      expect(lastBetween(s, from, to), `(${new Date(from).toISOString()}, ${new Date(to).toISOString()}]`).toBe(bruteLast(s, from, to));
    }
  });

  it("treats the range as (from, to]", () => {
    const s = parseSchedule("*/10 * * * * *", { jobName: "j" });
    const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(lastBetween(s, t0, t0 + 10_000)).toBe(t0 + 10_000);
    expect(lastBetween(s, t0, t0 + 9_999)).toBeNull();
    expect(lastBetween(s, t0 - 1, t0)).toBe(t0);
    expect(lastBetween(s, t0, t0)).toBeNull();
  });

  it("is null for a schedule that never fires", () => {
    expect(lastBetween(parseSchedule("@manually", { jobName: "j" }), 0, Date.UTC(2030, 0, 1))).toBeNull();
  });
});

describe("missedInstants", () => {
  const hourly = parseSchedule("0 0 * * * *", { jobName: "j" });
  const now = Date.UTC(2026, 4, 10, 12, 20, 0); // 12:20
  const H = (h: number, m = 0) => Date.UTC(2026, 4, 10, h, m, 0);
  const job = (over: Record<string, unknown> = {}): JobSpec =>
    parseJobInput({ name: "j", schedule: "0 0 * * * *", executor_config: { command: "true" }, ...over });

  it("none fires nothing", () => {
    expect(missedInstants(job({ catchup: "none", catchup_window: "24h" }), hourly, H(3), now)).toEqual([]);
  });

  it("last (the default) fires only the most recent missed instant within the window", () => {
    expect(missedInstants(job(), hourly, H(3), now)).toEqual([H(12)]);
    expect(missedInstants(job({ catchup: "last", catchup_window: "24h" }), hourly, H(3), now)).toEqual([H(12)]);
  });

  it("last fires nothing when the last instant was already claimed, or is outside the window", () => {
    expect(missedInstants(job(), hourly, H(12), now)).toEqual([]);
    expect(missedInstants(job({ catchup_window: "10m" }), hourly, H(3), now)).toEqual([]);
  });

  it("the window includes its start and `now`, and excludes the last claimed instant", () => {
    expect(missedInstants(job({ catchup_window: "20m" }), hourly, H(3), now)).toEqual([H(12)]);
    expect(missedInstants(job({ catchup_window: "19m59s" }), hourly, H(3), now)).toEqual([]);
    expect(missedInstants(job({ catchup: "all" }), hourly, H(11), H(12))).toEqual([H(12)]);
  });

  it("all fires every missed instant in the window, oldest first", () => {
    expect(missedInstants(job({ catchup: "all", catchup_window: "24h" }), hourly, H(8), now)).toEqual([H(9), H(10), H(11), H(12)]);
    expect(missedInstants(job({ catchup: "all", catchup_window: "2h" }), hourly, H(3), now)).toEqual([H(11), H(12)]);
  });

  it("all is bounded to the most recent instants", () => {
    const everySecond = parseSchedule("* * * * * *", { jobName: "j" });
    const out = missedInstants(job({ catchup: "all", catchup_window: "1h" }), everySecond, now - 3600_000, now);
    expect(out).toEqual(Array.from({ length: CATCHUP_ALL_LIMIT }, (_, i) => now - (CATCHUP_ALL_LIMIT - 1 - i) * 1000));
  });

  it("skips instants the job may not run at", () => {
    expect(missedInstants(job({ catchup: "all", catchup_window: "24h", disabled: true }), hourly, H(8), now)).toEqual([]);
    expect(missedInstants(job({ catchup: "all", catchup_window: "24h", starts_at: "2026-05-10T10:30:00Z" }), hourly, H(8), now)).toEqual([H(11), H(12)]);
    expect(missedInstants(job({ catchup: "all", catchup_window: "24h", expires_at: "2026-05-10T10:00:00Z" }), hourly, H(8), now)).toEqual([H(9), H(10)]);
  });

  // A job that expired during the outage: `last` must pick the latest instant up to expires_at
  // (picking the latest up to now and then dropping it as expired would fire nothing).
  it("last fires the most recent missed instant the job could run at (expired during the outage)", () => {
    expect(missedInstants(job({ catchup: "last", catchup_window: "24h", expires_at: "2026-05-10T10:00:00Z" }), hourly, H(8), now)).toEqual([H(10)]);
  });

  it("an unparsable window falls back to one hour", () => {
    expect(missedInstants(job({ catchup: "all", catchup_window: "bogus" }), hourly, H(3), now)).toEqual([H(12)]);
  });
});
