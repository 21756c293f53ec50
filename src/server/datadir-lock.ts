// One agent per data dir: <dataDir>/LOCK holds the owner's pid (first line).
//
// On Linux a second line records the owner's start time (field 22 of /proc/<pid>/stat), so a pid
// reused after a reboot or wrap-around is recognised as stale instead of blocking the agent forever.
// Taking over a stale lock is serialised through LOCK.takeover (created exclusively), so two agents
// racing for the same stale lock cannot both win. The caller releases the lock on shutdown;
// nothing is registered on process exit here.

import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";
import { DkronError } from "../shared/errors.js";

export interface DataDirLock {
  /** Removes LOCK if it still holds our pid. Idempotent. */
  release(): void;
}

const TAKEOVER_STALE_MS = 10_000;

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "LOCK");
  const content = `${process.pid}\n${startTimeOf(process.pid) ?? ""}\n`;

  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file, content)) return handle(file);
    const owner = readOwner(file);
    if (owner === undefined) continue; // vanished meanwhile (released): try again
    if (owner.pid !== process.pid && isAlive(owner)) {
      throw new DkronError("conflict", `data dir ${dir} is in use by another dkron agent (pid ${owner.pid})`);
    }
    // Stale (dead owner, reused pid, unreadable content) or our own: take it over, one taker at a time.
    const guard = `${file}.takeover`;
    if (!tryCreate(guard, `${process.pid}\n`)) {
      clearStaleGuard(guard);
      continue;
    }
    try {
      const again = readOwner(file);
      if (again !== undefined && again.raw === owner.raw) unlinkQuietly(file);
      if (tryCreate(file, content)) return handle(file);
    } finally {
      unlinkQuietly(guard);
    }
  }
  const owner = readOwner(file);
  throw new DkronError(
    "conflict",
    `data dir ${dir} is in use by another dkron agent${owner ? ` (pid ${owner.pid})` : ""}`,
  );
}

function handle(file: string): DataDirLock {
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      const owner = readOwner(file);
      if (owner?.pid === process.pid) unlinkQuietly(file);
    },
  };
}

interface Owner {
  raw: string;
  pid: number;
  startTime?: string;
}

function readOwner(file: string): Owner | undefined {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const [first, second] = raw.split("\n");
  const pid = Number.parseInt((first ?? "").trim(), 10);
  const startTime = second?.trim() || undefined;
  return { raw, pid: Number.isInteger(pid) && pid > 0 ? pid : -1, ...(startTime ? { startTime } : {}) };
}

function isAlive(owner: Owner): boolean {
  if (owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false; // ESRCH: gone
  }
  // A zombie (killed, not yet reaped by its parent) holds nothing any more.
  if (processState(owner.pid) === "Z") return false;
  // Alive; but is it still the process that wrote the lock?
  if (owner.startTime !== undefined) {
    const now = startTimeOf(owner.pid);
    if (now !== undefined && now !== owner.startTime) return false;
  }
  return true;
}

/** The state letter of /proc/<pid>/stat (R, S, Z, …), or undefined where unknown. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** Process start time in clock ticks since boot (Linux), or undefined where unknown. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
    const v = rest[19];
    return v && /^\d+$/.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function tryCreate(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new DkronError("unavailable", `cannot create ${file}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A takeover guard left by a taker that died mid-takeover is removed after a while. */
function clearStaleGuard(guard: string): void {
  try {
    const owner = readOwner(guard);
    const old = Date.now() - statSync(guard).mtimeMs > TAKEOVER_STALE_MS;
    if (old || (owner && owner.pid > 0 && !isAlive({ raw: owner.raw, pid: owner.pid }))) unlinkQuietly(guard);
  } catch {
    /* gone */
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* gone */
  }
}
