// `dkron tui` in a real terminal (tmux) against a real agent: keys go in with
// send-keys, the screen comes back with capture-pane.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Execution } from "../../src/shared/execution.js";
import type { Job } from "../../src/shared/job.js";
import { BIN, REPO, api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import { assertBuilt } from "./cli-run.js";

/** One tmux server of our own (-L), without the user's config (-f /dev/null). */
class Tmux {
  readonly socket = `dkron-tui-${process.pid}-${Date.now()}`;
  private readonly session = "tui";

  private run(args: string[], check = true): string {
    const r = spawnSync("tmux", ["-L", this.socket, "-f", "/dev/null", ...args], { encoding: "utf8", cwd: REPO });
    if (r.error) throw r.error;
    if (check && r.status !== 0) throw new Error(`tmux ${args[0]} failed (${r.status}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  start(command: string[], size: { columns: number; rows: number }, env: Record<string, string>): void {
    const line = ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...command].map(shellQuote).join(" ");
    // remain-on-exit keeps the pane (and what the program printed) if it dies, for the error message.
    this.run(["new-session", "-d", "-s", this.session, "-x", String(size.columns), "-y", String(size.rows), line]);
    this.run(["set-option", "-t", this.session, "remain-on-exit", "on"]);
  }

  keys(...keys: string[]): void {
    this.run(["send-keys", "-t", this.session, ...keys]);
  }

  /** send-keys -l: the text as typed, no key names. */
  type(text: string): void {
    this.run(["send-keys", "-t", this.session, "-l", text]);
  }

  screen(): string {
    return this.run(["capture-pane", "-p", "-t", this.session]);
  }

  resize(columns: number, rows: number): void {
    this.run(["resize-window", "-t", this.session, "-x", String(columns), "-y", String(rows)]);
  }

  /** True once the program in the pane has exited. */
  dead(): boolean {
    return this.run(["display-message", "-p", "-t", this.session, "#{pane_dead}"], false).trim() === "1";
  }

  kill(): void {
    this.run(["kill-server"], false);
  }
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function requireTmux(): void {
  const r = spawnSync("tmux", ["-V"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error("tmux is required for the dkron tui end-to-end test but was not found on PATH (install it: apt-get install tmux)");
  }
}

let agent: TestAgent;
let tmux: Tmux;

/** Waits until the screen satisfies `ok`; on timeout the error shows the screen. */
async function screenUntil(ok: (screen: string) => boolean, message: string, timeoutMs = 15_000): Promise<string> {
  let last = "";
  try {
    await until(
      () => {
        last = tmux.screen();
        return ok(last);
      },
      { timeoutMs, intervalMs: 50, message },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- screen ---\n${last}`);
  }
  return last;
}

const row = (screen: string, name: string) => screen.split("\n").find((l) => new RegExp(`^. ${name}\\s`).test(l)) ?? "";

beforeAll(async () => {
  requireTmux();
  assertBuilt();
  agent = await startAgent();
  await until(async () => (await api(agent.url, "GET", "/v1/leader")).status === 200, { timeoutMs: 30_000, message: "a leader" });
  for (const name of ["tui-e2e-target", "tui-e2e-other"]) {
    const r = await api(agent.url, "POST", "/v1/jobs", { name, schedule: "@every 1h", executor: "shell", executor_config: { command: `echo hello from ${name}` } });
    expect(r.status).toBe(201);
  }
  tmux = new Tmux();
});

afterAll(async () => {
  tmux?.kill();
  await agent?.stop();
});

describe("dkron tui in tmux", () => {
  it("runs a job, toggles it, follows resizes and quits", async () => {
    const started = Date.now();
    // CI=true on purpose: Ink's own renderer draws nothing but the last frame there.
    tmux.start([process.execPath, BIN, "tui", "--address", agent.url], { columns: 100, rows: 30 }, { CI: "true", TERM: "xterm-256color" });

    let screen = await screenUntil((s) => s.includes("tui-e2e-target") && s.includes("tui-e2e-other"), "the jobs table");
    const firstFrameMs = Date.now() - started;
    expect(screen).toContain(`leader ★ ${agent.nodeName}`);
    expect(screen).toContain("Jobs (2)");
    // Starts well within a second on a quiet machine; the bound leaves room for a busy CI runner.
    expect(firstFrameMs, "time to the first frame with jobs").toBeLessThan(5000);
    await screenUntil((s) => s.split("\n")[0]!.includes("● live"), "the event stream to connect");

    // Filter down to the target: `/`, its name, Enter.
    tmux.keys("/");
    tmux.type("target");
    tmux.keys("Enter");
    screen = await screenUntil((s) => s.includes('filter "target"') && !s.includes("tui-e2e-other"), "the filter to apply");
    expect(row(screen, "tui-e2e-target")).toMatch(/^› /);
    expect(screen).toContain("no executions yet");

    // r: run now → a new execution appears in the detail pane.
    tmux.keys("r");
    screen = await screenUntil((s) => /✓ ok\s+\S/.test(s) && s.includes(agent.nodeName), "the new execution in the detail pane");
    const execs = (await api<Execution[]>(agent.url, "GET", "/v1/jobs/tui-e2e-target/executions")).body;
    expect(execs).toHaveLength(1);
    expect(execs[0]!.output).toContain("hello from tui-e2e-target");
    await screenUntil((s) => /tui-e2e-target\s.*\s1\s+0 enabled/.test(row(s, "tui-e2e-target")), "the success count in the row");

    // Enter, Tab-focused executions, Enter: the execution's output.
    tmux.keys("Tab", "Enter");
    await screenUntil((s) => s.includes("hello from tui-e2e-target") && s.includes("output ·"), "the execution output");
    tmux.keys("Escape");
    await screenUntil((s) => s.includes("[1 Jobs]"), "back to the jobs view");
    tmux.keys("Tab");

    // t: toggle → the job shows disabled, on screen and on the server.
    tmux.keys("t");
    screen = await screenUntil((s) => /disabled/.test(row(s, "tui-e2e-target")), "the job to show disabled");
    expect((await api<Job>(agent.url, "GET", "/v1/jobs/tui-e2e-target")).body.disabled).toBe(true);

    // A smaller terminal: everything still fits in 80 columns.
    tmux.resize(80, 24);
    screen = await screenUntil((s) => s.includes("tui-e2e-target") && s.split("\n")[0]!.length <= 80 && /Jobs \(1\/2\)/.test(s), "the 80x24 layout");
    for (const line of screen.split("\n")) expect([...line].length).toBeLessThanOrEqual(80);

    // q: quit, and the shell's screen is back.
    tmux.keys("q");
    await until(() => tmux.dead(), { timeoutMs: 10_000, message: "dkron tui to exit on q" });
    expect(tmux.screen()).not.toContain("Jobs (");
  });
});
