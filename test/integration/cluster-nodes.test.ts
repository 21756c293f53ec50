// Cluster membership and node roles: a server on an external NATS
// (--nats-url), a worker joining by --join HOST:PORT, live output of an
// execution running on another node, and a graceful leave.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { startNatsServer, type TestNatsServer } from "../helpers/nats.js";
import { until } from "../helpers/until.js";
import { createJob, executions, isFinished, shellJob, waitLeader } from "./support.js";

interface MemberJson { Name: string; statusText: string; role: string; Tags: Record<string, string> }

describe("a server on an external NATS and a worker joining it", () => {
  let nats: TestNatsServer;
  let server: TestAgent;
  let worker: TestAgent;

  beforeAll(async () => {
    nats = await startNatsServer();
    server = await startAgent({ args: ["--nats-url", nats.url] });
    await waitLeader(server.url);
    const port = new URL(nats.url).port;
    worker = await startAgent({ server: false, args: ["--join", `127.0.0.1:${port}`, "--tag", "role=worker"] });
  });

  afterAll(async () => {
    await worker?.stop();
    await server?.stop();
    await nats?.stop();
  });

  it("uses the given NATS instead of spawning one", () => {
    expect(server.natsPid()).toBeUndefined();
  });

  it("lists the worker as an alive member with its role and tags", async () => {
    const m = await until(async () => {
      const r = await api<MemberJson[]>(server.url, "GET", "/v1/members");
      return r.body.find((x) => x.Name === worker.nodeName && x.statusText === "alive");
    }, { timeoutMs: 20_000, message: "the worker alive" });
    expect(m.role).toBe("worker");
    expect(m.Tags.role).toBe("worker");
  });

  it("shows the partial output of an execution running on the worker", async () => {
    await createJob(server.url, shellJob("live", "echo first-part; sleep 4; echo second-part", {
      schedule: "@manually", tags: { role: "worker" },
    }, { shell: "true" }));
    expect((await api(server.url, "POST", "/v1/jobs/live/run")).status).toBe(202);
    const running = await until(async () => {
      const ex = await executions(server.url, "live");
      return ex.find((e) => !isFinished(e) && e.output.includes("first-part"));
    }, { timeoutMs: 20_000, message: "live output while running" });
    expect(running.node_name).toBe(worker.nodeName);
    expect(running.output).not.toContain("second-part");
    const one = await api<{ output: string }>(server.url, "GET", `/v1/jobs/live/executions/${encodeURIComponent(running.id)}`);
    expect(one.body.output).toContain("first-part");
    const done = await until(async () => (await executions(server.url, "live")).find(isFinished), { timeoutMs: 20_000 });
    expect(done.output).toBe("first-part\nsecond-part\n");
  });

  it("marks a worker that stops gracefully as left, not failed", async () => {
    await worker.stop();
    const m = await until(async () => {
      const r = await api<MemberJson[]>(server.url, "GET", "/v1/members");
      return r.body.find((x) => x.Name === worker.nodeName && x.statusText === "left");
    }, { timeoutMs: 20_000, message: "the worker left" });
    expect(m.statusText).toBe("left");
  });
});
