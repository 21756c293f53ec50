// A worker that acknowledges a launch too late (a GC pause, an overloaded host, a network hiccup:
// here its process is frozen with SIGSTOP for a few seconds). The leader gives up on the ack after
// its timeout and records the launch as failed; the launch request is still delivered once the
// worker runs again. Each instant must still be one execution per (group, node, attempt), and
// every execution must end: none may stay "running" forever because its real finish record was
// refused as a duplicate of the failure the leader recorded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type TestAgent } from "../helpers/agent.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { until } from "../helpers/until.js";
import { createJob, executions, isAlive, isFinished, shellJob, type Execution, type Job } from "./support.js";

const JOB = "slow-ack-tick";
let cluster: TestCluster;
let frozen: TestAgent | undefined;

beforeAll(async () => {
  cluster = await startCluster({
    servers: 3,
    workers: 1,
    prefix: "sa",
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
const show = (e: Execution) =>
  `${new Date(groupMs(e)).toISOString().slice(11, 23)} ${e.node_name} #${e.attempt} ${e.id} ${isFinished(e) ? (e.success ? "ok" : `failed: ${e.reason ?? ""}`) : "RUNNING"}`;

describe("a worker that acks a launch after the leader gave up", () => {
  it("neither runs an instant twice nor leaves an execution running forever", async () => {
    const leader = cluster.byName(await cluster.leader());
    const worker = cluster.workers[0]!;
    await createJob(leader.url, shellJob(JOB, "echo tick", { schedule: "@every 1s", tags: { role: "worker" } }));
    await until(async () => (await all(leader.url)).filter((e) => isFinished(e) && e.success).length >= 2,
      { timeoutMs: 30_000, message: "two runs on the worker" });

    frozen = worker;
    process.kill(worker.pid, "SIGSTOP");
    // Launches sent meanwhile time out at the leader, which records them as failed.
    await until(async () => (await all(leader.url)).filter((e) => /did not accept the launch/.test(e.reason ?? "")).length >= 2,
      { timeoutMs: 30_000, message: "two launches recorded as not accepted" });
    const contAt = Date.now();
    process.kill(worker.pid, "SIGCONT");
    frozen = undefined;
    await until(async () => (await all(leader.url)).filter((e) => e.success && groupMs(e) > contAt).length >= 3,
      { timeoutMs: 30_000, message: "three runs on the thawed worker" });
    expect((await api<Job>(leader.url, "POST", `/v1/jobs/${JOB}/toggle`)).body.disabled).toBe(true);

    // Settle: `echo tick` ends at once, so anything still running after this is a phantom.
    let list: Execution[] = [];
    await until(async () => {
      list = await all(leader.url);
      return list.every(isFinished);
    }, { timeoutMs: 20_000 }).catch(() => undefined);
    console.log(`[slow-ack] executions:\n${list.map(show).join("\n")}`);

    const seen = new Map<string, Execution[]>();
    for (const e of list) {
      const k = `${e.group}/${e.node_name}/${e.attempt}`;
      seen.set(k, [...(seen.get(k) ?? []), e]);
    }
    const doubled = [...seen.values()].filter((es) => es.length > 1).map((es) => es.map(show).join(" & "));
    expect(doubled, "(group, node, attempt) recorded more than once").toEqual([]);
    expect(list.filter((e) => !isFinished(e)).map(show), "executions left running forever").toEqual([]);
    const busy = await api<Execution[]>(leader.url, "GET", "/v1/busy");
    expect(busy.body.filter((e) => e.job_name === JOB).map(show), "/v1/busy").toEqual([]);
  }, 180_000);
});
