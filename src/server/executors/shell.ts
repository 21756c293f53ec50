// The shell executor, with Dkron's executor_config keys: command, shell, env,
// cwd, timeout, mem_limit, payload. The command runs in its own process group
// so a timeout or a kill stops everything it started.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { invalid } from "../../shared/errors.js";
import { parseGoDuration } from "../../shared/cron/index.js";
import { parseByteSize, splitShellWords } from "./shell-words.js";
import type { ExecutionContext, ExecutionResult, Executor } from "./types.js";

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

function run(ctx: ExecutionContext): Promise<ExecutionResult> {
  const cfg = ctx.job.executor_config;
  let file: string;
  let args: string[];
  try {
    if (cfg.shell === "true") {
      file = "/bin/sh";
      args = ["-c", cfg.command ?? ""];
    } else {
      [file, ...args] = splitShellWords(cfg.command ?? "") as [string, ...string[]];
    }
  } catch (err) {
    return Promise.resolve({ success: false, exitCode: null, reason: (err as Error).message });
  }
  const env = { ...process.env, ...(cfg.env ? parseEnv(cfg.env) : {}), ENV_JOB_NAME: ctx.job.name };
  return new Promise((resolve) => {
    let reason: string | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const child = spawn(file, args, {
      cwd: cfg.cwd || undefined,
      env,
      detached: true,
      stdio: [cfg.payload ? "pipe" : "ignore", "pipe", "pipe"],
    });
    const finish = (r: ExecutionResult) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t), clearInterval(t);
      ctx.signal.removeEventListener("abort", onAbort);
      resolve(r);
    };
    const onAbort = () => {
      reason ??= String(ctx.signal.reason ?? "killed");
      killGroup(child.pid, "SIGKILL");
    };
    ctx.signal.addEventListener("abort", onAbort);
    if (ctx.signal.aborted) onAbort();
    child.stdout!.on("data", ctx.onOutput);
    child.stderr!.on("data", ctx.onOutput);
    if (cfg.payload && child.stdin) {
      child.stdin.on("error", () => undefined);
      child.stdin.end(Buffer.from(cfg.payload, "base64"));
    }
    if (cfg.timeout) {
      const ms = parseGoDuration(cfg.timeout);
      timers.push(setTimeout(() => {
        reason ??= `timeout after ${cfg.timeout}`;
        killGroup(child.pid, "SIGKILL");
      }, ms));
    }
    if (cfg.mem_limit && child.pid) {
      const limit = parseByteSize(cfg.mem_limit);
      const pid = child.pid;
      timers.push(setInterval(async () => {
        if ((await rssBytes(pid)) > limit) {
          reason ??= `memory limit ${cfg.mem_limit} exceeded`;
          killGroup(pid, "SIGKILL");
        }
      }, 1_000));
    }
    child.on("error", (err) => {
      finish({ success: false, exitCode: null, reason: `cannot start ${JSON.stringify(file)}: ${err.message}` });
    });
    child.on("close", (code, signal) => {
      if (reason) finish({ success: false, exitCode: code, reason });
      else if (signal) finish({ success: false, exitCode: null, reason: `terminated by ${signal}` });
      else finish({ success: code === 0, exitCode: code });
    });
  });
}

export const shellExecutor: Executor = { required: ["command"], validate, run };
