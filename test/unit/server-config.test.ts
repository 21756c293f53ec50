// The agent's resolved configuration (src/server/config.ts): defaults, the loopback rule (nothing
// listens beyond loopback without a shared secret), and bad values as clear usage errors.
import { describe, expect, it, vi } from "vitest";

// resolveConfig defaults the node name to the host name: control it.
const host = vi.hoisted(() => ({ name: "testhost" }));
vi.mock("node:os", async (importOriginal) => {
  const orig = await importOriginal<typeof import("node:os")>();
  return { ...orig, default: { ...orig, hostname: () => host.name }, hostname: () => host.name };
});

const { isLoopback, parseHostPort, resolveConfig } = await import("../../src/server/config.js");
const { DkronError } = await import("../../src/shared/errors.js");
type RawAgentOptions = import("../../src/server/config.js").RawAgentOptions;

const raw = (over: Partial<RawAgentOptions> = {}): RawAgentOptions => ({
  server: true, join: [], retryJoin: [], tag: [], natsUrl: [], webhookHeaders: [], preWebhookHeaders: [], ...over,
});

function expectUsage(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DkronError);
  expect((caught as InstanceType<typeof DkronError>).code).toBe("invalid_argument");
  expect((caught as Error).message).toMatch(pattern);
}

describe("resolveConfig defaults", () => {
  it("binds to loopback on Dkron's ports", () => {
    host.name = "testhost";
    expect(resolveConfig(raw(), {})).toEqual({
      server: true,
      nodeName: "testhost",
      dataDir: "dkron.data",
      httpHost: "127.0.0.1",
      httpPort: 8080,
      bindHost: "127.0.0.1",
      bindPort: 8946,
      advertiseAddr: "127.0.0.1:8946",
      rpcPort: 6868,
      bootstrapExpect: 1,
      join: [],
      retryJoin: [],
      tags: {},
      natsUrls: [],
      natsServerBin: undefined,
      encrypt: undefined,
      apiToken: undefined,
      logLevel: "info",
      logFile: undefined,
      notify: expect.objectContaining({ nodeName: "testhost", webhookHeaders: [], preWebhookHeaders: [], mailHost: undefined }),
      leaseTtlMs: 2_000,
      executionsPerJob: 100,
      shutdownTimeoutMs: 30_000,
    });
  });

  it("takes every option given", () => {
    const c = resolveConfig(raw({
      server: false, nodeName: "w_1", dataDir: "/d", httpAddr: "127.0.0.2:9090", bindAddr: "localhost:7000", advertiseAddr: "10.0.0.5:7000",
      rpcPort: "7777", bootstrapExpect: "3", join: ["a"], retryJoin: ["b"], tag: ["role=web", "empty=", "kv=a=b"], natsUrl: ["nats://x:4222"],
      logLevel: "DEBUG", apiToken: "t",
    }), { DKRON_LEASE_TTL_MS: "1500", DKRON_EXECUTIONS_PER_JOB: "7", DKRON_SHUTDOWN_TIMEOUT_MS: "" });
    expect(c).toMatchObject({
      server: false, nodeName: "w_1", dataDir: "/d", httpHost: "127.0.0.2", httpPort: 9090, bindHost: "localhost", bindPort: 7000,
      advertiseAddr: "10.0.0.5:7000", rpcPort: 7777, bootstrapExpect: 3, join: ["a"], retryJoin: ["b"],
      tags: { role: "web", empty: "", kv: "a=b" }, natsUrls: ["nats://x:4222"], logLevel: "debug", apiToken: "t",
      leaseTtlMs: 1500, executionsPerJob: 7, shutdownTimeoutMs: 30_000,
    });
  });

  it("a host without a port keeps the default port; [v6]:port works", () => {
    expect(parseHostPort("127.0.0.1", 8080, "--http-addr")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseHostPort("[::1]:81", 8080, "--http-addr")).toEqual({ host: "::1", port: 81 });
    expect(parseHostPort(":81", 8080, "--http-addr")).toEqual({ host: "0.0.0.0", port: 81 });
  });

  // The default node name is the host name, which may be an FQDN: dots are not allowed in NATS
  // subject tokens, yet `dkron agent --server` with no flags must start on such hosts.
  it("derives a valid default node name from a host name with dots", () => {
    host.name = "ip-10-0-0-1.ec2.internal";
    try {
      const c = resolveConfig(raw(), {});
      expect(c.nodeName).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(c.nodeName).toContain("ip-10-0-0-1");
    } finally {
      host.name = "testhost";
    }
  });
});

describe("resolveConfig loopback rule", () => {
  it("recognises loopback hosts", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1"]) expect(isLoopback(h), h).toBe(true);
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "example.com", "128.0.0.1"]) expect(isLoopback(h), h).toBe(false);
  });

  it.each<[string, Partial<RawAgentOptions>]>([
    ["HTTP on 0.0.0.0", { httpAddr: "0.0.0.0:8080" }],
    ["HTTP on every interface (:8080)", { httpAddr: ":8080" }],
    ["HTTP on a LAN address", { httpAddr: "192.168.1.10:8080" }],
    ["NATS on 0.0.0.0", { bindAddr: "0.0.0.0:8946" }],
    ["NATS on [::]", { bindAddr: "[::]:8946" }],
  ])("refuses %s without --encrypt, and accepts it with one", (_what, opts) => {
    expectUsage(() => resolveConfig(raw(opts), {}), /without a shared secret.*--encrypt/);
    expect(() => resolveConfig(raw({ ...opts, encrypt: "s3cret" }), {})).not.toThrow();
  });

  it("names the exposed addresses", () => {
    expectUsage(() => resolveConfig(raw({ httpAddr: "0.0.0.0:1", bindAddr: "10.1.1.1:2" }), {}), /0\.0\.0\.0, 10\.1\.1\.1/);
  });

  it("workers are held to the same rule", () => {
    expectUsage(() => resolveConfig(raw({ server: false, httpAddr: "0.0.0.0:8080" }), {}), /shared secret/);
  });
});

describe("resolveConfig bad values", () => {
  it.each<[string, Partial<RawAgentOptions>, RegExp]>([
    ["http port out of range", { httpAddr: "127.0.0.1:70000" }, /--http-addr.*port out of range/],
    ["garbage http addr", { httpAddr: "a:b:c" }, /--http-addr.*HOST\[:PORT\]/],
    ["non-numeric bind port", { bindAddr: "127.0.0.1:abc" }, /--bind-addr/],
    ["rpc port out of range", { rpcPort: "65536" }, /--rpc-port/],
    ["non-numeric rpc port", { rpcPort: "x" }, /--rpc-port/],
    ["zero bootstrap-expect", { bootstrapExpect: "0" }, /--bootstrap-expect/],
    ["fractional bootstrap-expect", { bootstrapExpect: "1.5" }, /--bootstrap-expect/],
    ["tag without =", { tag: ["role"] }, /--tag.*k=v/],
    ["tag without key", { tag: ["=web"] }, /--tag/],
    ["unknown log level", { logLevel: "loud" }, /--log-level.*one of/],
    ["node name with a dot", { nodeName: "a.b" }, /--node-name/],
    ["node name with a space", { nodeName: "a b" }, /--node-name/],
    ["node name with a NATS wildcard", { nodeName: "a*" }, /--node-name/],
  ])("%s", (_what, opts, pattern) => {
    expectUsage(() => resolveConfig(raw(opts), {}), pattern);
  });

  it.each(["DKRON_LEASE_TTL_MS", "DKRON_EXECUTIONS_PER_JOB", "DKRON_SHUTDOWN_TIMEOUT_MS"])("rejects a non-numeric %s", (name) => {
    expectUsage(() => resolveConfig(raw(), { [name]: "3s" }), new RegExp(name));
    expectUsage(() => resolveConfig(raw(), { [name]: "-1" }), new RegExp(name));
  });

  // A zero TTL would create the leader bucket without max_age: a dead leader's lease would never
  // expire. Zero executions per job would make the stream's per-subject limit unlimited.
  it.each<[string, string]>([
    ["DKRON_LEASE_TTL_MS", "0"],
    ["DKRON_LEASE_TTL_MS", "499"],
    ["DKRON_EXECUTIONS_PER_JOB", "0"],
  ])("rejects %s=%s", (name, value) => {
    expectUsage(() => resolveConfig(raw(), { [name]: value }), new RegExp(name));
  });
});
