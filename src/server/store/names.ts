// Every JetStream name dkron uses, in one place (DESIGN.md, "Replicated state").

import { jobKey } from "./job-kv.js";

export const BUCKET = {
  jobs: "dkron-jobs",
  status: "dkron-job-status",
  leader: "dkron-leader",
  ticks: "dkron-ticks",
  /** Cluster-wide settings (e.g. "paused"). */
  cluster: "dkron-cluster",
} as const;

export const PAUSED_KEY = "paused";

export const LEADER_KEY = "leader";

export const EXECUTIONS_STREAM = "DKRON_EXECUTIONS";

export const SUBJECT = {
  executionsAll: "dkron.executions.>",
  /** One subject per job and state, so per-subject limits keep N of each per job. */
  execution: (job: string, state: "started" | "finished") => `dkron.executions.${jobKey(job)}.${state}`,
  executionsOfJob: (job: string) => `dkron.executions.${jobKey(job)}.>`,
  finishedAll: "dkron.executions.*.finished",
  output: (execId: string) => `dkron.output.${execId.replace(/[.*> ]/g, "_")}`,
  agentRun: (node: string) => `dkron.agent.${node}.run`,
  agentKill: (node: string) => `dkron.agent.${node}.kill`,
  agentOutput: (node: string) => `dkron.agent.${node}.output`,
  leaderRun: "dkron.leader.run",
  heartbeat: "dkron.members.heartbeat",
  leave: "dkron.members.leave",
} as const;

/** Header on live output chunks: the byte offset of the chunk in the execution's output. */
export const OUTPUT_OFFSET_HEADER = "Dkron-Offset";

/** Durable consumer through which the leader folds finished executions into job status. */
export const STATUS_CONSUMER = "dkron-status";

/** Nats-Msg-Id of an execution record: a repeated launch is reported as a duplicate. */
export const executionMsgId = (job: string, groupMs: number, node: string, attempt: number, state: string) =>
  `${job}.${groupMs}.${node}.${attempt}.${state}`;
