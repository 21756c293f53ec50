// Job lifecycle against a real agent: an ephemeral job is deleted after its first successful
// group (not after a failed one); starts_at in the future holds a job back until then;
// expires_at in the past keeps it from running at all (the job stays stored); disabled jobs and
// toggling; /v1/pause + /v1/unpause (new submissions answer 503 with a JSON error while paused);
// ?runoncreate runs a new job exactly once.
import { randomUUID } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import {
  RFC3339, ZERO_TIME, createJob, executions, getJob, isFinished, ms, runAndWait, shellJob, waitFinished, waitLeader,
  waitTicksAfter, type Job,
} from "./support.js";

let agent: TestAgent;
let url: string;
const markers: string[] = [];

beforeAll(async () => {
  agent = await startAgent();
  url = agent.url;
  await waitLeader(url);
  // A clock for "did not run" checks: it ticks every second.
  await createJob(url, shellJob("lc-clock", "true", { schedule: "@every 1s" }));
});
afterAll(async () => {
  await api(url, "POST", "/v1/unpause").catch(() => undefined);
  await agent?.stop();
  for (const m of markers) rmSync(m, { force: true });
});

type ErrBody = { error: { code: string; message: string } };
const iso = (t: number) => new Date(t).toISOString();

function marker(): string {
  const m = path.join(tmpdir(), `dkron-lc-${randomUUID()}`);
  markers.push(m);
  return m;
}

describe("ephemeral", () => {
  it("is deleted after its first successful group", async () => {
    const m = marker();
    await createJob(url, shellJob("lc-eph", `touch ${m}`, { ephemeral: true }), "?runoncreate");
    await until(async () => (await api(url, "GET", "/v1/jobs/lc-eph")).status === 404, {
      timeoutMs: 30_000, message: "the ephemeral job to be deleted",
    });
    expect(existsSync(m)).toBe(true);
    expect((await api<Job[]>(url, "GET", "/v1/jobs")).body.map((j) => j.name)).not.toContain("lc-eph");
    expect((await api(url, "GET", "/v1/jobs/lc-eph/executions")).status).toBe(404);
  });

  it("a failed run does not delete it; the first success does", async () => {
    const m = marker();
    await createJob(url, shellJob("lc-eph-fail", `test -f ${m}`, { ephemeral: true }, { shell: "true" }));
    const failed = await runAndWait(url, "lc-eph-fail");
    expect(failed.success).toBe(false);
    await until(async () => (await getJob(url, "lc-eph-fail")).status === "failed", { message: "status failed" });
    // A later successful run of another ephemeral job is the clock: by then a wrong delete would show.
    await createJob(url, shellJob("lc-eph-clock", "true", { ephemeral: true }), "?runoncreate");
    await until(async () => (await api(url, "GET", "/v1/jobs/lc-eph-clock")).status === 404, { message: "lc-eph-clock deleted" });
    expect((await api(url, "GET", "/v1/jobs/lc-eph-fail")).status).toBe(200);
    writeFileSync(m, "");
    expect((await api(url, "POST", "/v1/jobs/lc-eph-fail/run")).status).toBe(202);
    await until(async () => (await api(url, "GET", "/v1/jobs/lc-eph-fail")).status === 404, { message: "lc-eph-fail deleted" });
  });

  it("a scheduled ephemeral job runs once and is gone", async () => {
    await createJob(url, shellJob("lc-eph-sched", "true", { schedule: "@every 1s", ephemeral: true }));
    await until(async () => (await api(url, "GET", "/v1/jobs/lc-eph-sched")).status === 404, { message: "lc-eph-sched deleted" });
  });
});

describe("starts_at / expires_at", () => {
  it("starts_at in the future: next is not before it, and no run happens before it", async () => {
    const startsAt = Math.ceil((Date.now() + 4_000) / 1_000) * 1_000;
    const job = await createJob(url, shellJob("lc-starts", "true", { schedule: "@every 1s", starts_at: iso(startsAt) }));
    expect(ms(job.starts_at!)).toBe(startsAt);
    expect(ms(job.next)).toBeGreaterThanOrEqual(startsAt);
    const list = await waitFinished(url, "lc-starts", 2, 30_000);
    for (const e of list) {
      expect(Math.round(e.group / 1e6), e.id).toBeGreaterThanOrEqual(startsAt);
      expect(ms(e.started_at), e.id).toBeGreaterThanOrEqual(startsAt);
    }
    await api(url, "POST", "/v1/jobs/lc-starts/toggle");
  });

  it("starts_at far ahead: next equals the first instant at or after it; nothing runs meanwhile", async () => {
    const startsAt = Date.now() + 3_600_000;
    const job = await createJob(url, shellJob("lc-starts-far", "true", { schedule: "@every 1s", starts_at: iso(startsAt) }));
    expect(ms(job.next)).toBeGreaterThanOrEqual(startsAt);
    expect(ms(job.next)).toBeLessThanOrEqual(startsAt + 1_000);
    await waitTicksAfter(url, "lc-clock", Date.now(), 3);
    expect(await executions(url, "lc-starts-far")).toEqual([]);
  });

  it("expires_at in the past: never runs on schedule, next is zero, the job stays", async () => {
    const job = await createJob(url, shellJob("lc-expired", "true", { schedule: "@every 1s", expires_at: iso(Date.now() - 3_600_000) }));
    expect(job.next).toBe(ZERO_TIME);
    await waitTicksAfter(url, "lc-clock", Date.now(), 3);
    expect(await executions(url, "lc-expired")).toEqual([]);
    expect((await getJob(url, "lc-expired")).expires_at).toMatch(RFC3339);
  });

  it("expires_at soon: runs until then, never after", async () => {
    const expiresAt = Date.now() + 3_000;
    await createJob(url, shellJob("lc-expiring", "true", { schedule: "@every 1s", expires_at: iso(expiresAt) }));
    await waitFinished(url, "lc-expiring", 1);
    await waitTicksAfter(url, "lc-clock", expiresAt + 500, 2);
    const list = await executions(url, "lc-expiring");
    expect(list.length).toBeGreaterThanOrEqual(1);
    for (const e of list) expect(Math.round(e.group / 1e6), e.id).toBeLessThanOrEqual(expiresAt);
    expect((await getJob(url, "lc-expiring")).next).toBe(ZERO_TIME);
  });
});

describe("disabled and toggle", () => {
  it("a disabled job does not run on schedule; toggled on it runs; toggled off it stops", async () => {
    const created = await createJob(url, shellJob("lc-disabled", "true", { schedule: "@every 1s", disabled: true }));
    expect(created).toMatchObject({ disabled: true, next: ZERO_TIME });
    await waitTicksAfter(url, "lc-clock", Date.now(), 3);
    expect(await executions(url, "lc-disabled")).toEqual([]);
    const on = await api<Job>(url, "POST", "/v1/jobs/lc-disabled/toggle");
    expect(on.body.disabled).toBe(false);
    expect(on.body.next).toMatch(RFC3339);
    expect(on.body.next).not.toBe(ZERO_TIME);
    await waitFinished(url, "lc-disabled", 2);
    const off = await api<Job>(url, "POST", "/v1/jobs/lc-disabled/toggle");
    expect(off.body.disabled).toBe(true);
    const offAt = Date.now();
    await waitTicksAfter(url, "lc-clock", offAt + 1_000, 2);
    const late = (await executions(url, "lc-disabled")).filter((e) => Math.round(e.group / 1e6) > offAt + 1_000);
    expect(late).toEqual([]);
    // A manual run skips the disabled check (Dkron).
    expect((await runAndWait(url, "lc-disabled")).success).toBe(true);
  });

  it("toggle of an unknown job: 404", async () => {
    expect((await api(url, "POST", "/v1/jobs/lc-nope/toggle")).status).toBe(404);
  });
});

describe("pause", () => {
  it("GET/POST /v1/pause and /v1/unpause; while paused new jobs answer 503 (JSON error), existing ones still run", async () => {
    expect((await api(url, "GET", "/v1/pause")).body).toEqual({ paused: false });
    await createJob(url, shellJob("lc-before-pause", "echo still"));
    const p = await api(url, "POST", "/v1/pause");
    expect(p.status).toBe(200);
    expect(p.body).toEqual({ paused: true });
    try {
      expect((await api(url, "GET", "/v1/pause")).body).toEqual({ paused: true });
      for (const [method, route] of [["POST", "/v1/jobs"], ["PATCH", "/v1/jobs"], ["PUT", "/v1/jobs/lc-paused"]] as const) {
        const r = await api<ErrBody>(url, method, route, shellJob("lc-paused", "true"));
        expect(r.status, `${method} ${route}`).toBe(503);
        expect(r.headers.get("content-type")).toMatch(/application\/json/);
        expect(r.body.error.code).toBe("unavailable");
        expect(r.body.error.message).toMatch(/paused/i);
      }
      expect((await api(url, "GET", "/v1/jobs/lc-paused")).status).toBe(404);
      expect((await runAndWait(url, "lc-before-pause")).output).toBe("still\n");
      const ticks = (await executions(url, "lc-clock")).filter(isFinished).length;
      await until(async () => (await executions(url, "lc-clock")).filter(isFinished).length > ticks, { message: "the clock to tick while paused" });
    } finally {
      const u = await api(url, "POST", "/v1/unpause");
      expect(u.status).toBe(200);
      expect(u.body).toEqual({ paused: false });
    }
    expect((await api(url, "GET", "/v1/pause")).body).toEqual({ paused: false });
    await createJob(url, shellJob("lc-paused", "true"));
    // Pausing twice and unpausing twice are fine.
    await api(url, "POST", "/v1/pause");
    expect((await api(url, "POST", "/v1/pause")).body).toEqual({ paused: true });
    await api(url, "POST", "/v1/unpause");
    expect((await api(url, "POST", "/v1/unpause")).body).toEqual({ paused: false });
  });
});

describe("runoncreate", () => {
  it("?runoncreate runs the new job exactly once, trigger manual", async () => {
    await createJob(url, shellJob("lc-roc", "echo created", { retries: 0 }), "?runoncreate");
    const [e] = await waitFinished(url, "lc-roc", 1);
    expect(e).toMatchObject({ success: true, output: "created\n", trigger: "manual", attempt: 1 });
    const m = marker();
    await createJob(url, shellJob("lc-roc-clock", `touch ${m}`), "?runoncreate");
    await waitFinished(url, "lc-roc-clock", 1);
    expect(await executions(url, "lc-roc")).toHaveLength(1);
    // Without the flag nothing runs.
    await createJob(url, shellJob("lc-no-roc", "true"));
    await createJob(url, shellJob("lc-roc-clock2", "true"), "?runoncreate");
    await waitFinished(url, "lc-roc-clock2", 1);
    expect(await executions(url, "lc-no-roc")).toEqual([]);
  });
});
