// Retries against a real agent: a failed execution is retried up to `retries` more times in the
// same group with `attempt` counting from 1 and trigger "retry"; a job that fails then succeeds
// on retry ends "success" with one error and one success counted; a job that always fails runs
// exactly retries+1 attempts; attempts are spaced by the job's own retry_backoff.
import { randomUUID } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import { createJob, executions, getJob, isFinished, ms, shellJob, waitFinished, waitLeader, type Execution } from "./support.js";

let agent: TestAgent;
let url: string;
const markers: string[] = [];

beforeAll(async () => {
  agent = await startAgent();
  url = agent.url;
  await waitLeader(url);
});
afterAll(async () => {
  await agent?.stop();
  for (const m of markers) rmSync(m, { force: true });
});

/** A shell command that fails the first time it runs and succeeds every time after. */
function failOnce(): string {
  const marker = path.join(tmpdir(), `dkron-retry-${randomUUID()}`);
  markers.push(marker);
  return `f=${marker}; [ -f "$f" ] || { touch "$f"; echo first; exit 1; }; echo again`;
}

async function run(job: string): Promise<number> {
  const r = await api(url, "POST", `/v1/jobs/${job}/run`);
  expect(r.status).toBe(202);
  return Date.now();
}

const groupOf = (e: Execution) => e.group;

describe("retries", () => {
  it("fails, then succeeds on retry: attempts 1 and 2 in one group, trigger retry, status success", async () => {
    const cmd = failOnce();
    await createJob(url, shellJob("rt-once", cmd, { retries: 2 }, { shell: "true" }));
    await run("rt-once");
    const job = await until(async () => {
      const j = await getJob(url, "rt-once");
      return j.success_count === 1 ? j : undefined;
    }, { timeoutMs: 30_000, message: "rt-once to succeed on retry" });
    expect(job).toMatchObject({ status: "success", success_count: 1, error_count: 1 });
    expect(job.last_success).not.toBeNull();
    expect(job.last_error).not.toBeNull();
    const all = await executions(url, "rt-once");
    expect(all).toHaveLength(2);
    const [a1, a2] = all as [Execution, Execution];
    expect(a1).toMatchObject({ attempt: 1, success: false, trigger: "manual", output: "first\n", node_name: agent.nodeName });
    expect(a2).toMatchObject({ attempt: 2, success: true, trigger: "retry", output: "again\n", node_name: agent.nodeName });
    expect(groupOf(a2)).toBe(groupOf(a1));
    expect(a2.id).not.toBe(a1.id);
    expect(ms(a2.started_at)).toBeGreaterThanOrEqual(ms(a1.finished_at));
    // GET by id works for the retry too.
    expect((await api<Execution>(url, "GET", `/v1/jobs/rt-once/executions/${a2.id}`)).body).toMatchObject({ attempt: 2, success: true });
    expect(existsSync(markers[0]!)).toBe(true);
  });

  it("retries 2 that always fail: exactly 3 attempts (1, 2, 3) in one group, status failed", async () => {
    // Constant 300 ms backoff: a 4th attempt would start 300 ms after the 3rd; a later group of
    // another job with the same backoff needs 2 × 300 ms to reach its own 3rd attempt, so once it
    // has, any 4th attempt of this one would have shown up.
    const backoff = { initial: "300ms", max: "300ms", multiplier: 1 };
    await createJob(url, shellJob("rt-always", "exit 3", { retries: 2, retry_backoff: backoff }, { shell: "true" }));
    await createJob(url, shellJob("rt-clock", "exit 3", { retries: 2, retry_backoff: backoff }, { shell: "true" }));
    await run("rt-always");
    const three = await waitFinished(url, "rt-always", 3);
    await run("rt-clock");
    await waitFinished(url, "rt-clock", 3);
    const all = await executions(url, "rt-always");
    expect(all.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(all.every(isFinished)).toBe(true);
    expect(all.map((e) => e.id)).toEqual(three.map((e) => e.id));
    expect(new Set(all.map(groupOf)).size).toBe(1);
    expect(all.map((e) => e.trigger)).toEqual(["manual", "retry", "retry"]);
    expect(all.every((e) => !e.success && e.exit_code === 3)).toBe(true);
    const job = await until(async () => {
      const j = await getJob(url, "rt-always");
      return j.error_count === 3 ? j : undefined;
    }, { message: "3 errors counted" });
    expect(job).toMatchObject({ status: "failed", success_count: 0, error_count: 3, last_success: null });
  });

  it("retries 0: a failure is final", async () => {
    await createJob(url, shellJob("rt-none", "exit 1", { retry_backoff: { initial: "100ms", max: "100ms", multiplier: 1 } }, { shell: "true" }));
    await createJob(url, shellJob("rt-none-clock", "exit 1", { retries: 2, retry_backoff: { initial: "100ms", max: "100ms", multiplier: 1 } }, { shell: "true" }));
    await run("rt-none");
    await waitFinished(url, "rt-none", 1);
    await run("rt-none-clock");
    await waitFinished(url, "rt-none-clock", 3);
    expect((await executions(url, "rt-none")).map((e) => e.attempt)).toEqual([1]);
  });

  it("the job's retry_backoff spaces the attempts: initial, then × multiplier", async () => {
    const backoff = { initial: "700ms", max: "5s", multiplier: 2 };
    const created = await createJob(url, shellJob("rt-backoff", "exit 1", { retries: 2, retry_backoff: backoff }, { shell: "true" }));
    expect(created.retry_backoff).toEqual(backoff);
    await run("rt-backoff");
    const all = await waitFinished(url, "rt-backoff", 3);
    const [a1, a2, a3] = all as [Execution, Execution, Execution];
    // The leader sees a finish after the node recorded it, then waits the delay: lower bounds.
    expect(ms(a2.started_at) - ms(a1.finished_at)).toBeGreaterThanOrEqual(700 - 5);
    expect(ms(a3.started_at) - ms(a2.finished_at)).toBeGreaterThanOrEqual(1_400 - 5);
  });

  it("a scheduled job's retries keep the scheduled group", async () => {
    const cmd = failOnce();
    await createJob(url, shellJob("rt-sched", cmd, {
      schedule: "@every 1s", retries: 1, retry_backoff: { initial: "100ms", max: "1s", multiplier: 2 },
    }, { shell: "true" }));
    const all = await until(async () => {
      const list = await executions(url, "rt-sched");
      return list.some((e) => e.attempt === 2 && isFinished(e)) ? list : undefined;
    }, { timeoutMs: 30_000, message: "the retry of rt-sched" });
    expect((await api(url, "POST", "/v1/jobs/rt-sched/toggle")).status).toBe(200);
    const retry = all.find((e) => e.attempt === 2)!;
    const first = all.find((e) => e.attempt === 1 && e.group === retry.group)!;
    expect(first).toMatchObject({ success: false, trigger: "schedule" });
    expect(retry).toMatchObject({ success: true, trigger: "retry" });
    expect(all.filter((e) => e.group === retry.group)).toHaveLength(2);
  });

  it("retry_backoff is validated: a malformed duration is a 400", async () => {
    const r = await api<{ error: { code: string; field?: string } }>(url, "POST", "/v1/jobs",
      shellJob("rt-bad", "true", { retries: 1, retry_backoff: { initial: "soon" } }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_argument");
    expect(r.body.error.field).toBe("retry_backoff.initial");
  });
});
