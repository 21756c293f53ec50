// The shell executor (src/server/executors/shell.ts) with real processes: exit codes, output, env,
// cwd, payload on stdin, timeouts and aborts that kill the whole process group, spawn errors.
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExecHost } from "../../src/server/executors/exec-host/client.js";
import { shellExecutor, shellExecutorOn } from "../../src/server/executors/shell.js";
import type { ExecutionResult } from "../../src/server/executors/types.js";
import { parseJobInput } from "../../src/shared/job.js";
import { until } from "../helpers/until.js";

interface Run {
  result: Promise<ExecutionResult>;
  output: () => string;
  abort: AbortController;
}

function start(config: Record<string, string>, name = "shell_job"): Run {
  const job = parseJobInput({ name, schedule: "@manually", executor_config: config });
  const chunks: Buffer[] = [];
  const abort = new AbortController();
  const result = shellExecutor.run({ job, executionId: "exec-1", onOutput: (c) => chunks.push(c), signal: abort.signal });
  return { result, output: () => Buffer.concat(chunks).toString("utf8"), abort };
}

/** Alive and not a zombie (a killed process whose parent died may linger unreaped a moment). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const pidsOf = (out: string, label: string) => [...out.matchAll(new RegExp(`${label}=(\\d+)`, "g"))].map((m) => Number(m[1]));

// Any process a failing test leaves behind is killed.
const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

describe("shell executor: results", () => {
  it("success with exit code 0 and the output of stdout and stderr", async () => {
    const r = start({ command: "echo out; echo err >&2", shell: "true" });
    expect(await r.result).toEqual({ success: true, exitCode: 0 });
    expect(r.output()).toContain("out\n");
    expect(r.output()).toContain("err\n");
  });

  it("a non-zero exit code is a failure without a reason", async () => {
    const r = start({ command: "sh -c 'echo before; exit 3'" });
    expect(await r.result).toEqual({ success: false, exitCode: 3 });
    expect(r.output()).toBe("before\n");
  });

  it("without shell=true the command is split into words, not interpreted", async () => {
    const r = start({ command: "echo 'a  b' \"$HOME\" ; ls" });
    expect(await r.result).toMatchObject({ success: true });
    expect(r.output()).toBe("a  b $HOME ; ls\n");
  });

  it("passes env (including '=' in values) and ENV_JOB_NAME", async () => {
    const r = start({ command: "echo \"$FOO|$BAR|$ENV_JOB_NAME\"", shell: "true", env: "FOO=foo,BAR=x=y" }, "env_job");
    expect(await r.result).toMatchObject({ success: true });
    expect(r.output()).toBe("foo|x=y|env_job\n");
  });

  it("runs in cwd", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "dkron-shell-"));
    try {
      const r = start({ command: "pwd", cwd: dir });
      expect(await r.result).toMatchObject({ success: true });
      expect(r.output().trim()).toBe(await realpath(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("writes the base64 payload to stdin", async () => {
    const payload = "line one\nsecond line with ünïcode\n";
    const r = start({ command: "cat", payload: Buffer.from(payload).toString("base64") });
    expect(await r.result).toMatchObject({ success: true });
    expect(r.output()).toBe(payload);
  });

  it("without a payload stdin is empty (the command does not hang)", async () => {
    const r = start({ command: "cat" });
    expect(await r.result).toEqual({ success: true, exitCode: 0 });
    expect(r.output()).toBe("");
  });

  it("a missing binary is a failure with a reason, not a rejection", async () => {
    const r = start({ command: "/nonexistent/dkron-no-such-binary --flag" });
    const res = await r.result;
    expect(res.success).toBe(false);
    expect(res.exitCode).toBeNull();
    expect(res.reason).toMatch(/cannot start.*dkron-no-such-binary/);
  });

  // The runner relies on run() never rejecting: a rejection would leave the execution in its
  // running set forever (a phantom running execution blocking `forbid`). NUL bytes make spawn()
  // fail on argument validation; that must still come back as a failure result.
  it.each<[string, Record<string, string>]>([
    ["command", { command: "echo a\u0000b" }],
    ["shell command", { command: "echo a\u0000b", shell: "true" }],
    ["env value", { command: "true", env: "A=x\u0000y" }],
  ])("a NUL byte in the %s is a failure with a reason, not a rejection", async (_what, config) => {
    const res = await start(config).result.catch((err: Error) => ({ rejected: err.message }));
    expect(res).toMatchObject({ success: false, reason: expect.any(String) });
  });

  // BUG (src/server/executors/shell.ts run): host.spawn() throws "exec host is closed" inside the
  // Promise executor, so run() rejects instead of resolving a failure (executors "never reject").
  it("a launch after the exec host was closed (shutdown) is a failure with a reason, not a rejection", async () => {
    const host = new ExecHost();
    host.close();
    const job = parseJobInput({ name: "late", schedule: "@manually", executor_config: { command: "true" } });
    const res = await shellExecutorOn(host)
      .run({ job, executionId: "e", onOutput: () => undefined, signal: new AbortController().signal })
      .catch((err: Error) => ({ rejected: err.message }));
    expect(res).toMatchObject({ success: false, reason: expect.stringMatching(/closed/) });
  });

  it("a missing cwd is a failure with a reason", async () => {
    const r = start({ command: "true", cwd: "/nonexistent/dkron-dir" });
    const res = await r.result;
    expect(res.success).toBe(false);
    expect(res.reason).toBeTruthy();
  });
});

describe("shell executor: killing", () => {
  it("a timeout kills the whole process group", async () => {
    const r = start({
      command: "sleep 30 & echo bg=$!; sleep 30 & echo bg=$!; echo sh=$$; wait",
      shell: "true",
      timeout: "1s",
    });
    const pids = await until(() => {
      const p = [...pidsOf(r.output(), "bg"), ...pidsOf(r.output(), "sh")];
      return p.length === 3 ? p : null;
    }, { message: "the command's pids" });
    leftovers.push(...pids);
    expect(pids.every(isAlive)).toBe(true);
    const res = await r.result;
    expect(res.success).toBe(false);
    expect(res.reason).toMatch(/timeout after 1s/);
    await until(() => pids.every((p) => !isAlive(p)), { message: "every process of the group to be gone", timeoutMs: 5_000 });
  });

  it("an abort kills the whole process group, with the abort reason", async () => {
    const r = start({ command: "sh -c 'sleep 30 & echo bg=$!; sleep 30 & echo bg=$!; wait'" });
    const pids = await until(() => {
      const p = pidsOf(r.output(), "bg");
      return p.length === 2 ? p : null;
    }, { message: "the command's pids" });
    leftovers.push(...pids);
    r.abort.abort("killed by user");
    const res = await r.result;
    expect(res).toMatchObject({ success: false, reason: "killed by user" });
    await until(() => pids.every((p) => !isAlive(p)), { message: "every process of the group to be gone", timeoutMs: 5_000 });
  });

  it("an already-aborted signal kills the command at once", async () => {
    const job = parseJobInput({ name: "j", schedule: "@manually", executor_config: { command: "sleep 30" } });
    const abort = new AbortController();
    abort.abort("shutting down");
    const res = await shellExecutor.run({ job, executionId: "e", onOutput: () => undefined, signal: abort.signal });
    expect(res).toMatchObject({ success: false, reason: "shutting down" });
  });

  it("a command killed by a signal from elsewhere is a failure naming the signal", async () => {
    const r = start({ command: "sh -c 'echo pid=$$; exec sleep 30'" });
    const [pid] = await until(() => {
      const p = pidsOf(r.output(), "pid");
      return p.length ? p : null;
    });
    leftovers.push(pid!);
    process.kill(pid!, "SIGTERM");
    expect(await r.result).toEqual({ success: false, exitCode: null, reason: "terminated by SIGTERM" });
  });
});
