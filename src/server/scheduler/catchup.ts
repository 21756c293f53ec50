// Which missed instants to fire after a leader change or downtime (DESIGN.md,
// Scheduling): per job `catchup` = none | last (default) | all, within
// `catchup_window`. Pure.
import type { JobSpec } from "../../shared/job.js";
import { parseGoDuration, type Schedule } from "../../shared/cron/index.js";
import { runnableAt } from "../jobs/next.js";

export const CATCHUP_ALL_LIMIT = 100;

/** Latest instant in (from, to], or null; O(log window) croner calls, not one per instant. */
export function lastBetween(schedule: Schedule, fromMs: number, toMs: number): number | null {
  let span = 1_000;
  let found: number | null = null;
  while (found === null) {
    const start = Math.max(fromMs, toMs - span);
    const first = schedule.next(start);
    if (first !== null && first <= toMs) found = first;
    else if (start <= fromMs) return null;
    span *= 4;
  }
  for (let n = schedule.next(found); n !== null && n <= toMs; n = schedule.next(found)) found = n;
  return found;
}

export function missedInstants(spec: JobSpec, schedule: Schedule, lastInstant: number, now: number): number[] {
  if (spec.catchup === "none") return [];
  let windowMs: number;
  try {
    windowMs = parseGoDuration(spec.catchup_window);
  } catch {
    windowMs = 3_600_000;
  }
  const from = Math.max(lastInstant, now - windowMs - 1, spec.starts_at === null ? -Infinity : spec.starts_at - 1);
  // The most recent instant the job could have run at: one past expires_at does not count.
  const to = spec.expires_at === null ? now : Math.min(now, spec.expires_at);
  if (to <= from) return [];
  if (spec.catchup === "last") {
    const last = lastBetween(schedule, from, to);
    return last !== null && runnableAt(spec, last) ? [last] : [];
  }
  // "all": the most recent CATCHUP_ALL_LIMIT, oldest first.
  const out: number[] = [];
  for (let t = schedule.next(from); t !== null && t <= to; t = schedule.next(t)) {
    if (runnableAt(spec, t)) out.push(t);
    if (out.length > CATCHUP_ALL_LIMIT) out.shift();
  }
  return out;
}
