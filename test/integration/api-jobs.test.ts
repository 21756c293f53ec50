// Job CRUD, listing, filters and validation through the HTTP API of a real agent
// (bin/dkron agent --server with its embedded nats-server on random ports).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import {
  RFC3339, ZERO_TIME, createJob, getJob, isAlive, runAndWait, shellJob, waitFinished, waitLeader,
  type Job,
} from "./support.js";

let agent: TestAgent;
let url: string;

beforeAll(async () => {
  agent = await startAgent();
  url = agent.url;
  await waitLeader(url);
});
afterAll(async () => {
  await agent?.stop();
});

type ErrBody = { error: { code: string; message: string; field?: string } };

describe("jobs CRUD", () => {
  it("POST /v1/jobs creates a job with Dkron's fields and a Location header", async () => {
    const r = await api<Job>(url, "POST", "/v1/jobs", {
      name: "crud-create", schedule: "0 0 0 1 1 *", executor_config: { command: "echo hi" },
    });
    expect(r.status).toBe(201);
    expect(r.headers.get("location")).toBe("/v1/jobs/crud-create");
    expect(r.headers.get("x-whom")).toBe(agent.nodeName);
    const j = r.body;
    expect(j).toMatchObject({
      id: "crud-create", name: "crud-create", schedule: "0 0 0 1 1 *", executor: "shell", status: "",
      last_success: null, last_error: null, dependent_jobs: null, success_count: 0, error_count: 0,
      disabled: false, concurrency: "allow", executor_config: { command: "echo hi" }, tags: {}, metadata: {},
    });
    expect(j.next).toMatch(RFC3339);
    expect(Date.parse(j.next)).toBeGreaterThan(Date.now());
    expect(await getJob(url, "crud-create")).toEqual(j);
  });

  it("GET/PUT/DELETE /v1/jobs/:job, PATCH /v1/jobs and toggle", async () => {
    await createJob(url, shellJob("crud-rw", "true", { displayname: "one" }));
    const put = await api<Job>(url, "PUT", "/v1/jobs/crud-rw", shellJob("crud-rw", "true", { displayname: "two" }));
    expect(put.status).toBe(201);
    expect((await getJob(url, "crud-rw")).displayname).toBe("two");
    const patch = await api<Job>(url, "PATCH", "/v1/jobs", shellJob("crud-rw", "echo x", { displayname: "three" }));
    expect(patch.status).toBe(201);
    expect(await getJob(url, "crud-rw")).toMatchObject({ displayname: "three", executor_config: { command: "echo x" } });

    const t1 = await api<Job>(url, "POST", "/v1/jobs/crud-rw/toggle");
    expect(t1.status).toBe(200);
    expect(t1.body.disabled).toBe(true);
    expect((await getJob(url, "crud-rw")).disabled).toBe(true);
    const t2 = await api<Job>(url, "POST", "/v1/jobs/crud-rw/toggle");
    expect(t2.body.disabled).toBe(false);

    const del = await api<Job>(url, "DELETE", "/v1/jobs/crud-rw");
    expect(del.status).toBe(200);
    expect(del.body.name).toBe("crud-rw");
    expect((await api(url, "GET", "/v1/jobs/crud-rw")).status).toBe(404);
    expect((await api(url, "DELETE", "/v1/jobs/crud-rw")).status).toBe(404);
  });

  it("POST /v1/jobs/:job/run answers 202 and an execution appears", async () => {
    await createJob(url, shellJob("crud-run", "echo ran"));
    const e = await runAndWait(url, "crud-run");
    expect(e).toMatchObject({ job_name: "crud-run", success: true, output: "ran\n", trigger: "manual", attempt: 1 });
    expect(e.node_name).toBe(agent.nodeName);
  });

  it("?runoncreate runs the new job once", async () => {
    await createJob(url, shellJob("crud-roc", "echo created"), "?runoncreate");
    const all = await waitFinished(url, "crud-roc", 1);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ success: true, output: "created\n", trigger: "manual" });
  });

  it("parent/child: dependent_jobs is maintained, a parent with children cannot be deleted", async () => {
    await createJob(url, shellJob("fam-parent", "true"));
    await createJob(url, { ...shellJob("fam-child", "true"), schedule: "", parent_job: "fam-parent" });
    expect((await getJob(url, "fam-parent")).dependent_jobs).toEqual(["fam-child"]);
    const cycle = await api<ErrBody>(url, "POST", "/v1/jobs", { ...shellJob("fam-parent", "true"), parent_job: "fam-child" });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.field).toBe("parent_job");
    const refused = await api<ErrBody>(url, "DELETE", "/v1/jobs/fam-parent");
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect((await api(url, "DELETE", "/v1/jobs/fam-child")).status).toBe(200);
    expect((await getJob(url, "fam-parent")).dependent_jobs).toBeNull();
    expect((await api(url, "DELETE", "/v1/jobs/fam-parent")).status).toBe(200);
  });

  it("?pretty indents the JSON", async () => {
    const res = await fetch(`${url}/v1/jobs/crud-create?pretty`);
    const text = await res.text();
    expect(text).toContain('\n  "name": "crud-create"');
    const plain = await (await fetch(`${url}/v1/jobs/crud-create`)).text();
    expect(plain).not.toContain("\n");
  });
});

describe("listing with server-side filters and paging", () => {
  const specs = [
    { name: "flt-a1", metadata: { team: "a", env: "prod" }, disabled: false, displayname: "Alpha" },
    { name: "flt-a2", metadata: { team: "a", env: "dev" }, disabled: true, displayname: "beta" },
    { name: "flt-a3", metadata: { team: "a", env: "prod" }, disabled: false, displayname: "gamma" },
    { name: "flt-b1", metadata: { team: "b", env: "prod" }, disabled: true, displayname: "delta" },
    { name: "flt-b2", metadata: { team: "b", env: "dev" }, disabled: false, displayname: "epsilon needle" },
    { name: "flt-b3", metadata: { team: "b" }, disabled: false, displayname: "zeta" },
  ];
  beforeAll(async () => {
    for (const s of specs) await createJob(url, shellJob(s.name, "true", s));
  });
  const list = async (qs: string) => {
    const r = await api<Job[]>(url, "GET", `/v1/jobs?q=flt-&${qs}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-whom")).toBe(agent.nodeName);
    return { names: r.body.map((j) => j.name), total: Number(r.headers.get("x-total-count")) };
  };

  it("lists all with X-Total-Count, sorted by name ascending by default", async () => {
    expect(await list("")).toEqual({ names: specs.map((s) => s.name), total: 6 });
    const all = await api<Job[]>(url, "GET", "/v1/jobs");
    expect(Number(all.headers.get("x-total-count"))).toBe(all.body.length);
    expect(all.body.length).toBeGreaterThanOrEqual(6);
  });

  it("filters by metadata[k], disabled, q and status", async () => {
    expect((await list("metadata[team]=a")).names).toEqual(["flt-a1", "flt-a2", "flt-a3"]);
    expect((await list("metadata[team]=b&metadata[env]=prod")).names).toEqual(["flt-b1"]);
    expect((await list("metadata[env]=staging")).total).toBe(0);
    expect((await list("disabled=true")).names).toEqual(["flt-a2", "flt-b1"]);
    expect((await list("disabled=false")).total).toBe(4);
    expect((await api<Job[]>(url, "GET", "/v1/jobs?q=needle")).body.map((j) => j.name)).toEqual(["flt-b2"]);
    expect((await list("status=untriggered")).total).toBe(6);
    await runAndWait(url, "flt-b3");
    await until(async () => (await getJob(url, "flt-b3")).status === "success", { timeoutMs: 30_000, message: "status success" });
    expect(await list("status=success")).toEqual({ names: ["flt-b3"], total: 1 });
    expect((await list("status=untriggered")).total).toBe(5);
  });

  it("sorts and pages: _sort/_order/_start/_end, total counted before slicing", async () => {
    expect((await list("_order=DESC")).names).toEqual(specs.map((s) => s.name).reverse());
    expect((await list("_sort=displayname&_order=asc")).names[0]).toBe("flt-a1"); // "Alpha" < "beta" (code points)
    expect(await list("_start=1&_end=3")).toEqual({ names: ["flt-a2", "flt-a3"], total: 6 });
    expect(await list("_start=4&_end=100")).toEqual({ names: ["flt-b2", "flt-b3"], total: 6 });
    expect(await list("_start=10")).toEqual({ names: [], total: 6 });
    expect(await list("metadata[team]=b&_start=1&_end=2")).toEqual({ names: ["flt-b2"], total: 3 });
  });
});

describe("cluster and meta routes", () => {
  it("/health, /v1, /v1/members, /v1/leader, /v1/isleader", async () => {
    const h = await api(url, "GET", "/health");
    expect(h).toMatchObject({ status: 200, body: { status: "healthy" } });
    expect(h.headers.get("x-whom")).toBeNull();
    const root = await api<{ agent: { name: string; version: string } }>(url, "GET", "/v1");
    expect(root.status).toBe(200);
    expect(root.body.agent.name).toBe(agent.nodeName);
    const members = await api<Array<Record<string, unknown>>>(url, "GET", "/v1/members");
    expect(members.status).toBe(200);
    expect(members.headers.get("x-total-count")).toBe("1");
    expect(members.body[0]).toMatchObject({ Name: agent.nodeName, Addr: expect.any(String), Port: expect.any(Number),
      Tags: expect.any(Object), Status: 1, statusText: "alive" });
    const leader = await api<Record<string, unknown>>(url, "GET", "/v1/leader");
    expect(leader.status).toBe(200);
    expect(leader.body).toMatchObject({ Name: agent.nodeName, Status: 1 });
    expect((await api(url, "GET", "/v1/isleader")).status).toBe(200);
  });

  it("unknown jobs and routes are 404 JSON", async () => {
    for (const [method, route] of [["GET", "/v1/jobs/nope"], ["DELETE", "/v1/jobs/nope"], ["POST", "/v1/jobs/nope/toggle"],
      ["POST", "/v1/jobs/nope/run"], ["GET", "/v1/jobs/nope/executions"], ["GET", "/v1/nothing-here"], ["GET", "/nope"]] as const) {
      const r = await api<ErrBody>(url, method, route);
      expect(r.status, `${method} ${route}`).toBe(404);
      expect(r.headers.get("content-type")).toMatch(/application\/json/);
      expect(r.body.error).toMatchObject({ code: "not_found", message: expect.any(String) });
    }
  });
});

describe("validation: 4xx JSON naming the field, never 500", () => {
  const ok = { schedule: "@every 1h", executor_config: { command: "echo x" } };
  const cases: Array<[string, unknown, number, string, RegExp?]> = [
    ["uppercase name", { ...ok, name: "Bad" }, 400, "name", /lowercase/],
    ["name with space", { ...ok, name: "a b" }, 400, "name"],
    ["name with dot", { ...ok, name: "a.b" }, 400, "name"],
    ["missing name", { ...ok }, 400, "name", /required/],
    ["name of wrong type", { ...ok, name: 123 }, 400, "name", /string/],
    ["bad cron", { ...ok, name: "v1", schedule: "* * * *" }, 400, "schedule", /fields/],
    ["bad cron value", { ...ok, name: "v1", schedule: "61 * * * * *" }, 400, "schedule", /second/i],
    ["bad @every", { ...ok, name: "v1", schedule: "@every bogus" }, 400, "schedule", /duration/],
    ["bad @at", { ...ok, name: "v1", schedule: "@at badtime" }, 400, "schedule", /badtime/],
    ["missing schedule", { name: "v1", executor_config: { command: "x" } }, 400, "schedule"],
    ["bad timezone", { ...ok, name: "v1", timezone: "Mars/Base" }, 400, "timezone", /Mars\/Base/],
    ["unknown executor", { ...ok, name: "v1", executor: "nope" }, 400, "executor", /nope/],
    ["shell without command", { name: "v1", schedule: "@every 1h" }, 400, "executor_config.command"],
    ["blank command", { name: "v1", schedule: "@every 1h", executor_config: { command: "  " } }, 400, "executor_config.command"],
    ["bad timeout", { ...ok, name: "v1", executor_config: { command: "x", timeout: "abc" } }, 400, "executor_config.timeout"],
    ["negative timeout", { ...ok, name: "v1", executor_config: { command: "x", timeout: "-1s" } }, 400, "executor_config.timeout"],
    ["tags not an object", { ...ok, name: "v1", tags: "a" }, 400, "tags"],
    ["tags an array", { ...ok, name: "v1", tags: ["a"] }, 400, "tags"],
    ["negative retries", { ...ok, name: "v1", retries: -1 }, 400, "retries"],
    ["disabled: yes", { ...ok, name: "v1", disabled: "yes" }, 400, "disabled"],
    ["bad concurrency", { ...ok, name: "v1", concurrency: "sometimes" }, 400, "concurrency"],
    ["bad starts_at", { ...ok, name: "v1", starts_at: "tomorrow" }, 400, "starts_at"],
    ["array body", [], 400, "body"],
    ["null body", null, 400, "body"],
    ["unknown parent", { ...ok, name: "v1", parent_job: "no-such-parent" }, 404, "parent_job", /not found/],
    ["self parent", { ...ok, name: "v1", parent_job: "v1" }, 400, "parent_job"],
  ];
  it.each(cases)("%s", async (_what, body, status, field, message) => {
    const r = await api<ErrBody>(url, "POST", "/v1/jobs", body);
    expect(r.status).toBe(status);
    expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String), field });
    if (message) expect(r.body.error.message).toMatch(message);
    expect((await api(url, "GET", "/v1/jobs/v1")).status).toBe(404); // nothing was stored
  });

  it("malformed JSON is 400 field body", async () => {
    const r = await api<ErrBody>(url, "POST", "/v1/jobs", '{"name": "v1",');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "invalid_argument", field: "body", message: expect.stringMatching(/JSON/) });
  });

  it("a body over 1 MiB is 413, with or without Content-Length", async () => {
    const huge = JSON.stringify({ ...ok, name: "v1", displayname: "x".repeat(1024 * 1024 + 1) });
    const r = await api<ErrBody>(url, "POST", "/v1/jobs", huge);
    expect(r.status).toBe(413);
    expect(r.body.error.field).toBe("body");
    const bytes = new TextEncoder().encode(huge);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) c.enqueue(bytes.subarray(i, i + 64 * 1024));
        c.close();
      },
    });
    const chunked = await fetch(`${url}/v1/jobs`, {
      method: "POST", headers: { "content-type": "application/json" }, body: stream, duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as ErrBody).error.field).toBe("body");
  });

  it("PUT with a name that does not match the path is refused", async () => {
    const r = await api<ErrBody>(url, "PUT", "/v1/jobs/other-name", { ...ok, name: "v1" });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe("name");
  });

  it.each([
    ["_sort=bogus", "_sort"], ["_order=up", "_order"], ["_start=-1", "_start"], ["_start=abc", "_start"],
    ["_end=x", "_end"], ["disabled=maybe", "disabled"], ["status=weird", "status"],
  ])("GET /v1/jobs?%s is 400", async (qs, field) => {
    const r = await api<ErrBody>(url, "GET", `/v1/jobs?${qs}`);
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe(field);
  });

  it("after all the bad requests the agent is alive and serving", async () => {
    expect(isAlive(agent.pid)).toBe(true);
    expect((await api(url, "GET", "/health")).status).toBe(200);
    await createJob(url, shellJob("still-alive", "echo ok"));
    expect((await runAndWait(url, "still-alive")).output).toBe("ok\n");
    expect(agent.logs()).not.toContain('"msg":"request failed"');
    expect((await getJob(url, "still-alive")).next).toBe(ZERO_TIME); // @manually never fires
  });
});

// Last: a failure here logs "request failed", which the test above checks for.
describe("Unicode job names", () => {
  it("lowercase Unicode names, which Dkron allows, are stored and served (not a 500)", async () => {
    for (const name of ["café", "日本"]) {
      const r = await api<Job>(url, "POST", "/v1/jobs", shellJob(name, "echo u"));
      expect(r.status, `${name}: ${JSON.stringify(r.body)}`).toBe(201);
      expect((await getJob(url, encodeURIComponent(name))).name).toBe(name);
      expect((await runAndWait(url, encodeURIComponent(name))).output).toBe("u\n");
      expect((await api(url, "DELETE", `/v1/jobs/${encodeURIComponent(name)}`)).status).toBe(200);
    }
  });
});
