// Dkron schedule specs: parsing and next-fire-time math (pure, no I/O).
//
// Accepted forms (see /work/shared/reference/dkron.md §2):
//   [TZ=<zone> |CRON_TZ=<zone> ] then one of
//   - 6 fields `sec min hour dom month dow`, or the 5-field crontab form (seconds = 0);
//     `?` means `*`; `~` is a per-job hash (sum of the name's code points, field modulus);
//     croner extensions (names, L, W, #, `5/15` = `5-59/15`) are accepted as a superset.
//   - @yearly @annually @monthly @weekly @daily @midnight @hourly @minutely
//   - @every <Go duration>  (>= 1s), @at <RFC3339 | local time>, @manually (never fires)
//
// Deliberate differences from Dkron:
//   - The job's timezone (or the TZ= prefix) applies to every form, including descriptors
//     (@daily = midnight in that zone) and offset-less @at times. An empty timezone means
//     UTC, never the server's local zone: otherwise schedules would depend on where the
//     current leader happens to run.
//   - @every is anchored per job: instants are anchor + k*D with anchor = fnv1a32(name) mod D
//     ms after the Unix epoch, so a leader change neither resets the phase nor makes all
//     interval jobs fire in the same second.
//   - 5-field specs are accepted (Dkron rejects them).
//   - Impossible dates (`0 0 0 30 2 *`) are rejected at parse time.
//
// DST (croner 11 with fixedTimeRule "no-wildcard", observed in Europe/Berlin, 2026; see tests):
//   A job whose sec, min and hour fields hold no `*` and no step (single values, lists or
//   ranges, e.g. `0 30 2 * * *`) is a fixed-time job, like Vixie cron:
//   - spring forward (2026-03-29, 02:00 CET -> 03:00 CEST): a time in the gap runs at the
//     first valid instant after it, 03:00 CEST (01:00Z); times that collapse onto that
//     instant fire once;
//   - fall back (2026-10-25, 03:00 CEST -> 02:00 CET): a repeated time runs once, at its
//     first occurrence (02:30 CEST = 00:30Z).
//   Any other job (e.g. hourly `0 0 * * * *`, `0 */15 * * * *`) is an interval job: it follows
//   real elapsed time, so gap times are skipped and repeated times run on both occurrences
//   (hourly stays exactly 3600 s apart across both transitions).
//   `next` is always strictly after its argument, so instants never repeat nor go backwards.

import { Cron } from "croner";
import { invalid } from "../errors.js";
import { formatGoDuration, parseGoDuration } from "./duration.js";

export interface Schedule {
  readonly kind: "cron" | "every" | "at" | "manually";
  /** The normalised expression actually evaluated (after ~ hashing, ? replacement, descriptor expansion), for messages/debugging. */
  readonly expression: string;
  /** The IANA zone the schedule is evaluated in ("UTC" when none was given). */
  readonly timezone: string;
  /** First fire instant strictly after `afterMs` (epoch ms), or null when it never fires again. */
  next(afterMs: number): number | null;
  /** Fire instants in (fromMs, toMs], ascending, at most `limit` of them. */
  between(fromMs: number, toMs: number, limit: number): number[];
}

export interface ParseScheduleOptions {
  jobName: string;
  /** IANA zone; "" or undefined = UTC. Overridden by a TZ=/CRON_TZ= prefix. */
  timezone?: string;
}

const DESCRIPTORS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 0 1 1 *",
  "@annually": "0 0 0 1 1 *",
  "@monthly": "0 0 0 1 * *",
  "@weekly": "0 0 0 * * 0",
  "@daily": "0 0 0 * * *",
  "@midnight": "0 0 0 * * *",
  "@hourly": "0 0 * * * *",
  "@minutely": "0 * * * * *",
};

const MIN_EVERY_MS = 1000;

// ---------------------------------------------------------------- timezones

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: tz,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      return undefined;
    }
    formatters.set(tz, f);
  }
  return f;
}

/** Throws invalid("timezone") unless `tz` is "" (UTC) or a zone the runtime knows. */
export function validateTimezone(tz: string): void {
  checkZone(tz, "timezone");
}

function checkZone(tz: string, field: string): void {
  if (tz === "") return;
  // "Local" is Go's server-local zone; we deliberately don't support it (see header).
  if (tz.trim() !== tz || tz === "Local" || formatterFor(tz) === undefined) {
    throw invalid(field, `unknown time zone ${JSON.stringify(tz)} (use an IANA name such as "Europe/Berlin", or "" for UTC)`);
  }
}

/** Offset (ms) of `tz` from UTC at instant `ms`, i.e. wallclock - utc. */
function offsetAt(ms: number, tz: string): number {
  const parts = formatterFor(tz)!.formatToParts(new Date(ms));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The instant a wall-clock time (given as if it were UTC, `wallMs`) has in `tz`. A time that
 * occurs twice (fall back) gives its first occurrence; a time in a gap (spring forward) is
 * moved forward by the gap's length (02:30 -> 03:30), as Temporal's "compatible" does.
 */
function wallToInstant(wallMs: number, tz: string): number {
  if (tz === "UTC") return wallMs;
  const before = offsetAt(wallMs - 86_400_000, tz);
  const after = offsetAt(wallMs + 86_400_000, tz);
  const valid = [before, after].map((o) => wallMs - o).filter((t) => offsetAt(t, tz) === wallMs - t);
  return valid.length > 0 ? Math.min(...valid) : wallMs - before;
}

// ---------------------------------------------------------------- hashing

/** Dkron's `~` value: the sum of the job name's Unicode code points. */
function codePointSum(name: string): number {
  let sum = 0;
  for (const ch of name) sum += ch.codePointAt(0)!;
  return sum;
}

const utf8 = new TextEncoder();

/** FNV-1a, 32 bit, over the UTF-8 bytes. */
function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of utf8.encode(s)) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------- parsing

export function parseSchedule(spec: string, opts: ParseScheduleOptions): Schedule {
  checkZone(opts.timezone ?? "", "timezone");
  let rest = spec.trim();
  if (rest === "") throw invalid("schedule", "is required");
  let tz = opts.timezone ?? "";
  const prefix = /^(?:CRON_)?TZ=(\S*)(?:\s+|$)/.exec(rest);
  if (prefix) {
    tz = prefix[1]!;
    if (tz === "") throw invalid("schedule", `${JSON.stringify(spec)}: TZ= needs a zone name`);
    checkZone(tz, "schedule");
    rest = rest.slice(prefix[0].length);
    if (rest === "") throw invalid("schedule", `${JSON.stringify(spec)}: nothing follows the TZ= prefix`);
  }
  const zone = tz === "" ? "UTC" : tz;

  if (rest.startsWith("@")) {
    const [word = "", ...args] = rest.split(/\s+/);
    const arg = args.join(" ");
    switch (word) {
      case "@manually":
        if (arg !== "") break;
        return manuallySchedule(zone);
      case "@every":
        return everySchedule(arg, opts.jobName, zone, spec);
      case "@at":
        return atSchedule(arg, zone, spec);
      default: {
        const expr = DESCRIPTORS[word];
        if (expr !== undefined && arg === "") return cronSchedule(expr, zone, spec);
        if (expr === undefined) {
          throw invalid("schedule", `${JSON.stringify(spec)}: unknown descriptor ${JSON.stringify(word)}`);
        }
      }
    }
    throw invalid("schedule", `${JSON.stringify(spec)}: ${word} takes no argument`);
  }

  const fields = rest.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw invalid(
      "schedule",
      `${JSON.stringify(spec)}: expected 6 fields (sec min hour dom month dow) or 5 (min hour dom month dow), got ${fields.length}`,
    );
  }
  if (fields.length === 5) fields.unshift("0");
  const sum = codePointSum(opts.jobName);
  const hashed = [sum % 60, sum % 60, sum % 24, (sum % 28) + 1, (sum % 12) + 1, sum % 7];
  const expr = fields.map((f, i) => f.replaceAll("~", String(hashed[i])).replaceAll("?", "*")).join(" ");
  return cronSchedule(expr, zone, spec);
}

// ---------------------------------------------------------------- kinds

function checkMs(ms: number): void {
  if (!Number.isFinite(ms)) throw new RangeError(`schedule: not an epoch-ms instant: ${ms}`);
}

function manuallySchedule(zone: string): Schedule {
  return { kind: "manually", expression: "@manually", timezone: zone, next: () => null, between: () => [] };
}

function everySchedule(arg: string, jobName: string, zone: string, spec: string): Schedule {
  if (arg === "") throw invalid("schedule", `${JSON.stringify(spec)}: @every needs a duration such as 30s or 1h30m`);
  let d: number;
  try {
    d = parseGoDuration(arg, "schedule");
  } catch (err) {
    throw invalid("schedule", `${JSON.stringify(spec)}: ${(err as Error).message.replace(/^schedule: /, "")}`);
  }
  if (d < MIN_EVERY_MS) {
    throw invalid("schedule", `${JSON.stringify(spec)}: @every interval must be at least 1s, got ${arg}`);
  }
  const period = Math.round(d);
  const anchor = fnv1a32(jobName) % period;
  const next = (afterMs: number): number => {
    checkMs(afterMs);
    let t = anchor + (Math.floor((afterMs - anchor) / period) + 1) * period;
    if (t <= afterMs) t += period; // float safety
    return t;
  };
  return {
    kind: "every",
    expression: `@every ${formatGoDuration(period)}`,
    timezone: zone,
    next,
    between(fromMs, toMs, limit) {
      const out: number[] = [];
      for (let t = next(fromMs); t <= toMs && out.length < limit; t += period) out.push(t);
      return out;
    },
  };
}

const AT_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;

function atSchedule(arg: string, zone: string, spec: string): Schedule {
  const m = AT_RE.exec(arg);
  const bad = (why: string): never => {
    throw invalid(
      "schedule",
      `${JSON.stringify(spec)}: @at ${why}; expected RFC3339 such as 2026-01-02T15:04:05Z, or a local time 2026-01-02T15:04[:05] in the job's timezone`,
    );
  };
  if (!m) return bad(`cannot parse ${JSON.stringify(arg)}`);
  const [, y, mo, d, h, mi, s = "0", frac = "", z, sign, oh, om] = m;
  const num = (v: string | undefined): number => Number(v);
  const wall = Date.UTC(num(y), num(mo) - 1, num(d), num(h), num(mi), num(s), Number(frac.padEnd(3, "0").slice(0, 3)));
  const check = new Date(wall);
  if (
    check.getUTCMonth() !== num(mo) - 1 ||
    check.getUTCDate() !== num(d) ||
    check.getUTCHours() !== num(h) ||
    check.getUTCMinutes() !== num(mi) ||
    check.getUTCSeconds() !== num(s) ||
    num(oh) > 23 ||
    num(om) > 59
  ) {
    return bad(`has an out-of-range field in ${JSON.stringify(arg)}`);
  }
  let at: number;
  if (z !== undefined) at = wall;
  else if (sign !== undefined) at = wall - (sign === "-" ? -1 : 1) * (num(oh) * 60 + num(om)) * 60_000;
  else at = wallToInstant(wall, zone);
  return {
    kind: "at",
    expression: `@at ${new Date(at).toISOString()}`,
    timezone: zone,
    next: (afterMs) => (at > afterMs ? at : null),
    between: (fromMs, toMs, limit) => (at > fromMs && at <= toMs && limit > 0 ? [at] : []),
  };
}

// Parsing a pattern costs croner ~50 µs, so Cron objects are shared between schedules with the
// same expression and zone. They hold no state we use: nextRun(date) is a pure function here.
const CRON_CACHE_MAX = 20_000;
const cronCache = new Map<string, Cron>();

function cronFor(expr: string, zone: string, spec: string): Cron {
  const key = `${zone}\u0000${expr}`;
  const hit = cronCache.get(key);
  if (hit !== undefined) return hit;
  let cron: Cron;
  try {
    cron = new Cron(expr, {
      mode: "6-part",
      // UTC through a fixed offset: ~5x faster than timezone "UTC" and the same instants.
      ...(zone === "UTC" ? { utcOffset: 0 } : { timezone: zone }),
      domAndDow: false, // vixie/robfig: a restricted DOM and DOW match on either
      sloppyRanges: true, // robfig accepts `5/15` (= 5-59/15)
      fixedTimeRule: "no-wildcard",
    });
  } catch (err) {
    const reason = (err as Error).message.replace(/^CronPattern: /, "");
    throw invalid("schedule", `${JSON.stringify(spec)}: invalid cron expression "${expr}": ${reason}`);
  }
  // Only a day of month of 29-31 can be missing from every selected month (e.g. 30 Feb).
  // Searching for a match that never comes costs croner milliseconds, so check just those.
  const [, , , dom = "", , dow = ""] = expr.split(" ");
  if (dow === "*" && /(^|[^\d])(29|3[01])($|[^\d])/.test(dom) && cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) {
    throw invalid("schedule", `${JSON.stringify(spec)}: "${expr}" never matches any date`);
  }
  if (cronCache.size >= CRON_CACHE_MAX) cronCache.delete(cronCache.keys().next().value!);
  cronCache.set(key, cron);
  return cron;
}

function cronSchedule(expr: string, zone: string, spec: string): Schedule {
  const cron = cronFor(expr, zone, spec);
  const next = (afterMs: number): number | null => {
    checkMs(afterMs);
    // croner drops the milliseconds of its reference and answers strictly after the second,
    // hence strictly after afterMs; the loop is a guard against a regression there.
    let ref = afterMs;
    for (let i = 0; i < 3; i++) {
      const d = cron.nextRun(new Date(ref));
      if (d === null) return null;
      const t = d.getTime();
      if (t > afterMs) return t;
      ref = Math.max(t, ref) + 1000;
    }
    return null;
  };
  return {
    kind: "cron",
    expression: expr,
    timezone: zone,
    next,
    between(fromMs, toMs, limit) {
      const out: number[] = [];
      let t = fromMs;
      while (out.length < limit) {
        const n = next(t);
        if (n === null || n > toMs) break;
        out.push(n);
        t = n;
      }
      return out;
    },
  };
}
