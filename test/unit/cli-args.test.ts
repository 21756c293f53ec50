import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { resolveAgentOptions, type AgentCliOptions } from "../../src/cli/agent-options.js";
import { listQuery } from "../../src/cli/commands/jobs.js";
import { makeCtx, type Ctx } from "../../src/cli/context.js";
import { EXIT, UsageError, exitCodeFor } from "../../src/cli/errors.js";
import type { Io } from "../../src/cli/io.js";
import { buildJob, parseJobFile, type JobAddFlags } from "../../src/cli/job-builder.js";
import { runCli, type Actions } from "../../src/cli/program.js";
import { DkronError } from "../../src/shared/errors.js";

function memoryIo(env: Record<string, string> = {}): Io & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: { write: (s: string) => (out += s), isTTY: false },
    stderr: { write: (s: string) => (err += s) },
    stdin: new PassThrough(),
    env,
    now: () => 0,
    out: () => out,
    err: () => err,
  };
}

type Call = { action: keyof Actions; args: unknown[]; ctx?: Ctx };

/** Actions that record what the parser handed them, with no server involved. */
function recorder(): { actions: Actions; calls: Call[] } {
  const calls: Call[] = [];
  const rec =
    (action: keyof Actions) =>
    async (...args: unknown[]) => {
      const [first, ...rest] = args;
      if (action === "agent") calls.push({ action, args });
      else calls.push({ action, ctx: first as Ctx, args: rest });
    };
  const names: Array<keyof Actions> = [
    "agent",
    "jobsAdd",
    "jobsList",
    "jobsShow",
    "jobsRun",
    "jobsDelete",
    "jobsToggle",
    "executionsList",
    "executionsShow",
    "members",
    "leader",
    "version",
  ];
  const actions = Object.fromEntries(names.map((n) => [n, rec(n)])) as unknown as Actions;
  return { actions, calls };
}

async function run(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo(env);
  const { actions, calls } = recorder();
  const code = await runCli(args, io, actions);
  return { code, stdout: io.out(), stderr: io.err(), calls };
}

describe("usage errors exit 2 with one line on stderr", () => {
  it.each([
    [["jobs", "add", "x", "--tag", "foo"], "--tag"],
    [["jobs", "add", "x", "--config", "foo"], "--config"],
    [["jobs", "add", "x", "--metadata", "=v"], "--metadata"],
    [["jobs", "add", "x", "--retries", "two"], "--retries"],
    [["jobs", "add", "x", "--concurrency", "sometimes"], "--concurrency"],
    [["jobs", "add", "x", "--catchup", "some"], "--catchup"],
    [["jobs", "list", "--limit", "0"], "--limit"],
    [["jobs", "list", "--status", "great"], "--status"],
    [["jobs", "list", "--nope"], "--nope"],
    [["executions", "--limit", "x"], "--limit"],
    [["jobs", "show"], "name"],
    [["jobz"], "jobz"],
    [["agent", "--tag", "novalue"], "--tag"],
  ])("%j", async (args, mention) => {
    const r = await run(args);
    expect(r.code).toBe(EXIT.usage);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^dkron: [^\n]+\n$/);
    expect(r.stderr).toContain(mention);
  });

  it("a group without a subcommand prints its help on stderr and exits 2", async () => {
    const r = await run(["jobs"]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain("Usage: dkron jobs");
  });

  it("--help and --version exit 0 on stdout", async () => {
    const help = await run(["jobs", "add", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--schedule <spec>");
    expect(help.stdout).toContain("--address <url>");
    const v = await run(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("exit codes", () => {
  it("maps errors to 1 (server said no), 2 (usage), 3 (unreachable)", () => {
    expect(exitCodeFor(new DkronError("not_found", "job x not found"))).toBe(1);
    expect(exitCodeFor(new DkronError("invalid_argument", "schedule: bad", "schedule"))).toBe(1);
    expect(exitCodeFor(new DkronError("unavailable", "no leader"))).toBe(1);
    expect(exitCodeFor(new DkronError("unreachable", "cannot reach dkron"))).toBe(3);
    expect(exitCodeFor(new UsageError("bad"))).toBe(2);
    expect(exitCodeFor(new Error("boom"))).toBe(1);
  });

  it("an action's error becomes one stderr line and its exit code", async () => {
    const io = memoryIo();
    const { actions } = recorder();
    actions.jobsShow = async () => {
      throw new DkronError("unreachable", "cannot reach dkron at http://127.0.0.1:9: connection refused");
    };
    expect(await runCli(["jobs", "show", "x"], io, actions)).toBe(3);
    expect(io.err()).toBe("dkron: cannot reach dkron at http://127.0.0.1:9: connection refused\n");
  });
});

describe("jobs add: flags → job JSON", () => {
  it("passes every flag through to the action, typed", async () => {
    const r = await run([
      "jobs", "add", "backup",
      "--schedule", "@every 1m",
      "--command", "echo hi",
      "--shell",
      "--config", "timeout=30s",
      "--config", "env=A=1",
      "--tag", "role=web:2",
      "--metadata", "team=ops",
      "--timezone", "Europe/Madrid",
      "--disabled",
      "--retries", "3",
      "--concurrency", "forbid",
      "--parent", "nightly",
      "--displayname", "Backup",
      "--owner", "ops",
      "--owner-email", "ops@example.com",
      "--catchup", "none",
      "--run",
    ]);
    expect(r.code).toBe(0);
    const [call] = r.calls;
    expect(call!.action).toBe("jobsAdd");
    const [name, flags] = call!.args as [string, JobAddFlags];
    expect(name).toBe("backup");
    expect(flags.run).toBe(true);
    expect(buildJob(name, flags)).toEqual({
      name: "backup",
      schedule: "@every 1m",
      executor: "shell",
      executor_config: { command: "echo hi", shell: "true", timeout: "30s", env: "A=1" },
      tags: { role: "web:2" },
      metadata: { team: "ops" },
      timezone: "Europe/Madrid",
      disabled: true,
      retries: 3,
      concurrency: "forbid",
      parent_job: "nightly",
      displayname: "Backup",
      owner: "ops",
      owner_email: "ops@example.com",
      catchup: "none",
    });
  });

  it("a minimal job is a shell job with only what was given", () => {
    expect(buildJob("a", { schedule: "@daily", command: "true" })).toEqual({
      name: "a",
      schedule: "@daily",
      executor: "shell",
      executor_config: { command: "true" },
    });
  });

  it("--file fields are overridden by flags; maps merge key by key", () => {
    const file = parseJobFile(
      JSON.stringify({
        id: "old",
        name: "from_file",
        schedule: "@hourly",
        executor: "http",
        executor_config: { method: "GET", url: "http://a" },
        tags: { region: "eu", role: "db" },
        retries: 1,
        success_count: 7,
      }),
      "job.json",
    );
    const job = buildJob("renamed", { schedule: "@daily", config: { url: "http://b" }, tag: { role: "web" } }, { body: file, source: "job.json" });
    expect(job).toEqual({
      id: "renamed",
      name: "renamed",
      schedule: "@daily",
      executor: "http",
      executor_config: { method: "GET", url: "http://b" },
      tags: { region: "eu", role: "web" },
      retries: 1,
      success_count: 7,
    });
  });

  it("takes the name from the file when NAME is omitted", () => {
    const body = parseJobFile('{"name":"n","schedule":"@daily"}', "stdin");
    expect(buildJob(undefined, {}, { body, source: "stdin" })).toEqual({ name: "n", schedule: "@daily", executor: "shell" });
  });

  it("rejects a missing name, bad JSON and non-object files as usage errors", () => {
    expect(() => buildJob(undefined, { schedule: "@daily" })).toThrow(UsageError);
    expect(() => parseJobFile("{nope", "job.json")).toThrow(/--file job.json: not valid JSON/);
    expect(() => parseJobFile("[]", "job.json")).toThrow(UsageError);
    const body = parseJobFile('{"schedule":"@daily"}', "stdin");
    expect(() => buildJob(undefined, {}, { body, source: "stdin" })).toThrow(/no job name/);
    expect(() => buildJob("x", { tag: { a: "1" } }, { body: { tags: "nope" }, source: "f" })).toThrow(/tags must be an object/);
  });

  it("splits k=v at the first = only", async () => {
    const r = await run(["jobs", "add", "x", "--config", "env=A=1,B=2", "--tag", "k="]);
    const [, flags] = r.calls[0]!.args as [string, JobAddFlags];
    expect(flags.config).toEqual({ env: "A=1,B=2" });
    expect(flags.tag).toEqual({ k: "" });
  });
});

describe("jobs list / executions flags", () => {
  it("builds the API query", async () => {
    const r = await run(["jobs", "list", "--query", "back", "--status", "failed", "--disabled", "--sort", "-next", "--limit", "5", "--metadata", "team=ops"]);
    const [flags] = r.calls[0]!.args as [Parameters<typeof listQuery>[0]];
    expect(listQuery(flags)).toEqual({
      q: "back",
      status: "failed",
      disabled: true,
      sort: "next",
      order: "DESC",
      start: 0,
      end: 5,
      metadata: { team: "ops" },
    });
    expect(listQuery({ sort: "name", enabled: true })).toEqual({ sort: "name", order: "ASC", disabled: false });
    expect(() => listQuery({ enabled: true, disabled: true })).toThrow(UsageError);
  });

  it("executions defaults to 20 and routes show to its subcommand", async () => {
    const list = await run(["executions", "backup"]);
    expect(list.calls[0]).toMatchObject({ action: "executionsList", args: ["backup", { limit: 20 }] });
    const all = await run(["executions", "--limit", "3", "--output"]);
    expect(all.calls[0]).toMatchObject({ action: "executionsList", args: [undefined, { limit: 3, output: true }] });
    const show = await run(["executions", "show", "backup", "123-n1", "--json"]);
    expect(show.calls[0]).toMatchObject({ action: "executionsShow", args: ["backup", "123-n1"] });
    expect(show.calls[0]!.ctx!.json).toBe(true);
  });
});

describe("global flags and the environment", () => {
  it("--address and --token win over DKRON_ADDR and DKRON_API_TOKEN, which win over the default", async () => {
    const env = { DKRON_ADDR: "http://env:1234", DKRON_API_TOKEN: "envtok" };
    const fromEnv = await run(["jobs", "list"], env);
    expect(fromEnv.calls[0]!.ctx).toMatchObject({ address: "http://env:1234", token: "envtok", json: false });
    const fromFlags = await run(["jobs", "list", "--address", "http://flag:1", "--token", "t", "--json"], env);
    expect(fromFlags.calls[0]!.ctx).toMatchObject({ address: "http://flag:1", token: "t", json: true });
    const before = await run(["--json", "--address", "http://b:2", "members"], env);
    expect(before.calls[0]!.ctx).toMatchObject({ address: "http://b:2", json: true });
    const dflt = await run(["leader"]);
    expect(dflt.calls[0]!.ctx!.address).toBe("http://127.0.0.1:8080");
    expect(dflt.calls[0]!.ctx!.token).toBeUndefined();
  });

  it("colour follows the TTY and NO_COLOR", () => {
    const tty = (env: Record<string, string>): Io => ({ ...memoryIo(env), stdout: { write: () => true, isTTY: true } });
    expect(makeCtx(tty({}), {}).style.enabled).toBe(true);
    expect(makeCtx(tty({ NO_COLOR: "1" }), {}).style.enabled).toBe(false);
    expect(makeCtx(memoryIo(), {}).style.enabled).toBe(false);
  });
});

describe("agent options", () => {
  const empty = { join: [], retryJoin: [], tag: [], natsUrl: [], webhookHeaders: [], preWebhookHeaders: [] };

  it("parses every flag, raw", async () => {
    const r = await run([
      "agent", "--server", "--node-name", "n1", "--data-dir", "/tmp/d", "--http-addr", "127.0.0.1:0",
      "--bind-addr", "0.0.0.0:8946", "--advertise-addr", "10.0.0.1", "--rpc-port", "6868", "--bootstrap-expect", "3",
      "--join", "a:1", "--join", "b:2", "--retry-join", "c:3", "--tag", "dc=eu", "--tag", "role=web",
      "--nats-url", "nats://x:4222", "--nats-server-bin", "/bin/nats-server", "--encrypt", "k", "--api-token", "tok",
      "--log-level", "debug", "--log-file", "/tmp/log",
    ]);
    expect(r.code).toBe(0);
    expect(r.calls[0]!.args[0]).toEqual({
      server: true,
      nodeName: "n1",
      dataDir: "/tmp/d",
      httpAddr: "127.0.0.1:0",
      bindAddr: "0.0.0.0:8946",
      advertiseAddr: "10.0.0.1",
      rpcPort: "6868",
      bootstrapExpect: "3",
      join: ["a:1", "b:2"],
      retryJoin: ["c:3"],
      tag: ["dc=eu", "role=web"],
      natsUrl: ["nats://x:4222"],
      natsServerBin: "/bin/nats-server",
      encrypt: "k",
      apiToken: "tok",
      logLevel: "debug",
      logFile: "/tmp/log",
      webhookHeaders: [],
      preWebhookHeaders: [],
    } satisfies AgentCliOptions);
  });

  it("falls back to DKRON_* env; flags win; lists are comma-separated", async () => {
    const env = {
      DKRON_SERVER: "true",
      DKRON_DATA_DIR: "/env/data",
      DKRON_HTTP_ADDR: ":9090",
      DKRON_NODE_NAME: "envnode",
      DKRON_TAG: "a=1, b=2",
      DKRON_JOIN: "x:1,y:2",
      DKRON_NATS_URL: "nats://e:4222",
      DKRON_API_TOKEN: "envtok",
    };
    const r = await run(["agent", "--node-name", "flagnode", "--join", "z:3"], env);
    expect(r.calls[0]!.args[0]).toEqual({
      ...empty,
      server: true,
      dataDir: "/env/data",
      httpAddr: ":9090",
      nodeName: "flagnode",
      tag: ["a=1", "b=2"],
      join: ["z:3"],
      natsUrl: ["nats://e:4222"],
      apiToken: "envtok",
    });
  });

  it("reports malformed env values as usage errors", async () => {
    expect(() => resolveAgentOptions({}, { DKRON_TAG: "a=1,oops" })).toThrow(/DKRON_TAG/);
    expect(() => resolveAgentOptions({}, { DKRON_RPC_PORT: "lots" })).toThrow(/DKRON_RPC_PORT/);
    expect(() => resolveAgentOptions({}, { DKRON_SERVER: "maybe" })).toThrow(/DKRON_SERVER/);
    const r = await run(["agent", "--bootstrap-expect", "three"]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe('dkron: --bootstrap-expect: expected a non-negative integer, got "three"\n');
    expect(resolveAgentOptions({}, { DKRON_SERVER: "0" })).toEqual({ ...empty, server: false });
  });
});
