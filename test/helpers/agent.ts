// Starts real `./bin/dkron agent` processes for integration and end-to-end
// tests: temp data dirs, random ports (0 = the agent picks and logs them),
// cleanup by PID. Requires `npm run build` (npm test does it first).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { until } from "./until.js";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(REPO, "bin/dkron");

export interface StartAgentOptions {
  args?: string[];
  env?: Record<string, string>;
  nodeName?: string;
  dataDir?: string;
  /** Start as a server (default true). */
  server?: boolean;
  readyTimeoutMs?: number;
}

export interface TestAgent {
  url: string;
  nodeName: string;
  dataDir: string;
  pid: number;
  /** Everything the agent logged so far (JSON lines). */
  logs(): string;
  /** pid of the embedded nats-server, from its pid file. */
  natsPid(): number | undefined;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  /** Waits for the process to exit. */
  exited(): Promise<number | null>;
  /** Starts the agent again on the same data dir (after kill or stop). */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

let counter = 0;

export async function startAgent(opts: StartAgentOptions = {}): Promise<TestAgent> {
  const nodeName = opts.nodeName ?? `t${process.pid}-${++counter}`;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), "dkron-test-"));
  const ownsDir = opts.dataDir === undefined;
  let proc!: ChildProcess;
  let out = "";
  let exit: Promise<number | null> = Promise.resolve(null);
  const agent: TestAgent = {
    url: "",
    nodeName,
    dataDir,
    pid: 0,
    logs: () => out,
    natsPid() {
      try {
        return Number(readFileSync(path.join(dataDir, "nats", "nats-server.pid"), "utf8").trim()) || undefined;
      } catch {
        return undefined;
      }
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exit;
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
    kill(signal = "SIGKILL") {
      proc.kill(signal);
    },
    exited: () => exit,
    async restart() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        await exit;
      }
      await launch();
    },
  };
  const launch = async () => {
    const args = [
      BIN, "agent",
      ...(opts.server === false ? [] : ["--server"]),
      "--node-name", nodeName,
      "--data-dir", dataDir,
      "--http-addr", "127.0.0.1:0",
      "--rpc-port", "0",
      "--bind-addr", "127.0.0.1:0",
      "--log-level", "debug",
      ...(opts.args ?? []),
    ];
    proc = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(proc);
    exit = new Promise((resolve) => proc.once("exit", (code) => (live.delete(proc), resolve(code))));
    proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    proc.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    agent.pid = proc.pid!;
    const started = await until(
      () => {
        if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}:\n${out.slice(-2000)}`);
        const info = JSON.parse(readFileSync(path.join(dataDir, "agent.json"), "utf8")) as { pid: number; http: string };
        return info.pid === proc.pid ? info : undefined;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 30_000, message: `agent ${nodeName} to start`, intervalMs: 25 },
    ).catch((err: Error) => {
      proc.kill("SIGKILL");
      throw new Error(`${err.message}\n--- agent output ---\n${out.slice(-3000)}`);
    });
    agent.url = started.http;
  };
  await launch();
  return agent;
}

/** Small JSON helper over fetch for API tests. */
export async function api<T = unknown>(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(base + route, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}
