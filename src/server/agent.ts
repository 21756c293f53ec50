// Composes a dkron node: NATS (embedded or external), the runner, and on
// servers the store, read model, membership, leadership, scheduler and API.
// Leadership is an explicit lifecycle: establish() when the lease is won,
// revoke() when it is lost (Dkron's leader.go, DESIGN.md "Leadership").
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection, type Subscription } from "nats";
import { DkronError, isDkronError } from "../shared/errors.js";
import type { JobSpec, JobStatus } from "../shared/job.js";
import type { Heartbeat } from "../shared/member.js";
import type { ExecutionRecord } from "../shared/execution.js";
import { VERSION } from "../shared/version.js";
import type { AgentConfig } from "./config.js";
import { acquireDataDirLock, type DataDirLock } from "./datadir-lock.js";
import { EmbeddedNats, findNatsServerBin } from "./nats/embedded.js";
import type { Logger } from "./logger.js";
import { ensureStore, DEFAULT_STORE_OPTIONS, type Buckets } from "./store/setup.js";
import { KvMirror } from "./store/kv-mirror.js";
import { retryWithBackoff } from "./store/retry.js";
import { EXECUTIONS_STREAM, SUBJECT } from "./store/names.js";
import { decodeJson, encodeJson } from "./store/codec.js";
import { JobCatalog } from "./jobs/catalog.js";
import { shellExecutor } from "./executors/shell.js";
import { httpExecutor } from "./executors/http.js";
import { natsExecutor } from "./executors/nats.js";
import { Notifier } from "./notify/index.js";
import { closeDefaultExecHost, defaultExecHost } from "./executors/exec-host/client.js";
import type { Executor } from "./executors/types.js";
import { Outbox } from "./runner/outbox.js";
import { Runner } from "./runner/runner.js";
import { Heartbeater, MemberTable, DEFAULT_MEMBER_TIMINGS } from "./cluster/members.js";
import { ReadModelDb } from "./readmodel/db.js";
import { ReadModelFeeder } from "./readmodel/feeder.js";
import { LeaderLease, defaultLeaseTimings } from "./leader/lease.js";
import { Scheduler, type TickClaim } from "./scheduler/scheduler.js";
import { Leadership } from "./leader/leadership.js";
import { ClusterOps } from "./cluster-ops.js";
import { Dispatcher } from "./scheduler/dispatch.js";
import { StatusWriter } from "./scheduler/status-writer.js";
import { LagRecorder } from "./lag.js";
import { Metrics } from "./metrics.js";
import { createHttpServer } from "./api/http.js";
import { buildRouter } from "./api/routes.js";
import { startEventFeed } from "./api/event-feed.js";

/** How far ahead of each instant the leader claims and dispatches (see Scheduler). */
const SCHEDULE_LEAD_MS = 200;
const JS_TIMEOUT_MS = 2_000;

interface ServerParts {
  buckets: Buckets;
  jobs: KvMirror<JobSpec>;
  statuses: KvMirror<JobStatus>;
  ticks: KvMirror<TickClaim>;
  settings: KvMirror<{ paused: boolean }>;
  catalog: JobCatalog;
  readModel: ReadModelDb;
  feeder: ReadModelFeeder;
  members: MemberTable;
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  statusWriter: StatusWriter;
  lease: LeaderLease;
  http: Server;
  events: { stop(): void };
}

export class Agent {
  private lock: DataDirLock | undefined;
  private embedded: EmbeddedNats | undefined;
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private outbox!: Outbox;
  private runner!: Runner;
  private heartbeater!: Heartbeater;
  private s: ServerParts | undefined;
  private readonly startedAt = Date.now();
  readonly executors: Map<string, Executor> = new Map([["shell", shellExecutor], ["http", httpExecutor], ["nats", natsExecutor]]);
  readonly lag = new LagRecorder(100_000);
  private onFireLag: ((ms: number) => void) | undefined;
  /** How long before their start instant scheduled launches reach the runner. */
  readonly slack = new LagRecorder(100_000);
  httpAddress = "";
  /** Called when the API asks this agent to leave (POST /v1/leave); the CLI wires it to shutdown. */
  onLeave: () => void = () => void this.stop();

  constructor(readonly cfg: AgentConfig, private readonly log: Logger) {}

  async start(): Promise<void> {
    const cfg = this.cfg;
    this.lock = acquireDataDirLock(cfg.dataDir);
    const servers = await this.startNats();
    this.nc = await connect({
      servers,
      name: `dkron-${cfg.nodeName}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      ...(cfg.encrypt ? { token: cfg.encrypt } : {}),
    });
    // Requests sent while the client reconnects can lose their reply and wait
    // out the whole timeout: keep it short, the callers retry.
    this.js = this.nc.jetstream({ timeout: JS_TIMEOUT_MS });
    // No API check here: a clustered JetStream answers only once its routes are up (ensureStore retries).
    this.jsm = await this.nc.jetstreamManager({ timeout: JS_TIMEOUT_MS, checkAPI: false });
    this.outbox = new Outbox(path.join(cfg.dataDir, "outbox.db"), this.js, this.log);
    this.runner = new Runner(this.nc, this.js, cfg.nodeName, this.executors, this.outbox, this.log, {
      onStart: (req, at) => {
        if (req.trigger !== "schedule") return;
        this.lag.record(at - req.group_ms);
        this.onFireLag?.(at - req.group_ms);
      },
      onReceived: (_req, slack) => this.slack.record(slack),
    });
    if (cfg.server) this.s = await this.startServer();
    defaultExecHost().warm();
    this.runner.start();
    void this.outbox.flush();
    this.heartbeater = new Heartbeater(this.nc, () => this.heartbeat(), DEFAULT_MEMBER_TIMINGS);
    this.heartbeater.start();
    this.s?.lease.start();
    // Where this agent can be reached: read by scripts and test harnesses.
    writeFileSync(path.join(cfg.dataDir, "agent.json"), JSON.stringify({
      pid: process.pid, node: cfg.nodeName, http: this.httpAddress, nats: servers, server: cfg.server, started_at: this.startedAt,
    }));
    this.log.info({ server: cfg.server, http: this.httpAddress, nats: servers }, "agent started");
  }

  private async startNats(): Promise<string[]> {
    const cfg = this.cfg;
    if (cfg.natsUrls.length) return cfg.natsUrls;
    if (!cfg.server) {
      const joins = [...cfg.join, ...cfg.retryJoin];
      if (!joins.length) throw new DkronError("invalid_argument", "a worker needs --join HOST[:6868] or --nats-url URL");
      return joins.map((j) => `nats://${j.includes(":") ? j : `${j}:6868`}`);
    }
    const joins = [...cfg.join, ...cfg.retryJoin];
    const clustered = cfg.bootstrapExpect > 1 || joins.length > 0;
    this.embedded = new EmbeddedNats({
      bin: findNatsServerBin(cfg.natsServerBin),
      dir: path.join(cfg.dataDir, "nats"),
      serverName: cfg.nodeName,
      host: cfg.bindHost,
      port: cfg.rpcPort,
      // --join HOST[:PORT] names other servers' route listeners (Dkron's Serf port, 8946).
      ...(clustered ? {
        cluster: {
          host: cfg.bindHost,
          port: cfg.bindPort,
          routes: joins.map((j) => `nats-route://${withPort(j, 8946)}`),
        },
      } : {}),
      ...(cfg.encrypt ? { token: cfg.encrypt } : {}),
      logger: this.log.child({ component: "nats-server" }),
    });
    await this.embedded.start();
    return [this.embedded.url];
  }

  private async startServer(): Promise<ServerParts> {
    const cfg = this.cfg;
    mkdirSync(cfg.dataDir, { recursive: true });
    const buckets = (await retryWithBackoff(() => ensureStore(this.js, this.jsm, {
      ...DEFAULT_STORE_OPTIONS,
      replicas: cfg.bootstrapExpect,
      leaseTtlMs: cfg.leaseTtlMs,
      executionsPerJob: cfg.executionsPerJob,
    }), { what: "creating the store (waiting for the cluster to form)", log: this.log }))!;
    const jobs = new KvMirror<JobSpec>(buckets.jobs, this.nc, this.log, "jobs");
    const statuses = new KvMirror<JobStatus>(buckets.status, this.nc, this.log, "status");
    const ticks = new KvMirror<TickClaim>(buckets.ticks, this.nc, this.log, "ticks");
    await Promise.all([jobs.start(), statuses.start(), ticks.start()]);
    const catalog = new JobCatalog(jobs, statuses);
    const readModel = new ReadModelDb(path.join(cfg.dataDir, "dkron.db"), cfg.executionsPerJob);
    const feeder = new ReadModelFeeder(this.nc, this.js, this.jsm, readModel, this.log);
    await feeder.start();
    jobs.on((ev) => {
      if (ev.op === "delete") readModel.deleteJob(ev.key);
      else if (ev.previous?.incarnation !== ev.value.incarnation && ev.value.incarnation) {
        readModel.deleteOtherIncarnations(ev.key, ev.value.incarnation);
      }
    });
    const members = new MemberTable(this.nc, DEFAULT_MEMBER_TIMINGS, this.log);
    members.start();
    const metrics = new Metrics({
      leader: () => (lease?.isLeader ? 1 : 0),
      jobs: () => jobs.size,
      members: () => {
        const out: Record<string, number> = { alive: 0, leaving: 0, left: 0, failed: 0 };
        for (const m of members.json(undefined)) out[m.statusText] = (out[m.statusText] ?? 0) + 1;
        return out;
      },
    });
    feeder.onRecord((r) => metrics.finished(r));
    this.onFireLag = (ms) => metrics.fireLag(ms);
    members.observe(this.heartbeat());
    let lease!: LeaderLease;
    const dispatcher = new Dispatcher(this.nc, this.js, members, { ackTimeoutMs: 2_000, leaderName: cfg.nodeName },
      this.log, () => lease.epoch);
    const scheduler = new Scheduler({
      catalog,
      ticks: buckets.ticks,
      ticksMirror: ticks,
      holdsLease: () => lease.holds(),
      selectTargets: (spec) => dispatcher.select(spec),
      dispatch: async (spec, group, trigger, targets) => {
        const nodes = await dispatcher.dispatch(spec, group, trigger, 1, trigger === "schedule" ? group : undefined, targets);
        leadership.outcomes.launched(spec.name, group, nodes);
      },
      leadMs: SCHEDULE_LEAD_MS,
      isRunning: (job) => this.isRunning(job),
      killRunning: async (job) => {
        const running = readModel.query({ job, status: "running", sort: "started_at", order: "ASC", start: 0 }).items;
        for (const r of running) await ops.kill(r.id, job).catch(() => undefined);
        // Replace means one at a time: wait (bounded) until the killed ones are recorded as finished.
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline && running.some((r) => readModel.get(job, r.id)?.finished_at === null)) {
          await new Promise((res) => setTimeout(res, 20));
        }
      },
      onStale: (reason) => void lease.stepDown(reason),
      log: this.log.child({ component: "scheduler" }),
    });
    const statusWriter = new StatusWriter(this.js, this.jsm, statuses, jobs, this.log);
    const notifier = new Notifier(cfg.notify, this.log.child({ component: "notify" }));
    if (cfg.notify.preWebhookEndpoint) {
      // Once per started execution, sent by the leader only.
      feeder.onRecord((r) => {
        const spec = r.state === "started" && lease.isLeader ? catalog.spec(r.job_name) : undefined;
        if (spec) void notifier.notifyStarting(spec, r).catch(() => undefined);
      });
    }
    const settings = new KvMirror<{ paused: boolean }>(buckets.cluster, this.nc, this.log, "cluster");
    await settings.start();
    let ops!: ClusterOps;
    const leadership = new Leadership({
      nc: this.nc, jsm: this.jsm, node: cfg.nodeName,
      stepDownStore: !!this.embedded && cfg.bootstrapExpect > 1,
      catalog, readModel, members, dispatcher, scheduler, statusWriter,
      holdsLease: () => lease.holds(),
      isRunning: (job) => this.isRunning(job),
      deleteJob: async (name) => void (await ops.deleteJob(name)),
      notify: (spec, r, group) => notifier.notifyFinished(spec, r, group),
      failAfterMs: DEFAULT_MEMBER_TIMINGS.failAfterMs,
      lastScheduled: (job) => ticks.get(job)?.value.instant,
      log: this.log,
    });
    lease = new LeaderLease(buckets.leader, cfg.nodeName, defaultLeaseTimings(cfg.leaseTtlMs), {
      onAcquire: (epoch) => leadership.establish(epoch),
      onLose: () => leadership.revoke(),
    }, this.log.child({ component: "lease" }));
    ops = new ClusterOps({
      nc: this.nc, jsm: this.jsm, node: cfg.nodeName, buckets, catalog, readModel, members, dispatcher,
      runner: this.runner, lease: () => lease, leadership: () => leadership, settings,
    });
    const router = buildRouter({
      nodeName: cfg.nodeName,
      version: VERSION,
      catalog,
      readModel,
      executors: this.executors,
      members: () => members.json(lease.leader?.node),
      leaderName: () => lease.leader?.node,
      isLeader: () => lease.isLeader,
      ops: () => ops,
      liveOutput: (rec) => this.liveOutput(rec),
      leave: () => setImmediate(() => this.onLeave()),
      metrics: () => metrics.text(),
      debugVars: (lagSince) => ({
        node: cfg.nodeName,
        scheduler_started: scheduler.isActive,
        cron_entries: catalog.jobs.size,
        fire_lag_ms: this.lag.summary(lagSince),
        dispatch_slack_ms: this.slack.summary(lagSince),
        scheduler: scheduler.stats,
        outbox_pending: this.outbox.pending,
        read_model_seq: readModel.lastSeq(),
        mirrors: { jobs: jobs.size, statuses: statuses.size, ticks: ticks.size },
      }),
      tags: cfg.tags,
    });
    const http = createHttpServer(router, {
      nodeName: cfg.nodeName,
      log: this.log,
      authorize: cfg.apiToken ? (req) => {
        const auth = req.headers.authorization ?? "";
        const token = auth.startsWith("Bearer ") ? auth.slice(7) : req.headers["x-dkron-token"];
        if (token !== cfg.apiToken) throw new DkronError("unauthorized", "a valid API token is required for this route (Authorization: Bearer TOKEN)");
      } : undefined,
    });
    await new Promise<void>((resolve, reject) => {
      http.once("error", (err: NodeJS.ErrnoException) =>
        reject(new DkronError("unavailable", `cannot listen on ${cfg.httpHost}:${cfg.httpPort}: ${err.code ?? err.message}`)));
      http.listen(cfg.httpPort, cfg.httpHost, () => resolve());
    });
    const addr = http.address();
    if (addr && typeof addr === "object") this.httpAddress = `http://${addr.address.includes(":") ? `[${addr.address}]` : addr.address}:${addr.port}`;
    const events = startEventFeed({
      nc: this.nc, node: cfg.nodeName, catalog, jobs, statuses, readModel, feeder, members,
      leader: () => lease.leader?.node ?? null,
      liveOutputAt: (rec) => this.liveOutputAt(rec),
      log: this.log,
    });
    events.hub.attach(http);
    return { buckets, jobs, statuses, ticks, settings, catalog, readModel, feeder, members, dispatcher, scheduler, statusWriter, lease, http, events };
  }

  private heartbeat(): Heartbeat {
    return {
      name: this.cfg.nodeName,
      addr: this.cfg.advertiseAddr.split(":")[0] ?? "127.0.0.1",
      port: Number(this.cfg.advertiseAddr.split(":")[1] ?? this.cfg.bindPort),
      http: this.httpAddress,
      tags: this.cfg.tags,
      server: this.cfg.server,
      version: VERSION,
      running: this.runner?.runningExecutions() ?? [],
      started_at: this.startedAt,
    };
  }

  /**
   * For concurrency "forbid": running here, in a live node's heartbeat, launched
   * by this leader and not finished yet, or started-but-unfinished in the
   * executions on a node that is alive (executions of dead nodes never count).
   */
  private isRunning(job: string): boolean {
    if (this.runner.runningExecutions().some((r) => r.job === job)) return true;
    const s = this.s;
    if (!s) return false;
    if (s.members.alive().some((m) => m.hb.running.some((r) => r.job === job))) return true;
    if (s.dispatcher.hasInflight(job)) return true;
    return s.readModel.runningNodes(job).some((node) => s.members.isAlive(node));
  }

  /** Live output of a running execution, local or from the node that runs it. */
  private async liveOutput(rec: ExecutionRecord): Promise<string | undefined> {
    return (await this.liveOutputAt(rec))?.output;
  }

  private async liveOutputAt(rec: ExecutionRecord): Promise<{ output: string; total: number } | undefined> {
    if (rec.node_name === this.cfg.nodeName) return this.runner.partialOutputAt(rec.id);
    try {
      const msg = await this.nc.request(SUBJECT.agentOutput(rec.node_name), encodeJson({ id: rec.id }), { timeout: 1_000 });
      const r = decodeJson<{ output: string | null; total?: number }>(msg.data);
      return r.output === null ? undefined : { output: r.output, total: r.total ?? 0 };
    } catch {
      return undefined;
    }
  }

  /** Graceful stop: leave, hand over leadership, wait (bounded) for executions, stop NATS. */
  async stop(): Promise<void> {
    // Refused before taking the data dir (e.g. another agent holds it): nothing of ours to stop.
    if (!this.lock) return;
    this.log.info("shutting down");
    await this.heartbeater?.leave();
    await this.s?.lease.stop();
    const left = await this.runner?.drain(this.cfg.shutdownTimeoutMs);
    if (left) {
      this.log.warn({ running: left }, "executions still running after the shutdown timeout; killing them");
      for (const r of this.runner.runningExecutions()) this.runner.kill(r.id, "agent shut down");
      await this.runner.drain(5_000);
    }
    await Promise.race([this.outbox?.flush(), new Promise((r) => setTimeout(r, 5_000))]);
    if (this.s) {
      this.s.events.stop();
      await new Promise<void>((r) => this.s!.http.close(() => r()));
      this.s.http.closeAllConnections?.();
      this.s.feeder.stop();
      this.s.members.stop();
      this.s.jobs.stop();
      this.s.statuses.stop();
      this.s.ticks.stop();
      this.s.settings.stop();
      this.s.readModel.close();
    }
    this.heartbeater?.stop();
    closeDefaultExecHost();
    this.outbox?.close();
    await this.nc?.drain().catch(() => undefined);
    await this.embedded?.stop();
    rmSync(path.join(this.cfg.dataDir, "agent.json"), { force: true });
    this.lock?.release();
    this.log.info("stopped");
  }
}

const withPort = (hostPort: string, port: number): string =>
  /:\d+$/.test(hostPort) && !/^\[[^\]]*$/.test(hostPort) ? hostPort : `${hostPort}:${port}`;

