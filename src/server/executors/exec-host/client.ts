// The agent's side of the exec host: starts it lazily, restarts it if it
// dies, and routes its events to the executions waiting on them.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { HostCommand, HostEvent, SpawnCommand } from "./protocol.js";

export interface SpawnHandlers {
  onStarted(pid: number, at: number): void;
  onOutput(chunk: Buffer): void;
  onExit(code: number | null, signal: string | null): void;
  onError(message: string): void;
}

/** dist/exec-host.js next to the bundle, or in the repo's dist/ when running from source (tests). */
export function findHostScript(from = fileURLToPath(import.meta.url)): string {
  let dir = path.dirname(from);
  for (let i = 0; i < 6; i++) {
    for (const candidate of [path.join(dir, "exec-host.js"), path.join(dir, "dist", "exec-host.js")]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new Error("dist/exec-host.js not found: run `npm run build`");
}

export class ExecHost {
  private proc: ChildProcess | undefined;
  private nextId = 1;
  private readonly handlers = new Map<number, SpawnHandlers>();
  private closed = false;

  constructor(private readonly script: string = findHostScript()) {}

  private ensure(): ChildProcess {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) return this.proc;
    const proc = spawn(process.execPath, ["--max-old-space-size=64", this.script], {
      stdio: ["pipe", "pipe", "inherit"],
      // Commands get the agent's own priority back (see host.ts).
      env: { ...process.env, DKRON_CHILD_PRIORITY: String(os.getPriority()) },
    });
    // Start instants are only as precise as the host's timers: give it a higher
    // priority when allowed (root or CAP_SYS_NICE); otherwise it runs as we do.
    try {
      if (proc.pid) os.setPriority(proc.pid, Math.max(-20, os.getPriority() - 10));
    } catch {
      // not permitted: fine
    }
    proc.stdin!.on("error", () => undefined);
    createInterface({ input: proc.stdout! }).on("line", (line) => this.onLine(line));
    proc.once("exit", () => {
      if (this.proc === proc) this.proc = undefined;
      // Whatever it was running is gone with it: fail those executions.
      for (const [id, h] of [...this.handlers]) {
        this.handlers.delete(id);
        h.onError("the exec host exited while the command was running");
      }
    });
    this.proc = proc;
    return proc;
  }

  /** Starts the host process now, so the first command does not wait for it. */
  warm(): void {
    if (!this.closed) this.ensure();
  }

  /** Starts a command at `at` (epoch ms). Returns an id for kill(). */
  spawn(cmd: Omit<SpawnCommand, "op" | "id">, h: SpawnHandlers): number {
    if (this.closed) throw new Error("exec host is closed");
    const id = this.nextId++;
    this.handlers.set(id, h);
    this.send({ op: "spawn", id, ...cmd });
    return id;
  }

  kill(id: number, signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.handlers.has(id)) this.send({ op: "kill", id, signal });
  }

  private send(c: HostCommand): void {
    this.ensure().stdin!.write(`${JSON.stringify(c)}\n`);
  }

  private onLine(line: string): void {
    let e: HostEvent;
    try {
      e = JSON.parse(line) as HostEvent;
    } catch {
      return;
    }
    const h = this.handlers.get(e.id);
    if (!h) return;
    switch (e.ev) {
      case "started":
        h.onStarted(e.pid, e.at);
        break;
      case "out":
        h.onOutput(Buffer.from(e.data, "base64"));
        break;
      case "exit":
        this.handlers.delete(e.id);
        h.onExit(e.code, e.signal);
        break;
      case "error":
        this.handlers.delete(e.id);
        h.onError(e.message);
        break;
    }
  }

  /** Closes the host's stdin; it kills what still runs and exits. */
  close(): void {
    this.closed = true;
    this.proc?.stdin?.end();
  }
}

let shared: ExecHost | undefined;
/** One exec host per agent process, started on first use. */
export function defaultExecHost(): ExecHost {
  shared ??= new ExecHost();
  return shared;
}

export function closeDefaultExecHost(): void {
  shared?.close();
  shared = undefined;
}
