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

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants, existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { connect, type NatsConnection } from "nats";
import type { Logger } from "../logger.js";
import { DkronError } from "../../shared/errors.js";

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

export const NATS_INSTALL_HINT =
  "install it (Debian/Ubuntu: sudo apt-get install nats-server; macOS: brew install nats-server) or pass --nats-server-bin PATH";

/** User name routes authenticate with when a token is set (the token is the password). */
export const ROUTE_USER = "dkron";

const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 5_000;
const HEALTHY_UPTIME_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const MAX_PORT_RETRIES = 5;

interface ChildRecord {
  proc: ChildProcess;
  pid: number | undefined;
  /** Byte offset of the log file when this child was spawned: its own log starts there. */
  logOffset: number;
  /** Set once it passed the readiness check; only ready children are restarted on exit. */
  readyAt?: number;
  /** Set when we asked it to exit (stop, failed start): its exit is expected. */
  expectedExit: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  exitInfo?: { code: number | null; signal: NodeJS.Signals | null; error?: Error };
}

// Children to SIGTERM if this process exits without stopping them.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(proc: ChildProcess): void {
  liveChildren.add(proc);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of liveChildren) {
        try {
          c.kill("SIGTERM");
        } catch {
          /* already gone */
        }
      }
    });
  }
}

let setprivPath: string | null | undefined;
/** `setpriv` with --pdeathsig support (util-linux ≥ 2.33), Linux only. */
function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform !== "linux" || process.env.DKRON_NATS_NO_PDEATHSIG) return setprivPath;
  for (const p of ["/usr/bin/setpriv", "/bin/setpriv"]) {
    if (!isExecutableFile(p)) continue;
    try {
      const help = execFileSync(p, ["--help"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 2_000 });
      if (help.includes("--pdeathsig")) setprivPath = p;
    } catch {
      /* unusable */
    }
    break;
  }
  return setprivPath;
}

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
    this.removePidFileIf(rec?.pid);
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
    if (this.child) liveChildren.delete(this.child.proc);
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
    let logOffset = 0;
    try {
      logOffset = statSync(this.logPath).size;
    } catch {
      /* no log yet */
    }
    const setpriv = findSetpriv();
    const [cmd, args] = setpriv
      ? [setpriv, ["--pdeathsig", "TERM", "--", this.opts.bin, "-c", this.confPath]]
      : [this.opts.bin, ["-c", this.confPath]];
    const proc = spawn(cmd, args, { stdio: "ignore", detached: true, cwd: this.dir, env: process.env });
    let resolveExit!: (v: { code: number | null; signal: NodeJS.Signals | null; error?: Error }) => void;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((r) => (resolveExit = r));
    const rec: ChildRecord = { proc, pid: proc.pid, logOffset, expectedExit: false, exited };
    const onDone = (info: { code: number | null; signal: NodeJS.Signals | null; error?: Error }) => {
      if (rec.exitInfo) return;
      rec.exitInfo = info;
      liveChildren.delete(proc);
      resolveExit(info);
      this.onChildExit(rec);
    };
    proc.once("exit", (code, signal) => onDone({ code, signal }));
    proc.once("error", (error) => onDone({ code: null, signal: null, error }));
    proc.unref();
    if (proc.pid !== undefined) {
      trackChild(proc);
      // nats-server writes the same pid itself once up; writing it now covers a crash before that.
      try {
        writeFileSync(this.pidPath, `${proc.pid}`);
      } catch {
        /* best effort */
      }
    }
    this.log.debug({ pid: proc.pid, conf: this.confPath }, "spawned nats-server");
    return rec;
  }

  private async waitReady(rec: ChildRecord): Promise<void> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    const jetstream = this.opts.jetstream ?? true;
    let lastErr: unknown;
    while (true) {
      if (rec.exitInfo) throw await this.startFailure(rec, "exited during start-up");
      if (this.stopping) throw new DkronError("unavailable", "embedded nats-server is stopping");
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      let nc: NatsConnection | undefined;
      try {
        // A raw look for the INFO greeting first: cheap, and unlike a failed client connect it
        // never leaves a socket open (if something else holds the port, nats-server exits and
        // the next turn of the loop reports it).
        if (!(await probeInfo(connectHost(this.opts.host || "127.0.0.1"), this.port, Math.min(1_000, remaining), rec.exited))) {
          throw new Error(`no NATS greeting on ${this.url}`);
        }
        nc = await connect({
          servers: this.url,
          token: this.opts.token,
          reconnect: false,
          timeout: Math.max(250, Math.min(2_000, remaining)),
          name: "dkron-embedded-probe",
        });
        // A clustered server does not answer JetStream until its routes are up and a meta
        // leader is elected (2.9.10: no answer at all for ~10 s when alone). Quorum is the
        // cluster's business, not this process's: a clustered server is ready once it accepts
        // clients, and callers retry JetStream calls as they must after any leader change.
        if (!jetstream || this.opts.cluster) return;
        const jsm = await nc.jetstreamManager({ timeout: Math.max(250, Math.min(2_000, remaining)), checkAPI: false });
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        lastErr = err;
      } finally {
        if (nc) await nc.close().catch(() => undefined);
      }
      await within(rec.exited, 50);
    }
    throw await this.startFailure(rec, `did not become ready within ${timeoutMs} ms (last error: ${errMessage(lastErr)})`);
  }

  private async startFailure(rec: ChildRecord, what: string): Promise<Error> {
    // Give the child a moment to flush its last words.
    if (rec.exitInfo) await sleep(20);
    const tail = await this.logTail(rec.logOffset);
    const exit = rec.exitInfo
      ? rec.exitInfo.error
        ? ` (spawn failed: ${rec.exitInfo.error.message})`
        : ` (exit code ${rec.exitInfo.code ?? "none"}${rec.exitInfo.signal ? `, signal ${rec.exitInfo.signal}` : ""})`
      : "";
    const msg = `embedded nats-server ${what}${exit}; log ${this.logPath}:\n${tail || "(empty)"}`;
    if (/address already in use/i.test(tail)) return new AddressInUseError(msg);
    return new DkronError("unavailable", msg);
  }

  private async logTail(offset: number, maxLines = 20): Promise<string> {
    try {
      const fh = await open(this.logPath, "r");
      try {
        const { size } = await fh.stat();
        const start = Math.max(offset, size - 8_192);
        const buf = Buffer.alloc(Math.max(0, size - start));
        await fh.read(buf, 0, buf.length, start);
        const lines = buf.toString("utf8").split("\n").filter((l) => l.trim() !== "");
        return lines.slice(-maxLines).join("\n");
      } finally {
        await fh.close();
      }
    } catch {
      return "";
    }
  }

  private onChildExit(rec: ChildRecord): void {
    if (rec !== this.child) return;
    const info = rec.exitInfo!;
    if (rec.expectedExit || this.stopping || !this.supervising || rec.readyAt === undefined) return;
    this.child = undefined;
    if (Date.now() - rec.readyAt >= HEALTHY_UPTIME_MS) this.backoffMs = RESTART_MIN_MS;
    const restartInMs = this.backoffMs;
    void this.logTail(rec.logOffset, 5).then((tail) => {
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
  private async terminate(rec: ChildRecord): Promise<void> {
    rec.expectedExit = true;
    if (rec.exitInfo) return;
    signalPid(rec.proc, "SIGTERM");
    if (!(await within(rec.exited, STOP_GRACE_MS)) && !rec.exitInfo) {
      this.log.warn({ pid: rec.pid }, "nats-server did not stop within 10 s; killing it");
      signalPid(rec.proc, "SIGKILL");
      await within(rec.exited, 5_000);
    }
  }

  /** A nats-server left running on this directory (we crashed) is stopped before we start another. */
  private async killStale(): Promise<void> {
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(this.pidPath, "utf8").trim(), 10);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
    if (this.child && this.child.pid === pid && !this.child.exitInfo) return;
    if (!this.isOurNatsServer(pid)) {
      this.removePidFileIf(pid);
      return;
    }
    this.log.warn({ pid, dir: this.dir }, "stopping a stale nats-server left running on this data dir");
    killQuietly(pid, "SIGTERM");
    if (!(await waitGone(() => this.isOurNatsServer(pid), STOP_GRACE_MS))) {
      killQuietly(pid, "SIGKILL");
      if (!(await waitGone(() => this.isOurNatsServer(pid), 5_000))) {
        throw new DkronError("unavailable", `a stale nats-server (pid ${pid}) on ${this.dir} could not be stopped`);
      }
    }
    this.removePidFileIf(pid);
  }

  /** True if pid is a live nats-server started with our config file (not a reused pid). */
  private isOurNatsServer(pid: number): boolean {
    const cmd = readCmdline(pid);
    return cmd !== undefined && cmd.includes("nats-server") && cmd.includes(this.confPath);
  }

  private removePidFileIf(pid: number | undefined): void {
    if (pid === undefined) return;
    try {
      if (Number.parseInt(readFileSync(this.pidPath, "utf8").trim(), 10) === pid) unlinkSync(this.pidPath);
    } catch {
      /* gone */
    }
  }

  private renderConfig(): string {
    const o = this.opts;
    const q = (s: string) => JSON.stringify(s);
    const host = o.host || "127.0.0.1";
    const lines = [
      "# Generated by dkron on every start of the embedded nats-server; edits are overwritten.",
      `server_name: ${q(o.serverName)}`,
      `listen: ${q(`${formatHost(host)}:${this.port}`)}`,
      `pid_file: ${q(this.pidPath)}`,
      `log_file: ${q(this.logPath)}`,
      "logtime: true",
      "max_payload: 8MB",
    ];
    if (o.jetstream ?? true) {
      lines.push(
        "jetstream {",
        `  store_dir: ${q(path.join(this.dir, "store"))}`,
        `  max_memory_store: ${o.maxMemoryStore ?? "256MB"}`,
        `  max_file_store: ${o.maxFileStore ?? "4GB"}`,
        "}",
      );
    }
    if (o.token !== undefined) lines.push("authorization {", `  token: ${q(o.token)}`, "}");
    if (o.cluster) {
      const c = o.cluster;
      const routes = c.routes.map((r) => (o.token !== undefined ? withRouteCredentials(r, o.token) : r));
      lines.push(
        "cluster {",
        `  name: ${q(c.name ?? "dkron")}`,
        `  listen: ${q(`${formatHost(c.host)}:${this.clusterPort}`)}`,
      );
      if (o.token !== undefined) {
        lines.push("  authorization {", `    user: ${q(ROUTE_USER)}`, `    password: ${q(o.token)}`, "  }");
      }
      lines.push(`  routes: [${routes.map(q).join(", ")}]`, "}");
    }
    return lines.join("\n") + "\n";
  }
}

class AddressInUseError extends Error {
  toDkron(): DkronError {
    return new DkronError("unavailable", this.message);
  }
}

/**
 * Where is nats-server? The explicit flag, then $DKRON_NATS_SERVER_BIN, then PATH (plus sbin
 * directories that are often not on a user's PATH). Throws DkronError("unavailable") with how to install it.
 */
export function findNatsServerBin(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const given: Array<[string, string]> = [];
  if (explicit) given.push([explicit, "--nats-server-bin"]);
  else if (env.DKRON_NATS_SERVER_BIN) given.push([env.DKRON_NATS_SERVER_BIN, "DKRON_NATS_SERVER_BIN"]);
  for (const [p, from] of given) {
    if (p.includes("/") || p.includes(path.sep)) {
      if (isExecutableFile(p)) return path.resolve(p);
    } else {
      const found = searchPath(p, env);
      if (found) return found;
    }
    throw new DkronError("unavailable", `nats-server not found at ${p} (from ${from}): ${NATS_INSTALL_HINT}`);
  }
  const found = searchPath("nats-server", env);
  if (found) return found;
  throw new DkronError("unavailable", `nats-server not found: ${NATS_INSTALL_HINT}`);
}

function searchPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const extra of ["/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin", "/usr/local/bin"]) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
  for (const d of dirs) {
    for (const n of names) {
      const p = path.resolve(d, n);
      if (isExecutableFile(p)) return p;
    }
  }
  return undefined;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function withRouteCredentials(route: string, token: string): string {
  try {
    const u = new URL(route);
    if (u.username) return route;
    return `${u.protocol}//${encodeURIComponent(ROUTE_USER)}:${encodeURIComponent(token)}@${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    throw new DkronError("invalid_argument", `invalid NATS route URL: ${route}`, "join");
  }
}

const SIZE_RE = /^\d+(\.\d+)?\s*([KMGT]i?B?)?$/i;
function validateSize(field: string, v: string | undefined): void {
  if (v !== undefined && !SIZE_RE.test(v.trim())) {
    throw new DkronError("invalid_argument", `${field}: not a size like 256MB or 4GB: ${v}`, field);
  }
}

function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The address a local client uses to reach a server listening on `host`. */
function connectHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}

/** A free TCP port on host, as the kernel picks it. Racy by nature: callers retry on "address in use". */
export function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("could not pick a free port"))));
    });
  });
}

/** Connects, waits for the server's "INFO {...}" greeting, and closes. */
function probeInfo(host: string, port: number, timeoutMs: number, abort: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = "";
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      buf += d;
      if (buf.length >= 5) finish(buf.startsWith("INFO "));
    });
    sock.on("error", () => finish(false));
    sock.on("close", () => finish(false));
    void abort.then(() => finish(false));
  });
}

function readCmdline(pid: number): string | undefined {
  try {
    // NUL-separated; empty for a zombie.
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    return raw === "" ? undefined : raw;
  } catch {
    if (existsSync("/proc/self")) return undefined; // procfs present: no such process
  }
  try {
    const out = execFileSync("ps", ["-p", String(pid), "-o", "command="], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 2_000,
    }).trim();
    return out === "" ? undefined : out;
  } catch {
    return undefined;
  }
}

async function waitGone(alive: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) return true;
    await sleep(25);
  }
  return !alive();
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

function signalPid(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    proc.kill(signal);
  } catch {
    /* gone */
  }
}

/** Resolves true when p settles within ms, false otherwise; leaves no timer behind. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(
      () => (clearTimeout(t), resolve(true)),
      () => (clearTimeout(t), resolve(true)),
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
