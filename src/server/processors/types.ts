// What a processor is: a step that runs on the leader after an execution finished and before it
// is stored, and may replace the stored output (Dkron's "processors" job field).
import type { Logger } from "../logger.js";
import type { ExecutionRecord } from "../../shared/execution.js";
import type { JobSpec } from "../../shared/job.js";

export interface ProcessorContext {
  job: JobSpec;
  execution: ExecutionRecord;
  /** The job's config for this processor (all values are strings, as in Dkron). */
  config: Record<string, string>;
  log: Logger;
}

export interface Processor {
  /** Checks the job's config for this processor; throws invalid("processors.<name>.<key>", ...). */
  validate?(config: Record<string, string>, name: string): void;
  /** The execution to store. Never rejects: a failure keeps the output and says why in it. */
  process(ctx: ProcessorContext): Promise<ExecutionRecord>;
}

/** Go's strconv.ParseBool, which Dkron's processors use for `forward`. */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/** `forward: "true"` keeps the output in the stored execution; anything else replaces it. */
export const forwards = (config: Record<string, string>): boolean => parseGoBool(config.forward ?? "") === true;

/** Appends a `[dkron] ...` line to the output, the way the runner notes its own reasons. */
export function withNote(execution: ExecutionRecord, note: string): ExecutionRecord {
  const out = execution.output;
  return { ...execution, output: `${out}${out && !out.endsWith("\n") ? "\n" : ""}[dkron] ${note}\n` };
}

/** The stored execution: the output replaced by `replacement` unless the config forwards it. */
export const storedAs = (ctx: ProcessorContext, replacement: string): ExecutionRecord =>
  forwards(ctx.config) ? ctx.execution : { ...ctx.execution, output: replacement };
