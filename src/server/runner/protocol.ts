// The dispatch protocol between the leader and the runners (core NATS request/reply).
import type { JobSpec } from "../../shared/job.js";
import type { ExecutionRecord } from "../../shared/execution.js";

export interface LaunchRequest {
  job: JobSpec;
  group_ms: number;
  attempt: number;
  trigger: ExecutionRecord["trigger"];
  /** Epoch of the leader that launched it (0 for launches outside the scheduler). */
  epoch: number;
  /** When to start the command (epoch ms): the leader dispatches scheduled ticks
   * slightly ahead, so claim, dispatch and the dedupe gate are done by then. */
  start_at?: number;
}

export interface LaunchAck {
  accepted: boolean;
  node: string;
  error?: string;
}

/** Sent to `dkron.leader.run` by any server to run a job now through the leader. */
export interface RunNowRequest {
  job: string;
}

export interface RunNowReply {
  ok: boolean;
  group_ms?: number;
  error?: { code: string; message: string };
}
