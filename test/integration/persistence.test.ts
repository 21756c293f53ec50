// Durability on a real agent: jobs and history survive kill -9 of dkron and of its
// embedded nats-server, the SQLite read model rebuilds from the stream, executions
// of a killed agent end as failed, nothing launches twice, and a data dir has one owner.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import {
  ZERO_TIME, createJob, executions, getJob, isAlive, isFinished, ms, restartAgent, shellJob, waitFinished,
  waitLeader, waitTicksAfter, type Execution,
} from "./support.js";

const dataDir = mkdtempSync(path.join(tmpdir(), "dkron-persist-"));
const scratch = mkdtempSync(path.join(tmpdir(), "dkron-persist-scratch-"));
let agent: TestAgent;
const url = () => agent.url;
const strays: number[] = [];

beforeAll(async () => {
  agent = await startAgent({ dataDir });
  await waitLeader(url());
  await createJob(url(), shellJob("tick", "echo tick", { schedule: "@every 1s" }));
});
afterAll(async () => {
  await agent?.stop();
  for (const pid of strays) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

async function killAndRestart(signal: NodeJS.Signals, between?: () => void): Promise<number> {
  agent.kill(signal);
  await agent.exited();
  between?.();
  const at = Date.now();
  await restartAgent(agent);
  await waitLeader(url());
  return at;
}

/** Each (job, group, node, attempt) launched at most once, over every job's history. */
async function expectNoDoubleLaunch(): Promise<void> {
  const jobs = (await api<Array<{ name: string }>>(url(), "GET", "/v1/jobs")).body.map((j) => j.name);
  for (const job of jobs) {
    const seen = new Map<string, string>();
    for (const e of await executions(url(), job)) {
      const key = `${e.group}/${e.node_name}/${e.attempt}`;
      expect(seen.get(key), `${job}: ${e.id} repeats ${seen.get(key)} (group ${e.group})`).toBeUndefined();
      seen.set(key, e.id);
    }
  }
}

describe("kill -9 of dkron", () => {
  it("keeps the job and its history, and the job keeps firing on schedule", async () => {
    const before = (await waitFinished(url(), "tick", 3)).filter(isFinished);
    const oldNats = agent.natsPid()!;
    const restartedAt = await killAndRestart("SIGKILL");
    // The orphaned nats-server of the killed agent was stopped; exactly one new one serves the dir.
    await until(() => !isAlive(oldNats), { timeoutMs: 15_000, message: `the orphaned nats-server ${oldNats} to be gone` });
    expect(agent.natsPid()).not.toBe(oldNats);
    expect(isAlive(agent.natsPid()!)).toBe(true);
    expect(await getJob(url(), "tick")).toMatchObject({ name: "tick", schedule: "@every 1s" });
    await waitTicksAfter(url(), "tick", restartedAt, 2);
    const after = await executions(url(), "tick");
    const byId = new Map(after.map((e) => [e.id, e]));
    for (const e of before) expect(byId.get(e.id), `history keeps ${e.id}`).toEqual(e);
    const fresh = after.filter((e) => isFinished(e) && ms(e.started_at) > restartedAt);
    expect(fresh.some((e) => e.trigger === "schedule" && e.success && e.output === "tick\n")).toBe(true);
    expect((await getJob(url(), "tick")).success_count).toBeGreaterThanOrEqual(before.length);
    await expectNoDoubleLaunch();
  });

  it("marks an execution that was running on the killed agent as failed, not running forever", async () => {
    const pidFile = path.join(scratch, "lost.pid");
    await createJob(url(), shellJob("lost", `echo $$ > ${pidFile}; exec sleep 120`, {}, { shell: "true" }));
    expect((await api(url(), "POST", "/v1/jobs/lost/run")).status).toBe(202);
    const running = await until(async () => {
      const busy = await api<Execution[]>(url(), "GET", "/v1/busy");
      return busy.body.find((e) => e.job_name === "lost");
    }, { timeoutMs: 30_000, message: "the lost job to be running" });
    await until(() => readFileSync(pidFile, "utf8").trim(), { timeoutMs: 15_000, message: "the pid file" });
    await killAndRestart("SIGKILL", () => strays.push(Number(readFileSync(pidFile, "utf8"))));
    const ended = await until(async () => {
      const e = (await executions(url(), "lost")).find((x) => x.id === running.id);
      return e && isFinished(e) ? e : undefined;
    }, { timeoutMs: 30_000, message: "the lost execution to be marked finished" });
    expect(ended.success).toBe(false);
    expect(ended.reason).toMatch(/node lost|restarted/);
    expect((await api<Execution[]>(url(), "GET", "/v1/busy")).body.filter((e) => e.job_name === "lost")).toEqual([]);
    expect((await executions(url(), "lost")).filter((e) => e.finished_at === ZERO_TIME)).toEqual([]);
    await expectNoDoubleLaunch();
  });

  it("repeated kill -9 while the job is mid-run never launches a group twice", async () => {
    await createJob(url(), shellJob("busy-tick", "sleep 0.4; echo b", { schedule: "@every 1s" }, { shell: "true" }));
    const interrupted: string[] = [];
    for (let round = 0; round < 3; round++) {
      const inFlight = await until(async () =>
        (await api<Execution[]>(url(), "GET", "/v1/busy")).body.find((e) => e.job_name === "busy-tick"),
      { timeoutMs: 30_000, message: `busy-tick to be running (round ${round})` });
      interrupted.push(inFlight.id);
      const at = await killAndRestart("SIGKILL");
      await waitTicksAfter(url(), "busy-tick", at, 1);
    }
    await expectNoDoubleLaunch();
    // Every interrupted execution ends, one way or the other; none stays running.
    await until(async () => {
      const all = await executions(url(), "busy-tick");
      return interrupted.every((id) => all.some((e) => e.id === id && isFinished(e)));
    }, { timeoutMs: 30_000, message: "every interrupted execution to be finished" });
    expect((await api(url(), "DELETE", "/v1/jobs/busy-tick")).status).toBe(200);
  });
});

describe("kill -9 of the embedded nats-server alone", () => {
  it("is restarted by the agent's supervisor and the job keeps firing", async () => {
    const old = agent.natsPid();
    expect(old).toBeDefined();
    const killedAt = Date.now();
    process.kill(old!, "SIGKILL");
    const fresh = await until(() => {
      const p = agent.natsPid();
      return p !== undefined && p !== old && isAlive(p) ? p : undefined;
    }, { timeoutMs: 30_000, message: "a new nats-server pid" });
    expect(fresh).not.toBe(old);
    await waitTicksAfter(url(), "tick", killedAt + 2_000, 2);
    expect(isAlive(agent.pid)).toBe(true);
    expect((await api(url(), "GET", "/health")).status).toBe(200);
    await createJob(url(), shellJob("after-nats", "echo ok"));
    expect((await getJob(url(), "after-nats")).name).toBe("after-nats");
    expect(agent.logs()).not.toMatch(/"level":60|uncaught|unhandled/i);
    await expectNoDoubleLaunch();
  });
});

describe("read model rebuild", () => {
  it("deleting dkron.db* and restarting lists the same executions again", async () => {
    const before = (await executions(url(), "tick")).filter(isFinished);
    expect(before.length).toBeGreaterThanOrEqual(3);
    await killAndRestart("SIGTERM", () => {
      for (const f of readdirSync(dataDir)) if (f.startsWith("dkron.db")) rmSync(path.join(dataDir, f));
    });
    expect(readdirSync(dataDir)).toContain("dkron.db");
    const after = await until(async () => {
      const all = await executions(url(), "tick");
      const ids = new Set(all.map((e) => e.id));
      return before.every((e) => ids.has(e.id)) ? all : undefined;
    }, { timeoutMs: 30_000, message: "the rebuilt read model to list every execution again" });
    const byId = new Map(after.map((e) => [e.id, e]));
    for (const e of before) expect(byId.get(e.id)).toEqual(e);
    const lost = (await executions(url(), "lost")).filter((e) => e.reason);
    expect(lost.length).toBe(1); // the failed record of the lost execution is rebuilt too
    await expectNoDoubleLaunch();
  });
});

describe("one agent per data dir", () => {
  async function runSecond(): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const second = spawn(process.execPath, [BIN, "agent", "--server", "--node-name", "second", "--data-dir", dataDir,
      "--http-addr", "127.0.0.1:0", "--rpc-port", "0", "--bind-addr", "127.0.0.1:0"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    second.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    second.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => second.once("close", (c) => resolve(c)));
    return { code, stdout, stderr };
  }

  it("a second agent on the same data dir exits non-zero with a one-line 'in use' message", async () => {
    const { code, stdout, stderr } = await runSecond();
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toMatch(/in use/);
    expect(stderr).toContain(String(agent.pid));
    expect(stderr.trim().split("\n"), `stderr was:\n${stderr}`).toHaveLength(1);
    expect(stdout).toBe("");
  });

  it("the refused agent leaves the running agent's LOCK and agent.json alone", async () => {
    const { code } = await runSecond();
    expect(code).not.toBe(0);
    expect(readFileSync(path.join(dataDir, "LOCK"), "utf8").split("\n")[0]).toBe(String(agent.pid));
    const info = JSON.parse(readFileSync(path.join(dataDir, "agent.json"), "utf8")) as { pid: number; http: string };
    expect(info).toMatchObject({ pid: agent.pid, http: url() });
    // The first agent is unaffected.
    expect(isAlive(agent.pid)).toBe(true);
    expect((await api(url(), "GET", "/health")).status).toBe(200);
    await waitTicksAfter(url(), "tick", Date.now(), 1);
  });
});
