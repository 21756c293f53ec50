// Job JSON as the API returns it, built by the server's own code paths
// (parseJobInput → toJobJson), with per-test overrides.
import { parseJobInput, toJobJson, type Job } from "../../src/shared/job.js";

export function jobJson(name: string, over: Partial<Job> = {}): Job {
  const spec = parseJobInput({ name, schedule: "@every 1m", executor_config: { command: "true" } });
  return { ...toJobJson(spec, undefined, null), ...over };
}
