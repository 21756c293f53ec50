// A real cluster on loopback for tests and benchmarks: N servers (each with
// its own embedded nats-server, routes between them) and M workers, random
// ports, temp dirs, cleanup by PID.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pickFreePort } from "../../src/server/nats/proc.js";
import { api, startAgent, type TestAgent } from "./agent.js";
import { until } from "./until.js";

export interface TestCluster {
  servers: TestAgent[];
  workers: TestAgent[];
  /** Route ports of the servers, by index. */
  routePorts: number[];
  /** Client (NATS) URLs of the servers that are up. */
  natsUrls(): string[];
  /** The current leader's name, as any live server reports it. */
  leader(): Promise<string>;
  /** A live server other than `name`. */
  serverOtherThan(name: string): TestAgent;
  byName(name: string): TestAgent;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  servers?: number;
  workers?: number;
  serverTags?: (i: number) => string[];
  workerTags?: (i: number) => string[];
  env?: Record<string, string>;
  prefix?: string;
}

const isUp = (a: TestAgent) => {
  try {
    process.kill(a.pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const n = opts.servers ?? 3;
  const prefix = opts.prefix ?? `c${process.pid % 10000}`;
  const routePorts = await Promise.all(Array.from({ length: n }, () => pickFreePort("127.0.0.1")));
  // Fixed client ports too, as in a real deployment (rpc-port 6868): a restarted
  // server comes back where workers and routes expect it.
  const rpcPorts = await Promise.all(Array.from({ length: n }, () => pickFreePort("127.0.0.1")));
  const servers = await Promise.all(routePorts.map((port, i) => startAgent({
    nodeName: `${prefix}-s${i + 1}`,
    env: opts.env,
    readyTimeoutMs: 60_000,
    args: [
      "--bind-addr", `127.0.0.1:${port}`,
      "--rpc-port", String(rpcPorts[i]),
      "--bootstrap-expect", String(n),
      ...routePorts.filter((_, j) => j !== i).flatMap((p) => ["--join", `127.0.0.1:${p}`]),
      ...(opts.serverTags?.(i) ?? []).flatMap((t) => ["--tag", t]),
    ],
  })));
  const natsUrls = () => servers.filter(isUp).map((s) => {
    const info = JSON.parse(readFileSync(path.join(s.dataDir, "agent.json"), "utf8")) as { nats: string[] };
    return info.nats[0]!;
  });
  const workers = await Promise.all(Array.from({ length: opts.workers ?? 0 }, (_, i) => startAgent({
    nodeName: `${prefix}-w${i + 1}`,
    server: false,
    env: opts.env,
    args: [...natsUrls().flatMap((u) => ["--nats-url", u]), ...(opts.workerTags?.(i) ?? []).flatMap((t) => ["--tag", t])],
  })));
  const cluster: TestCluster = {
    servers,
    workers,
    routePorts,
    natsUrls,
    byName: (name) => {
      const a = [...servers, ...workers].find((x) => x.nodeName === name);
      if (!a) throw new Error(`no node ${name}`);
      return a;
    },
    serverOtherThan: (name) => {
      const s = servers.find((x) => x.nodeName !== name && isUp(x));
      if (!s) throw new Error(`no live server other than ${name}`);
      return s;
    },
    leader: () => until(async () => {
      for (const s of servers.filter(isUp)) {
        try {
          const r = await api<{ Name: string }>(s.url, "GET", "/v1/leader");
          if (r.status === 200 && r.body.Name) return r.body.Name;
        } catch {
          // that one is down or starting
        }
      }
      return undefined;
    }, { timeoutMs: 30_000, message: "a leader" }),
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
  // Every server sees every node before tests begin.
  await until(async () => {
    for (const s of servers) {
      const r = await api<{ statusText: string }[]>(s.url, "GET", "/v1/members");
      if (r.body.filter((m) => m.statusText === "alive").length < n + workers.length) return false;
    }
    return true;
  }, { timeoutMs: 30_000, message: "all members alive on every server" });
  await cluster.leader();
  return cluster;
}
