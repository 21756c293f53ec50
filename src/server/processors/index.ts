// The processors a job may name in its `processors` field, and how they are applied: in the
// job's order, each seeing the execution the previous one returned, on the leader before the
// execution is stored. Nothing here throws at run time: failures end up in the output.
import { invalid } from "../../shared/errors.js";
import type { ExecutionRecord } from "../../shared/execution.js";
import type { JobSpec } from "../../shared/job.js";
import type { Logger } from "../logger.js";
import { filesProcessor } from "./files.js";
import { logProcessor } from "./log.js";
import { syslogProcessor } from "./syslog.js";
import { parseGoBool, withNote, type Processor } from "./types.js";

export type { Processor, ProcessorContext } from "./types.js";
export { filesProcessor, DEFAULT_LOG_DIR } from "./files.js";
export { logProcessor } from "./log.js";
export { syslogProcessor, type SyslogOptions } from "./syslog.js";
export { DEFAULT_SYSLOG_TARGETS, type SyslogTarget } from "./syslog-send.js";

export const processors = new Map<string, Processor>([
  ["log", logProcessor],
  ["files", filesProcessor],
  ["syslog", syslogProcessor()],
]);

export interface ApplyOptions {
  registry?: ReadonlyMap<string, Processor>;
  /** Dkron injects the leader's name into each processor's config as `reporting_node`. */
  reportingNode?: string;
}

export async function applyProcessors(job: JobSpec, execution: ExecutionRecord, log: Logger, opts: ApplyOptions = {}): Promise<ExecutionRecord> {
  const registry = opts.registry ?? processors;
  let ex = execution;
  for (const [name, config] of Object.entries(job.processors ?? {})) {
    const p = registry.get(name);
    if (!p) {
      log.warn({ job: job.name, execution: ex.id, processor: name }, "unknown processor; output kept");
      ex = withNote(ex, `processor ${JSON.stringify(name)} is not available; output kept`);
      continue;
    }
    const cfg = opts.reportingNode ? { ...config, reporting_node: opts.reportingNode } : { ...config };
    try {
      ex = await p.process({ job, execution: ex, config: cfg, log });
    } catch (err) {
      log.warn({ job: job.name, execution: ex.id, processor: name, err: (err as Error).message }, "processor failed; output kept");
      ex = withNote(ex, `processor ${JSON.stringify(name)} failed: ${(err as Error).message}`);
    }
  }
  return ex;
}

/** For the API: every named processor exists and its config makes sense. */
export function validateProcessors(jobProcessors: Record<string, Record<string, string>>, registry: ReadonlyMap<string, Processor> = processors): void {
  for (const [name, config] of Object.entries(jobProcessors ?? {})) {
    const p = registry.get(name);
    if (!p) throw invalid(`processors.${name}`, `unknown processor ${JSON.stringify(name)} (known: ${[...registry.keys()].join(", ")})`);
    if (config.forward !== undefined && config.forward !== "" && parseGoBool(config.forward) === undefined) {
      throw invalid(`processors.${name}.forward`, `not a boolean: ${JSON.stringify(config.forward)}`);
    }
    p.validate?.(config, name);
  }
}
