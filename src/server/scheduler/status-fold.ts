// Pure: folds one finished execution into a job's status (Dkron's counters
// and its per-group status: success | failed | partially_failed).
import type { ExecutionRecord } from "../../shared/execution.js";
import type { JobStatus } from "../../shared/job.js";

export function foldStatus(s: JobStatus, r: ExecutionRecord, seq: number): JobStatus {
  if (seq <= s.seq) return s;
  const next: JobStatus = { ...s, seq };
  const at = r.finished_at ?? r.started_at;
  if (r.success) {
    next.success_count += 1;
    next.last_success = Math.max(next.last_success ?? 0, at);
  } else {
    next.error_count += 1;
    next.last_error = Math.max(next.last_error ?? 0, at);
  }
  if (r.group_ms > next.group) {
    next.group = r.group_ms;
    next.group_success = 0;
    next.group_failed = 0;
  }
  if (r.group_ms === next.group) {
    // A retry stands in for the failed attempt before it.
    if (r.attempt > 1 && next.group_failed > 0) next.group_failed -= 1;
    if (r.success) next.group_success += 1;
    else next.group_failed += 1;
    next.status = next.group_failed === 0 ? "success" : next.group_success === 0 ? "failed" : "partially_failed";
  }
  return next;
}
