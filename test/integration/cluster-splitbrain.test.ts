// Split brain on a real cluster (3 servers with their own embedded nats-server + 1 worker): the
// leader's dkron process (not its nats-server, which stays in the cluster) is frozen with SIGSTOP
// past its lease, another server takes over and keeps the `@every 1s` job firing, then the old
// leader is thawed with SIGCONT while its timers are all overdue. Asserts: no (group, node,
// attempt) launched twice and no instant executed twice, the thawed node says it lost leadership
// and follows, and the cluster keeps firing with exactly one leader.
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { api, type TestAgent } from "../helpers/agent.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { until } from "../helpers/until.js";
import { createJob, executions, isAlive, isFinished, ms, shellJob, type Execution, type Job } from "./support.js";

const JOB = "splitbrain-tick";
let cluster: TestCluster;
/** The server frozen with SIGSTOP, if any: never sent an HTTP request (it would hang), thawed in afterAll. */
let frozen: TestAgent | undefined;

beforeAll(async () => {
  cluster = await startCluster({
    servers: 3,
    workers: 1,
    prefix: "sb",
    workerTags: () => ["role=worker"],
    env: { DKRON_EXECUTIONS_PER_JOB: "1000" },
  });
}, 120_000);

afterAll(async () => {
  if (frozen && isAlive(frozen.pid)) process.kill(frozen.pid, "SIGCONT");
  await cluster?.stop();
}, 120_000);

const groupMs = (e: Execution) => Math.round(e.group / 1e6);
const all = (url: string) => executions(url, JOB, "&_start=0&_end=1000");
const responsive = () => cluster.servers.filter((s) => s !== frozen && isAlive(s.pid));

/** The responsive server that says it leads (its own /v1/isleader). */
async function leaderAgent(): Promise<TestAgent> {
  return until(async () => {
    for (const s of responsive()) {
      if ((await api(s.url, "GET", "/v1/isleader").catch(() => undefined))?.status === 200) return s;
    }
    return undefined;
  }, { timeoutMs: 60_000, intervalMs: 25, message: "a leader among the responsive servers" });
}

/** Every responsive server's executions merged by id (a finished record wins over a running one). */
async function merged(): Promise<Execution[]> {
  const byId = new Map<string, Execution>();
  for (const s of responsive()) {
    for (const e of await all(s.url).catch(() => [] as Execution[])) {
      if (!byId.has(e.id) || isFinished(e)) byId.set(e.id, e);
    }
  }
  return [...byId.values()].sort((a, b) => ms(a.started_at) - ms(b.started_at));
}

async function waitRuns(afterMs: number, n: number): Promise<Execution[]> {
  return until(async () => {
    const runs = (await merged()).filter((e) => isFinished(e) && e.trigger === "schedule" && groupMs(e) > afterMs);
    return runs.length >= n ? runs : undefined;
  }, { timeoutMs: 60_000, message: `${n} scheduled execution(s) of ${JOB} after ${new Date(afterMs).toISOString()}` });
}

async function dumpLogs(): Promise<void> {
  const dir = path.join(tmpdir(), `dkron-cluster-splitbrain-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  for (const a of [...cluster.servers, ...cluster.workers]) writeFileSync(path.join(dir, `${a.nodeName}.log`), a.logs());
  for (const s of responsive()) {
    const state = await Promise.all([
      api(s.url, "GET", "/debug/vars").then((r) => r.body),
      all(s.url),
    ].map((p: Promise<unknown>) => p.catch((e: Error) => e.message)));
    writeFileSync(path.join(dir, `${s.nodeName}.state.json`), JSON.stringify(state, null, 1));
  }
  console.error(`[splitbrain] node logs in ${dir}`);
}

describe("cluster split brain (SIGSTOP the leader past its lease, then SIGCONT)", () => {
  it("lets another server take over, and the thawed leader steps down without launching anything twice", async () => {
    onTestFailed(() => dumpLogs());
    const old = await leaderAgent();
    await createJob(old.url, shellJob(JOB, "echo tick", { schedule: "@every 1s", tags: { role: "worker" } }));
    await waitRuns(Date.now(), 3);

    const stopAt = Date.now();
    frozen = old;
    process.kill(old.pid, "SIGSTOP");
    const next = await leaderAgent();
    const takeoverMs = Date.now() - stopAt;
    expect(next.nodeName).not.toBe(old.nodeName);
    // The other servers name the new leader too.
    await until(async () => {
      for (const s of responsive()) {
        if ((await api<{ Name: string }>(s.url, "GET", "/v1/leader")).body.Name !== next.nodeName) return false;
      }
      return true;
    }, { timeoutMs: 30_000, message: `every responsive server to name ${next.nodeName} as leader` });
    // A few instants fire under the new leader while the old one is frozen with its timers pending.
    const takeoverAt = Date.now();
    await waitRuns(takeoverAt, 5);

    const contAt = Date.now();
    process.kill(old.pid, "SIGCONT");
    frozen = undefined;
    await until(async () => (await api(old.url, "GET", "/v1/isleader")).status === 404,
      { timeoutMs: 30_000, message: `${old.nodeName} to report itself a follower after SIGCONT` });
    const stepDownMs = Date.now() - contAt;
    expect(old.logs()).toMatch(/lost leadership/);
    await until(async () => (await api<{ Name: string }>(old.url, "GET", "/v1/leader")).body.Name === next.nodeName,
      { timeoutMs: 30_000, message: `${old.nodeName} to name ${next.nodeName} as leader` });

    // The cluster keeps firing after the thaw, and the thawed server's view catches up.
    const after = await waitRuns(contAt, 3);
    const latest = after.at(-1)!;
    await until(async () => (await all(old.url)).some((e) => e.id === latest.id),
      { timeoutMs: 25_000, message: `${old.nodeName}'s read model to show ${latest.id}` });
    const statuses = await Promise.all(cluster.servers.map(async (s) => (await api(s.url, "GET", "/v1/isleader")).status));
    expect(statuses.filter((st) => st === 200)).toHaveLength(1);
    expect((await leaderAgent()).nodeName).toBe(next.nodeName);

    // Stop the clock; let every server's read model settle on the same history.
    const toggled = await api<Job>(next.url, "POST", `/v1/jobs/${JOB}/toggle`);
    expect(toggled.body.disabled).toBe(true);
    const history = await until(async () => {
      const views = await Promise.all(cluster.servers.map((s) => all(s.url)));
      const ids = views.map((v) => v.map((e) => e.id).sort().join());
      if (!views[0]!.length || !views[0]!.every(isFinished) || ids.some((x) => x !== ids[0])) return undefined;
      return views[0];
    }, { timeoutMs: 60_000, message: "all servers to report the same finished executions" });
    console.log(`[splitbrain] ${JSON.stringify({ old: old.nodeName, next: next.nodeName, takeoverMs, stopMs: contAt - stopAt, stepDownMs, executions: history.length })}`);
    console.log(`[splitbrain] timeline: ${history.map((e) => `${new Date(groupMs(e)).toISOString().slice(17, 23)}:${e.trigger![0]}${e.success ? "" : "!"}`).join(" ")}`);

    const keys = history.map((e) => `${e.group}/${e.node_name}/${e.attempt}`);
    expect(keys.length - new Set(keys).size, "duplicate (group, node, attempt)").toBe(0);
    const byGroup = new Map<number, Execution[]>();
    for (const e of history) byGroup.set(groupMs(e), [...(byGroup.get(groupMs(e)) ?? []), e]);
    expect([...byGroup].filter(([, es]) => es.length > 1), "instants executed more than once").toEqual([]);
    expect(history.filter((e) => !e.success).map((e) => e.reason), "failed executions").toEqual([]);
    // Instants after the thaw are all there: the thawed node neither stole nor blocked a tick.
    const groups = [...byGroup.keys()].sort((a, b) => a - b);
    for (let i = 1; i < groups.length; i++) {
      const gap = groups[i]! - groups[i - 1]!;
      expect(gap % 1000, `instant ${groups[i]} off the 1 s grid`).toBe(0);
      if (gap > 1000) expect(byGroup.get(groups[i]!)![0]!.trigger, `instant after a gap at ${groups[i]}`).toBe("catchup");
      if (groups[i - 1]! > contAt + 1000) expect(gap, `gap after the thaw at ${groups[i]}`).toBe(1000);
    }
  }, 300_000);
});
