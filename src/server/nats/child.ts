// One nats-server child process: spawning it (through setpriv for a parent-death
// signal when available), waiting until it is ready, explaining why it did not
// come up, and terminating it.

import { spawn, type ChildProcess } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { connect, type NatsConnection } from "nats";
import type { Logger } from "../logger.js";
import { DkronError } from "../../shared/errors.js";
import { findSetpriv, probeInfo, readLogTail, signalPid, sleep, trackChild, untrackChild, within } from "./proc.js";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface ChildRecord {
  proc: ChildProcess;
  pid: number | undefined;
  /** Byte offset of the log file when this child was spawned: its own log starts there. */
  logOffset: number;
  /** Set once it passed the readiness check; only ready children are restarted on exit. */
  readyAt?: number;
  /** Set when we asked it to exit (stop, failed start): its exit is expected. */
  expectedExit: boolean;
  exited: Promise<ChildExit>;
  exitInfo?: ChildExit;
}

/** The port was taken: retryable when the port was picked by us. */
export class AddressInUseError extends Error {
  toDkron(): DkronError {
    return new DkronError("unavailable", this.message);
  }
}

export interface SpawnOptions {
  bin: string;
  confPath: string;
  /** Working directory of the child. */
  cwd: string;
  pidPath: string;
  logPath: string;
  log: Logger;
  /** Called once when the child exits or fails to spawn, after rec.exitInfo is set. */
  onExit: (rec: ChildRecord) => void;
}

export function spawnNatsChild(o: SpawnOptions): ChildRecord {
  let logOffset = 0;
  try {
    logOffset = statSync(o.logPath).size;
  } catch {
    /* no log yet */
  }
  const setpriv = findSetpriv();
  const [cmd, args] = setpriv
    ? [setpriv, ["--pdeathsig", "TERM", "--", o.bin, "-c", o.confPath]]
    : [o.bin, ["-c", o.confPath]];
  const proc = spawn(cmd, args, { stdio: "ignore", detached: true, cwd: o.cwd, env: process.env });
  let resolveExit!: (v: ChildExit) => void;
  const exited = new Promise<ChildExit>((r) => (resolveExit = r));
  const rec: ChildRecord = { proc, pid: proc.pid, logOffset, expectedExit: false, exited };
  const onDone = (info: ChildExit) => {
    if (rec.exitInfo) return;
    rec.exitInfo = info;
    untrackChild(proc);
    resolveExit(info);
    o.onExit(rec);
  };
  proc.once("exit", (code, signal) => onDone({ code, signal }));
  proc.once("error", (error) => onDone({ code: null, signal: null, error }));
  proc.unref();
  if (proc.pid !== undefined) {
    trackChild(proc);
    // nats-server writes the same pid itself once up; writing it now covers a crash before that.
    try {
      writeFileSync(o.pidPath, `${proc.pid}`);
    } catch {
      /* best effort */
    }
  }
  o.log.debug({ pid: proc.pid, conf: o.confPath }, "spawned nats-server");
  return rec;
}

export interface ReadyOptions {
  /** nats:// URL clients use. */
  url: string;
  /** Host and port for the raw INFO probe. */
  host: string;
  port: number;
  token?: string;
  /** Also require a JetStream answer (single node with JetStream). */
  checkJetStream: boolean;
  timeoutMs: number;
  logPath: string;
  isStopping: () => boolean;
}

/**
 * Resolves once the child accepts a NATS connection (and answers JetStream when asked to);
 * throws DkronError("unavailable") or AddressInUseError with the tail of its log otherwise.
 */
export async function waitChildReady(rec: ChildRecord, o: ReadyOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let lastErr: unknown;
  while (true) {
    if (rec.exitInfo) throw await childStartFailure(rec, "exited during start-up", o.logPath);
    if (o.isStopping()) throw new DkronError("unavailable", "embedded nats-server is stopping");
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    let nc: NatsConnection | undefined;
    try {
      // A raw look for the INFO greeting first: cheap, and unlike a failed client connect it
      // never leaves a socket open (if something else holds the port, nats-server exits and
      // the next turn of the loop reports it).
      if (!(await probeInfo(o.host, o.port, Math.min(1_000, remaining), rec.exited))) {
        throw new Error(`no NATS greeting on ${o.url}`);
      }
      nc = await connect({
        servers: o.url,
        token: o.token,
        reconnect: false,
        timeout: Math.max(250, Math.min(2_000, remaining)),
        name: "dkron-embedded-probe",
      });
      // A clustered server does not answer JetStream until its routes are up and a meta
      // leader is elected (2.9.10: no answer at all for ~10 s when alone). Quorum is the
      // cluster's business, not this process's: a clustered server is ready once it accepts
      // clients, and callers retry JetStream calls as they must after any leader change.
      if (!o.checkJetStream) return;
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
  throw await childStartFailure(rec, `did not become ready within ${o.timeoutMs} ms (last error: ${errMessage(lastErr)})`, o.logPath);
}

async function childStartFailure(rec: ChildRecord, what: string, logPath: string): Promise<Error> {
  // Give the child a moment to flush its last words.
  if (rec.exitInfo) await sleep(20);
  const tail = await readLogTail(logPath, rec.logOffset);
  const exit = rec.exitInfo
    ? rec.exitInfo.error
      ? ` (spawn failed: ${rec.exitInfo.error.message})`
      : ` (exit code ${rec.exitInfo.code ?? "none"}${rec.exitInfo.signal ? `, signal ${rec.exitInfo.signal}` : ""})`
    : "";
  const msg = `embedded nats-server ${what}${exit}; log ${logPath}:\n${tail || "(empty)"}`;
  if (/address already in use/i.test(tail)) return new AddressInUseError(msg);
  return new DkronError("unavailable", msg);
}

/** SIGTERM, wait up to graceMs, then SIGKILL. */
export async function terminateChild(rec: ChildRecord, log: Logger, graceMs: number): Promise<void> {
  rec.expectedExit = true;
  if (rec.exitInfo) return;
  signalPid(rec.proc, "SIGTERM");
  if (!(await within(rec.exited, graceMs)) && !rec.exitInfo) {
    log.warn({ pid: rec.pid }, "nats-server did not stop within 10 s; killing it");
    signalPid(rec.proc, "SIGKILL");
    await within(rec.exited, 5_000);
  }
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
