// Dependent (child) jobs against a real agent: a child runs once per successful execution group
// of its parent, with trigger "dependent" and the parent's group — also when the parent succeeds
// on a retry, and down a chain — and never after a failed group, never on its own schedule, never
// while disabled. The parent lists its children in dependent_jobs and cannot be deleted while it
// has any (409); a job cannot be its own parent (400) and the parent must exist (404).
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import {
  ZERO_TIME, createJob, executions, getJob, isFinished, ms, runAndWait, shellJob, waitFinished, waitLeader, waitTicksAfter,
  type Execution,
} from "./support.js";

let agent: TestAgent;
let url: string;
const markers: string[] = [];

beforeAll(async () => {
  agent = await startAgent();
  url = agent.url;
  await waitLeader(url);
  // A clock for "did not run" checks: it ticks every second.
  await createJob(url, shellJob("dp-clock", "true", { schedule: "@every 1s" }));
});
afterAll(async () => {
  await agent?.stop();
  for (const m of markers) rmSync(m, { force: true });
});

type ErrBody = { error: { code: string; message: string; field?: string } };

function failOnce(): string {
  const marker = path.join(tmpdir(), `dkron-dep-${randomUUID()}`);
  markers.push(marker);
  return `f=${marker}; [ -f "$f" ] || { touch "$f"; exit 1; }`;
}

const child = (name: string, parent: string, extra: Record<string, unknown> = {}) =>
  ({ ...shellJob(name, `echo ${name}`, { schedule: "", parent_job: parent, ...extra }) });

async function waitChildRuns(name: string, n: number): Promise<Execution[]> {
  const list = await waitFinished(url, name, n);
  expect(list.every(isFinished)).toBe(true);
  return list;
}

describe("dependent jobs", () => {
  it("the parent lists its child; the child runs once per parent group, trigger dependent, in the parent's group", async () => {
    await createJob(url, shellJob("dp-parent", "echo parent"));
    const created = await createJob(url, child("dp-child", "dp-parent"));
    expect(created).toMatchObject({ parent_job: "dp-parent", schedule: "", next: ZERO_TIME });
    expect((await getJob(url, "dp-parent")).dependent_jobs).toEqual(["dp-child"]);

    const p1 = await runAndWait(url, "dp-parent");
    const [c1] = await waitChildRuns("dp-child", 1);
    expect(c1).toMatchObject({ trigger: "dependent", attempt: 1, success: true, output: "dp-child\n", group: p1.group });
    expect(ms(c1!.started_at)).toBeGreaterThanOrEqual(ms(p1.finished_at));

    const p2 = await runAndWait(url, "dp-parent");
    const runs = await waitChildRuns("dp-child", 2);
    expect(runs.map((e) => e.group)).toEqual([p1.group, p2.group]);
    expect((await getJob(url, "dp-child"))).toMatchObject({ status: "success", success_count: 2 });
  });

  it("never runs after a failed parent group; runs after the next successful one", async () => {
    await createJob(url, shellJob("dp-flaky", failOnce(), {}, { shell: "true" }));
    await createJob(url, child("dp-flaky-child", "dp-flaky"));
    const failed = await runAndWait(url, "dp-flaky");
    expect(failed.success).toBe(false);
    const ok = await runAndWait(url, "dp-flaky");
    expect(ok.success).toBe(true);
    const [c] = await waitChildRuns("dp-flaky-child", 1);
    // The child of the failed group would have been launched before the second parent run began.
    expect((await executions(url, "dp-flaky-child")).map((e) => e.group)).toEqual([ok.group]);
    expect(c!.group).not.toBe(failed.group);
  });

  it("a parent that succeeds on retry runs its child once, in the parent's group, after the retry", async () => {
    await createJob(url, shellJob("dp-retry", failOnce(), {
      retries: 1, retry_backoff: { initial: "100ms", max: "1s", multiplier: 2 },
    }, { shell: "true" }));
    await createJob(url, child("dp-retry-child", "dp-retry"));
    expect((await api(url, "POST", "/v1/jobs/dp-retry/run")).status).toBe(202);
    const parent = await waitFinished(url, "dp-retry", 2);
    expect(parent.map((e) => [e.attempt, e.success])).toEqual([[1, false], [2, true]]);
    const [c] = await waitChildRuns("dp-retry-child", 1);
    expect(c!.group).toBe(parent[0]!.group);
    expect(ms(c!.started_at)).toBeGreaterThanOrEqual(ms(parent[1]!.finished_at));
    // A later group of the parent (a clock) finishing means no second child run is pending.
    await createJob(url, child("dp-retry-child2", "dp-retry"));
    await runAndWait(url, "dp-retry");
    await waitChildRuns("dp-retry-child2", 1);
    expect((await executions(url, "dp-retry-child")).filter((e) => e.group === c!.group)).toHaveLength(1);
  });

  it("a chain a → b → c runs down in one group", async () => {
    await createJob(url, shellJob("dp-a", "echo a"));
    await createJob(url, child("dp-b", "dp-a"));
    await createJob(url, child("dp-c", "dp-b"));
    const a = await runAndWait(url, "dp-a");
    const [c] = await waitChildRuns("dp-c", 1);
    const [b] = await executions(url, "dp-b");
    expect(b).toMatchObject({ group: a.group, trigger: "dependent", success: true });
    expect(c).toMatchObject({ group: a.group, trigger: "dependent", success: true });
  });

  it("a child never runs on its own schedule, nor while disabled", async () => {
    await createJob(url, shellJob("dp-sched-parent", "echo p"));
    await createJob(url, child("dp-own-schedule", "dp-sched-parent", { schedule: "@every 1s" }));
    await createJob(url, child("dp-disabled", "dp-sched-parent", { disabled: true }));
    await createJob(url, child("dp-enabled", "dp-sched-parent"));
    const from = Date.now();
    await waitTicksAfter(url, "dp-clock", from, 3);
    expect(await executions(url, "dp-own-schedule")).toEqual([]);
    const p = await runAndWait(url, "dp-sched-parent");
    await waitChildRuns("dp-enabled", 1);
    await waitChildRuns("dp-own-schedule", 1);
    expect((await executions(url, "dp-own-schedule")).map((e) => e.group)).toEqual([p.group]);
    expect(await executions(url, "dp-disabled")).toEqual([]);
  });

  it("a parent with children cannot be deleted (409); without them it can", async () => {
    await createJob(url, shellJob("dp-del-parent", "true"));
    await createJob(url, child("dp-del-child", "dp-del-parent"));
    const r = await api<ErrBody>(url, "DELETE", "/v1/jobs/dp-del-parent");
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("conflict");
    expect(r.body.error.message).toMatch(/dp-del-child/);
    expect((await api(url, "GET", "/v1/jobs/dp-del-parent")).status).toBe(200);
    expect((await api(url, "DELETE", "/v1/jobs/dp-del-child")).status).toBe(200);
    await until(async () => (await getJob(url, "dp-del-parent")).dependent_jobs === null, { message: "dependent_jobs cleared" });
    expect((await api(url, "DELETE", "/v1/jobs/dp-del-parent")).status).toBe(200);
    expect((await api(url, "GET", "/v1/jobs/dp-del-parent")).status).toBe(404);
  });

  it("re-parenting a child moves it between the parents' dependent_jobs", async () => {
    await createJob(url, shellJob("dp-p1", "true"));
    await createJob(url, shellJob("dp-p2", "true"));
    await createJob(url, child("dp-moving", "dp-p1"));
    expect((await getJob(url, "dp-p1")).dependent_jobs).toEqual(["dp-moving"]);
    await createJob(url, child("dp-moving", "dp-p2"));
    expect((await getJob(url, "dp-p1")).dependent_jobs).toBeNull();
    expect((await getJob(url, "dp-p2")).dependent_jobs).toEqual(["dp-moving"]);
    await createJob(url, shellJob("dp-moving", "true"));
    expect((await getJob(url, "dp-p2")).dependent_jobs).toBeNull();
  });

  it("validation: own parent 400, missing parent 404, a cycle 400", async () => {
    const self = await api<ErrBody>(url, "POST", "/v1/jobs", child("dp-self", "dp-self"));
    expect(self.status).toBe(400);
    expect(self.body.error).toMatchObject({ code: "invalid_argument", field: "parent_job" });
    await createJob(url, shellJob("dp-existing", "true"));
    const selfExisting = await api<ErrBody>(url, "POST", "/v1/jobs", child("dp-existing", "dp-existing"));
    expect(selfExisting.status).toBe(400);
    const missing = await api<ErrBody>(url, "POST", "/v1/jobs", child("dp-orphan", "dp-no-such-parent"));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect(missing.body.error.message).toMatch(/parent/);
    expect((await api(url, "GET", "/v1/jobs/dp-orphan")).status).toBe(404);

    await createJob(url, shellJob("dp-x", "true"));
    await createJob(url, child("dp-y", "dp-x"));
    const cycle = await api<ErrBody>(url, "POST", "/v1/jobs", child("dp-x", "dp-y"));
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.field).toBe("parent_job");
    expect((await getJob(url, "dp-x")).parent_job).toBe("");
  });
});
