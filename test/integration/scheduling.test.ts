// Jobs firing on a real agent: @every 1s repeats with the right output, failures,
// disabled jobs, the shell executor's keys, concurrency forbid, execution routes.
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import {
  ZERO_TIME, createJob, executions, getJob, isAlive, isFinished, ms, runAndWait, shellJob, waitFinished, waitLeader,
  waitTicksAfter, type Execution,
} from "./support.js";

let agent: TestAgent;
let url: string;
const dirs: string[] = [];

beforeAll(async () => {
  agent = await startAgent();
  url = agent.url;
  await waitLeader(url);
});
afterAll(async () => {
  await agent?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const del = (name: string) => api(url, "DELETE", `/v1/jobs/${name}`);
/** Creates a job that is deleted when the test ends, pass or fail, so 1 s jobs do not pile up. */
async function job(spec: Record<string, unknown>): Promise<void> {
  await createJob(url, spec);
  onTestFinished(async () => void (await del(String(spec.name))));
}

describe("scheduled firing", () => {
  it("an @every 1s job fires repeatedly with the right output, and its status follows", async () => {
    await createJob(url, shellJob("every-hi", "echo hi", { schedule: "@every 1s" })); // deleted by a later test
    const all = (await waitFinished(url, "every-hi", 3)).filter(isFinished);
    for (const e of all) {
      expect(e).toMatchObject({ job_name: "every-hi", output: "hi\n", success: true, exit_code: 0, trigger: "schedule", attempt: 1 });
      expect(e.node_name).toBe(agent.nodeName);
      expect(ms(e.finished_at)).toBeGreaterThanOrEqual(ms(e.started_at));
    }
    const groups = all.map((e) => e.group);
    expect(new Set(groups).size).toBe(groups.length);
    expect([...groups].sort((a, b) => a - b)).toEqual(groups); // oldest first by start = increasing groups
    expect(groups.every((g) => g % 1e9 === groups[0]! % 1e9)).toBe(true); // 1 s apart, one anchor

    const job = await until(async () => {
      const j = await getJob(url, "every-hi");
      return j.success_count >= 3 ? j : undefined;
    }, { timeoutMs: 30_000, message: "success_count >= 3" });
    expect(job).toMatchObject({ status: "success", error_count: 0, last_error: null });
    expect(Date.parse(job.last_success!)).toBeGreaterThan(0);
    const later = await until(async () => {
      const j = await getJob(url, "every-hi");
      return j.success_count > job.success_count ? j : undefined;
    }, { timeoutMs: 30_000, message: "success_count to keep growing" });
    expect(later.status).toBe("success");

    // One execution by id, and the whole history across jobs.
    const one = await api<Execution>(url, "GET", `/v1/jobs/every-hi/executions/${encodeURIComponent(all[0]!.id)}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(all[0]);
    expect((await api(url, "GET", "/v1/jobs/every-hi/executions/123-nobody")).status).toBe(404);
  });

  it("a failing command records success false, its exit code and the error count", async () => {
    await createJob(url, shellJob("fail-3", "echo oops; exit 3", {}, { shell: "true" }));
    const e = await runAndWait(url, "fail-3");
    expect(e).toMatchObject({ success: false, exit_code: 3, output: "oops\n" });
    const j = await until(async () => {
      const x = await getJob(url, "fail-3");
      return x.error_count === 1 ? x : undefined;
    }, { timeoutMs: 30_000, message: "error_count 1" });
    expect(j).toMatchObject({ status: "failed", success_count: 0, last_success: null });
    expect(j.last_error).not.toBeNull();
  });

  it("/v1/executions lists executions across jobs", async () => {
    const r = await api<Execution[]>(url, "GET", "/v1/executions?_end=1000");
    expect(r.status).toBe(200);
    const jobs = new Set(r.body.map((e) => e.job_name));
    expect(jobs.has("every-hi") && jobs.has("fail-3")).toBe(true);
    expect(Number(r.headers.get("x-total-count"))).toBeGreaterThanOrEqual(r.body.length);
    const only = await api<Execution[]>(url, "GET", "/v1/executions?job=fail-3");
    expect(only.body.map((e) => e.job_name)).toEqual(["fail-3"]);
  });

  it("deleting a job removes its executions; the same name starts from zero", async () => {
    expect((await del("every-hi")).status).toBe(200);
    expect((await api(url, "GET", "/v1/jobs/every-hi/executions")).status).toBe(404);
    await job(shellJob("every-hi", "echo again"));
    // Let the scheduler move on (a clock job fires twice) before looking: nothing of the old job may come back.
    await job(shellJob("clock-del", "true", { schedule: "@every 1s" }));
    await waitTicksAfter(url, "clock-del", Date.now(), 2);
    const r = await api<Execution[]>(url, "GET", "/v1/jobs/every-hi/executions");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-total-count")).toBe("0");
    expect(r.body).toEqual([]);
    expect(await getJob(url, "every-hi")).toMatchObject({ success_count: 0, error_count: 0, status: "", last_success: null });
  });

  it("deleting a job while it runs: the late result does not leak into a new job of the same name", async () => {
    await job(shellJob("clock-mid", "true", { schedule: "@every 1s" }));
    await job(shellJob("mid-del", "sleep 1; echo old", { schedule: "@every 1s" }, { shell: "true" }));
    const running = await until(async () =>
      (await api<Execution[]>(url, "GET", "/v1/busy")).body.find((e) => e.job_name === "mid-del"),
    { timeoutMs: 30_000, message: "mid-del to be running" });
    expect((await del("mid-del")).status).toBe(200);
    await job(shellJob("mid-del", "echo new"));
    // Wait (by state) until the execution that was running has certainly ended: two clock ticks
    // after its 1 s command would have finished.
    await waitTicksAfter(url, "clock-mid", ms(running.started_at) + 2_000, 2);
    const r = await api<Execution[]>(url, "GET", "/v1/jobs/mid-del/executions");
    expect(r.body.map((e) => `${e.id} ${e.output.trim()}`)).toEqual([]);
    expect(await getJob(url, "mid-del")).toMatchObject({ success_count: 0, error_count: 0, status: "", last_success: null });
  });
});

describe("disabled jobs", () => {
  it("a disabled job does not fire after the instant already queued; enabling it again resumes", async () => {
    await job(shellJob("dis-job", "echo d", { schedule: "@every 1s" }));
    await job(shellJob("dis-clock", "true", { schedule: "@every 1s" }));
    await waitFinished(url, "dis-job", 1);
    const t = await api<{ disabled: boolean; next: string }>(url, "POST", "/v1/jobs/dis-job/toggle");
    const toggledAt = Date.now();
    expect(t.body).toMatchObject({ disabled: true, next: ZERO_TIME });
    await waitTicksAfter(url, "dis-clock", toggledAt + 1_000, 3);
    const late = (await executions(url, "dis-job")).filter((e) => e.group / 1e6 > toggledAt + 1_000);
    expect(late).toEqual([]);

    await api(url, "POST", "/v1/jobs/dis-job/toggle");
    const enabledAt = Date.now();
    await waitTicksAfter(url, "dis-job", enabledAt, 1);
  });
});

describe("shell executor", () => {
  it("executor_config.timeout kills the whole process group", async () => {
    await job(shellJob("timeout-job", "sleep 30 & echo $!; wait", {}, { shell: "true", timeout: "2s" }));
    const e = await runAndWait(url, "timeout-job");
    expect(e.success).toBe(false);
    expect(e.reason).toMatch(/timeout/);
    expect(e.output).toMatch(/timeout/);
    const pid = Number(e.output.split("\n")[0]);
    expect(pid).toBeGreaterThan(1);
    await until(() => !isAlive(pid), { timeoutMs: 15_000, message: `the backgrounded sleep (pid ${pid}) to be gone` });
    expect(ms(e.finished_at) - ms(e.started_at)).toBeLessThan(30_000);
  });

  it("env, cwd and payload (base64 to stdin) reach the command", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "dkron-cwd-")));
    dirs.push(dir);
    await job(shellJob("env-job", 'echo "$FOO|$BAR|$(pwd)|$(cat)"', {}, {
      shell: "true", env: "FOO=foo-value,BAR=b=2", cwd: dir, payload: Buffer.from("from stdin").toString("base64"),
    }));
    const e = await runAndWait(url, "env-job");
    expect(e).toMatchObject({ success: true, output: `foo-value|b=2|${dir}|from stdin\n` });
  });

  it("output_size_limit keeps the last N bytes", async () => {
    await job(shellJob("out-job", "printf 0123456789", {}, { shell: "true" }));
    const e = await runAndWait(url, "out-job");
    expect(e.output).toBe("0123456789");
    const [cut] = await executions(url, "out-job", "&output_size_limit=4");
    expect(cut).toMatchObject({ id: e.id, output: "6789", output_truncated: true });
    const [whole] = await executions(url, "out-job", "&output_size_limit=100");
    expect(whole).toMatchObject({ output: "0123456789", output_truncated: false });
  });
});

describe("concurrency forbid", () => {
  it("a 1 s job running `sleep 3` never overlaps itself; /v1/busy shows it running", async () => {
    await job(shellJob("forbid-job", "sleep 3", { schedule: "@every 1s", concurrency: "forbid" }));
    const busy = await until(async () => {
      const r = await api<Execution[]>(url, "GET", "/v1/busy");
      return r.body.find((e) => e.job_name === "forbid-job");
    }, { timeoutMs: 30_000, message: "forbid-job in /v1/busy" });
    expect(busy.finished_at).toBe(ZERO_TIME);
    const one = await api<Execution>(url, "GET", `/v1/jobs/forbid-job/executions/${encodeURIComponent(busy.id)}`);
    expect(one.body).toMatchObject({ id: busy.id, finished_at: ZERO_TIME });

    const all = await waitFinished(url, "forbid-job", 3, 60_000);
    await del("forbid-job");
    const finished = all.filter(isFinished).sort((a, b) => ms(a.started_at) - ms(b.started_at));
    for (let i = 1; i < finished.length; i++) {
      expect(ms(finished[i]!.started_at), `${finished[i]!.id} starts after ${finished[i - 1]!.id} ends`)
        .toBeGreaterThanOrEqual(ms(finished[i - 1]!.finished_at));
    }
    // No more than one execution was ever running at once.
    const running = all.filter((e) => !isFinished(e));
    expect(running.length).toBeLessThanOrEqual(1);
    for (const e of finished) expect(e).toMatchObject({ success: true, trigger: "schedule" });
  });
});
