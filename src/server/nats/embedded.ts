// The embedded NATS server: a `nats-server` child process that a server node
// spawns, waits for, supervises and stops. Everything it needs lives under one
// directory (<data-dir>/nats): the generated config, pid file, log file and the
// JetStream store. Nothing else in dkron may depend on the server being
// embedded: callers get a URL (and the token) and connect like to any NATS.
//
// Process hygiene:
// - the child gets no stdin and writes to its own log file (stdio ignored), so
//   no pipe can fill up and block it;
// - it runs in its own process group (a Ctrl-C on the agent's terminal reaches
//   only the agent, which then stops NATS last, after draining);
// - on Linux it is started through `setpriv --pdeathsig TERM` when available,
//   so it is told to shut down when the agent dies, even by `kill -9`;
// - on a normal exit of the agent it is sent SIGTERM from an exit hook;
// - if it is left behind anyway, the next start() on the same directory finds
//   it through the pid file and stops it before spawning a new one.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../logger.js";
import { DkronError } from "../../shared/errors.js";
import { AddressInUseError, errMessage, spawnNatsChild, terminateChild, waitChildReady, type ChildRecord } from "./child.js";
import { connectHost, formatHost, renderNatsConfig, validateSize } from "./config-file.js";
import { pickFreePort, readLogTail, untrackChild } from "./proc.js";
import { removePidFileIf, stopStaleServer } from "./stale.js";

export { NATS_INSTALL_HINT, findNatsServerBin } from "./bin.js";
export { ROUTE_USER } from "./config-file.js";
export { pickFreePort } from "./proc.js";

export interface EmbeddedNatsOptions {
  /** Resolved path of the nats-server binary (see findNatsServerBin). */
  bin: string;
  /** <data-dir>/nats: config file, pid file, log file, JetStream store (<dir>/store). */
  dir: string;
  /** This node's name; must be unique in a cluster (JetStream requires it). */
  serverName: string;
  /** Client listen host (default 127.0.0.1). */
  host: string;
  /** Client port (Dkron's rpc-port, 6868); 0 = pick a free one (kept across restarts). */
  port: number;
  /** Omit for a single node. Routes are "nats-route://h:p"; port 0 = pick a free one. */
  cluster?: { host: string; port: number; routes: string[]; name?: string };
  /** Shared secret: the client auth token, and the route user's password. */
  token?: string;
  /** Default "256MB". */
  maxMemoryStore?: string;
  /** Default "4GB". */
  maxFileStore?: string;
  logger: Logger;
  /** How long start() waits for the server to accept connections and answer JetStream (default 15000). */
  readyTimeoutMs?: number;
  /** Default true. Without JetStream, readiness is only "accepts a NATS connection" (tests). */
  jetstream?: boolean;
}

const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 5_000;
const HEALTHY_UPTIME_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const MAX_PORT_RETRIES = 5;

export class EmbeddedNats {
  private readonly opts: EmbeddedNatsOptions;
  private readonly log: Logger;
  private readonly dir: string;
  private readonly confPath: string;
  private readonly pidPath: string;
  private readonly logPath: string;
  private port: number;
  private clusterPort: number | undefined;
  private child: ChildRecord | undefined;
  private readonly restartCallbacks: Array<() => void> = [];
  private stopping = false;
  private supervising = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = RESTART_MIN_MS;
  private inflight: Promise<void> | undefined;
  private started = false;

  constructor(opts: EmbeddedNatsOptions) {
    this.opts = opts;
    this.log = opts.logger;
    this.dir = path.resolve(opts.dir);
    this.confPath = path.join(this.dir, "nats-server.conf");
    this.pidPath = path.join(this.dir, "nats-server.pid");
    this.logPath = path.join(this.dir, "nats-server.log");
    this.port = opts.port;
    this.clusterPort = opts.cluster?.port;
    validateSize("maxMemoryStore", opts.maxMemoryStore);
    validateSize("maxFileStore", opts.maxFileStore);
  }

  /** nats://host:port that local clients use; the port is final once start() resolved. */
  get url(): string {
    return `nats://${formatHost(connectHost(this.opts.host || "127.0.0.1"))}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.exitInfo ? undefined : this.child?.pid;
  }

  /** Path of the server's log file (kept across restarts; appended to). */
  get logFile(): string {
    return this.logPath;
  }

  onRestart(fn: () => void): void {
    this.restartCallbacks.push(fn);
  }

  /**
   * Stop a stale nats-server left on this dir, write the config, spawn, and wait until it accepts
   * a NATS connection and (single node) JetStream answers; then supervise it. Throws
   * DkronError("unavailable") with the tail of its log when it does not come up.
   */
  async start(): Promise<void> {
    if (this.started) throw new DkronError("conflict", "embedded nats-server already started");
    this.stopping = false;
    this.backoffMs = RESTART_MIN_MS;
    mkdirSync(path.join(this.dir, "store"), { recursive: true });
    const t0 = Date.now();
    const run = this.startWithPortRetries();
    this.inflight = run;
    try {
      await run;
    } finally {
      if (this.inflight === run) this.inflight = undefined;
    }
    if (this.stopping) throw new DkronError("unavailable", "embedded nats-server was stopped during start-up");
    this.started = true;
    this.supervising = true;
    this.log.info({ url: this.url, pid: this.pid, ms: Date.now() - t0, dir: this.dir }, "embedded nats-server ready");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.supervising = false;
    this.started = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    // A start or restart in flight notices `stopping` and gives up; its child is killed below.
    if (this.inflight) await this.inflight.catch(() => undefined);
    const rec = this.child;
    if (rec && !rec.exitInfo) {
      await this.terminate(rec);
      this.log.info({ pid: rec.pid }, "embedded nats-server stopped");
    }
    this.child = undefined;
    removePidFileIf(this.pidPath, rec?.pid);
  }

  /**
   * For tests: simulate our own crash. Supervision stops and the child is left
   * running, unknown to this object (as after `kill -9` of the agent).
   * @internal
   */
  abandon(): void {
    this.stopping = true;
    this.supervising = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.child) untrackChild(this.child.proc);
    this.child = undefined;
  }

  // ---------------------------------------------------------------------------

  private async startWithPortRetries(): Promise<void> {
    const autoPort = this.opts.port === 0;
    const autoCluster = this.opts.cluster !== undefined && this.opts.cluster.port === 0;
    for (let attempt = 1; ; attempt++) {
      if (autoPort) this.port = await pickFreePort(this.opts.host || "127.0.0.1");
      if (autoCluster) this.clusterPort = await pickFreePort(this.opts.cluster!.host);
      try {
        await this.spawnAndWait();
        return;
      } catch (err) {
        const retryable = (autoPort || autoCluster) && err instanceof AddressInUseError && attempt < MAX_PORT_RETRIES;
        if (!retryable) throw err instanceof AddressInUseError ? err.toDkron() : err;
        this.log.debug({ attempt }, "picked port was taken meanwhile, retrying with another");
      }
    }
  }

  /** Stop a stale server, write the config, spawn, wait until ready. Throws DkronError("unavailable"). */
  private async spawnAndWait(): Promise<void> {
    await this.killStale();
    if (this.stopping) throw new DkronError("unavailable", "embedded nats-server is stopping");
    writeFileSync(this.confPath, this.renderConfig(), { mode: 0o600 });
    const rec = this.spawnChild();
    this.child = rec;
    try {
      await this.waitReady(rec);
      rec.readyAt = Date.now();
    } catch (err) {
      if (!rec.exitInfo) await this.terminate(rec);
      throw err;
    }
  }

  private spawnChild(): ChildRecord {
    return spawnNatsChild({
      bin: this.opts.bin,
      confPath: this.confPath,
      cwd: this.dir,
      pidPath: this.pidPath,
      logPath: this.logPath,
      log: this.log,
      onExit: (rec) => this.onChildExit(rec),
    });
  }

  private waitReady(rec: ChildRecord): Promise<void> {
    return waitChildReady(rec, {
      url: this.url,
      host: connectHost(this.opts.host || "127.0.0.1"),
      port: this.port,
      token: this.opts.token,
      checkJetStream: (this.opts.jetstream ?? true) && !this.opts.cluster,
      timeoutMs: this.opts.readyTimeoutMs ?? 15_000,
      logPath: this.logPath,
      isStopping: () => this.stopping,
    });
  }

  private onChildExit(rec: ChildRecord): void {
    if (rec !== this.child) return;
    const info = rec.exitInfo!;
    if (rec.expectedExit || this.stopping || !this.supervising || rec.readyAt === undefined) return;
    this.child = undefined;
    if (Date.now() - rec.readyAt >= HEALTHY_UPTIME_MS) this.backoffMs = RESTART_MIN_MS;
    const restartInMs = this.backoffMs;
    void readLogTail(this.logPath, rec.logOffset, 5).then((tail) => {
      this.log.warn(
        { pid: rec.pid, code: info.code, signal: info.signal, restartInMs, logTail: tail },
        "embedded nats-server exited unexpectedly; restarting",
      );
    });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopping || !this.supervising) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RESTART_MAX_MS);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      const t0 = Date.now();
      const run = this.spawnAndWait();
      this.inflight = run;
      run.then(
        () => {
          if (this.inflight === run) this.inflight = undefined;
          if (this.stopping) return;
          this.log.info({ url: this.url, pid: this.pid, ms: Date.now() - t0 }, "embedded nats-server restarted");
          for (const fn of this.restartCallbacks) {
            try {
              fn();
            } catch (err) {
              this.log.error({ err }, "nats restart callback failed");
            }
          }
        },
        (err: unknown) => {
          if (this.inflight === run) this.inflight = undefined;
          if (this.stopping) return;
          this.log.error({ err: errMessage(err), retryInMs: this.backoffMs }, "embedded nats-server restart failed");
          this.scheduleRestart();
        },
      );
    }, delay);
    this.restartTimer.unref();
  }

  /** SIGTERM, wait up to 10 s, then SIGKILL. */
  private terminate(rec: ChildRecord): Promise<void> {
    return terminateChild(rec, this.log, STOP_GRACE_MS);
  }

  private killStale(): Promise<void> {
    return stopStaleServer({
      pidPath: this.pidPath,
      confPath: this.confPath,
      dir: this.dir,
      log: this.log,
      graceMs: STOP_GRACE_MS,
      isCurrentChild: (pid) => this.child !== undefined && this.child.pid === pid && !this.child.exitInfo,
    });
  }

  private renderConfig(): string {
    const o = this.opts;
    return renderNatsConfig({
      serverName: o.serverName,
      host: o.host,
      port: this.port,
      pidFile: this.pidPath,
      logFile: this.logPath,
      jetstream:
        (o.jetstream ?? true)
          ? { storeDir: path.join(this.dir, "store"), maxMemoryStore: o.maxMemoryStore, maxFileStore: o.maxFileStore }
          : undefined,
      token: o.token,
      cluster: o.cluster && { ...o.cluster, port: this.clusterPort },
    });
  }
}

