// The nats executor (src/server/executors/nats.ts) against real nats-servers: the message reaches a
// subscriber, user/password auth, several servers, unreachable servers, startAt, kills, debug output
// and field-named validation errors.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsExecutor } from "../../src/server/executors/nats.js";
import type { ExecutionResult } from "../../src/server/executors/types.js";
import { findNatsServerBin } from "../../src/server/nats/embedded.js";
import { isDkronError } from "../../src/shared/errors.js";
import { parseJobInput } from "../../src/shared/job.js";
import { startNatsServer, type TestNatsServer } from "../helpers/nats.js";
import { until } from "../helpers/until.js";

function start(config: Record<string, string>, startAt?: number) {
  const job = parseJobInput({ name: "nats_job", schedule: "@manually", executor: "nats", executor_config: config });
  const chunks: Buffer[] = [];
  const abort = new AbortController();
  let startedAt: number | undefined;
  const result: Promise<ExecutionResult> = natsExecutor.run({
    job,
    executionId: "exec-1",
    onOutput: (c) => chunks.push(c),
    signal: abort.signal,
    ...(startAt !== undefined ? { startAt } : {}),
    onStarted: (at) => (startedAt = at),
  });
  return { result, output: () => Buffer.concat(chunks).toString(), abort, startedAt: () => startedAt };
}

/** Subscribes and collects what arrives on a subject. */
async function collect(nc: NatsConnection, subject: string) {
  const got: string[] = [];
  const sub = nc.subscribe(subject, { callback: (_err, msg) => got.push(msg.string()) });
  await nc.flush();
  return { got, stop: () => sub.unsubscribe() };
}

/** A nats-server that requires user/password, on a random port read back from its ports file. */
async function startAuthServer(user: string, pass: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dkron-nats-auth-"));
  const child: ChildProcess = spawn(findNatsServerBin(), ["-a", "127.0.0.1", "-p", "-1", "--user", user, "--pass", pass, "--ports_file_dir", dir], {
    stdio: "ignore",
  });
  const url = await until(
    async () => {
      const f = (await readdir(dir)).find((n) => n.endsWith(".ports"));
      return f ? (JSON.parse(await readFile(path.join(dir, f), "utf8")) as { nats: string[] }).nats[0] : undefined;
    },
    { message: "nats-server ports file" },
  );
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function validationField(config: Record<string, string>): string | undefined {
  try {
    natsExecutor.validate!(config);
    return undefined;
  } catch (err) {
    if (!isDkronError(err, "invalid_argument")) throw err;
    return err.field;
  }
}

describe("nats executor", () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it("publishes the message to the subject; success once flushed", async () => {
    const sub = await collect(nc, "jobs.report");
    const r = start({ url: server.url, subject: "jobs.report", message: "hello from dkron" });
    expect(await r.result).toEqual({ success: true, exitCode: null });
    expect(r.output()).toBe("Result: Message successfully sent\n");
    await until(() => sub.got.length === 1, { message: "the message at the subscriber" });
    expect(sub.got).toEqual(["hello from dkron"]);
    sub.stop();
  });

  it("an empty message is published as an empty payload", async () => {
    const sub = await collect(nc, "jobs.empty");
    expect(await start({ url: server.url, subject: "jobs.empty" }).result).toMatchObject({ success: true });
    await until(() => sub.got.length === 1, { message: "the empty message" });
    expect(sub.got).toEqual([""]);
    sub.stop();
  });

  it("accepts a host:port url and a comma-separated server list", async () => {
    const sub = await collect(nc, "jobs.list");
    const hostPort = server.url.replace("nats://", "");
    expect(await start({ url: hostPort, subject: "jobs.list", message: "a" }).result).toMatchObject({ success: true });
    expect(await start({ url: ` ${server.url} , ${server.url}`, subject: "jobs.list", message: "b" }).result).toMatchObject({ success: true });
    await until(() => sub.got.length === 2, { message: "both messages" });
    sub.stop();
  });

  it("debug adds the server and the size to the output", async () => {
    const r = start({ url: server.url, subject: "jobs.debug", message: "12345", debug: "1" });
    await r.result;
    expect(r.output()).toMatch(/^Connected to .*127\.0\.0\.1.*\nPublished 5 bytes to "jobs\.debug"\nResult: Message successfully sent\n$/);
  });

  it("waits for startAt and reports the real start", async () => {
    const sub = await collect(nc, "jobs.later");
    const at = Date.now() + 250;
    const r = start({ url: server.url, subject: "jobs.later", message: "x" }, at);
    expect(await r.result).toMatchObject({ success: true });
    expect(r.startedAt()!).toBeGreaterThanOrEqual(at);
    await until(() => sub.got.length === 1, { message: "the delayed message" });
    sub.stop();
  });

  it("a kill before startAt publishes nothing", async () => {
    const sub = await collect(nc, "jobs.never");
    const r = start({ url: server.url, subject: "jobs.never", message: "x" }, Date.now() + 60_000);
    r.abort.abort("killed");
    expect(await r.result).toEqual({ success: false, exitCode: null, reason: "killed" });
    await nc.flush();
    expect(sub.got).toEqual([]);
    sub.stop();
  });

  it("an unreachable server is a failure with a reason, not a rejection", async () => {
    const dead = await startNatsServer({ jetstream: false });
    const url = dead.url;
    await dead.stop();
    const t0 = Date.now();
    const r = await start({ url, subject: "x" }).result;
    expect(r).toMatchObject({ success: false, exitCode: null, reason: expect.stringContaining(url.replace("nats://", "")) });
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it("an invalid config at run time is a failure with the validation message", async () => {
    expect(await start({ url: server.url, subject: "a.*" }).result).toMatchObject({ success: false, reason: expect.stringMatching(/^executor_config\.subject: /) });
  });
});

describe("nats executor with user/password", () => {
  let server: Awaited<ReturnType<typeof startAuthServer>>;
  beforeAll(async () => {
    server = await startAuthServer("dkron", "s3cret:with:colons");
  });
  afterAll(() => server?.stop());

  it("userName and password authenticate", async () => {
    const nc = await connect({ servers: server.url, user: "dkron", pass: "s3cret:with:colons" });
    try {
      const sub = await collect(nc, "auth.ok");
      const r = await start({ url: server.url, subject: "auth.ok", message: "m", userName: "dkron", password: "s3cret:with:colons" }).result;
      expect(r).toMatchObject({ success: true });
      await until(() => sub.got.length === 1, { message: "the authenticated message" });
    } finally {
      await nc.close();
    }
  });

  it("a wrong password or no credentials fail with the server's reason", async () => {
    const wrong = await start({ url: server.url, subject: "auth.no", userName: "dkron", password: "nope" }).result;
    expect(wrong).toMatchObject({ success: false, reason: expect.stringMatching(/authorization/i) });
    const none = await start({ url: server.url, subject: "auth.no" }).result;
    expect(none).toMatchObject({ success: false, reason: expect.stringMatching(/authorization/i) });
  });
});

describe("nats executor config validation", () => {
  it.each<[string, Record<string, string>]>([
    ["executor_config.url", { url: "", subject: "a" }],
    ["executor_config.url", { url: "http://127.0.0.1:4222", subject: "a" }],
    ["executor_config.url", { url: "nats://:4222", subject: "a" }],
    ["executor_config.subject", { url: "nats://127.0.0.1:4222", subject: "" }],
    ["executor_config.subject", { url: "nats://127.0.0.1:4222", subject: "a.>" }],
    ["executor_config.subject", { url: "nats://127.0.0.1:4222", subject: "a..b" }],
    ["executor_config.subject", { url: "nats://127.0.0.1:4222", subject: "a b" }],
    ["executor_config.userName", { url: "nats://127.0.0.1:4222", subject: "a", password: "p" }],
  ])("rejects a bad %s (%j)", (field, config) => {
    expect(validationField(config)).toBe(field);
  });

  it("accepts valid configs", () => {
    expect(validationField({ url: "nats://127.0.0.1:4222,tls://h:4443", subject: "jobs.done", message: "m", userName: "u", password: "p" })).toBeUndefined();
    expect(validationField({ url: "localhost:4222", subject: "x" })).toBeUndefined();
  });
});
