// When a job fires next, as the API reports it. Pure over (spec, schedule, now).
import type { JobSpec } from "../../shared/job.js";
import type { Schedule } from "../../shared/cron/index.js";

/** First scheduled instant strictly after `afterMs` at which the job is runnable, or null. */
export function nextRun(spec: JobSpec, schedule: Schedule | null, afterMs: number): number | null {
  if (!schedule || spec.disabled) return null;
  const from = spec.starts_at !== null && spec.starts_at - 1 > afterMs ? spec.starts_at - 1 : afterMs;
  const next = schedule.next(from);
  if (next === null) return null;
  if (spec.expires_at !== null && next > spec.expires_at) return null;
  return next;
}

/** Whether a tick at `instantMs` may launch (Dkron's isRunnable, minus concurrency). */
export function runnableAt(spec: JobSpec, instantMs: number): boolean {
  if (spec.disabled) return false;
  if (spec.starts_at !== null && instantMs < spec.starts_at) return false;
  if (spec.expires_at !== null && instantMs > spec.expires_at) return false;
  return true;
}
