// The pid file of the embedded nats-server, and stopping a server left running on
// the same directory by an agent that crashed (found through that pid file).

import { readFileSync, unlinkSync } from "node:fs";
import type { Logger } from "../logger.js";
import { DkronError } from "../../shared/errors.js";
import { killQuietly, readCmdline, waitGone } from "./proc.js";

export interface StaleServerOptions {
  pidPath: string;
  /** The config file our nats-server is started with: tells it apart from a reused pid. */
  confPath: string;
  /** For messages. */
  dir: string;
  log: Logger;
  /** How long to wait after SIGTERM before SIGKILL. */
  graceMs: number;
  /** True for the pid of our own live child, which is left alone. */
  isCurrentChild: (pid: number) => boolean;
}

/** A nats-server left running on this directory (we crashed) is stopped before we start another. */
export async function stopStaleServer(o: StaleServerOptions): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(o.pidPath, "utf8").trim(), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
  if (o.isCurrentChild(pid)) return;
  const ours = () => isOurNatsServer(pid, o.confPath);
  if (!ours()) {
    removePidFileIf(o.pidPath, pid);
    return;
  }
  o.log.warn({ pid, dir: o.dir }, "stopping a stale nats-server left running on this data dir");
  killQuietly(pid, "SIGTERM");
  if (!(await waitGone(ours, o.graceMs))) {
    killQuietly(pid, "SIGKILL");
    if (!(await waitGone(ours, 5_000))) {
      throw new DkronError("unavailable", `a stale nats-server (pid ${pid}) on ${o.dir} could not be stopped`);
    }
  }
  removePidFileIf(o.pidPath, pid);
}

/** True if pid is a live nats-server started with our config file (not a reused pid). */
function isOurNatsServer(pid: number, confPath: string): boolean {
  const cmd = readCmdline(pid);
  return cmd !== undefined && cmd.includes("nats-server") && cmd.includes(confPath);
}

/** Removes the pid file if it still names pid. */
export function removePidFileIf(pidPath: string, pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    if (Number.parseInt(readFileSync(pidPath, "utf8").trim(), 10) === pid) unlinkSync(pidPath);
  } catch {
    /* gone */
  }
}
