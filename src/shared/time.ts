// Time helpers shared by every layer. Dkron encodes "never" as Go's zero time.

export const ZERO_TIME = "0001-01-01T00:00:00Z";

export const toRfc3339 = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export const toRfc3339OrZero = (ms: number | null | undefined): string =>
  ms === null || ms === undefined || ms <= 0 ? ZERO_TIME : new Date(ms).toISOString();

/** Parses RFC3339 (or Dkron's "2006-01-02T15:04" short form, taken as UTC); null for zero/empty. */
export function parseTime(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === "" || value === ZERO_TIME) return null;
  const short = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : value;
  const ms = Date.parse(short);
  return Number.isNaN(ms) ? Number.NaN : ms;
}

/** Execution groups are int64 nanoseconds of the trigger, as in Dkron. */
export const msToNanos = (ms: number): number => ms * 1_000_000;
export const nanosToMs = (ns: number): number => Math.round(ns / 1_000_000);
