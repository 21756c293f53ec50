// The embedded nats-server against the real binary: start, JetStream, stop, supervision after
// kill -9, clean-up of a server left behind by a crashed agent, start-up failures, auth, cluster.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "nats";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/server/logger.js";
import { EmbeddedNats, findNatsServerBin, pickFreePort, type EmbeddedNatsOptions } from "../../src/server/nats/embedded.js";
import { DkronError } from "../../src/shared/errors.js";
import { startNatsServer } from "../helpers/nats.js";
import { until } from "../helpers/until.js";

const bin = findNatsServerBin();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Everything a test starts is registered here and torn down even when the test fails.
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dkron-embedded-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function embedded(opts: Partial<EmbeddedNatsOptions> & { dir: string }): EmbeddedNats {
  const e = new EmbeddedNats({
    bin,
    serverName: "n1",
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    maxMemoryStore: "64MB",
    maxFileStore: "256MB",
    ...opts,
  });
  cleanups.push(() => e.stop());
  return e;
}

async function client(url: string, extra: Parameters<typeof connect>[0] = {}): Promise<NatsConnection> {
  const nc = await connect({ servers: url, ...extra });
  cleanups.push(() => nc.close());
  return nc;
}

describe("EmbeddedNats", () => {
  it("starts a nats-server with JetStream: KV put/get works", async () => {
    const srv = await startNatsServer();
    cleanups.push(() => srv.stop());
    expect(srv.url).toBe(`nats://127.0.0.1:${srv.port}`);
    expect(isAlive(srv.pid)).toBe(true);

    const conf = readFileSync(path.join(srv.dir, "nats-server.conf"), "utf8");
    expect(conf).toContain(`listen: "127.0.0.1:${srv.port}"`);
    expect(conf).toContain("max_payload: 8MB");
    expect(conf).toContain(`store_dir: ${JSON.stringify(path.join(srv.dir, "store"))}`);
    expect(existsSync(path.join(srv.dir, "nats-server.log"))).toBe(true);

    const nc = await client(srv.url);
    const kv = await nc.jetstream().views.kv("embedded-test", { history: 2 });
    await kv.put("greeting", "hello");
    expect((await kv.get("greeting"))?.string()).toBe("hello");
    expect(nc.info?.max_payload).toBe(8 * 1024 * 1024);
    expect(existsSync(path.join(srv.dir, "store", "jetstream"))).toBe(true);
  });

  it("stop() leaves no process and removes its pid file", async () => {
    const dir = await tempDir();
    const e = embedded({ dir });
    await e.start();
    const pid = e.pid!;
    expect(isAlive(pid)).toBe(true);
    expect(readFileSync(path.join(dir, "nats-server.pid"), "utf8").trim()).toBe(String(pid));

    await e.stop();
    expect(isAlive(pid)).toBe(false);
    expect(e.pid).toBeUndefined();
    expect(existsSync(path.join(dir, "nats-server.pid"))).toBe(false);
    // the log is kept
    expect(readFileSync(path.join(dir, "nats-server.log"), "utf8")).toContain("Server Exiting");
  });

  it("restarts the server after kill -9 on the same port; clients reconnect and KV data survives", async () => {
    const srv = await startNatsServer();
    cleanups.push(() => srv.stop());
    let restarts = 0;
    srv.embedded.onRestart(() => restarts++);

    const nc = await client(srv.url, { maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    let reconnects = 0;
    void (async () => {
      for await (const s of nc.status()) if (s.type === "reconnect") reconnects++;
    })();
    const kv = await nc.jetstream().views.kv("survives");
    await kv.put("k", "before-kill");

    const oldPid = srv.pid;
    srv.kill("SIGKILL");
    await until(() => restarts === 1, { message: "restart callback" });
    expect(srv.embedded.pid).toBeDefined();
    expect(srv.embedded.pid).not.toBe(oldPid);
    expect(isAlive(oldPid)).toBe(false);
    expect(srv.embedded.url).toBe(srv.url);

    await until(() => reconnects >= 1, { message: "client reconnect" });
    const value = await until(async () => (await kv.get("k"))?.string(), { message: "KV read after restart" });
    expect(value).toBe("before-kill");
    await kv.put("k", "after-restart");
    expect((await kv.get("k"))?.string()).toBe("after-restart");
  });

  it("start() stops a stale nats-server left on the same dir by a crashed agent", async () => {
    const dir = await tempDir();
    const first = embedded({ dir });
    await first.start();
    const stalePid = first.pid!;
    cleanups.push(() => isAlive(stalePid) && process.kill(stalePid, "SIGKILL"));
    const port = Number(new URL(first.url).port);
    first.abandon(); // our "crash": no stop(), no supervision, child left running

    expect(isAlive(stalePid)).toBe(true);
    const second = embedded({ dir, port });
    await second.start();
    expect(isAlive(stalePid)).toBe(false);
    expect(second.pid).not.toBe(stalePid);
    expect(second.url).toBe(first.url);

    const nc = await client(second.url);
    const kv = await nc.jetstream().views.kv("after-stale");
    await kv.put("x", "1");
    expect((await kv.get("x"))?.string()).toBe("1");
  });

  it("does not touch a live process whose pid is in the pid file but is not our nats-server", async () => {
    const dir = await tempDir();
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    cleanups.push(() => sleeper.kill("SIGKILL"));
    writeFileSync(path.join(dir, "nats-server.pid"), String(sleeper.pid));
    const e = embedded({ dir });
    await e.start();
    expect(isAlive(sleeper.pid!)).toBe(true);
  });

  it("the child exits when the agent process is killed with SIGKILL (parent-death signal)", async (ctx) => {
    if (process.platform !== "linux" || !existsSync("/usr/bin/setpriv")) ctx.skip();
    const dir = await tempDir();
    const moduleUrl = new URL("../../src/server/nats/embedded.ts", import.meta.url).href;
    const loggerUrl = new URL("../../src/server/logger.ts", import.meta.url).href;
    const code = `
      const { EmbeddedNats } = await import(${JSON.stringify(moduleUrl)});
      const { silentLogger } = await import(${JSON.stringify(loggerUrl)});
      const e = new EmbeddedNats({ bin: ${JSON.stringify(bin)}, dir: ${JSON.stringify(dir)}, serverName: "orphan",
        host: "127.0.0.1", port: 0, logger: silentLogger(), maxMemoryStore: "64MB", maxFileStore: "256MB" });
      await e.start();
      process.stdout.write("PID " + e.pid + "\\n");
      setInterval(() => {}, 1000);
    `;
    const agent = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "inherit"],
      cwd: path.resolve(import.meta.dirname, "../.."),
    });
    cleanups.push(() => agent.kill("SIGKILL"));
    let out = "";
    agent.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const natsPid = Number(await until(() => /PID (\d+)/.exec(out)?.[1], { message: "agent reports nats pid" }));
    cleanups.push(() => isAlive(natsPid) && process.kill(natsPid, "SIGKILL"));
    expect(isAlive(natsPid)).toBe(true);

    agent.kill("SIGKILL");
    await until(() => !isAlive(natsPid), { message: "orphaned nats-server to exit" });
  });

  it("fails with 'unavailable' and the log tail when the client port is taken", async () => {
    const blocker = net.createServer((sock) => sock.destroy());
    await new Promise<void>((r) => blocker.listen({ host: "127.0.0.1", port: 0 }, r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as net.AddressInfo).port;
    const e = embedded({ dir: await tempDir(), port, readyTimeoutMs: 5_000 });
    const err = await e.start().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(DkronError);
    expect((err as DkronError).code).toBe("unavailable");
    expect((err as DkronError).message).toMatch(/address already in use/);
    expect(e.pid).toBeUndefined();
  });

  it("fails with 'unavailable' when the binary exits at once", async () => {
    const e = embedded({ dir: await tempDir(), bin: "/bin/false", readyTimeoutMs: 5_000 });
    await expect(e.start()).rejects.toMatchObject({ code: "unavailable", message: expect.stringMatching(/exit code 1/) });
  });

  it("with a token, clients must authenticate", async () => {
    const token = `s3cr"et$with\\odd/chars`;
    const srv = await startNatsServer({ token });
    cleanups.push(() => srv.stop());
    await expect(connect({ servers: srv.url, reconnect: false })).rejects.toMatchObject({ code: "AUTHORIZATION_VIOLATION" });
    const nc = await client(srv.url, { token });
    const kv = await nc.jetstream().views.kv("auth");
    await kv.put("a", "b");
    expect((await kv.get("a"))?.string()).toBe("b");
  });

  it("forms a 3-node cluster with authenticated routes: R3 KV works", async () => {
    const token = "cluster-secret";
    const routePorts = [await pickFreePort("127.0.0.1"), await pickFreePort("127.0.0.1"), await pickFreePort("127.0.0.1")];
    const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`);
    const nodes = await Promise.all(
      routePorts.map(async (p, i) =>
        embedded({ dir: await tempDir(), serverName: `n${i + 1}`, token, cluster: { host: "127.0.0.1", port: p, routes } }),
      ),
    );
    await Promise.all(nodes.map((n) => n.start()));
    const conf = readFileSync(path.join(path.dirname(nodes[0]!.logFile), "nats-server.conf"), "utf8");
    expect(conf).toContain(`nats-route://dkron:cluster-secret@127.0.0.1:${routePorts[1]}`);

    const nc = await client(nodes[0]!.url, { token });
    // Until the meta leader is elected (~0.5 s) JetStream requests go unanswered: short timeouts, retried.
    const js = nc.jetstream({ timeout: 1_000 });
    const kv = await until(() => js.views.kv("replicated", { replicas: 3 }), { message: "R3 bucket", timeoutMs: 20_000 });
    await until(() => kv.put("k", "v"), { message: "R3 put" });
    const nc3 = await client(nodes[2]!.url, { token });
    const kv3 = await nc3.jetstream().views.kv("replicated");
    expect(await until(async () => (await kv3.get("k"))?.string(), { message: "read on n3" })).toBe("v");
  });
});

describe("findNatsServerBin", () => {
  it("finds the installed binary, also when its directory is not on PATH", () => {
    expect(findNatsServerBin(undefined, {})).toBe(bin);
    expect(findNatsServerBin(bin, {})).toBe(bin);
    expect(findNatsServerBin(undefined, { DKRON_NATS_SERVER_BIN: bin })).toBe(bin);
  });

  it("throws 'unavailable' with install instructions when the binary is missing", () => {
    for (const call of [
      () => findNatsServerBin("/nonexistent/nats-server", {}),
      () => findNatsServerBin(undefined, { DKRON_NATS_SERVER_BIN: "/nonexistent/nats-server", PATH: "" }),
      () => findNatsServerBin("no-such-nats-server-binary", { PATH: "" }),
    ]) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DkronError);
      expect((err as DkronError).code).toBe("unavailable");
      expect((err as DkronError).message).toContain("apt-get install nats-server");
      expect((err as DkronError).message).toContain("brew install nats-server");
      expect((err as DkronError).message).not.toContain("\n");
    }
  });
});
