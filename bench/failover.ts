// `npm run bench -- failover [--kills 10]`
// 3 servers + 1 worker, a `@every 1s` job (catchup "all") on the worker, and
// repeated kill -9 of the leader. For each kill: time from the kill to the
// next launched tick, and whether the killed node led the lease or claims
// stream. At the end: duplicate and missing instants over the whole run.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "nats";
import { api } from "../test/helpers/agent.js";
import { startCluster, type TestCluster } from "../test/helpers/cluster.js";
import { until } from "../test/helpers/until.js";
import { arg, fmt, percentiles } from "./common.js";

interface Exec { group: number; node_name: string; attempt: number; trigger: string; started_at: string; success: boolean }

async function streamLeaders(urls: string[]): Promise<Record<string, string>> {
  const nc = await connect({ servers: urls, timeout: 2_000 });
  try {
    const jsm = await nc.jetstreamManager();
    const out: Record<string, string> = {};
    for (const s of ["KV_dkron-leader", "KV_dkron-ticks", "DKRON_EXECUTIONS"]) {
      out[s] = (await jsm.streams.info(s)).cluster?.leader ?? "?";
    }
    return out;
  } finally {
    await nc.close();
  }
}

async function allReplicasCurrent(urls: string[]): Promise<boolean> {
  const nc = await connect({ servers: urls, timeout: 2_000 });
  try {
    const jsm = await nc.jetstreamManager();
    for (const s of ["KV_dkron-leader", "KV_dkron-ticks", "KV_dkron-job-status", "KV_dkron-jobs", "DKRON_EXECUTIONS"]) {
      const c = (await jsm.streams.info(s)).cluster;
      if (!c?.leader || (c.replicas ?? []).some((r) => !r.current || r.offline)) return false;
    }
    return true;
  } finally {
    await nc.close();
  }
}

async function executions(c: TestCluster, exclude: string): Promise<Exec[]> {
  const s = c.serverOtherThan(exclude);
  return (await api<Exec[]>(s.url, "GET", "/v1/jobs/fo/executions?_start=0&_end=100000&_order=ASC")).body;
}

export async function failoverBench(args: string[]): Promise<void> {
  const kills = arg(args, "kills", 10);
  const c = await startCluster({ servers: 3, workers: 1, workerTags: () => ["role=worker"], prefix: "fb" });
  try {
    const s0 = c.servers[0]!;
    const r = await api(s0.url, "POST", "/v1/jobs", {
      name: "fo", schedule: "@every 1s", tags: { role: "worker" }, catchup: "all", catchup_window: "5m",
      executor_config: { command: "true" },
    });
    if (r.status !== 201) throw new Error(`create: ${JSON.stringify(r.body)}`);
    await until(async () => (await executions(c, "")).length >= 3, { timeoutMs: 30_000, message: "first executions" });
    const delays: number[] = [];
    const nextDelays: number[] = [];
    console.log("kill  killed  led(lease/ticks)  new leader  kill→next tick  kill→new leader's first launch  (catch-up launches)");
    for (let k = 1; k <= kills; k++) {
      await until(() => allReplicasCurrent(c.natsUrls()).catch(() => false), { timeoutMs: 60_000, message: "store replicas current" });
      const leaderName = await c.leader();
      const leaders = await streamLeaders(c.natsUrls());
      const victim = c.byName(leaderName);
      const killedAt = Date.now();
      victim.kill("SIGKILL");
      await victim.exited();
      const next = await until(async () => {
        const ex = (await executions(c, leaderName)).filter((e) => Date.parse(e.started_at) > killedAt);
        return ex.length ? ex : undefined;
      }, { timeoutMs: 60_000, message: "a tick after the kill" });
      const first = Math.min(...next.map((e) => Date.parse(e.started_at)));
      const newLeader = await until(async () => {
        const l = await c.leader();
        return l !== leaderName ? l : undefined;
      }, { timeoutMs: 60_000, message: "a new leader" });
      // The old leader dispatched at most ~200 ms ahead: later instants, and
      // catch-up launches, come from the new leader.
      const byNew = await until(async () => {
        const ex = (await executions(c, leaderName)).filter((e) =>
          Date.parse(e.started_at) > killedAt && (e.trigger === "catchup" || e.group / 1e6 > killedAt + 250));
        return ex.length ? Math.min(...ex.map((e) => Date.parse(e.started_at))) : undefined;
      }, { timeoutMs: 60_000, message: "a launch by the new leader" });
      delays.push(byNew - killedAt);
      nextDelays.push(first - killedAt);
      await until(async () => (await executions(c, leaderName)).some((e) => Date.parse(e.started_at) > first && e.trigger === "schedule"),
        { timeoutMs: 30_000, message: "scheduled ticks again" });
      const caught = (await executions(c, leaderName)).filter((e) => e.trigger === "catchup" && Date.parse(e.started_at) >= killedAt).length;
      console.log(`${String(k).padStart(4)}  ${leaderName.padEnd(6)}  ${(leaders["KV_dkron-leader"] === leaderName ? "yes" : "no").padEnd(5)}/${(leaders["KV_dkron-ticks"] === leaderName ? "yes" : "no").padEnd(10)}  ${newLeader.padEnd(10)}  ${fmt(first - killedAt).padStart(10)}  ${fmt(byNew - killedAt).padStart(12)}  (${caught})`);
      await victim.restart();
    }
    // Let the last outage's catch-up land, then count.
    await until(async () => (await executions(c, "")).length > 0, { timeoutMs: 10_000 });
    const all = await executions(c, "");
    const seen = new Map<string, number>();
    for (const e of all) seen.set(`${e.group}/${e.node_name}/${e.attempt}`, (seen.get(`${e.group}/${e.node_name}/${e.attempt}`) ?? 0) + 1);
    const duplicates = [...seen.values()].filter((n) => n > 1).length;
    const groups = [...new Set(all.map((e) => e.group / 1e6))].sort((a, b) => a - b);
    let missing = 0;
    for (let i = 1; i < groups.length; i++) missing += Math.round((groups[i]! - groups[i - 1]!) / 1000) - 1;
    const failed = all.filter((e) => !e.success).length;
    const p = percentiles(delays);
    const q = percentiles(nextDelays);
    console.log(`kill → next launched tick: median ${fmt(q.p50)}, max ${fmt(q.max)}`);
    console.log(`kill → first launch by the new leader: median ${fmt(p.p50)}, max ${fmt(p.max)} over ${delays.length} kills (targets: median ≤ 3 s, worst ≤ 10 s)`);
    console.log(`instants ${groups.length} (${all.length} executions, ${failed} failed): duplicates ${duplicates}, missing ${missing} (targets: 0 and 0)`);
  } catch (err) {
    // Show what the nodes said, so a failed run can be diagnosed.
    for (const s of c.servers) {
      const v = await api(s.url, "GET", "/debug/vars").catch((e: Error) => ({ body: e.message }));
      const n = await api<unknown[]>(s.url, "GET", "/v1/jobs/fo/executions?_start=0&_end=100000").catch(() => ({ body: [] }));
      console.error(`${s.nodeName}: ${JSON.stringify(v.body)} executions=${(n.body as unknown[]).length}`);
    }
    const dir = mkdtempSync(path.join(tmpdir(), "dkron-failover-logs-"));
    for (const a of [...c.servers, ...c.workers]) writeFileSync(path.join(dir, `${a.nodeName}.log`), a.logs());
    console.error(`full logs in ${dir}`);
    for (const a of [...c.servers, ...c.workers]) {
      const lines = a.logs().split("\n").filter((l) => /"level":(30|40|50|60)/.test(l)).slice(-25);
      console.error(`--- ${a.nodeName} ---\n${lines.map((l) => l.slice(0, 400)).join("\n")}`);
    }
    throw err;
  } finally {
    await c.stop();
  }
}
