// The shell executor, with Dkron's executor_config keys: command, shell, env,
// cwd, timeout, mem_limit, payload. The command runs in its own process group
// so a timeout or a kill stops everything it started.
import { readFile } from "node:fs/promises";
import { invalid } from "../../shared/errors.js";
import { parseGoDuration } from "../../shared/cron/index.js";
import { parseByteSize, splitShellWords } from "./shell-words.js";
import type { ExecutionContext, ExecutionResult, Executor } from "./types.js";
import { defaultExecHost, type ExecHost } from "./exec-host/client.js";

export function parseEnv(s: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const part of s.split(",")) {
    if (!part.trim()) continue;
    const i = part.indexOf("=");
    if (i <= 0) throw invalid("executor_config.env", `expected K=V[,K2=V2], got ${JSON.stringify(part)}`);
    env[part.slice(0, i).trim()] = part.slice(i + 1);
  }
  return env;
}

function validate(cfg: Record<string, string>): void {
  if (cfg.shell !== "true") {
    const argv = splitShellWords(cfg.command ?? "");
    if (argv.length === 0) throw invalid("executor_config.command", "is empty");
  }
  if (cfg.timeout) {
    try {
      if (parseGoDuration(cfg.timeout) <= 0) throw new Error();
    } catch {
      throw invalid("executor_config.timeout", `not a positive duration: ${JSON.stringify(cfg.timeout)} (e.g. "30s")`);
    }
  }
  if (cfg.mem_limit) parseByteSize(cfg.mem_limit);
  if (cfg.env) parseEnv(cfg.env);
  if (cfg.payload && !/^[A-Za-z0-9+/=\s]*$/.test(cfg.payload)) throw invalid("executor_config.payload", "must be base64");
}

async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function run(ctx: ExecutionContext, host: ExecHost = defaultExecHost()): Promise<ExecutionResult> {
  const cfg = ctx.job.executor_config;
  let file: string;
  let args: string[];
  let env: Record<string, string>;
  try {
    if (cfg.shell === "true") {
      file = "/bin/sh";
      args = ["-c", cfg.command ?? ""];
    } else {
      [file, ...args] = splitShellWords(cfg.command ?? "") as [string, ...string[]];
    }
    env = { ...(cfg.env ? parseEnv(cfg.env) : {}), ENV_JOB_NAME: ctx.job.name };
  } catch (err) {
    return Promise.resolve({ success: false, exitCode: null, reason: (err as Error).message });
  }
  return new Promise((resolve) => {
    let reason: string | undefined;
    let settled = false;
    let pid: number | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (r: ExecutionResult) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t), clearInterval(t);
      ctx.signal.removeEventListener("abort", onAbort);
      resolve(r);
    };
    let id: number;
    try {
      id = host.spawn(
      {
        file,
        args,
        env,
        ...(cfg.cwd ? { cwd: cfg.cwd } : {}),
        ...(cfg.payload ? { stdin: Buffer.from(cfg.payload, "base64").toString("base64") } : {}),
        at: ctx.startAt ?? 0,
      },
      {
        onStarted: (p, at) => {
          pid = p;
          ctx.onStarted?.(at);
          if (cfg.timeout) {
            timers.push(setTimeout(() => {
              reason ??= `timeout after ${cfg.timeout}`;
              killGroup(pid, "SIGKILL");
            }, parseGoDuration(cfg.timeout)));
          }
          if (cfg.mem_limit) {
            const limit = parseByteSize(cfg.mem_limit);
            timers.push(setInterval(async () => {
              if ((await rssBytes(p)) > limit) {
                reason ??= `memory limit ${cfg.mem_limit} exceeded`;
                killGroup(p, "SIGKILL");
              }
            }, 1_000));
          }
        },
        onOutput: ctx.onOutput,
        onExit: (code, signal) => {
          if (reason) finish({ success: false, exitCode: code, reason });
          else if (signal) finish({ success: false, exitCode: null, reason: `terminated by ${signal}` });
          else finish({ success: code === 0, exitCode: code });
        },
        onError: (message) => finish({ success: false, exitCode: null, reason: reason ?? `cannot start ${JSON.stringify(file)}: ${message}` }),
      },
      );
    } catch (err) {
      settled = true;
      resolve({ success: false, exitCode: null, reason: `cannot start ${JSON.stringify(file)}: ${(err as Error).message}` });
      return;
    }
    const onAbort = () => {
      reason ??= String(ctx.signal.reason ?? "killed");
      if (pid) killGroup(pid, "SIGKILL");
      else host.kill(id, "SIGKILL");
    };
    ctx.signal.addEventListener("abort", onAbort);
    if (ctx.signal.aborted) onAbort();
  });
}

export const shellExecutor: Executor = { required: ["command"], validate, run: (ctx) => run(ctx) };

/** The shell executor on a given exec host (tests, or an agent with its own). */
export const shellExecutorOn = (host: ExecHost): Executor => ({ required: ["command"], validate, run: (ctx) => run(ctx, host) });
