import { describe, expect, it } from "vitest";
import { parseGoDuration, parseSchedule, validateTimezone } from "../../src/shared/cron/index.js";
import type { Schedule } from "../../src/shared/cron/index.js";
import { DkronError } from "../../src/shared/errors.js";

const ms = (iso: string): number => Date.parse(iso);
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const parse = (spec: string, timezone = "", jobName = "test_job"): Schedule =>
  parseSchedule(spec, { jobName, timezone });
/** The next `n` fires after `from`, via repeated next() calls. */
const fires = (s: Schedule, from: string, n: number): string[] => {
  const out: string[] = [];
  let t = ms(from);
  for (let i = 0; i < n; i++) {
    const next = s.next(t);
    if (next === null) break;
    out.push(iso(next)!);
    t = next;
  }
  return out;
};
const expectInvalid = (fn: () => unknown, field = "schedule"): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DkronError);
    expect((err as DkronError).code).toBe("invalid_argument");
    expect((err as DkronError).field).toBe(field);
    return (err as DkronError).message;
  }
  throw new Error("expected an invalid_argument error");
};

describe("parseGoDuration", () => {
  it.each([
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["2s", 2000],
    ["1.5h", 5_400_000],
    ["10us", 0.01],
    ["10µs", 0.01],
    ["100ns", 0.0001],
    ["0", 0],
    ["-1m", -60_000],
    ["+.5s", 500],
    ["1.s", 1000],
    ["1h2m3s4ms", 3_723_004],
  ])("%s = %d ms", (s, want) => {
    expect(parseGoDuration(s)).toBeCloseTo(want, 9);
  });

  it.each(["", "1", "1x", ".s", "s", "1h-2m", " 1s", "1e3s", "--1s"])("rejects %j", (s) => {
    expectInvalid(() => parseGoDuration(s), "duration");
  });

  it("rejects overflow like Go", () => {
    expectInvalid(() => parseGoDuration("3000000h"), "duration");
  });
});

describe("parseSchedule: cron fields", () => {
  it("takes 6 fields with seconds first", () => {
    const s = parse("15 30 2 * * *");
    expect(s.kind).toBe("cron");
    expect(s.expression).toBe("15 30 2 * * *");
    expect(fires(s, "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-01T02:30:15.000Z", "2026-01-02T02:30:15.000Z"]);
  });

  it("takes the 5-field crontab form with seconds = 0", () => {
    const s = parse("30 2 * * *");
    expect(s.expression).toBe("0 30 2 * * *");
    expect(iso(s.next(ms("2026-01-01T00:00:00Z")))).toBe("2026-01-01T02:30:00.000Z");
  });

  it("Dkron examples: every minute at :00 and daily 17:00", () => {
    expect(fires(parse("0 * * * * *"), "2026-01-01T00:00:30Z", 2)).toEqual([
      "2026-01-01T00:01:00.000Z",
      "2026-01-01T00:02:00.000Z",
    ]);
    expect(fires(parse("0 0 17 * * *"), "2026-01-01T18:00:00Z", 1)).toEqual(["2026-01-02T17:00:00.000Z"]);
  });

  it("reads ? in dom and dow as *", () => {
    const s = parse("0 0 12 ? * ?");
    expect(s.expression).toBe("0 0 12 * * *");
    expect(fires(s, "2026-01-01T13:00:00Z", 1)).toEqual(["2026-01-02T12:00:00.000Z"]);
  });

  it("hashes ~ with the sum of the job name's code points (Dkron examples)", () => {
    expect(parse("0 0 ~ * * *").expression).toBe("0 0 18 * * *");
    const madrid = parse("TZ=Europe/Madrid 0 0 1 * ~ *");
    expect(madrid.expression).toBe("0 0 1 * 7 *");
    expect(madrid.timezone).toBe("Europe/Madrid");
    // 01:00 Madrid (CEST, +02:00) every day of July.
    expect(fires(madrid, "2026-01-01T00:00:00Z", 2)).toEqual(["2026-06-30T23:00:00.000Z", "2026-07-01T23:00:00.000Z"]);
    // sum("test_job") = 858: sec/min %60 = 18, dom %28+1 = 19, dow %7 = 4
    expect(parse("~ ~ 0 ~ * ~").expression).toBe("18 18 0 19 * 4");
    expect(parse("0 0 ~ * * *", "", "another_job").expression).toBe("0 0 11 * * *"); // 1163 % 24
  });

  it("does not hash descriptors", () => {
    expect(parse("@daily").expression).toBe("0 0 0 * * *");
  });

  it("matches either a restricted DOM or a restricted DOW (vixie OR)", () => {
    // 13th of the month or any Friday
    expect(fires(parse("0 0 0 13 * 5"), "2026-01-01T00:00:00Z", 4)).toEqual([
      "2026-01-02T00:00:00.000Z",
      "2026-01-09T00:00:00.000Z",
      "2026-01-13T00:00:00.000Z",
      "2026-01-16T00:00:00.000Z",
    ]);
  });

  it("accepts robfig's N/step form", () => {
    expect(fires(parse("5/20 * * * * *"), "2026-01-01T00:00:00Z", 4)).toEqual([
      "2026-01-01T00:00:05.000Z",
      "2026-01-01T00:00:25.000Z",
      "2026-01-01T00:00:45.000Z",
      "2026-01-01T00:01:05.000Z",
    ]);
  });

  it("returns instants strictly after the argument, ms fractions included", () => {
    const s = parse("* * * * * *");
    const t = ms("2026-01-01T00:00:00Z");
    expect(s.next(t)).toBe(t + 1000);
    expect(s.next(t - 0.5)).toBe(t);
    expect(s.next(t + 0.5)).toBe(t + 1000);
    expect(s.next(t + 999.9)).toBe(t + 1000);
  });
});

describe("parseSchedule: descriptors", () => {
  const from = "2026-01-01T00:00:00Z"; // a Thursday
  it.each([
    ["@yearly", "0 0 0 1 1 *", ["2027-01-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z"]],
    ["@annually", "0 0 0 1 1 *", ["2027-01-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z"]],
    ["@monthly", "0 0 0 1 * *", ["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]],
    ["@weekly", "0 0 0 * * 0", ["2026-01-04T00:00:00.000Z", "2026-01-11T00:00:00.000Z"]],
    ["@daily", "0 0 0 * * *", ["2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"]],
    ["@midnight", "0 0 0 * * *", ["2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"]],
    ["@hourly", "0 0 * * * *", ["2026-01-01T01:00:00.000Z", "2026-01-01T02:00:00.000Z"]],
    ["@minutely", "0 * * * * *", ["2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z"]],
  ])("%s", (spec, expression, want) => {
    const s = parse(spec);
    expect(s.kind).toBe("cron");
    expect(s.expression).toBe(expression);
    expect(s.timezone).toBe("UTC");
    expect(fires(s, from, 2)).toEqual(want);
  });

  it("applies the job's timezone to descriptors", () => {
    expect(fires(parse("@daily", "America/New_York"), from, 2)).toEqual([
      "2026-01-01T05:00:00.000Z",
      "2026-01-02T05:00:00.000Z",
    ]);
    expect(fires(parse("@weekly", "Asia/Tokyo"), from, 1)).toEqual(["2026-01-03T15:00:00.000Z"]);
  });

  it("@manually never fires", () => {
    const s = parse("@manually");
    expect(s.kind).toBe("manually");
    expect(s.next(0)).toBeNull();
    expect(s.between(0, Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });
});

describe("parseSchedule: TZ= prefixes", () => {
  it("TZ= and CRON_TZ= override the job's timezone", () => {
    const a = parse("TZ=America/New_York 0 0 9 * * *", "Asia/Tokyo");
    const b = parse("CRON_TZ=America/New_York 0 0 9 * * *", "Asia/Tokyo");
    for (const s of [a, b]) {
      expect(s.timezone).toBe("America/New_York");
      expect(s.expression).toBe("0 0 9 * * *");
      expect(fires(s, "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-01T14:00:00.000Z"]);
    }
    expect(fires(parse("0 0 9 * * *", "Asia/Tokyo"), "2026-01-01T00:00:00Z", 1)).toEqual([
      "2026-01-02T00:00:00.000Z",
    ]);
  });

  it("applies to descriptors too", () => {
    expect(fires(parse("TZ=Europe/Berlin @daily"), "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-01T23:00:00.000Z"]);
  });

  it("an empty timezone is UTC", () => {
    expect(parse("0 0 9 * * *", "").timezone).toBe("UTC");
    expect(parse("0 0 9 * * *", "UTC").next(ms("2026-01-01T00:00:00Z"))).toBe(ms("2026-01-01T09:00:00Z"));
  });
});

describe("parseSchedule: @at", () => {
  it("fires once at an RFC3339 instant (Dkron examples)", () => {
    const a = parse("@at 2018-01-02T15:04:00Z");
    expect(a.kind).toBe("at");
    expect(a.next(ms("2018-01-01T00:00:00Z"))).toBe(ms("2018-01-02T15:04:00Z"));
    expect(a.next(ms("2018-01-02T15:04:00Z"))).toBeNull();
    const b = parse("@at 2019-02-04T09:20:00+06:00", "America/New_York");
    expect(b.next(0)).toBe(ms("2019-02-04T03:20:00Z"));
    expect(b.expression).toBe("@at 2019-02-04T03:20:00.000Z");
  });

  it("is null once in the past", () => {
    expect(parse("@at 2018-01-02T15:04:00Z").next(ms("2026-01-01T00:00:00Z"))).toBeNull();
  });

  it("reads an offset-less time in the job's (or prefix) timezone", () => {
    expect(parse("@at 2026-07-01T10:00", "Europe/Madrid").next(0)).toBe(ms("2026-07-01T08:00:00Z"));
    expect(parse("@at 2026-01-02T15:04:05", "America/New_York").next(0)).toBe(ms("2026-01-02T20:04:05Z"));
    expect(parse("TZ=Asia/Tokyo @at 2026-01-02T09:00:00").next(0)).toBe(ms("2026-01-02T00:00:00Z"));
    expect(parse("@at 2026-01-02T15:04").next(0)).toBe(ms("2026-01-02T15:04:00Z"));
  });

  it("resolves DST edge local times: gap moves forward, repeated time takes the first", () => {
    // 02:30 does not exist on 2026-03-29 in Berlin: 03:30 CEST.
    expect(iso(parse("@at 2026-03-29T02:30", "Europe/Berlin").next(0))).toBe("2026-03-29T01:30:00.000Z");
    // 02:30 happens twice on 2026-10-25: the CEST one.
    expect(iso(parse("@at 2026-10-25T02:30", "Europe/Berlin").next(0))).toBe("2026-10-25T00:30:00.000Z");
  });

  it("between includes the instant only inside (from, to]", () => {
    const s = parse("@at 2026-01-02T00:00:00Z");
    const t = ms("2026-01-02T00:00:00Z");
    expect(s.between(t - 1, t, 5)).toEqual([t]);
    expect(s.between(t, t + 1, 5)).toEqual([]);
    expect(s.between(t - 1, t, 0)).toEqual([]);
  });
});

describe("parseSchedule: @every", () => {
  const D = 90_000;
  const a = parse("@every 1m30s", "", "job-a");
  const b = parse("@every 1m30s", "", "job-b");

  it("is anchored per job: same period, different phases, multiples of D apart", () => {
    expect(a.kind).toBe("every");
    expect(a.expression).toBe("@every 1m30s");
    const from = ms("2026-01-01T00:00:00Z");
    const fa = a.between(from, from + 10 * D, 100);
    const fb = b.between(from, from + 10 * D, 100);
    expect(fa).toHaveLength(10);
    expect(fa[0]! % D).not.toBe(fb[0]! % D);
    for (let i = 1; i < fa.length; i++) expect(fa[i]! - fa[i - 1]!).toBe(D);
    // the phase is stable: any instant is congruent to the first modulo D
    expect(a.next(from + 12_345 * D)! % D).toBe(fa[0]! % D);
    // and independent of where we start counting (no dependence on leader start time)
    expect(parse("@every 1m30s", "", "job-a").next(from)).toBe(fa[0]);
  });

  it("next is strictly after its argument", () => {
    const t = a.next(0)!;
    expect(a.next(t)).toBe(t + D);
    expect(a.next(t - 0.5)).toBe(t);
    expect(a.next(t - D)).toBe(t);
    expect(a.next(t + 0.25)).toBe(t + D);
    expect(t).toBeGreaterThan(0);
    expect(t).toBeLessThanOrEqual(D);
  });

  it("ignores the timezone and accepts fractional seconds >= 1s", () => {
    expect(parse("@every 1m30s", "Asia/Tokyo", "job-a").next(12345)).toBe(a.next(12345));
    const s = parse("@every 1.5s");
    const t = s.next(0)!;
    expect(s.next(t)).toBe(t + 1500);
  });

  it("between honours the limit", () => {
    expect(a.between(0, 100 * D, 3)).toHaveLength(3);
  });
});

describe("parseSchedule: errors", () => {
  it.each([
    ["", /is required/],
    ["   ", /is required/],
    ["* * * *", /expected 6 fields.*got 4/],
    ["0 0 0 * * * 2026", /got 7/],
    ["0 70 * * * *", /minute: 70/],
    ["0 0 25 * * *", /hour/],
    ["0 0 0 * 13 *", /month/],
    ["0 0 0 30 2 *", /never matches/],
    ["0 0 0 31 4,6 *", /never matches/],
    ["@every 1x", /unknown unit "x"/],
    ["@every", /needs a duration/],
    ["@every 500ms", /at least 1s/],
    ["@every 0s", /at least 1s/],
    ["@every -5s", /at least 1s/],
    ["@at badtime", /cannot parse "badtime"/],
    ["@at 2026-02-30T10:00:00Z", /out-of-range/],
    ["@at 2026-01-01T10:00:00+25:00", /out-of-range/],
    ["@foo", /unknown descriptor/],
    ["@Daily", /unknown descriptor/],
    ["@daily now", /takes no argument/],
    ["@manually please", /takes no argument/],
    ["TZ=Mars/Olympus 0 0 0 * * *", /unknown time zone "Mars\/Olympus"/],
    ["CRON_TZ=Local @daily", /unknown time zone "Local"/],
    ["TZ= @daily", /needs a zone/],
    ["TZ=Europe/Berlin", /nothing follows/],
  ])("%j", (spec, message) => {
    expect(expectInvalid(() => parse(spec))).toMatch(message);
  });

  it("reports a bad job timezone on field timezone", () => {
    expect(expectInvalid(() => parse("@daily", "Mars/Olympus"), "timezone")).toMatch(/Mars\/Olympus/);
  });
});

describe("validateTimezone", () => {
  it("accepts IANA zones and empty (UTC)", () => {
    for (const tz of ["", "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]) {
      expect(() => validateTimezone(tz)).not.toThrow();
    }
  });
  it.each(["Mars/Olympus", "Local", "Europe/Berlin ", "not a zone"])("rejects %j", (tz) => {
    expectInvalid(() => validateTimezone(tz), "timezone");
  });
});

describe("DST (Europe/Berlin 2026: +1h on 29 Mar at 02:00, -1h on 25 Oct at 03:00)", () => {
  /** All fires in (from, to], checking they strictly increase. */
  const window = (s: Schedule, from: string, to: string): string[] => {
    const out = s.between(ms(from), ms(to), 1000);
    for (let i = 1; i < out.length; i++) expect(out[i]!).toBeGreaterThan(out[i - 1]!);
    expect(fires(s, from, out.length).map(ms)).toEqual(out); // next() agrees with between()
    return out.map((t) => iso(t)!);
  };

  it("a 02:30 daily job runs at 03:00 CEST on the spring-forward day", () => {
    const s = parse("0 30 2 * * *", "Europe/Berlin");
    expect(window(s, "2026-03-27T12:00:00Z", "2026-03-31T12:00:00Z")).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // 02:30 does not exist: 03:00 CEST
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
      "2026-03-31T00:30:00.000Z",
    ]);
  });

  it("a 02:30 daily job runs once, at the first 02:30, on the fall-back day", () => {
    const s = parse("0 30 2 * * *", "Europe/Berlin");
    expect(window(s, "2026-10-23T12:00:00Z", "2026-10-27T12:00:00Z")).toEqual([
      "2026-10-24T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T00:30:00.000Z", // first 02:30 (CEST); the CET one at 01:30Z is skipped
      "2026-10-26T01:30:00.000Z", // 02:30 CET
      "2026-10-27T01:30:00.000Z",
    ]);
  });

  it("an hourly job keeps firing every real hour across both transitions", () => {
    const s = parse("@hourly", "Europe/Berlin");
    expect(window(s, "2026-03-28T23:30:00Z", "2026-03-29T02:30:00Z")).toEqual([
      "2026-03-29T00:00:00.000Z", // 01:00 CET
      "2026-03-29T01:00:00.000Z", // 03:00 CEST (02:00 skipped)
      "2026-03-29T02:00:00.000Z", // 04:00 CEST
    ]);
    expect(window(s, "2026-10-24T23:30:00Z", "2026-10-25T03:30:00Z")).toEqual([
      "2026-10-25T00:00:00.000Z", // 02:00 CEST
      "2026-10-25T01:00:00.000Z", // 02:00 CET (second occurrence)
      "2026-10-25T02:00:00.000Z", // 03:00 CET
      "2026-10-25T03:00:00.000Z", // 04:00 CET
    ]);
  });

  it("a fixed list of hours fires once per wall-clock slot and never twice at one instant", () => {
    const s = parse("0 0 1-4 * * *", "Europe/Berlin");
    expect(window(s, "2026-03-28T23:00:00Z", "2026-03-29T03:00:00Z")).toEqual([
      "2026-03-29T00:00:00.000Z", // 01:00 CET
      "2026-03-29T01:00:00.000Z", // 02:00 (moved) and 03:00 CEST fire once
      "2026-03-29T02:00:00.000Z", // 04:00 CEST
    ]);
    expect(window(s, "2026-10-24T22:00:00Z", "2026-10-25T04:00:00Z")).toEqual([
      "2026-10-24T23:00:00.000Z", // 01:00 CEST
      "2026-10-25T00:00:00.000Z", // 02:00 CEST (not again at 02:00 CET)
      "2026-10-25T02:00:00.000Z", // 03:00 CET
      "2026-10-25T03:00:00.000Z", // 04:00 CET
    ]);
  });

  it("America/New_York behaves the same (2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00)", () => {
    expect(window(parse("30 2 * * *", "America/New_York"), "2026-03-07T12:00:00Z", "2026-03-09T12:00:00Z")).toEqual([
      "2026-03-08T07:00:00.000Z", // 02:30 does not exist: 03:00 EDT
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
    ]);
    expect(window(parse("30 1 * * *", "America/New_York"), "2026-10-31T12:00:00Z", "2026-11-02T12:00:00Z")).toEqual([
      "2026-11-01T05:30:00.000Z", // first 01:30 (EDT); not again at 06:30Z (EST)
      "2026-11-02T06:30:00.000Z", // 01:30 EST
    ]);
  });
});

describe("between", () => {
  it("is (from, to], ascending, and honours the limit", () => {
    const s = parse("@hourly");
    const from = ms("2026-01-01T00:00:00Z");
    expect(s.between(from, from + 3 * 3_600_000, 10).map(iso)).toEqual([
      "2026-01-01T01:00:00.000Z",
      "2026-01-01T02:00:00.000Z",
      "2026-01-01T03:00:00.000Z",
    ]);
    expect(s.between(from, from + 100 * 3_600_000, 2)).toHaveLength(2);
    expect(s.between(from, from + 3_599_999, 10)).toEqual([]);
    expect(s.between(from, from + 3_600_000, 0)).toEqual([]);
  });
});

describe("performance", () => {
  it("parses 10,000 distinct hashed specs and serves cached ones", () => {
    const schedules: Schedule[] = [];
    for (let i = 0; i < 10_000; i++) schedules.push(parse("~ ~ ~ * * *", "Europe/Berlin", `job-${i}`));
    const t = ms("2026-01-01T00:00:00Z");
    for (const s of schedules.slice(0, 100)) expect(s.next(t)).toBeGreaterThan(t);
    // @every is O(1) even far in the future
    const e = parse("@every 1s", "", "x");
    expect(e.next(8.64e15 - 10_000)).toBeGreaterThan(8.64e15 - 10_000);
  });
});
