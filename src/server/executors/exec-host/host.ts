// The exec host: a small process that starts the agent's commands. Spawning
// from the agent itself blocks its event loop for the fork (1–18 ms with a
// 100 MB heap, measured), which at 100 fires/s delays every other timer. Here
// the fork costs little (small process) and never stalls the scheduler. It
// also waits for each command's start instant on its own precise timer.
// Bundled to dist/exec-host.js; speaks protocol.ts over stdin/stdout.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import { createInterface } from "node:readline";
import type { HostCommand, HostEvent, SpawnCommand } from "./protocol.js";

const children = new Map<number, ChildProcess>();
const CHILD_PRIORITY = process.env.DKRON_CHILD_PRIORITY === undefined ? undefined : Number(process.env.DKRON_CHILD_PRIORITY);
const NICE = ["/usr/bin/nice", "/bin/nice"].find((p) => existsSync(p));
const pending = new Map<number, NodeJS.Timeout | NodeJS.Immediate>();
const now = () => performance.timeOrigin + performance.now();

function findProgram(file: string, pathEnv: string, cwd?: string): boolean {
  if (file.includes("/")) return existsSync(cwd && !file.startsWith("/") ? `${cwd}/${file}` : file);
  return pathEnv.split(":").some((dir) => dir && existsSync(`${dir}/${file}`));
}

function send(e: HostEvent): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

function start(c: SpawnCommand): void {
  pending.delete(c.id);
  const at = now();
  let child: ChildProcess;
  try {
    // The host may run at a raised priority; the command must not inherit it:
    // start it through nice(1) with the difference, before it runs anything.
    const delta = CHILD_PRIORITY === undefined ? 0 : CHILD_PRIORITY - os.getPriority();
    const viaNice = delta > 0 && NICE !== undefined;
    // Through nice a missing program would be nice's exit 127: report it as spawn does.
    if (viaNice && !findProgram(c.file, c.env.PATH ?? process.env.PATH ?? "", c.cwd)) {
      send({ ev: "error", id: c.id, message: `spawn ${c.file} ENOENT` });
      return;
    }
    const [file, args] = viaNice ? [NICE, ["-n", String(delta), c.file, ...c.args]] : [c.file, c.args];
    child = spawn(file, args, {
      cwd: c.cwd,
      env: { ...process.env, ...c.env },
      detached: true,
      stdio: [c.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
  } catch (err) {
    send({ ev: "error", id: c.id, message: (err as Error).message });
    return;
  }
  children.set(c.id, child);
  let failed = false;
  child.once("error", (err) => {
    failed = true;
    children.delete(c.id);
    send({ ev: "error", id: c.id, message: err.message });
  });
  if (child.pid !== undefined) send({ ev: "started", id: c.id, pid: child.pid, at });
  const forward = (b: Buffer) => send({ ev: "out", id: c.id, data: b.toString("base64") });
  child.stdout!.on("data", forward);
  child.stderr!.on("data", forward);
  if (c.stdin !== undefined && child.stdin) {
    child.stdin.on("error", () => undefined);
    child.stdin.end(Buffer.from(c.stdin, "base64"));
  }
  child.once("close", (code, signal) => {
    children.delete(c.id);
    if (!failed) send({ ev: "exit", id: c.id, code, signal });
  });
}

/** Sleeps on a timer until just before `at`, then yields turn by turn until it has come. */
function startAt(c: SpawnCommand): void {
  const wait = c.at - now();
  if (wait <= 0) return start(c);
  if (wait > 2) {
    pending.set(c.id, setTimeout(() => startAt(c), wait - 1.5));
    return;
  }
  pending.set(c.id, setImmediate(() => startAt(c)));
}

function kill(id: number, signal: NodeJS.Signals): void {
  const p = pending.get(id);
  if (p) {
    clearTimeout(p as NodeJS.Timeout);
    clearImmediate(p as NodeJS.Immediate);
    pending.delete(id);
    send({ ev: "error", id, message: `killed before start (${signal})` });
    return;
  }
  const child = children.get(id);
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // gone
    }
  }
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let c: HostCommand;
  try {
    c = JSON.parse(line) as HostCommand;
  } catch {
    return;
  }
  if (c.op === "spawn") startAt(c);
  else if (c.op === "kill") kill(c.id, c.signal);
});
// The agent is gone: take the running commands down with us.
rl.on("close", () => {
  for (const [id] of children) kill(id, "SIGKILL");
  process.exit(0);
});
