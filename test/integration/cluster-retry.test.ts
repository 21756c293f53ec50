// Retries and dependent jobs across nodes (1 server + 2 workers tagged role=worker, wid=w1/w2;
// each worker's environment has WID=w1/w2 so a command can fail on one worker only):
// - a job with a cardinality (role: worker:1) retries a failed attempt on the OTHER matching
//   worker, whichever worker the first attempt ran on (Dkron #1585);
// - a command that fails on w1 only therefore always ends successful after one retry;
// - without a cardinality a retry stays on the node that failed (Dkron's rule), and with only one
//   matching node it goes there;
// - a child runs once per successful parent group even when the parent group ran on two nodes,
//   and not at all after a partially failed group;
// - killing an execution that runs on a worker, through the server's API, stops it there.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { until } from "../helpers/until.js";
import type { Member } from "../../src/shared/member.js";
import { createJob, executions, getJob, isAlive, isFinished, shellJob, type Execution } from "./support.js";

let cluster: TestCluster;
let server: TestAgent;
const workers: TestAgent[] = [];
const W1 = "rtc-w1";
const W2 = "rtc-w2";

beforeAll(async () => {
  cluster = await startCluster({ servers: 1, workers: 0, prefix: "rtc" });
  server = cluster.servers[0]!;
  for (const wid of ["w1", "w2"]) {
    workers.push(await startAgent({
      nodeName: `rtc-${wid}`,
      server: false,
      env: { WID: wid },
      args: [...cluster.natsUrls().flatMap((u) => ["--nats-url", u]), "--tag", "role=worker", "--tag", `wid=${wid}`],
    }));
  }
  await until(async () => {
    const r = await api<Member[]>(server.url, "GET", "/v1/members");
    return r.body.filter((m) => m.statusText === "alive").length === 3;
  }, { timeoutMs: 30_000, message: "both workers alive" });
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await cluster?.stop();
}, 120_000);

const FAST = { initial: "100ms", max: "1s", multiplier: 2 };

function byGroup(list: Execution[]): Map<number, Execution[]> {
  const m = new Map<number, Execution[]>();
  for (const e of list) m.set(e.group, [...(m.get(e.group) ?? []), e].sort((a, b) => a.attempt - b.attempt));
  return m;
}

/** Starts `n` groups of the job one after another (each answered before the next). */
async function runGroups(job: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const before = byGroup(await executions(server.url, job)).size;
    expect((await api(server.url, "POST", `/v1/jobs/${job}/run`)).status).toBe(202);
    await until(async () => byGroup(await executions(server.url, job)).size > before, { message: `group ${i + 1} of ${job}` });
  }
}

async function settled(job: string, finished: number): Promise<Map<number, Execution[]>> {
  const list = await until(async () => {
    const all = await executions(server.url, job);
    return all.filter(isFinished).length >= finished ? all : undefined;
  }, { timeoutMs: 60_000, message: `${finished} finished executions of ${job}` });
  return byGroup(list);
}

describe("retries across nodes", () => {
  it("cardinality 1 on two workers: attempt 2 runs on the other worker than attempt 1, every time", async () => {
    await createJob(server.url, shellJob("rtc-card", "echo $WID; exit 1", {
      tags: { role: "worker:1" }, retries: 1, retry_backoff: FAST,
    }, { shell: "true" }));
    await runGroups("rtc-card", 6);
    const groups = await settled("rtc-card", 12);
    expect(groups.size).toBe(6);
    for (const [g, list] of groups) {
      expect(list.map((e) => e.attempt), `group ${g}`).toEqual([1, 2]);
      const [a1, a2] = list as [Execution, Execution];
      expect([W1, W2]).toContain(a1.node_name);
      expect([W1, W2]).toContain(a2.node_name);
      expect(a2.node_name, `group ${g}: retry on ${a2.node_name} after a failure on ${a1.node_name}`).not.toBe(a1.node_name);
      expect(a2.trigger).toBe("retry");
    }
  });

  it("a command failing on w1 only: every group ends successful (on w2 at the latest on retry)", async () => {
    await createJob(server.url, shellJob("rtc-w2only", 'test "$WID" = w2', {
      tags: { role: "worker:1" }, retries: 1, retry_backoff: FAST,
    }, { shell: "true" }));
    await runGroups("rtc-w2only", 6);
    const groups = await until(async () => {
      const m = byGroup(await executions(server.url, "rtc-w2only"));
      const done = [...m.values()].every((l) => l.some((e) => isFinished(e) && (e.success || e.attempt === 2)));
      return m.size === 6 && done ? m : undefined;
    }, { timeoutMs: 60_000, message: "every group of rtc-w2only to settle" });
    for (const [g, list] of groups) {
      const last = list[list.length - 1]!;
      expect(last, `group ${g}: ${list.map((e) => `${e.attempt}@${e.node_name}=${e.success}`).join(" ")}`)
        .toMatchObject({ success: true, node_name: W2 });
      if (list.length === 2) expect(list[0]).toMatchObject({ attempt: 1, success: false, node_name: W1 });
    }
    expect((await getJob(server.url, "rtc-w2only")).status).toBe("success");
  });

  it("without a cardinality the retry stays on the node that failed", async () => {
    await createJob(server.url, shellJob("rtc-all", 'test "$WID" = w2', {
      tags: { role: "worker" }, retries: 1, retry_backoff: FAST,
    }, { shell: "true" }));
    await runGroups("rtc-all", 1);
    const [list] = [...(await settled("rtc-all", 3)).values()];
    const key = (e: Execution) => `${e.node_name}#${e.attempt}=${e.success}`;
    expect(list!.map(key).sort()).toEqual([`${W1}#1=false`, `${W1}#2=false`, `${W2}#1=true`]);
    await until(async () => (await getJob(server.url, "rtc-all")).status === "partially_failed", { message: "partially_failed" });
  });

  it("with only one matching node the retry runs there", async () => {
    await createJob(server.url, shellJob("rtc-one", "exit 1", { tags: { wid: "w1:1" }, retries: 2, retry_backoff: FAST }, { shell: "true" }));
    await runGroups("rtc-one", 1);
    const [list] = [...(await settled("rtc-one", 3)).values()];
    expect(list!.map((e) => `${e.attempt}@${e.node_name}`)).toEqual([`1@${W1}`, `2@${W1}`, `3@${W1}`]);
  });
});

describe("dependent jobs across nodes", () => {
  it("a parent group on two workers runs its child once; a partially failed group runs none", async () => {
    await createJob(server.url, shellJob("rtc-parent", "echo $WID", { tags: { role: "worker" } }, { shell: "true" }));
    await createJob(server.url, shellJob("rtc-child", "echo child", { schedule: "", parent_job: "rtc-parent", tags: { wid: "w1" } }));
    await createJob(server.url, shellJob("rtc-half", 'test "$WID" = w2', { tags: { role: "worker" } }, { shell: "true" }));
    await createJob(server.url, shellJob("rtc-half-child", "echo child", { schedule: "", parent_job: "rtc-half", tags: { wid: "w1" } }));

    await runGroups("rtc-half", 1);
    await settled("rtc-half", 2);
    await until(async () => (await getJob(server.url, "rtc-half")).status === "partially_failed", { message: "rtc-half partially failed" });

    await runGroups("rtc-parent", 3);
    const parents = await settled("rtc-parent", 6);
    for (const list of parents.values()) expect(list.map((e) => e.node_name).sort()).toEqual([W1, W2]);
    const children = await until(async () => {
      const all = await executions(server.url, "rtc-child");
      return all.filter(isFinished).length >= 3 ? all : undefined;
    }, { timeoutMs: 30_000, message: "3 child runs" });
    // A later parent run is the clock: by the time its child ran, any extra child run would show.
    await runGroups("rtc-parent", 1);
    await until(async () => (await executions(server.url, "rtc-child")).filter(isFinished).length >= 4, { message: "4th child run" });
    const all = await executions(server.url, "rtc-child");
    expect(all).toHaveLength(4);
    expect(new Set(all.map((e) => e.group)).size).toBe(4);
    expect([...parents.keys()].every((g) => children.some((c) => c.group === g))).toBe(true);
    expect(all.every((e) => e.node_name === W1 && e.trigger === "dependent" && e.success)).toBe(true);
    expect(await executions(server.url, "rtc-half-child")).toEqual([]);
  });
});

describe("kill across nodes", () => {
  it("POST /v1/executions/:id/kill on the server stops an execution running on a worker", async () => {
    await createJob(server.url, shellJob("rtc-kill", 'sleep 30 & echo "bg $!"; echo "sh $$"; sleep 30', {
      tags: { wid: "w2" },
    }, { shell: "true" }));
    expect((await api(server.url, "POST", "/v1/jobs/rtc-kill/run")).status).toBe(202);
    const { exec, pids } = await until(async () => {
      const e = (await executions(server.url, "rtc-kill")).find((x) => !isFinished(x));
      const m = e && /bg (\d+)\nsh (\d+)\n/.exec(e.output);
      return m ? { exec: e, pids: [Number(m[1]), Number(m[2])] } : undefined;
    }, { timeoutMs: 20_000, message: "rtc-kill running on w2 with its pids printed" });
    expect(exec.node_name).toBe(W2);
    expect(pids.every(isAlive)).toBe(true);
    expect((await api(server.url, "POST", `/v1/executions/${exec.id}/kill`)).status).toBe(202);
    const done = await until(async () => (await executions(server.url, "rtc-kill")).find((e) => e.id === exec.id && isFinished(e)),
      { timeoutMs: 20_000, message: "the killed execution recorded" });
    expect(done).toMatchObject({ success: false, node_name: W2 });
    expect(done.reason).toMatch(/kill/i);
    await until(() => pids.every((p) => !isAlive(p)), { timeoutMs: 10_000, message: "the worker's processes gone" });
  });
});
