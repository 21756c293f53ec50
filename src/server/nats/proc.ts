// Process helpers for the embedded nats-server: tracking children for the exit
// hook, the setpriv (parent-death signal) lookup, free ports, the INFO probe,
// reading another process's command line, signalling, and small timing helpers.

import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import net from "node:net";
import { isExecutableFile } from "./bin.js";

// Children to SIGTERM if this process exits without stopping them.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** SIGTERM proc from a process "exit" hook unless untrackChild() is called first. */
export function trackChild(proc: ChildProcess): void {
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

export function untrackChild(proc: ChildProcess): void {
  liveChildren.delete(proc);
}

let setprivPath: string | null | undefined;
/** `setpriv` with --pdeathsig support (util-linux ≥ 2.33), Linux only. */
export function findSetpriv(): string | null {
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
export function probeInfo(host: string, port: number, timeoutMs: number, abort: Promise<unknown>): Promise<boolean> {
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

/** The last maxLines non-empty lines of a log file written since offset (at most its last 8 KiB); "" on error. */
export async function readLogTail(logPath: string, offset: number, maxLines = 20): Promise<string> {
  try {
    const fh = await open(logPath, "r");
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

/** A live process's command line (arguments joined by spaces), or undefined. */
export function readCmdline(pid: number): string | undefined {
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

/** Polls until alive() is false; true if that happened within timeoutMs. */
export async function waitGone(alive: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) return true;
    await sleep(25);
  }
  return !alive();
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

export function signalPid(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    proc.kill(signal);
  } catch {
    /* gone */
  }
}

/** Resolves true when p settles within ms, false otherwise; leaves no timer behind. */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(
      () => (clearTimeout(t), resolve(true)),
      () => (clearTimeout(t), resolve(true)),
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
