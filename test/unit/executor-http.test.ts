// The http executor (src/server/executors/http.ts) against real node:http / node:https servers on
// port 0: methods, headers, bodies, expectCode/expectBody, timeouts, kills, redirects, startAt, debug
// output, TLS with a CA, a client certificate and tlsNoVerifyPeer, and field-named validation errors.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpExecutor } from "../../src/server/executors/http.js";
import type { ExecutionResult } from "../../src/server/executors/types.js";
import { isDkronError } from "../../src/shared/errors.js";
import { parseJobInput } from "../../src/shared/job.js";
import { until } from "../helpers/until.js";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
  peerCN?: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A server that records every request and answers by path. */
async function serve(routes: Record<string, Handler>, tls?: https.ServerOptions) {
  const seen: Seen[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const peer = tls ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
        ...(peer?.subject ? { peerCN: peer.subject.CN } : {}),
      });
      const route = routes[new URL(req.url!, "http://x").pathname];
      if (route) route(req, res);
      else res.writeHead(404).end("no route");
    });
  };
  const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    base: `${tls ? "https" : "http"}://${tls ? "localhost" : "127.0.0.1"}:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function start(config: Record<string, string>, startAt?: number) {
  const job = parseJobInput({ name: "http_job", schedule: "@manually", executor: "http", executor_config: config });
  const chunks: Buffer[] = [];
  const abort = new AbortController();
  let startedAt: number | undefined;
  const result: Promise<ExecutionResult> = httpExecutor.run({
    job,
    executionId: "exec-1",
    onOutput: (c) => chunks.push(c),
    signal: abort.signal,
    ...(startAt !== undefined ? { startAt } : {}),
    onStarted: (at) => (startedAt = at),
  });
  return { result, output: () => Buffer.concat(chunks).toString(), abort, startedAt: () => startedAt };
}

function validationError(config: Record<string, string>): { field?: string; message: string } | undefined {
  try {
    httpExecutor.validate!(config);
    return undefined;
  } catch (err) {
    if (!isDkronError(err, "invalid_argument")) throw err;
    return { ...(err.field ? { field: err.field } : {}), message: err.message };
  }
}

describe("http executor over plain HTTP", () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    srv = await serve({
      "/ok": (_q, s) => s.writeHead(200, { "content-type": "text/plain" }).end("hello body"),
      "/echo": (q, s) => s.writeHead(201).end(`${q.method} ok`),
      "/fail": (_q, s) => s.writeHead(500).end("boom"),
      "/hang": () => undefined,
      "/slow-body": (_q, s) => s.writeHead(200).write("partial "),
      "/redirect": (_q, s) => s.writeHead(302, { location: "/ok" }).end(),
    });
  });
  afterAll(() => srv.close());

  it("a GET succeeds with the response body as output", async () => {
    const r = start({ method: "GET", url: `${srv.base}/ok` });
    expect(await r.result).toEqual({ success: true, exitCode: null });
    expect(r.output()).toBe("hello body");
    expect(r.startedAt()).toEqual(expect.any(Number));
  });

  it("sends the method, the body and the headers (values with ':' kept whole)", async () => {
    const headers = JSON.stringify(["Content-Type: application/json", "X-Callback: http://cb.example:8080/x", "X-Empty:"]);
    const r = start({ method: "post", url: `${srv.base}/echo?q=1`, headers, body: '{"a":1}' });
    expect(await r.result).toMatchObject({ success: true });
    expect(r.output()).toBe("POST ok");
    const req = srv.seen.find((s) => s.url === "/echo?q=1")!;
    expect(req.method).toBe("POST");
    expect(req.body).toBe('{"a":1}');
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["x-callback"]).toBe("http://cb.example:8080/x");
    expect(req.headers["x-empty"]).toBe("");
  });

  it("as in Dkron, without expectCode any status (even 500) is a success", async () => {
    const r = start({ method: "GET", url: `${srv.base}/fail` });
    expect(await r.result).toEqual({ success: true, exitCode: null });
    expect(r.output()).toBe("boom");
  });

  it("expectCode: a status outside the list fails with a reason, one inside succeeds", async () => {
    const bad = start({ method: "GET", url: `${srv.base}/fail`, expectCode: "200, 201" });
    expect(await bad.result).toEqual({ success: false, exitCode: null, reason: expect.stringMatching(/response code 500 .*200,201/) });
    expect(bad.output()).toBe("boom");
    const good = start({ method: "PUT", url: `${srv.base}/echo`, expectCode: "200,201" });
    expect(await good.result).toMatchObject({ success: true });
  });

  it("expectBody: the body must match the regex", async () => {
    expect(await start({ method: "GET", url: `${srv.base}/ok`, expectBody: "^hello\\s\\w+$" }).result).toMatchObject({ success: true });
    const miss = await start({ method: "GET", url: `${srv.base}/ok`, expectBody: "success" }).result;
    expect(miss).toMatchObject({ success: false, reason: expect.stringMatching(/did not match the expected body \/success\//) });
  });

  it("follows redirects as Go's client does", async () => {
    const r = start({ method: "GET", url: `${srv.base}/redirect`, expectCode: "200" });
    expect(await r.result).toMatchObject({ success: true });
    expect(r.output()).toBe("hello body");
  });

  it("timeout (seconds, fractional allowed) fails a request that does not answer", async () => {
    const t0 = Date.now();
    const r = await start({ method: "GET", url: `${srv.base}/hang`, timeout: "0.3" }).result;
    expect(r).toEqual({ success: false, exitCode: null, reason: "timeout after 0.3s" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("the timeout also covers a body that never ends, keeping what arrived", async () => {
    const r = start({ method: "GET", url: `${srv.base}/slow-body`, timeout: "0.3" });
    expect(await r.result).toMatchObject({ success: false, reason: "timeout after 0.3s" });
    expect(r.output()).toBe("partial ");
  });

  it("an abort (kill) ends the request with the kill's reason", async () => {
    const r = start({ method: "GET", url: `${srv.base}/hang` });
    await until(() => srv.seen.some((s) => s.url === "/hang" && s.at > 0), { message: "request to arrive" });
    r.abort.abort("killed by user");
    expect(await r.result).toEqual({ success: false, exitCode: null, reason: "killed by user" });
  });

  it("waits for startAt before sending, and reports the real start", async () => {
    const at = Date.now() + 250;
    const r = start({ method: "GET", url: `${srv.base}/ok?startat` }, at);
    expect(await r.result).toMatchObject({ success: true });
    expect(r.startedAt()!).toBeGreaterThanOrEqual(at);
    expect(srv.seen.find((s) => s.url === "/ok?startat")!.at).toBeGreaterThanOrEqual(at);
  });

  it("an abort before startAt fails without sending anything", async () => {
    const r = start({ method: "GET", url: `${srv.base}/ok?never` }, Date.now() + 60_000);
    r.abort.abort("killed");
    expect(await r.result).toEqual({ success: false, exitCode: null, reason: "killed" });
    expect(r.startedAt()).toBeUndefined();
    expect(srv.seen.some((s) => s.url === "/ok?never")).toBe(false);
  });

  it("debug adds the request and response summary to the output", async () => {
    const r = start({ method: "GET", url: `${srv.base}/ok`, debug: "true", headers: '["X-A: 1"]' });
    await r.result;
    expect(r.output()).toMatch(/^> GET http:\/\/127\.0\.0\.1:\d+\/ok\n> X-A: 1\n>\n< 200\n/);
    expect(r.output()).toContain("< content-type: text/plain\n");
    expect(r.output().endsWith("<\nhello body")).toBe(true);
  });

  it("a refused connection is a failure with a reason, not a rejection", async () => {
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const r = await start({ method: "GET", url: `http://127.0.0.1:${port}/` }).result;
    expect(r).toMatchObject({ success: false, exitCode: null, reason: expect.stringMatching(/ECONNREFUSED/) });
  });

  it("an invalid config at run time is a failure with the validation message", async () => {
    const r = await start({ method: "GET", url: "ftp://x/" }).result;
    expect(r).toMatchObject({ success: false, reason: expect.stringMatching(/^executor_config\.url: /) });
  });
});

describe("http executor config validation", () => {
  it.each<[string, Record<string, string>]>([
    ["executor_config.method", { method: "GE T", url: "http://x/" }],
    ["executor_config.url", { method: "GET", url: "not a url" }],
    ["executor_config.url", { method: "GET", url: "file:///etc/passwd" }],
    ["executor_config.headers", { method: "GET", url: "http://x/", headers: "Content-Type: a" }],
    ["executor_config.headers", { method: "GET", url: "http://x/", headers: '{"a":"b"}' }],
    ["executor_config.headers", { method: "GET", url: "http://x/", headers: '["no colon"]' }],
    ["executor_config.headers", { method: "GET", url: "http://x/", headers: '[": empty name"]' }],
    ["executor_config.timeout", { method: "GET", url: "http://x/", timeout: "0" }],
    ["executor_config.timeout", { method: "GET", url: "http://x/", timeout: "30s" }],
    ["executor_config.expectCode", { method: "GET", url: "http://x/", expectCode: "200,abc" }],
    ["executor_config.expectBody", { method: "GET", url: "http://x/", expectBody: "(unclosed" }],
    ["executor_config.tlsNoVerifyPeer", { method: "GET", url: "https://x/", tlsNoVerifyPeer: "yes" }],
    ["executor_config.tlsRootCAsFile", { method: "GET", url: "https://x/", tlsRootCAsFile: "/nonexistent/ca.pem" }],
    ["executor_config.tlsCertificateKeyFile", { method: "GET", url: "https://x/", tlsCertificateFile: "/nonexistent/c.pem" }],
    ["executor_config.tlsCertificateFile", { method: "GET", url: "https://x/", tlsCertificateKeyFile: "/nonexistent/k.pem" }],
  ])("rejects a bad %s", (field, config) => {
    expect(validationError(config)).toMatchObject({ field });
  });

  it("accepts a full valid config", () => {
    expect(
      validationError({
        method: "PATCH",
        url: "https://example.com/a?b=c",
        headers: '["A: 1", "B: x:y", ""]',
        body: "{}",
        timeout: "2.5",
        expectCode: "200,204",
        expectBody: "ok|done",
        debug: "x",
        tlsNoVerifyPeer: "True",
      }),
    ).toBeUndefined();
  });
});

describe("http executor over TLS", () => {
  let dir: string;
  let srv: Awaited<ReturnType<typeof serve>>;
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "dkron-http-tls-"));
    // A CA, a server certificate for localhost signed by it, and a client certificate.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=dkron test CA");
    for (const [name, cn, ext] of [
      ["server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      ["client", "dkron-client", "extendedKeyUsage=clientAuth"],
    ] as const) {
      openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
      await writeFile(file(`${name}.ext`), `${ext}\n`);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    }
    await writeFile(file("garbage.pem"), "not a certificate\n");
    srv = await serve(
      { "/tls": (_q, s) => s.writeHead(200).end("secure") },
      {
        key: await readFile(file("server.key")),
        cert: await readFile(file("server.pem")),
        ca: await readFile(file("ca.pem")),
        requestCert: true,
        rejectUnauthorized: false,
      },
    );
  });
  afterAll(async () => {
    await srv?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("an unknown CA fails the request", async () => {
    const r = await start({ method: "GET", url: `${srv.base}/tls` }).result;
    expect(r).toMatchObject({ success: false, reason: expect.stringMatching(/certificate/i) });
  });

  it("tlsRootCAsFile trusts the server's CA", async () => {
    const r = start({ method: "GET", url: `${srv.base}/tls`, tlsRootCAsFile: file("ca.pem") });
    expect(await r.result).toMatchObject({ success: true });
    expect(r.output()).toBe("secure");
  });

  it("tlsNoVerifyPeer skips verification", async () => {
    expect(await start({ method: "GET", url: `${srv.base}/tls`, tlsNoVerifyPeer: "true" }).result).toMatchObject({ success: true });
  });

  it("tlsCertificateFile and tlsCertificateKeyFile present a client certificate", async () => {
    const url = `${srv.base}/tls?client`;
    const r = start({ method: "GET", url, tlsRootCAsFile: file("ca.pem"), tlsCertificateFile: file("client.pem"), tlsCertificateKeyFile: file("client.key") });
    expect(await r.result).toMatchObject({ success: true });
    expect(srv.seen.find((s) => s.url === "/tls?client")!.peerCN).toBe("dkron-client");
  });

  it("validation reads the TLS files and names the bad one", () => {
    const base = { method: "GET", url: `${srv.base}/tls` };
    expect(validationError({ ...base, tlsRootCAsFile: file("ca.pem"), tlsCertificateFile: file("client.pem"), tlsCertificateKeyFile: file("client.key") })).toBeUndefined();
    expect(validationError({ ...base, tlsRootCAsFile: file("garbage.pem") })).toMatchObject({ field: "executor_config.tlsRootCAsFile" });
    expect(validationError({ ...base, tlsCertificateFile: file("client.key"), tlsCertificateKeyFile: file("client.key") })).toMatchObject({
      field: "executor_config.tlsCertificateFile",
    });
    expect(validationError({ ...base, tlsCertificateFile: file("client.pem"), tlsCertificateKeyFile: file("ca.pem") })).toMatchObject({
      field: "executor_config.tlsCertificateKeyFile",
    });
  });
});
