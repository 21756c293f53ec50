// Killing executions and concurrency against a real agent: the two kill routes and
// `dkron executions kill ID --address URL` stop a running shell command together with the
// background child it started (the whole process group), and the execution is recorded failed
// with a kill reason; a finished execution answers 409, an unknown one 404 (JSON errors).
// concurrency "replace" kills the running execution at each tick and starts a new one, never
// two at once; "forbid" skips ticks while one runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import { dkron } from "../e2e/cli-run.js";
import {
  ZERO_TIME, createJob, executions, isAlive, isFinished, ms, runAndWait, shellJob, waitLeader, type Execution,
} from "./support.js";

let agent: TestAgent;
let url: string;

beforeAll(async () => {
  // Still-running `sleep 30`s must not hold up the shutdown.
  agent = await startAgent({ env: { DKRON_SHUTDOWN_TIMEOUT_MS: "1000" } });
  url = agent.url;
  await waitLeader(url);
});
afterAll(async () => {
  await agent?.stop();
});

type ErrBody = { error: { code: string; message: string } };

/** A shell command with a background child: prints both pids, then sleeps. */
const TWO_PROCS = 'sleep 30 & echo "bg $!"; echo "sh $$"; sleep 30';

/** Runs the job and waits until its execution is running and has printed both pids. */
async function startTwoProcs(job: string): Promise<{ exec: Execution; pids: number[] }> {
  expect((await api(url, "POST", `/v1/jobs/${job}/run`)).status).toBe(202);
  return until(async () => {
    const running = (await executions(url, job)).filter((e) => !isFinished(e));
    const e = running[running.length - 1];
    const m = e && /bg (\d+)\nsh (\d+)\n/.exec(e.output);
    return m ? { exec: e, pids: [Number(m[1]), Number(m[2])] } : undefined;
  }, { timeoutMs: 20_000, message: `${job} running with its pids printed` }).then((r) => {
    expect(r.pids.every(isAlive), "both processes alive before the kill").toBe(true);
    return r;
  });
}

async function expectKilled(job: string, id: string, pids: number[]): Promise<Execution> {
  const done = await until(async () => (await executions(url, job)).find((e) => e.id === id && isFinished(e)), {
    timeoutMs: 20_000, message: `${id} to be recorded finished`,
  });
  expect(done.success).toBe(false);
  expect(done.reason).toMatch(/kill/i);
  expect(done.output).toMatch(/\[dkron\] .*kill/i);
  await until(() => pids.every((p) => !isAlive(p)), { timeoutMs: 10_000, message: `pids ${pids.join(", ")} to be gone` });
  return done;
}

describe("kill", () => {
  it("POST /v1/jobs/:job/executions/:id/kill kills the whole process group and records a failure", async () => {
    await createJob(url, shellJob("k-job-route", TWO_PROCS, {}, { shell: "true" }));
    const { exec, pids } = await startTwoProcs("k-job-route");
    const r = await api<Execution>(url, "POST", `/v1/jobs/k-job-route/executions/${exec.id}/kill`);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ id: exec.id, job_name: "k-job-route" });
    const done = await expectKilled("k-job-route", exec.id, pids);
    expect(ms(done.finished_at) - ms(done.started_at)).toBeLessThan(30_000);
    expect((await api<{ status: string }>(url, "GET", "/v1/jobs/k-job-route")).body.status).toBe("failed");
  });

  it("POST /v1/executions/:id/kill does the same without the job name", async () => {
    await createJob(url, shellJob("k-exec-route", TWO_PROCS, {}, { shell: "true" }));
    const { exec, pids } = await startTwoProcs("k-exec-route");
    const r = await api<Execution>(url, "POST", `/v1/executions/${exec.id}/kill`);
    expect(r.status).toBe(202);
    expect(r.body.id).toBe(exec.id);
    await expectKilled("k-exec-route", exec.id, pids);
  });

  it("`dkron executions kill ID --address URL` does the same from the CLI", async () => {
    await createJob(url, shellJob("k-cli", TWO_PROCS, {}, { shell: "true" }));
    const { exec, pids } = await startTwoProcs("k-cli");
    const res = await dkron(["executions", "kill", exec.id, "--address", url]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(exec.id);
    await expectKilled("k-cli", exec.id, pids);
  });

  it("a finished execution answers 409, an unknown one 404, on both routes (JSON errors)", async () => {
    await createJob(url, shellJob("k-done", "echo done"));
    const e = await runAndWait(url, "k-done");
    for (const route of [`/v1/jobs/k-done/executions/${e.id}/kill`, `/v1/executions/${e.id}/kill`]) {
      const r = await api<ErrBody>(url, "POST", route);
      expect(r.status, route).toBe(409);
      expect(r.headers.get("content-type")).toMatch(/application\/json/);
      expect(r.body.error.code).toBe("conflict");
      expect(r.body.error.message).toMatch(/finished/);
    }
    for (const route of ["/v1/jobs/k-done/executions/123-nobody/kill", "/v1/executions/123-nobody/kill",
      `/v1/jobs/no-such-job/executions/${e.id}/kill`]) {
      const r = await api<ErrBody>(url, "POST", route);
      expect(r.status, route).toBe(404);
      expect(r.body.error.code).toBe("not_found");
    }
    // The execution of another job is not found under this job's route.
    await createJob(url, shellJob("k-other", "true"));
    expect((await api(url, "POST", `/v1/jobs/k-other/executions/${e.id}/kill`)).status).toBe(404);
    const cli = await dkron(["executions", "kill", e.id, "--address", url]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/^dkron: .*finished/);
  });
});

/** started_at-ordered executions never overlap: each finished before the next one started. */
function expectSequential(list: Execution[]): void {
  const sorted = [...list].sort((a, b) => ms(a.started_at) - ms(b.started_at));
  for (let i = 0; i + 1 < sorted.length; i++) {
    const cur = sorted[i]!;
    const next = sorted[i + 1]!;
    expect(cur.finished_at, `${cur.id} still running when ${next.id} started`).not.toBe(ZERO_TIME);
    expect(ms(cur.finished_at), `${cur.id} overlaps ${next.id}`).toBeLessThanOrEqual(ms(next.started_at));
  }
}

describe("concurrency", () => {
  it("replace: each tick kills the running execution (failed, reason killed) and starts a new one", async () => {
    // The execution events of /v1/events come in the order the records were stored: the set of
    // executions recorded as running, replayed from them, must never hold two.
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/events`);
    const running = new Set<string>();
    let maxRunning = 0;
    ws.on("message", (d) => {
      const ev = JSON.parse(String(d)) as { type: string; execution?: Execution };
      if (ev.type !== "execution" || ev.execution?.job_name !== "k-replace") return;
      if (isFinished(ev.execution)) running.delete(ev.execution.id);
      else running.add(ev.execution.id);
      maxRunning = Math.max(maxRunning, running.size);
    });
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    await createJob(url, shellJob("k-replace", "sleep 30", { schedule: "@every 2s", concurrency: "replace" }));
    const list = await until(async () => {
      const all = await executions(url, "k-replace");
      return all.filter(isFinished).length >= 3 ? all : undefined;
    }, { timeoutMs: 30_000, message: "three replaced executions of k-replace" });
    expect((await api(url, "POST", "/v1/jobs/k-replace/toggle")).status).toBe(200);
    ws.close();
    const finished = list.filter(isFinished);
    for (const e of finished) {
      expect(e.success, e.id).toBe(false);
      expect(e.reason, e.id).toMatch(/kill/i);
      expect(e.trigger).toBe("schedule");
      expect(ms(e.finished_at) - ms(e.started_at), "killed at the next tick, not after sleep 30").toBeLessThan(10_000);
    }
    expectSequential(list);
    // Stop the last one so nothing is left behind.
    for (const e of (await executions(url, "k-replace")).filter((x) => !isFinished(x))) {
      await api(url, "POST", `/v1/executions/${e.id}/kill`);
    }
    expect(maxRunning, "executions recorded as running at once").toBeLessThanOrEqual(1);
  });

  it("forbid: a tick while an execution runs is skipped; executions never overlap", async () => {
    await createJob(url, shellJob("k-forbid", "sleep 2.5", { schedule: "@every 1s", concurrency: "forbid" }));
    const list = await until(async () => {
      const all = await executions(url, "k-forbid");
      return all.filter(isFinished).length >= 2 ? all : undefined;
    }, { timeoutMs: 30_000, message: "two executions of k-forbid" });
    expect((await api(url, "POST", "/v1/jobs/k-forbid/toggle")).status).toBe(200);
    const done = list.filter(isFinished);
    expect(done.every((e) => e.success)).toBe(true);
    expectSequential(list);
    // 1 s ticks, 2.5 s runs: the second execution's group is at least 2 ticks after the first's.
    expect(Math.round((done[1]!.group - done[0]!.group) / 1e6)).toBeGreaterThanOrEqual(2_000);
  });
});
