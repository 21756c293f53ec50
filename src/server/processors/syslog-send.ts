// Delivery of messages to a local syslog: the /dev/log unix socket (stream, or datagram through
// logger(1) since Node cannot send unix datagrams), or UDP. Each target says plainly why it
// could not take the messages, so the processor can report it.
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";

export type SyslogTarget = { unix: string } | { udp: { host: string; port: number } };

/** Where a local syslog usually listens, tried in order. */
export const DEFAULT_SYSLOG_TARGETS: readonly SyslogTarget[] = [
  { unix: "/dev/log" },
  { unix: "/var/run/syslog" },
  { udp: { host: "127.0.0.1", port: 514 } },
];

export const SYSLOG_TAG = "dkron";
/** Facility cron (9), as Dkron's go-syslog logger; severity info (6). */
const FACILITY_CRON = 9;
const SEVERITY_INFO = 6;
const PRI = FACILITY_CRON * 8 + SEVERITY_INFO;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export const describeTarget = (t: SyslogTarget): string => ("unix" in t ? t.unix : `udp://${t.udp.host}:${t.udp.port}`);

/** RFC 3164 as local syslog daemons expect it on /dev/log (no hostname): `<78>Jan  2 15:04:05 dkron[pid]: msg`. */
export function formatRfc3164(msg: string, at = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = `${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, " ")} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  return `<${PRI}>${stamp} ${SYSLOG_TAG}[${process.pid}]: ${msg}`;
}

/** RFC 5424 for the network: `<78>1 2024-01-02T15:04:05.000Z host dkron pid - - msg`. */
export function formatRfc5424(msg: string, at = new Date()): string {
  return `<${PRI}>1 ${at.toISOString()} ${os.hostname() || "-"} ${SYSLOG_TAG} ${process.pid} - - ${msg}`;
}

const errText = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** Sends over a connected UDP socket. Loopback reports a closed port (ICMP) on the next send. */
function sendUdp(host: string, port: number, messages: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    const done = (err?: unknown) => {
      sock.close();
      if (err) reject(err);
      else resolve();
    };
    sock.once("error", done);
    sock.connect(port, host, () => {
      let i = 0;
      const next = (err?: Error | null) => {
        if (err) return done(err);
        if (i === messages.length) return done();
        sock.send(formatRfc5424(messages[i++]!), next);
      };
      next();
    });
  });
}

/** Sends over a unix stream socket, one message a line. Rejects with EPROTOTYPE on a datagram socket. */
function sendUnixStream(path: string, messages: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    sock.once("error", reject);
    sock.once("connect", () => {
      sock.end(messages.map((m) => `${formatRfc3164(m)}\n`).join(""), () => resolve());
    });
  });
}

/** A unix datagram socket through logger(1), one message a line of its stdin. */
function sendUnixDatagram(path: string, messages: string[], loggerBin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ["--socket-errors=on", "-u", path, "-d", "-t", SYSLOG_TAG, "-p", "cron.info", `--id=${process.pid}`, "-S", "8192", "-e"];
    const child = spawn(loggerBin, args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.once("error", (err) => reject(new Error(`cannot run ${loggerBin}: ${errText(err)}`)));
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(stderr.trim() || `${loggerBin} exited with ${code}`))));
    child.stdin.on("error", () => undefined);
    child.stdin.end(messages.join("\n") + "\n");
  });
}

async function sendUnix(path: string, messages: string[], loggerBin: string): Promise<void> {
  const st = await stat(path);
  if (!st.isSocket()) throw new Error("not a socket");
  try {
    await sendUnixStream(path, messages);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPROTOTYPE") throw err;
    await sendUnixDatagram(path, messages, loggerBin);
  }
}

/**
 * Sends the messages to the first target that takes them. Resolves with that target, or rejects
 * with an Error listing why each target failed.
 */
export async function sendToSyslog(
  messages: string[],
  targets: readonly SyslogTarget[] = DEFAULT_SYSLOG_TARGETS,
  loggerBin = "logger",
): Promise<SyslogTarget> {
  const why: string[] = [];
  for (const t of targets) {
    try {
      if ("unix" in t) await sendUnix(t.unix, messages, loggerBin);
      else await sendUdp(t.udp.host, t.udp.port, messages);
      return t;
    } catch (err) {
      why.push(`${describeTarget(t)}: ${errText(err)}`);
    }
  }
  throw new Error(`no syslog reachable (${why.join("; ") || "no target configured"})`);
}
