import type { JobSpec } from "../../shared/job.js";
import type { ExecutorInfo } from "../jobs/validate.js";

export interface ExecutionContext {
  job: JobSpec;
  executionId: string;
  /** Output as it arrives (stdout and stderr interleaved). */
  onOutput(chunk: Buffer): void;
  /** Aborted to kill the execution (the whole process group for shell). */
  signal: AbortSignal;
  /** When to start (epoch ms); now when absent or past. */
  startAt?: number;
  /** Called with the instant the command really started. */
  onStarted?(at: number): void;
}

export interface ExecutionResult {
  success: boolean;
  exitCode: number | null;
  /** Set when the executor, not the command, decided the outcome (timeout, spawn error, memory limit). */
  reason?: string;
}

export interface Executor extends ExecutorInfo {
  /** Resolves when the execution ended; never rejects (failures are results). */
  run(ctx: ExecutionContext): Promise<ExecutionResult>;
}
