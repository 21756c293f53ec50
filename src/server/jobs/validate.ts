// Semantic checks of a job beyond its JSON shape: schedule, timezone,
// executor and its config. Pure: used by the API before anything is written.
import { invalid } from "../../shared/errors.js";
import type { JobSpec } from "../../shared/job.js";
import { parseGoDuration, parseSchedule, validateTimezone, type Schedule } from "../../shared/cron/index.js";

export interface ExecutorInfo {
  /** Config keys that must be present and non-empty. */
  required: string[];
  validate?(config: Record<string, string>): void;
}

export function validateJob(spec: JobSpec, executors: ReadonlyMap<string, ExecutorInfo>): Schedule | null {
  if (spec.timezone) validateTimezone(spec.timezone);
  let schedule: Schedule | null = null;
  if (spec.schedule) schedule = parseSchedule(spec.schedule, { jobName: spec.name, timezone: spec.timezone });
  else if (!spec.parent_job) throw invalid("schedule", "is required (use @manually for jobs that only run on demand)");
  if (spec.parent_job === spec.name) throw invalid("parent_job", "a job cannot be its own parent");
  const ex = executors.get(spec.executor);
  if (!ex) {
    throw invalid("executor", `unknown executor ${JSON.stringify(spec.executor)} (known: ${[...executors.keys()].join(", ")})`);
  }
  for (const key of ex.required) {
    if (!spec.executor_config[key]) throw invalid(`executor_config.${key}`, `is required by the ${spec.executor} executor`);
  }
  ex.validate?.(spec.executor_config);
  try {
    const ms = parseGoDuration(spec.catchup_window);
    if (ms < 0) throw new Error("negative");
  } catch {
    throw invalid("catchup_window", `not a duration: ${JSON.stringify(spec.catchup_window)} (e.g. "1h", "30m")`);
  }
  for (const k of ["initial", "max"] as const) {
    try {
      if (parseGoDuration(spec.retry_backoff[k]) < 0) throw new Error("negative");
    } catch {
      throw invalid(`retry_backoff.${k}`, `not a duration: ${JSON.stringify(spec.retry_backoff[k])} (e.g. "500ms", "1m")`);
    }
  }
  if (spec.starts_at !== null && spec.expires_at !== null && spec.expires_at <= spec.starts_at) {
    throw invalid("expires_at", "must be after starts_at");
  }
  // "value:N" (N digits after the last ':') sets a cardinality; any other value is matched as it is.
  for (const k of Object.keys(spec.tags)) {
    if (!k) throw invalid("tags", "tag keys must not be empty");
  }
  return schedule;
}
