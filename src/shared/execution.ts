// Dkron's Execution JSON, and the records the runner publishes to JetStream.
import { toRfc3339OrZero } from "./time.js";

/** One state change of one execution, as stored in the DKRON_EXECUTIONS stream. */
export interface ExecutionRecord {
  state: "started" | "finished";
  id: string;
  job_name: string;
  /** Trigger instant in epoch ms (Dkron's group is the same instant in ns). */
  group_ms: number;
  attempt: number;
  node_name: string;
  started_at: number;
  finished_at: number | null;
  success: boolean;
  exit_code: number | null;
  output: string;
  output_truncated: boolean;
  /** Why the execution ended the way it did when that is not the command's own doing. */
  reason?: string;
  /** Launched by the scheduler ("schedule"), an API call ("manual"), or catch-up ("catchup"). */
  /** schedule, manual (API), catchup (missed instant), dependent (its parent's group succeeded), retry. */
  trigger: "schedule" | "manual" | "catchup" | "dependent" | "retry";
  /** The job's incarnation when it was launched (see JobSpec.incarnation). */
  incarnation?: string;
}

/** The API's Execution JSON (Dkron's shape plus a few additive fields). */
export interface Execution {
  id: string;
  job_name: string;
  started_at: string;
  finished_at: string;
  success: boolean;
  output: string;
  node_name: string;
  group: number;
  attempt: number;
  output_truncated?: boolean;
  exit_code?: number | null;
  trigger?: string;
  reason?: string;
}

export function toExecutionJson(r: ExecutionRecord): Execution {
  return {
    id: r.id,
    job_name: r.job_name,
    started_at: toRfc3339OrZero(r.started_at),
    finished_at: toRfc3339OrZero(r.finished_at),
    success: r.success,
    output: r.output,
    node_name: r.node_name,
    group: r.group_ms * 1_000_000,
    attempt: r.attempt,
    output_truncated: r.output_truncated,
    exit_code: r.exit_code,
    trigger: r.trigger,
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

let lastMicros = 0n;

/**
 * Dkron's id form: `<startedAtUnixNano>-<node>`. Two executions starting in
 * the same millisecond on one node must not share an id, so the nanoseconds
 * come from a microsecond clock that never repeats within this process.
 */
export function executionId(startedAtMs: number, node: string, attempt = 1): string {
  let micros = BigInt(Math.round(startedAtMs * 1000));
  const precise = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  // Keep the given millisecond, take the sub-millisecond digits from the precise clock.
  if (precise / 1000n === micros / 1000n) micros = precise;
  if (micros <= lastMicros) micros = lastMicros + 1n;
  lastMicros = micros;
  return `${micros * 1000n}-${node}${attempt > 1 ? `-${attempt}` : ""}`;
}

export const OUTPUT_LIMIT = 256_000;
