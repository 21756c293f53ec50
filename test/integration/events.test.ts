// The WebSocket side of the API against a real agent: /v1/events pushes job
// and execution changes, and the output endpoint streams a running execution.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { api, startAgent, type TestAgent } from "../helpers/agent.js";
import { until } from "../helpers/until.js";
import { createJob, executions, isFinished, shellJob, waitLeader } from "./support.js";

interface Ev { type: string; op?: string; job?: { name: string; disabled: boolean }; name?: string; execution?: { job_name: string; finished_at: string; output: string; id: string } ; data?: string }

function listen(url: string): { events: Ev[]; ws: WebSocket; open: Promise<void> } {
  const ws = new WebSocket(url);
  const events: Ev[] = [];
  ws.on("message", (d) => events.push(JSON.parse(String(d)) as Ev));
  const open = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { events, ws, open };
}

describe("WebSocket events and output", () => {
  let agent: TestAgent;
  const ws = (p: string) => agent.url.replace(/^http/, "ws") + p;

  beforeAll(async () => {
    agent = await startAgent();
    await waitLeader(agent.url);
  });
  afterAll(async () => agent?.stop());

  it("says hello, then pushes job puts, toggles, executions and deletes", async () => {
    const l = listen(ws("/v1/events"));
    await l.open;
    await until(() => l.events.find((e) => e.type === "hello"), { message: "hello" });
    await createJob(agent.url, shellJob("evjob", "echo ev"));
    await until(() => l.events.find((e) => e.type === "job" && e.op === "put" && e.job?.name === "evjob"), { message: "job put" });
    await api(agent.url, "POST", "/v1/jobs/evjob/toggle");
    await until(() => l.events.find((e) => e.type === "job" && e.job?.name === "evjob" && e.job.disabled), { message: "toggled job" });
    await api(agent.url, "POST", "/v1/jobs/evjob/run");
    const done = await until(() => l.events.find((e) => e.type === "execution" && e.execution?.job_name === "evjob" && e.execution.finished_at !== "0001-01-01T00:00:00Z"), { message: "finished execution" });
    expect(done.execution!.output).toBe("ev\n");
    await api(agent.url, "DELETE", "/v1/jobs/evjob");
    await until(() => l.events.find((e) => e.type === "job" && e.op === "delete" && e.name === "evjob"), { message: "job delete" });
    l.ws.close();
  });

  it("streams the output of a running execution to its end, without repeating what it already sent", async () => {
    await createJob(agent.url, shellJob("evlive", "echo one; sleep 1; echo two; sleep 1; echo three", {}, { shell: "true" }));
    await api(agent.url, "POST", "/v1/jobs/evlive/run");
    const running = await until(async () => (await executions(agent.url, "evlive")).find((e) => !isFinished(e)), { message: "running" });
    const l = listen(ws(`/v1/jobs/evlive/executions/${encodeURIComponent(running.id)}/output`));
    await l.open;
    await until(() => l.events.find((e) => e.type === "end"), { timeoutMs: 20_000, message: "end of output" });
    const text = l.events.filter((e) => e.type === "output").map((e) => e.data).join("");
    expect(text).toBe("one\ntwo\nthree\n");
  });

  it("refuses unknown executions and routes", async () => {
    await createJob(agent.url, shellJob("evnone", "true"));
    const l = listen(ws("/v1/jobs/evnone/executions/nope/output"));
    await l.open;
    const err = await until(() => l.events.find((e) => e.type === "error"));
    expect(JSON.stringify(err)).toContain("not_found");
    const bad = new WebSocket(ws("/v1/nothing"));
    const status = await new Promise<number>((resolve) => bad.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
  });
});
