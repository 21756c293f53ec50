// The built CLI against a real agent: --json shapes, exit codes, and a job's life
// (add → list/show → run → executions → toggle → delete).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Execution } from "../../src/shared/execution.js";
import type { Job } from "../../src/shared/job.js";
import type { Member } from "../../src/shared/member.js";
import { startAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import { ONE_LINE_ERROR, assertBuilt, dkron, type CliResult } from "./cli-run.js";

type Agent = Awaited<ReturnType<typeof startAgent>>;

let agent: Agent;
/** Runs the CLI against the agent (via DKRON_ADDR, so the env fallback is exercised too). */
const cli = (args: string[], opts: { input?: string } = {}): Promise<CliResult> =>
  dkron(args, { env: { DKRON_ADDR: agent.url }, ...opts });

/** Exit 0, nothing on stderr, and stdout is exactly one JSON document. */
async function json<T>(args: string[], opts: { input?: string } = {}): Promise<T> {
  const r = await cli([...args, "--json"], opts);
  expect(r.stderr, `stderr of dkron ${args.join(" ")}`).toBe("");
  expect(r.code, `exit of dkron ${args.join(" ")}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

const finished = (e: Execution) => e.finished_at !== "" && !e.finished_at.startsWith("0001-01-01");

beforeAll(async () => {
  assertBuilt();
  agent = await startAgent();
  // Runs need a leader; wait for one through the CLI itself.
  await until(
    async () => {
      const r = await cli(["leader", "--json"]);
      if (r.code !== 0) throw new Error(r.stderr.trim());
      return true;
    },
    { timeoutMs: 30_000, message: "a leader" },
  );
});

afterAll(async () => {
  await agent?.stop();
});

describe("dkron CLI against an agent", () => {
  it("jobs add --json prints the created job and nothing else", async () => {
    const job = await json<Job>(["jobs", "add", "e2e-echo", "--schedule", "@manually", "--command", "echo hello-e2e", "--metadata", "suite=cli"]);
    expect(job).toMatchObject({
      name: "e2e-echo",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "echo hello-e2e" },
      metadata: { suite: "cli" },
      disabled: false,
    });
  });

  it("jobs list --json is an array of Dkron jobs; filters and limits apply", async () => {
    await json<Job>(["jobs", "add", "e2e-other", "--schedule", "@manually", "--command", "true"]);
    const all = await json<Job[]>(["jobs", "list"]);
    expect(Array.isArray(all)).toBe(true);
    const echo = all.find((j) => j.name === "e2e-echo");
    expect(echo).toBeDefined();
    for (const key of ["id", "name", "schedule", "next", "status", "success_count", "error_count", "last_success", "last_error", "disabled", "executor", "executor_config"]) {
      expect(echo).toHaveProperty(key);
    }
    const filtered = await json<Job[]>(["jobs", "list", "--metadata", "suite=cli"]);
    expect(filtered.map((j) => j.name)).toEqual(["e2e-echo"]);
    expect(await json<Job[]>(["jobs", "list", "--limit", "1"])).toHaveLength(1);
  });

  it("jobs list without --json prints an aligned table with no colour off a TTY", async () => {
    const r = await cli(["jobs", "list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    const [header, ...rows] = r.stdout.trimEnd().split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "SCHEDULE", "NEXT", "LAST", "STATUS", "OK", "ERR", "ENABLED"]);
    const row = rows.find((l) => l.startsWith("e2e-echo "));
    expect(row).toBeDefined();
    expect(row!.indexOf("@manually")).toBe(header!.indexOf("SCHEDULE"));
  });

  it("jobs show --json prints the job", async () => {
    const job = await json<Job>(["jobs", "show", "e2e-echo"]);
    expect(job.name).toBe("e2e-echo");
    expect(job.executor_config.command).toBe("echo hello-e2e");
  });

  it("a bad schedule → exit 1, one line on stderr naming the field", async () => {
    const r = await cli(["jobs", "add", "e2e-bad", "--schedule", "every now and then", "--command", "true", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain("schedule");
  });

  it("--tag without = → exit 2 before anything is sent", async () => {
    const r = await cli(["jobs", "add", "e2e-tagless", "--schedule", "@manually", "--command", "true", "--tag", "foo"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect((await cli(["jobs", "show", "e2e-tagless"])).code).toBe(1);
  });

  it("jobs add --file - reads a Dkron job from stdin; flags override it", async () => {
    const file = { name: "e2e-file", schedule: "@daily", executor: "shell", executor_config: { command: "true" }, tags: { a: "1" } };
    const job = await json<Job>(["jobs", "add", "--file", "-", "--schedule", "@manually", "--tag", "b=2"], { input: JSON.stringify(file) });
    expect(job).toMatchObject({ name: "e2e-file", schedule: "@manually", tags: { a: "1", b: "2" } });
  });

  it("jobs run → executions JOB --json grows, and the execution can be shown", async () => {
    const before = await json<Execution[]>(["executions", "e2e-echo"]);
    const ran = await json<Job>(["jobs", "run", "e2e-echo"]);
    expect(ran.name).toBe("e2e-echo");
    const latest = await until(
      async () => {
        const list = await json<Execution[]>(["executions", "e2e-echo"]);
        return list.length > before.length && finished(list[0]!) ? list[0] : undefined;
      },
      { timeoutMs: 30_000, message: "a finished execution of e2e-echo" },
    );
    expect(latest, JSON.stringify(latest)).toMatchObject({ job_name: "e2e-echo", success: true, attempt: 1 });
    expect(latest.output).toContain("hello-e2e");

    const shown = await json<Execution>(["executions", "show", "e2e-echo", latest.id]);
    expect(shown.id).toBe(latest.id);
    expect(shown.output).toContain("hello-e2e");

    const recent = await json<Execution[]>(["executions", "--limit", "50"]);
    expect(recent.some((e) => e.id === latest.id)).toBe(true);

    const table = await cli(["executions", "e2e-echo", "--output"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]!.split(/\s+/)).toEqual(["ID", "JOB", "STARTED", "DURATION", "NODE", "STATUS", "ATTEMPT", "OUTPUT"]);
    expect(table.stdout).toContain(latest.id);
    expect(table.stdout).toContain("success");
  });

  it("jobs toggle flips disabled", async () => {
    expect((await json<Job>(["jobs", "toggle", "e2e-echo"])).disabled).toBe(true);
    expect((await json<Job>(["jobs", "show", "e2e-echo"])).disabled).toBe(true);
    expect((await json<Job>(["jobs", "toggle", "e2e-echo"])).disabled).toBe(false);
  });

  it("jobs delete prints the deleted job; show then exits 1", async () => {
    const deleted = await json<Job>(["jobs", "delete", "e2e-other"]);
    expect(deleted.name).toBe("e2e-other");
    const r = await cli(["jobs", "show", "e2e-other"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain("not found");
  });

  it("members, leader and version report this node", async () => {
    const members = await json<Member[]>(["members"]);
    expect(members.map((m) => m.Name)).toContain(agent.nodeName);
    const leader = await json<Member>(["leader"]);
    expect(leader.Name).toBe(agent.nodeName);
    const v = await json<{ client: string; server: { name: string; version: string } }>(["version"]);
    expect(v.server.name).toBe(agent.nodeName);
    expect(v.server.version).toBe(v.client);
    const human = await cli(["members"]);
    expect(human.stdout.split("\n")[0]!.split(/\s{2,}/)).toEqual(["NAME", "ADDR", "ROLE", "STATUS", "LEADER", "TAGS", "LAST SEEN"]);
  });
});
