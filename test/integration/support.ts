// Shared helpers for the integration tests that drive a real `bin/dkron agent`
// over its HTTP API. Waiting is always by polling state (until), never by sleeping.
import { readFileSync } from "node:fs";
import type { Execution } from "../../src/shared/execution.js";
import type { Job } from "../../src/shared/job.js";
import { api } from "../helpers/agent.js";
import { until } from "../helpers/until.js";

export type { Execution, Job };

export const ZERO_TIME = "0001-01-01T00:00:00Z";
export const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Creates (or replaces) a job; fails the test unless the API answers 201. */
export async function createJob(url: string, job: Record<string, unknown>, query = ""): Promise<Job> {
  const r = await api<Job>(url, "POST", `/v1/jobs${query}`, job);
  if (r.status !== 201) throw new Error(`creating ${String(job.name)}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export const shellJob = (name: string, command: string, extra: Record<string, unknown> = {}, config: Record<string, string> = {}) => ({
  name,
  schedule: "@manually",
  executor: "shell",
  ...extra,
  executor_config: { command, ...config },
});

export async function getJob(url: string, name: string): Promise<Job> {
  const r = await api<Job>(url, "GET", `/v1/jobs/${name}`);
  if (r.status !== 200) throw new Error(`GET job ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** All executions of a job, oldest first. */
export async function executions(url: string, job: string, query = ""): Promise<Execution[]> {
  const r = await api<Execution[]>(url, "GET", `/v1/jobs/${job}/executions?_order=ASC${query}`);
  if (r.status !== 200) throw new Error(`executions of ${job}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export const isFinished = (e: Execution) => e.finished_at !== ZERO_TIME;
export const ms = (t: string) => Date.parse(t);

/** Waits until the job has at least n finished executions; returns all of them, oldest first. */
export async function waitFinished(url: string, job: string, n = 1, timeoutMs = 30_000): Promise<Execution[]> {
  return until(async () => {
    const all = await executions(url, job);
    return all.filter(isFinished).length >= n ? all : undefined;
  }, { timeoutMs, message: `${n} finished execution(s) of ${job}` });
}

/** POST /v1/jobs/:job/run and wait for the execution of the group it started to finish. */
export async function runAndWait(url: string, job: string, timeoutMs = 30_000): Promise<Execution> {
  const before = new Set((await executions(url, job)).map((e) => e.id));
  const r = await api(url, "POST", `/v1/jobs/${job}/run`);
  if (r.status !== 202) throw new Error(`run ${job}: ${r.status} ${JSON.stringify(r.body)}`);
  return until(async () => (await executions(url, job)).find((e) => !before.has(e.id) && isFinished(e)), {
    timeoutMs,
    message: `the manual run of ${job} to finish`,
  });
}

export async function waitLeader(url: string): Promise<void> {
  await until(async () => (await api(url, "GET", "/v1/isleader")).status === 200, {
    timeoutMs: 30_000,
    message: "the agent to become leader",
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"; // a zombie is gone for our purposes
  } catch {
    return false;
  }
}

/** A scheduled "clock": waits until a 1 s job has fired `n` times at instants after `afterMs`. */
export async function waitTicksAfter(url: string, job: string, afterMs: number, n: number, timeoutMs = 30_000): Promise<void> {
  await until(async () => (await executions(url, job)).filter((e) => isFinished(e) && e.group / 1e6 > afterMs).length >= n, {
    timeoutMs,
    message: `${n} ticks of ${job} after ${new Date(afterMs).toISOString()}`,
  });
}

/** Restarts the agent on its data dir and returns its (new, random-port) API address. */
export async function restartAgent(agent: { restart(): Promise<void>; url: string }): Promise<string> {
  await agent.restart(); // waits for <dataDir>/agent.json written by the new process
  return agent.url;
}
