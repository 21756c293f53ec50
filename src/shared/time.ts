// Time helpers shared by every layer. Dkron encodes "never" as Go's zero time.

export const ZERO_TIME = "0001-01-01T00:00:00Z";

export const toRfc3339 = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export const toRfc3339OrZero = (ms: number | null | undefined): string =>
  ms === null || ms === undefined || ms <= 0 ? ZERO_TIME : new Date(ms).toISOString();

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * Parses RFC3339 strictly (or Dkron's "2006-01-02T15:04" short form, taken as
 * UTC); null for zero/empty, NaN for anything else. Date.parse alone accepts
 * "March 7, 2024" and rolls 2024-02-30 over into March.
 */
export function parseTime(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === "" || value === ZERO_TIME) return null;
  const m = RFC3339.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  // Seconds and a zone go together: "2006-01-02T15:04" is the only short form.
  if ((sec === undefined) !== (zone === undefined)) return Number.NaN;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${sec ?? "00"}${frac ?? ""}${(zone ?? "Z").toUpperCase()}`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return Number.NaN;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59) {
    return Number.NaN;
  }
  return ms;
}

/** Execution groups are int64 nanoseconds of the trigger, as in Dkron. */
export const msToNanos = (ms: number): number => ms * 1_000_000;
export const nanosToMs = (ns: number): number => Math.round(ns / 1_000_000);
