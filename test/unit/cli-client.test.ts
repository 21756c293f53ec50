// DkronClient against a real HTTP server on port 0 that records requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DkronClient, normalizeAddress } from "../../src/client/index.js";
import { DkronError } from "../../src/shared/errors.js";

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base: string;
const seen: Seen[] = [];
const routes = new Map<string, Handler>();

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", "x-whom": "n1", ...headers });
  res.end(JSON.stringify(body));
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const path = new URL(req.url!, "http://x").pathname;
      const h = routes.get(`${req.method} ${path}`);
      if (h) h(req, res, body);
      else json(res, 404, { error: { code: "not_found", message: `${path} not found` } });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const last = () => seen[seen.length - 1]!;

describe("DkronClient", () => {
  it("lists jobs with paging, filters and X-Total-Count", async () => {
    routes.set("GET /v1/jobs", (_q, res) => json(res, 200, [{ name: "a" }], { "x-total-count": "42" }));
    const page = await new DkronClient({ address: base }).listJobs({
      start: 0,
      end: 1,
      sort: "next",
      order: "DESC",
      q: "a",
      status: "failed",
      disabled: false,
      metadata: { team: "ops" },
    });
    expect(page).toEqual({ items: [{ name: "a" }], total: 42 });
    const params = new URL(last().url, "http://x").searchParams;
    expect(Object.fromEntries(params)).toEqual({
      _start: "0",
      _end: "1",
      _sort: "next",
      _order: "DESC",
      q: "a",
      status: "failed",
      disabled: "false",
      "metadata[team]": "ops",
    });
  });

  it("sends the bearer token only when set", async () => {
    routes.set("GET /v1/members", (_q, res) => json(res, 200, []));
    await new DkronClient({ address: base, token: "s3cret" }).members();
    expect(last().auth).toBe("Bearer s3cret");
    await new DkronClient({ address: base }).members();
    expect(last().auth).toBeUndefined();
  });

  it("posts jobs, with ?runoncreate when asked", async () => {
    routes.set("POST /v1/jobs", (_q, res, body) => json(res, 201, JSON.parse(body)));
    const c = new DkronClient({ address: base });
    expect(await c.upsertJob({ name: "a", schedule: "@daily" }, { runOnCreate: true })).toEqual({ name: "a", schedule: "@daily" });
    expect(last().url).toBe("/v1/jobs?runoncreate=true");
    expect(JSON.parse(last().body)).toEqual({ name: "a", schedule: "@daily" });
    await c.upsertJob({ name: "b" });
    expect(last().url).toBe("/v1/jobs");
  });

  it("hits the per-job routes with encoded names", async () => {
    for (const [m, p] of [
      ["POST", "/v1/jobs/a%20b/run"],
      ["POST", "/v1/jobs/a%20b/toggle"],
      ["DELETE", "/v1/jobs/a%20b"],
      ["GET", "/v1/jobs/a%20b/executions/1-n"],
    ] as const) {
      routes.set(`${m} ${p}`, (_q, res) => json(res, m === "POST" && p.endsWith("run") ? 202 : 200, { ok: p }));
    }
    const c = new DkronClient({ address: base });
    expect(await c.runJob("a b")).toEqual({ ok: "/v1/jobs/a%20b/run" });
    expect(await c.toggleJob("a b")).toEqual({ ok: "/v1/jobs/a%20b/toggle" });
    expect(await c.deleteJob("a b")).toEqual({ ok: "/v1/jobs/a%20b" });
    expect(await c.getExecution("a b", "1-n")).toEqual({ ok: "/v1/jobs/a%20b/executions/1-n" });
  });

  it("lists executions of a job and across jobs", async () => {
    routes.set("GET /v1/jobs/a/executions", (_q, res) => json(res, 200, [{ id: "2" }, { id: "1" }], { "x-total-count": "2" }));
    routes.set("GET /v1/executions", (_q, res) => json(res, 200, [{ id: "9" }]));
    const c = new DkronClient({ address: base });
    expect(await c.listExecutions("a", { outputSizeLimit: 200, start: 0, end: 20 })).toEqual({ items: [{ id: "2" }, { id: "1" }], total: 2 });
    expect(last().url).toBe("/v1/jobs/a/executions?_start=0&_end=20&output_size_limit=200");
    expect(await c.listAllExecutions({ job: "a", status: "failed", end: 5 })).toEqual({ items: [{ id: "9" }], total: 1 });
    expect(last().url).toBe("/v1/executions?_end=5&job=a&status=failed");
  });

  it("rebuilds the server's typed error", async () => {
    routes.set("POST /v1/jobs", (_q, res) =>
      json(res, 400, { error: { code: "invalid_argument", message: "schedule: cannot parse", field: "schedule" } }),
    );
    const err = await new DkronClient({ address: base }).upsertJob({ name: "a" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DkronError);
    expect(err).toMatchObject({ code: "invalid_argument", message: "schedule: cannot parse", field: "schedule", status: 400 });
    const nf = await new DkronClient({ address: base }).getJob("missing").catch((e: unknown) => e);
    expect(nf).toMatchObject({ code: "not_found", message: "/v1/jobs/missing not found" });
  });

  it("maps plain-text errors (upstream Dkron, proxies) by status", async () => {
    routes.set("GET /v1/leader", (_q, res) => {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("no leader\n");
    });
    const err = await new DkronClient({ address: base }).leader().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "unavailable", message: "no leader" });
  });

  it("isLeader is true on 200 and false on 404, whatever the body", async () => {
    const c = new DkronClient({ address: base });
    routes.set("GET /v1/isleader", (_q, res) => json(res, 200, "I am a leader"));
    expect(await c.isLeader()).toBe(true);
    routes.set("GET /v1/isleader", (_q, res) => {
      res.writeHead(404);
      res.end("I am a follower");
    });
    expect(await c.isLeader()).toBe(false);
  });

  it("reports a closed port as unreachable: connection refused", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await new DkronClient({ address: `127.0.0.1:${port}` }).info().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "unreachable", message: `cannot reach dkron at http://127.0.0.1:${port}: connection refused` });
  });

  it("reports a silent server as unreachable after the timeout", async () => {
    routes.set("GET /v1", () => {
      /* never answers */
    });
    const err = await new DkronClient({ address: base, timeoutMs: 200 }).info().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "unreachable", message: `cannot reach dkron at ${base}: no answer within 200ms` });
  });
});

describe("normalizeAddress", () => {
  it.each([
    ["127.0.0.1:8080", "http://127.0.0.1:8080"],
    ["http://h:1/", "http://h:1"],
    ["https://h/prefix/", "https://h/prefix"],
    [" localhost:8080 ", "http://localhost:8080"],
  ])("%s → %s", (input, out) => {
    expect(normalizeAddress(input)).toBe(out);
  });

  it.each(["ftp://h", "http://", "http://h/?x=1"])("rejects %s", (input) => {
    expect(() => normalizeAddress(input)).toThrow(DkronError);
  });
});
