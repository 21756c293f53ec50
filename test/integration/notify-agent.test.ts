// Notifications wired through the agent's flags, end to end: a real agent
// posts to a real local HTTP server after each execution's final attempt
// (and not after an attempt that will be retried), and before each start.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import { createJob, shellJob, waitLeader } from "./support.js";

interface Hit { path: string; body: string; headers: IncomingMessage["headers"] }

describe("webhook notifications from agent flags", () => {
  let server: Server;
  let agent: TestAgent;
  const hits: Hit[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        hits.push({ path: req.url ?? "", body, headers: req.headers });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = await startAgent({
      args: [
        "--webhook-endpoint", `${base}/done`,
        "--webhook-payload", '{"job":"{{.JobName}}","ok":{{.Success}},"out":{{json .Output}}}',
        "--webhook-headers", "X-Token: a:b:c",
        "--pre-webhook-endpoint", `${base}/start`,
        "--pre-webhook-payload", "starting {{.JobName}}",
      ],
    });
    await waitLeader(agent.url);
  });

  afterAll(async () => {
    await agent?.stop();
    await new Promise((r) => server?.close(r));
  });

  it("posts the rendered report after a run, with the configured header kept whole", async () => {
    await createJob(agent.url, shellJob("notified", "echo hello"));
    expect((await api(agent.url, "POST", "/v1/jobs/notified/run")).status).toBe(202);
    const done = await until(() => hits.find((h) => h.path === "/done" && h.body.includes('"notified"')), { timeoutMs: 20_000, message: "webhook" });
    expect(JSON.parse(done.body)).toEqual({ job: "notified", ok: true, out: "hello\n" });
    expect(done.headers["x-token"]).toBe("a:b:c");
    const start = await until(() => hits.find((h) => h.path === "/start" && h.body.includes("notified")), { timeoutMs: 20_000, message: "pre-webhook" });
    expect(start.body).toBe("starting notified");
  });

  it("reports a retried job once, after its last attempt", async () => {
    await createJob(agent.url, shellJob("notified-retry", "exit 1", { retries: 1, retry_backoff: { initial: "100ms", max: "1s", multiplier: 1 } }));
    await api(agent.url, "POST", "/v1/jobs/notified-retry/run");
    const reports = () => hits.filter((h) => h.path === "/done" && h.body.includes('"notified-retry"'));
    await until(async () => {
      const r = await api<{ attempt: number; finished_at: string }[]>(agent.url, "GET", "/v1/jobs/notified-retry/executions");
      return r.body.some((e) => e.attempt === 2 && e.finished_at !== "0001-01-01T00:00:00Z") && reports().length >= 1;
    }, { timeoutMs: 20_000, message: "the second attempt and its report" });
    // A later run's report is the clock: by then any report of attempt 1 would have arrived.
    await api(agent.url, "POST", "/v1/jobs/notified/run");
    await until(() => hits.filter((h) => h.path === "/done" && h.body.includes('"notified"')).length >= 2, { timeoutMs: 20_000 });
    expect(reports()).toHaveLength(1);
    expect(JSON.parse(reports()[0]!.body).ok).toBe(false);
  });
});
