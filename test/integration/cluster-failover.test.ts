// Leader failover on a real cluster (3 servers with their own embedded nats-server + 1 worker):
// a `@every 1s` job tagged to the worker keeps firing while the leader is killed with SIGKILL three
// times in a row (each killed server is restarted before the next round, so the R3 store never
// loses quorum). Asserts: a different leader is elected each time, scheduled executions resume,
// no instant is launched twice, every gap left by an outage is closed by a catch-up execution
// (policy "last": the most recent missed instant fires once, older ones are skipped by design),
// and the restarted servers rejoin as followers that serve the job and the executions.
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { api, type TestAgent } from "../helpers/agent.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { until } from "../helpers/until.js";
import { createJob, executions, isAlive, isFinished, ms, shellJob, type Execution, type Job } from "./support.js";

const JOB = "failover-tick";
const ROUNDS = 3;
/** The leader claims and dispatches each instant this long ahead (SCHEDULE_LEAD_MS in agent.ts). */
const LEAD_MS = 200;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({
    servers: 3,
    workers: 1,
    prefix: "fo",
    workerTags: () => ["role=worker"],
    env: { DKRON_EXECUTIONS_PER_JOB: "1000" },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

const groupMs = (e: Execution) => Math.round(e.group / 1e6);
const all = (url: string) => executions(url, JOB, "&_start=0&_end=1000");

/** The server that says it leads (its own /v1/isleader), other than `not`. */
async function leaderAgent(not?: string): Promise<TestAgent> {
  return until(async () => {
    for (const s of cluster.servers) {
      if (s.nodeName === not || !isAlive(s.pid)) continue;
      const r = await api(s.url, "GET", "/v1/isleader").catch(() => undefined);
      if (r?.status === 200) return s;
    }
    return undefined;
  }, { timeoutMs: 60_000, intervalMs: 25, message: `a leader other than ${not ?? "(none)"}` });
}

/**
 * Every live server's executions merged by id (a finished record wins over a running one): what
 * the cluster did, independent of how fresh any one server's read model is (checked separately).
 */
async function merged(): Promise<Execution[]> {
  const byId = new Map<string, Execution>();
  for (const s of cluster.servers.filter((x) => isAlive(x.pid))) {
    for (const e of await all(s.url).catch(() => [] as Execution[])) {
      if (!byId.has(e.id) || isFinished(e)) byId.set(e.id, e);
    }
  }
  return [...byId.values()].sort((a, b) => ms(a.started_at) - ms(b.started_at));
}

/** Waits for n finished executions of the job with trigger `trigger` at instants after `afterMs`. */
async function waitRuns(afterMs: number, n: number, trigger = "schedule"): Promise<Execution[]> {
  return until(async () => {
    const runs = (await merged()).filter((e) => isFinished(e) && e.trigger === trigger && groupMs(e) > afterMs);
    return runs.length >= n ? runs : undefined;
  }, { timeoutMs: 60_000, message: `${n} ${trigger} execution(s) of ${JOB} after ${new Date(afterMs).toISOString()}` });
}

/** On failure, every node's log and view go to a temp dir (named on stderr) for the post-mortem. */
async function dumpLogs(): Promise<void> {
  const dir = path.join(tmpdir(), `dkron-cluster-failover-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  for (const a of [...cluster.servers, ...cluster.workers]) writeFileSync(path.join(dir, `${a.nodeName}.log`), a.logs());
  for (const s of cluster.servers.filter((x) => isAlive(x.pid))) {
    const state = await Promise.all([
      api(s.url, "GET", "/debug/vars").then((r) => r.body),
      api(s.url, "GET", "/v1/members").then((r) => r.body),
      all(s.url),
    ].map((p: Promise<unknown>) => p.catch((e: Error) => e.message)));
    writeFileSync(path.join(dir, `${s.nodeName}.state.json`), JSON.stringify(state, null, 1));
  }
  console.error(`[failover] node logs in ${dir}`);
}

interface Round {
  killed: string;
  killAt: number;
  next: string;
  electedMs: number;
  firstExecMs: number;
  firstScheduleMs: number;
  restartMs: number;
  readModelMs: number;
}

describe("cluster failover (kill -9 the leader, three times)", () => {
  it("elects a new leader each time, keeps firing, catches up each outage, and launches no instant twice", async () => {
    onTestFailed(() => dumpLogs());
    const worker = cluster.workers[0]!;
    let leader = await leaderAgent();
    await createJob(leader.url, shellJob(JOB, "echo tick", { schedule: "@every 1s", tags: { role: "worker" } }));
    const rounds: Round[] = [];

    for (let round = 1; round <= ROUNDS; round++) {
      // A few runs under the current leader before it dies.
      await waitRuns(Date.now(), 3);
      const victim = leader;
      const killAt = Date.now();
      victim.kill("SIGKILL");
      await victim.exited();

      leader = await leaderAgent(victim.nodeName);
      const electedMs = Date.now() - killAt;
      expect(leader.nodeName).not.toBe(victim.nodeName);

      // The first execution the new leader launched (the old one dispatched up to LEAD_MS ahead),
      // catch-up or scheduled, then scheduled ones.
      const first = await until(async () => {
        return (await merged()).find((e) => groupMs(e) > killAt + LEAD_MS);
      }, { timeoutMs: 60_000, message: "an execution after the kill" });
      const firstSchedule = (await waitRuns(killAt + LEAD_MS, 2))[0]!;

      // Bring the killed server back: it rejoins as a follower and catches up.
      const latest = (await merged()).filter(isFinished).at(-1)!;
      const restartAt = Date.now();
      await victim.restart();
      const restartMs = Date.now() - restartAt;
      expect((await api(victim.url, "GET", "/v1/isleader")).status).toBe(404);
      await until(async () => (await api<{ Name: string }>(victim.url, "GET", "/v1/leader")).body.Name === leader.nodeName,
        { timeoutMs: 30_000, message: `${victim.nodeName} to name ${leader.nodeName} as leader` });
      const jobs = await api<Job[]>(victim.url, "GET", "/v1/jobs");
      expect(jobs.status).toBe(200);
      expect(jobs.body.map((j) => j.name)).toContain(JOB);
      // Every server's read model (the restarted one's, and the new leader's after the store lost
      // a replica) shows what happened: a stalled consumer is detected in seconds, not minutes.
      const freshAt = Date.now();
      await Promise.all(cluster.servers.map((s) => until(async () => (await all(s.url)).some((e) => e.id === latest.id),
        { timeoutMs: 25_000, message: `${s.nodeName}'s read model to show execution ${latest.id}` })));
      const readModelMs = Date.now() - freshAt;
      await until(async () => {
        const m = await api<{ Name: string; statusText: string }[]>(leader.url, "GET", "/v1/members");
        return m.body.find((x) => x.Name === victim.nodeName)?.statusText === "alive";
      }, { timeoutMs: 30_000, message: `${victim.nodeName} alive again` });

      rounds.push({
        killed: victim.nodeName,
        killAt,
        next: leader.nodeName,
        electedMs,
        firstExecMs: ms(first.started_at) - killAt,
        firstScheduleMs: ms(firstSchedule.started_at) - killAt,
        restartMs,
        readModelMs,
      });
    }

    // Stop the clock and let every server's read model settle on the same history.
    const toggled = await api<Job>(leader.url, "POST", `/v1/jobs/${JOB}/toggle`);
    expect(toggled.status).toBe(200);
    expect(toggled.body.disabled).toBe(true);
    const history = await until(async () => {
      const views = await Promise.all(cluster.servers.map((s) => all(s.url)));
      const ids = views.map((v) => v.map((e) => e.id).sort().join());
      if (!views[0]!.length || !views[0]!.every(isFinished) || ids.some((x) => x !== ids[0])) return undefined;
      return views[0];
    }, { timeoutMs: 60_000, message: "all servers to report the same finished executions" });

    console.log(`[failover] timeline: ${history.map((e) => `${new Date(groupMs(e)).toISOString().slice(17, 23)}:${e.trigger![0]}`).join(" ")}`);
    console.log(`[failover] rounds: ${JSON.stringify(rounds.map(({ killAt: _k, ...r }) => r))}`);
    console.log(`[failover] ${history.length} executions, ${history.filter((e) => !e.success).length} failed: ${
      JSON.stringify(history.filter((e) => !e.success).map((e) => ({ g: groupMs(e), node: e.node_name, trigger: e.trigger, reason: e.reason })))}`);

    // No (group, node, attempt) twice, and no instant executed twice at all (one worker target).
    const keys = history.map((e) => `${e.group}/${e.node_name}/${e.attempt}`);
    expect(keys.length - new Set(keys).size, "duplicate (group, node, attempt)").toBe(0);
    const byGroup = new Map<number, Execution[]>();
    for (const e of history) byGroup.set(groupMs(e), [...(byGroup.get(groupMs(e)) ?? []), e]);
    const twice = [...byGroup].filter(([, es]) => es.length > 1);
    expect(twice, "instants executed more than once").toEqual([]);
    expect(history.filter((e) => e.trigger === "manual")).toEqual([]);
    // Every launch that reached the worker ran there.
    expect(history.filter((e) => e.success).every((e) => e.node_name === worker.nodeName)).toBe(true);

    // Instants sit on the job's 1 s grid; every gap (missed instants) is closed by a catch-up
    // execution of the most recent missed instant, and each kill caused exactly such a catch-up.
    const groups = [...byGroup.keys()].sort((a, b) => a - b);
    const holes: string[] = [];
    for (let i = 1; i < groups.length; i++) {
      const gap = groups[i]! - groups[i - 1]!;
      expect(gap % 1000, `instant ${groups[i]} off the 1 s grid`).toBe(0);
      if (gap > 1000 && byGroup.get(groups[i]!)![0]!.trigger !== "catchup") {
        holes.push(`${gap / 1000 - 1} instant(s) missed before ${new Date(groups[i]!).toISOString()} (${byGroup.get(groups[i]!)![0]!.trigger})`);
      }
    }
    expect(holes, "gaps not followed by a catch-up execution").toEqual([]);
    for (const r of rounds) {
      const catchups = history.filter((e) => e.trigger === "catchup" && groupMs(e) > r.killAt - 1000 && groupMs(e) <= r.killAt + r.electedMs + 1000);
      expect(catchups.length, `catch-up executions after killing ${r.killed}`).toBe(1);
    }
    expect(history.filter((e) => e.trigger === "catchup").length).toBeLessThanOrEqual(ROUNDS);

    // Exactly one leader at the end; every other server (all of which were restarted or survived) follows.
    const leads = await Promise.all(cluster.servers.map(async (s) => (await api(s.url, "GET", "/v1/isleader")).status));
    expect(leads.filter((st) => st === 200)).toHaveLength(1);
    expect(leads.filter((st) => st === 404)).toHaveLength(2);
  }, 400_000);
});
