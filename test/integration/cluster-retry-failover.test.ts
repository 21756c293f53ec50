// A retry waiting for its backoff lives in the leader's memory: when that
// leader dies, the next one must still retry the failed attempt, once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../helpers/agent.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { until } from "../helpers/until.js";

interface Exec { group: number; attempt: number; node_name: string; success: boolean; finished_at: string; trigger: string }

describe("retries across a leader change", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ servers: 3, workers: 1, workerTags: () => ["role=worker"], prefix: "rf" });
  }, 120_000);
  afterAll(async () => c?.stop(), 120_000);

  it("a failed attempt whose retry was pending when the leader died is retried by the new leader", async () => {
    const leader = c.byName(await c.leader());
    const other = c.serverOtherThan(leader.nodeName);
    const r = await api(other.url, "POST", "/v1/jobs", {
      name: "rf-job", schedule: "@manually", tags: { role: "worker" }, retries: 1,
      retry_backoff: { initial: "6s", max: "6s", multiplier: 1 }, executor_config: { command: "false" },
    });
    expect(r.status).toBe(201);
    expect((await api(other.url, "POST", "/v1/jobs/rf-job/run")).status).toBe(202);
    const list = async (s = other) => (await api<Exec[]>(s.url, "GET", "/v1/jobs/rf-job/executions")).body;
    await until(async () => (await list()).some((e) => e.attempt === 1 && e.finished_at !== "0001-01-01T00:00:00Z"),
      { timeoutMs: 30_000, message: "attempt 1 failed" });
    // The retry is now waiting out its 6 s backoff on the leader: kill it.
    leader.kill("SIGKILL");
    await leader.exited();
    const newLeader = await until(async () => {
      const l = await c.leader();
      return l !== leader.nodeName ? l : undefined;
    }, { timeoutMs: 30_000, message: "a new leader" });
    const serve = c.byName(newLeader);
    const second = await until(async () => (await list(serve)).find((e) => e.attempt === 2 && e.finished_at !== "0001-01-01T00:00:00Z"),
      { timeoutMs: 40_000, message: "attempt 2 run by the new leader" });
    expect(second.trigger).toBe("retry");
    expect(second.success).toBe(false);
    const all = await list(serve);
    expect(all.filter((e) => e.attempt === 2)).toHaveLength(1);
    expect(all.filter((e) => e.attempt > 2)).toHaveLength(0);
  }, 180_000);
});
