// concurrency "forbid" right after a launch (DESIGN.md, Execution: "skip a tick while an execution
// of the job is running anywhere (from the running sets in heartbeats and the started/finished
// records)"). A `@every 1s` forbid job's next tick is decided 1 s after the launch; if the worker's
// last heartbeat before that moment was sent before the launch registered, a check that only reads
// heartbeats sees nothing running and launches a second, concurrent execution.
//
// Which ticks hit that window depends on the phase of the worker's heartbeat against the job's
// `@every` anchor (fnv1a32(name) mod 1 s). So the test measures the heartbeat phase and names its
// jobs so that their instants sweep the ~40 ms before it: deterministic coverage of the window
// instead of waiting for luck (plus a control group far from the window). Every job must have
// exactly one execution while `sleep` runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSchedule } from "../../src/shared/cron/index.js";
import type { Member } from "../../src/shared/member.js";
import { api } from "../helpers/agent.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { until } from "../helpers/until.js";
import { createJob, executions, isFinished, shellJob, type Execution } from "./support.js";

/** The leader claims and dispatches each instant this long ahead (SCHEDULE_LEAD_MS in agent.ts). */
const LEAD_MS = 200;
/** Offsets (ms) between the next tick's decision and the heartbeat after it: the window, in 2 ms steps... */
const SWEEP = Array.from({ length: 20 }, (_, i) => i * 2);
/** ...and a control group far from it, where heartbeats are fresh and forbid holds either way. */
const CONTROL = [300, 400, 500, 600, 700];

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({
    servers: 3,
    workers: 1,
    prefix: "fr",
    workerTags: () => ["wid=w1"],
    env: { DKRON_SHUTDOWN_TIMEOUT_MS: "500" },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

const anchorOf = (name: string) => parseSchedule("@every 1s", { jobName: name }).next(0)! % 1000;
const mod1000 = (x: number) => ((Math.round(x) % 1000) + 1000) % 1000;

/** A job name whose `@every 1s` instants fall at `phase` ms past each second. */
function nameWithPhase(prefix: string, phase: number): string {
  for (let k = 0; ; k++) {
    const name = `${prefix}-${k}`;
    if (anchorOf(name) === phase) return name;
  }
}

/** When (ms past the second) the worker's heartbeats reach the leader. */
async function heartbeatPhase(url: string, worker: string): Promise<number> {
  const seen = new Set<number>();
  await until(async () => {
    const m = (await api<Member[]>(url, "GET", "/v1/members")).body.find((x) => x.Name === worker);
    if (m) seen.add(Date.parse(m.last_seen));
    return seen.size >= 4;
  }, { timeoutMs: 30_000, intervalMs: 10, message: `heartbeats of ${worker}` });
  const phases = [...seen].map(mod1000).sort((a, b) => a - b);
  return phases[Math.floor(phases.length / 2)]!;
}

describe("concurrency forbid right after a launch", () => {
  it("never starts a second execution while the first one runs, whatever the heartbeat phase", async () => {
    const leader = cluster.byName(await cluster.leader());
    const worker = cluster.workers[0]!.nodeName;
    const hb = await heartbeatPhase(leader.url, worker);
    // Tick X+1 is decided at X+1-LEAD_MS; launch X registers on the worker a few ms after X-LEAD_MS.
    // Put that decision 0..SWEEP_MS ms before a heartbeat arrives.
    const jobs = [...SWEEP, ...CONTROL].map((d) => {
      const phase = mod1000(hb + LEAD_MS - 1000 - d);
      return { d, phase, name: nameWithPhase(`fr-${d}`, phase) };
    });
    for (const j of jobs) {
      await createJob(leader.url, shellJob(j.name, "sleep 20", { schedule: "@every 1s", concurrency: "forbid", tags: { wid: "w1" } }));
    }
    // Let several ticks of every job be decided: each has started once, then 3 s more of ticks.
    const firstStarts = await until(async () => {
      const lists = await Promise.all(jobs.map((j) => executions(leader.url, j.name)));
      return lists.every((l) => l.length >= 1) ? lists.map((l) => Date.parse(l[0]!.started_at)) : undefined;
    }, { timeoutMs: 30_000, message: "every forbid job to have started" });
    await createJob(leader.url, shellJob("fr-clock", "true", { schedule: "@every 1s", tags: { wid: "w1" } }));
    const lastFirst = Math.max(...firstStarts);
    await until(async () => (await executions(leader.url, "fr-clock")).filter((e) => Date.parse(e.started_at) > lastFirst).length >= 3,
      { timeoutMs: 30_000, message: "3 clock ticks after the last first start" });

    const lists = await Promise.all(jobs.map((j) => executions(leader.url, j.name)));
    const doubled = jobs.map((j, i) => ({ ...j, runs: lists[i]! })).filter((j) => j.runs.length > 1);
    const show = (e: Execution) => `${e.node_name} ${e.started_at}${isFinished(e) ? ` → ${e.finished_at} ${e.reason ?? ""}` : " (running)"}`;
    console.log(`[forbid-race] heartbeat phase ${hb} ms; ${doubled.length}/${jobs.length} jobs launched twice; offsets d=${doubled.map((j) => j.d).join(",")}`);
    expect(doubled.filter((j) => CONTROL.includes(j.d)), "control jobs (decision long after a heartbeat)").toEqual([]);
    expect(doubled.map((j) => `${j.name} (decision ${j.d} ms before a heartbeat): ${j.runs.map(show).join(" | ")}`),
      "forbid jobs with a second execution while the first still runs").toEqual([]);
  }, 180_000);
});
