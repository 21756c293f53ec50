// Other job APIs against a real agent: DELETE /v1/jobs/:job/executions clears the history and
// resets the counters (and counting starts again from zero); POST /v1/restore takes Dkron's
// multipart field `file` (a JSON array of jobs, children before their parents allowed) and
// answers with a JSON string holding the list of results; /metrics is Prometheus text with
// Dkron's per-job execution counters, execution duration and fire lag.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import { createJob, executions, getJob, runAndWait, shellJob, waitFinished, waitLeader, type Job } from "./support.js";

let agent: TestAgent;
let url: string;

beforeAll(async () => {
  agent = await startAgent();
  url = agent.url;
  await waitLeader(url);
});
afterAll(async () => {
  await agent?.stop();
});

type ErrBody = { error: { code: string; message: string; field?: string } };

describe("DELETE /v1/jobs/:job/executions", () => {
  it("clears the history, resets counters and last_*, returns the job; counting restarts from zero", async () => {
    await createJob(url, shellJob("api-clear", "echo hi"));
    await runAndWait(url, "api-clear");
    await runAndWait(url, "api-clear");
    const before = await until(async () => {
      const j = await getJob(url, "api-clear");
      return j.success_count === 2 ? j : undefined;
    }, { message: "two successes counted" });
    expect(before.last_success).not.toBeNull();
    expect(before.status).toBe("success");

    const r = await api<Job>(url, "DELETE", "/v1/jobs/api-clear/executions");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: "api-clear", success_count: 0, error_count: 0, last_success: null, last_error: null, status: "",
      executor_config: { command: "echo hi" },
    });
    expect(await executions(url, "api-clear")).toEqual([]);
    expect(await getJob(url, "api-clear")).toMatchObject({ success_count: 0, last_success: null });

    const again = await runAndWait(url, "api-clear");
    expect(again.success).toBe(true);
    const after = await until(async () => {
      const j = await getJob(url, "api-clear");
      return j.success_count >= 1 ? j : undefined;
    }, { message: "the new run counted" });
    expect(after).toMatchObject({ success_count: 1, error_count: 0, status: "success" });
    expect((await executions(url, "api-clear")).map((e) => e.id)).toEqual([again.id]);
  });

  it("an unknown job: 404", async () => {
    const r = await api<ErrBody>(url, "DELETE", "/v1/jobs/api-nope/executions");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
  });
});

describe("POST /v1/jobs/:job/run", () => {
  it("each accepted run is one execution, also when many arrive at once", async () => {
    await createJob(url, shellJob("api-burst", "echo hi"));
    const n = 30;
    const replies = await Promise.all(Array.from({ length: n }, () => api(url, "POST", "/v1/jobs/api-burst/run")));
    expect(replies.map((r) => r.status)).toEqual(Array.from({ length: n }, () => 202));
    await until(async () => {
      const all = await executions(url, "api-burst");
      return all.length >= n && all.every((e) => e.finished_at !== "0001-01-01T00:00:00Z");
    }, { timeoutMs: 20_000, message: `${n} executions of api-burst` }).catch(() => undefined);
    const all = await executions(url, "api-burst");
    expect(all, "one execution per 202").toHaveLength(n);
    expect(new Set(all.map((e) => e.group)).size).toBe(n);
  });
});

/** POST /v1/restore the way Dkron's UI and `curl -F file=@jobs.json` do. */
async function restore(jobs: unknown, field = "file"): Promise<{ status: number; text: string }> {
  const form = new FormData();
  form.append(field, new Blob([typeof jobs === "string" ? jobs : JSON.stringify(jobs)], { type: "application/json" }), "jobs.json");
  const res = await fetch(`${url}/v1/restore`, { method: "POST", body: form });
  return { status: res.status, text: await res.text() };
}

describe("POST /v1/restore", () => {
  it("creates every job, a child listed before its parent included; the body is a JSON string of results", async () => {
    const jobs = [
      { name: "rs-child", parent_job: "rs-parent", executor: "shell", executor_config: { command: "echo child" } },
      { name: "rs-parent", schedule: "@manually", executor: "shell", executor_config: { command: "echo parent" }, retries: 2 },
      { name: "rs-solo", schedule: "0 0 0 1 1 *", executor: "shell", executor_config: { command: "true" }, metadata: { team: "a" } },
    ];
    const r = await restore(jobs);
    expect(r.status).toBe(200);
    const outer = JSON.parse(r.text) as unknown;
    expect(typeof outer).toBe("string");
    const results = JSON.parse(outer as string) as string[];
    expect([...results].sort()).toEqual(["success create rs-child", "success create rs-parent", "success create rs-solo"]);
    expect(results.indexOf("success create rs-parent")).toBeLessThan(results.indexOf("success create rs-child"));

    expect(await getJob(url, "rs-parent")).toMatchObject({ retries: 2, dependent_jobs: ["rs-child"] });
    expect(await getJob(url, "rs-child")).toMatchObject({ parent_job: "rs-parent" });
    expect(await getJob(url, "rs-solo")).toMatchObject({ metadata: { team: "a" }, schedule: "0 0 0 1 1 *" });
    // The restored relation works: running the parent runs the child.
    const p = await runAndWait(url, "rs-parent");
    const [c] = await waitFinished(url, "rs-child", 1);
    expect(c).toMatchObject({ trigger: "dependent", group: p.group, output: "child\n" });
  });

  it("restoring again updates; a bad job is reported without stopping the others", async () => {
    const r = await restore([
      { name: "rs-solo", schedule: "@manually", executor_config: { command: "echo v2" } },
      { name: "rs-bad", schedule: "not a schedule", executor_config: { command: "true" } },
      { name: "rs-orphan", parent_job: "rs-missing", executor_config: { command: "true" } },
      { name: "rs-new", schedule: "@manually", executor_config: { command: "true" } },
    ]);
    expect(r.status).toBe(200);
    const results = JSON.parse(JSON.parse(r.text) as string) as string[];
    expect(results).toContain("success update rs-solo");
    expect(results).toContain("success create rs-new");
    expect(results.filter((x) => x.startsWith("fail"))).toHaveLength(2);
    expect(results.some((x) => /^fail.*1/.test(x))).toBe(true);
    expect((await getJob(url, "rs-solo")).executor_config).toEqual({ command: "echo v2" });
    expect((await api(url, "GET", "/v1/jobs/rs-bad")).status).toBe(404);
    expect((await api(url, "GET", "/v1/jobs/rs-orphan")).status).toBe(404);
  });

  it("a plain JSON array body works too; a missing `file` field or malformed JSON is a 400 JSON error", async () => {
    const plain = await api<string>(url, "POST", "/v1/restore", [{ name: "rs-plain", schedule: "@manually", executor_config: { command: "true" } }]);
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.body)).toEqual(["success create rs-plain"]);
    const wrongField = await restore([], "jobs");
    expect(wrongField.status).toBe(400);
    expect((JSON.parse(wrongField.text) as ErrBody).error).toMatchObject({ code: "invalid_argument", field: "file" });
    const malformed = await restore("[{");
    expect(malformed.status).toBe(400);
    expect((JSON.parse(malformed.text) as ErrBody).error.message).toMatch(/JSON/);
  });
});

/** The value of one sample line of the Prometheus text, or undefined. */
function sample(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `) || (labels === "" && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("/metrics", () => {
  it("Prometheus text with per-job success/failure counters, execution duration and fire lag", async () => {
    await createJob(url, shellJob("m-ok", "true"));
    await createJob(url, shellJob("m-bad", "false"));
    await runAndWait(url, "m-ok");
    await runAndWait(url, "m-ok");
    await runAndWait(url, "m-bad");
    // Fire lag is measured for scheduled launches only (instant → executor start on this node).
    await createJob(url, shellJob("m-sched", "true", { schedule: "@every 1s" }));
    await waitFinished(url, "m-sched", 1);
    await api(url, "POST", "/v1/jobs/m-sched/toggle");
    const text = await until(async () => {
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      const t = await res.text();
      return (sample(t, "dkron_job_executions_succeeded_total", '{job_name="m-ok"}') ?? 0) >= 2 &&
        (sample(t, "dkron_job_executions_failed_total", '{job_name="m-bad"}') ?? 0) >= 1 ? t : undefined;
    }, { message: "the counters in /metrics" });
    expect(sample(text, "dkron_job_executions_succeeded_total", '{job_name="m-ok"}')).toBe(2);
    expect(sample(text, "dkron_job_executions_failed_total", '{job_name="m-bad"}')).toBe(1);
    expect(sample(text, "dkron_job_executions_succeeded_total", '{job_name="m-bad"}')).toBeUndefined();
    expect(text).toMatch(/^# TYPE dkron_job_executions_succeeded_total counter$/m);
    expect(text).toMatch(/^# TYPE dkron_job_executions_failed_total counter$/m);
    expect(text).toMatch(/^# TYPE dkron_execution_duration_seconds histogram$/m);
    expect(text).toMatch(/^# TYPE dkron_fire_lag_seconds histogram$/m);
    expect(sample(text, "dkron_execution_duration_seconds_count")).toBeGreaterThanOrEqual(4);
    expect(sample(text, "dkron_execution_duration_seconds_bucket", '{le="+Inf"}')).toBeGreaterThanOrEqual(4);
    expect(sample(text, "dkron_fire_lag_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "dkron_job_executions_succeeded_total", '{job_name="m-sched"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, "dkron_leader")).toBe(1);
    expect(sample(text, "dkron_jobs")).toBeGreaterThanOrEqual(2);
    // Every sample line is `name{labels} value`.
    for (const l of text.split("\n").filter((x) => x && !x.startsWith("#"))) {
      expect(l).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfNa]+$/);
    }
  });
});
