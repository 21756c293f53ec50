// Go `time.ParseDuration` for TypeScript. Same grammar as Go:
//   [-+]? ( [0-9]* ( "." [0-9]* )? unit )+   or the bare string "0"
// with units ns, us (µs, μs), ms, s, m, h. Each number needs a unit, at least
// one digit on either side of the dot, and the total must fit in an int64 of
// nanoseconds (about 292 years). Returns milliseconds, fractional below 1 ms.

import { invalid } from "../errors.js";

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3, // µ MICRO SIGN
  "\u03bcs": 1e3, // μ GREEK SMALL LETTER MU
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Largest Go duration (int64 nanoseconds). Doubles are not exact there; close enough for a bound. */
const MAX_NS = 9_223_372_036_854_775_807;

const PART = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/**
 * Parses a Go duration ("1h30m", "500ms", "2s", "1.5h", "10us", "-1m") into milliseconds.
 * Throws DkronError invalid_argument (on `field`, default "duration") with Go's error wording.
 */
export function parseGoDuration(s: string, field = "duration"): number {
  const fail = (why: string): never => {
    throw invalid(field, `${why} in duration ${JSON.stringify(s)}`);
  };
  let rest = s;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest[0] === "-";
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") fail("invalid syntax");

  let totalNs = 0;
  while (rest !== "") {
    const m = PART.exec(rest);
    // PART always matches (every group may be empty); check what it consumed.
    const [whole, intDigits = "", fracDigits, unit = ""] = m ?? [""];
    if (intDigits === "" && (fracDigits === undefined || fracDigits === "")) fail("invalid syntax");
    if (unit === "") fail("missing unit");
    const unitNs = UNIT_NS[unit];
    if (unitNs === undefined) fail(`unknown unit ${JSON.stringify(unit)}`);
    const intPart = intDigits === "" ? 0 : Number(intDigits);
    const fracPart = fracDigits ? Number(`0.${fracDigits}`) : 0;
    totalNs += intPart * unitNs! + fracPart * unitNs!;
    if (!Number.isFinite(totalNs) || totalNs > MAX_NS) fail("overflow");
    rest = rest.slice(whole.length);
  }
  const ms = totalNs / 1e6;
  return negative ? -ms : ms;
}

/** Formats milliseconds the way Go's Duration.String() does ("1h30m0s", "500ms", "0s"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  if (rest < 1000) {
    if (rest >= 1) return `${sign}${trimNum(rest)}ms`;
    if (rest >= 1e-3) return `${sign}${trimNum(rest * 1e3)}µs`;
    return `${sign}${trimNum(rest * 1e6)}ns`;
  }
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = `${trimNum(rest / 1000)}s`;
  if (h > 0) return `${sign}${h}h${m}m${sec}`;
  if (m > 0) return `${sign}${m}m${sec}`;
  return `${sign}${sec}`;
}

const trimNum = (n: number): string => String(Number(n.toFixed(9)));
