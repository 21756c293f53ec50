// Dkron's /v1 routes (see shared/reference/dkron.md §1), over the catalog,
// the read model and the cluster view. Handlers validate every input and
// throw typed errors; http.ts turns them into JSON error replies.
import { DkronError, invalid, notFound } from "../../shared/errors.js";
import { parseJobInput, type JobSpec } from "../../shared/job.js";
import { toExecutionJson, type ExecutionRecord } from "../../shared/execution.js";
import type { Member } from "../../shared/member.js";
import { API } from "../../shared/paths.js";
import type { JobCatalog } from "../jobs/catalog.js";
import { validateJob, type ExecutorInfo } from "../jobs/validate.js";
import { applyJobQuery, parseIndex, parseJobQuery } from "../jobs/query.js";
import type { ExecutionQuery, ReadModelDb } from "../readmodel/db.js";
import { Router, type Request } from "./http.js";
import type { ClusterOps } from "../cluster-ops.js";
import { parseRestoreBody } from "./restore.js";
import { validateProcessors } from "../processors/index.js";

export interface ApiDeps {
  nodeName: string;
  version: string;
  catalog: JobCatalog;
  readModel: ReadModelDb;
  executors: ReadonlyMap<string, ExecutorInfo>;
  members(): Member[];
  leaderName(): string | undefined;
  isLeader(): boolean;
  /** Cluster-wide operations (run now, kill, delete data, pause). */
  ops(): ClusterOps;
  /** Output so far of a running execution, from the node that runs it. */
  liveOutput(rec: ExecutionRecord): Promise<string | undefined>;
  tags: Record<string, string>;
  /** Leave the cluster gracefully: announce, hand over, stop the agent. */
  leave(): void;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Dkron's /debug/vars: scheduler state and fire-lag figures. */
  debugVars(lagSinceMs: number): Record<string, unknown>;
}

function requireJob(d: ApiDeps, name: string): JobSpec {
  const spec = d.catalog.spec(name);
  if (!spec) throw notFound(`job ${JSON.stringify(name)}`);
  return spec;
}

function executionQuery(req: Request, defaults: Partial<ExecutionQuery>): ExecutionQuery {
  const q = req.query;
  let sort = q.get("_sort") ?? "started_at";
  if (sort === "id") sort = "started_at";
  if (sort !== "started_at" && sort !== "finished_at") throw invalid("_sort", "must be started_at or finished_at");
  const order = (q.get("_order") ?? "DESC").toUpperCase();
  if (order !== "ASC" && order !== "DESC") throw invalid("_order", "must be ASC or DESC");
  const status = q.get("status") || undefined;
  if (status && !["running", "success", "failed"].includes(status)) throw invalid("status", "must be running, success or failed");
  const start = parseIndex(q, "_start") ?? 0;
  const end = parseIndex(q, "_end");
  return {
    ...defaults,
    status,
    node: q.get("node") || undefined,
    sort,
    order,
    start,
    end: end === undefined ? defaults.end : end,
    outputLimit: parseIndex(q, "output_size_limit"),
  };
}

export function buildRouter(d: ApiDeps): Router {
  const r = new Router();
  const withLive = async (rec: ExecutionRecord) => {
    const json = toExecutionJson(rec);
    if (rec.finished_at === null) json.output = (await d.liveOutput(rec)) ?? json.output;
    return json;
  };
  const allWithLive = (recs: ExecutionRecord[]) => Promise.all(recs.map(withLive));
  const listJobs = (req: Request) => {
    const { items, total } = applyJobQuery(d.catalog.all(), parseJobQuery(req.query));
    return { body: items, headers: { "X-Total-Count": String(total) } };
  };
  const upsertJob = async (req: Request) => {
    const spec = parseJobInput(await req.body());
    if (req.params.job !== undefined && req.params.job !== spec.name) {
      // Dkron ignores the path on PUT; a mismatch is almost always a mistake.
      throw invalid("name", `does not match the job in the path (${JSON.stringify(req.params.job)})`);
    }
    if (d.ops().paused) throw new DkronError("unavailable", "New job submissions are currently paused");
    validateJob(spec, d.executors);
    validateProcessors(spec.processors);
    const job = await d.catalog.upsert(spec);
    if (req.query.has("runoncreate")) await d.ops().runNow(spec.name);
    return {
      status: 201,
      body: job,
      headers: { Location: `${API.jobs}/${encodeURIComponent(spec.name)}` },
    };
  };
  const runJob = async (req: Request) => {
    requireJob(d, req.params.job!);
    await d.ops().runNow(req.params.job!);
    return { status: 202, body: d.catalog.get(req.params.job!) };
  };

  r.add("GET", "/health", () => ({ body: { status: "healthy" } }));
  r.add("GET", "/metrics", async () => ({
    body: await d.metrics(),
    headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
  }));
  r.add("GET", "/debug/vars", (req) => ({ body: d.debugVars(parseIndex(req.query, "lag_since") ?? 0) }));
  r.add("GET", "/v1", () => ({
    body: { agent: { name: d.nodeName, version: d.version }, serf: { leader: d.leaderName() ?? "", members: String(d.members().length) }, tags: d.tags },
  }));
  r.add("GET", "/v1/jobs", listJobs);
  r.add("POST", "/v1/jobs", upsertJob);
  r.add("PATCH", "/v1/jobs", upsertJob);
  r.add("PUT", "/v1/jobs/:job", upsertJob);
  r.add("GET", "/v1/jobs/:job", (req) => ({ body: d.catalog.get(req.params.job!) }));
  r.add("DELETE", "/v1/jobs/:job", async (req) => ({ body: await d.ops().deleteJob(req.params.job!) }));
  r.add("DELETE", "/v1/jobs/:job/executions", async (req) => ({ body: await d.ops().deleteExecutions(req.params.job!) }));
  r.add("POST", "/v1/jobs/:job/executions/:id/kill", async (req) => {
    requireJob(d, req.params.job!);
    return { status: 202, body: toExecutionJson(await d.ops().kill(req.params.id!, req.params.job!)) };
  });
  r.add("POST", "/v1/executions/:id/kill", async (req) => ({ status: 202, body: toExecutionJson(await d.ops().kill(req.params.id!)) }));
  r.add("GET", "/v1/pause", () => ({ body: { paused: d.ops().paused } }));
  r.add("POST", "/v1/pause", async () => ({ body: { paused: await d.ops().setPaused(true) } }));
  r.add("POST", "/v1/unpause", async () => ({ body: { paused: await d.ops().setPaused(false) } }));
  r.add("POST", "/v1/restore", async (req) => {
    const jobs = await parseRestoreBody(req.raw);
    const results: string[] = [];
    // Parents before their children: retry what failed for a missing parent while others succeed.
    let pending = jobs.map((raw, i) => ({ raw, i }));
    for (let progress = true; pending.length && progress;) {
      progress = false;
      const failed: typeof pending = [];
      for (const p of pending) {
        try {
          const spec = parseJobInput(p.raw);
          validateJob(spec, d.executors);
          validateProcessors(spec.processors);
          const existed = d.catalog.spec(spec.name) !== undefined;
          await d.catalog.upsert(spec);
          results.push(`success ${existed ? "update" : "create"} ${spec.name}`);
          progress = true;
        } catch (err) {
          failed.push({ ...p, raw: p.raw, error: (err as Error).message } as typeof p);
        }
      }
      pending = failed;
    }
    for (const p of pending as ({ i: number; error?: string })[]) results.push(`fail restore job ${p.i}: ${p.error ?? "invalid"}`);
    // Dkron answers with the list JSON-encoded inside a JSON string.
    return { body: JSON.stringify(results) };
  });
  r.add("POST", "/v1/jobs/:job", runJob);
  r.add("POST", "/v1/jobs/:job/run", runJob);
  r.add("POST", "/v1/jobs/:job/toggle", async (req) => ({ body: await d.catalog.toggle(req.params.job!) }));
  r.add("GET", "/v1/jobs/:job/executions", async (req) => {
    const spec = requireJob(d, req.params.job!);
    const { items, total } = d.readModel.query(executionQuery(req, { job: spec.name, incarnation: spec.incarnation }));
    return { body: await allWithLive(items), headers: { "X-Total-Count": String(total) } };
  });
  r.add("GET", "/v1/jobs/:job/executions/:id", async (req) => {
    const spec = requireJob(d, req.params.job!);
    const rec = d.readModel.get(req.params.job!, req.params.id!);
    if (!rec || (rec.incarnation && spec.incarnation && rec.incarnation !== spec.incarnation)) throw notFound(`execution ${JSON.stringify(req.params.id)} of job ${JSON.stringify(req.params.job)}`);
    return { body: await withLive(rec) };
  });
  r.add("GET", "/v1/executions", async (req) => {
    const job = req.query.get("job") || undefined;
    const { items, total } = d.readModel.query(executionQuery(req, { job, end: 100 }));
    return { body: await allWithLive(items), headers: { "X-Total-Count": String(total) } };
  });
  r.add("GET", "/v1/busy", async () => {
    const items = await allWithLive(d.readModel.query({ status: "running", sort: "started_at", order: "ASC", start: 0 }).items);
    return { body: items, headers: { "X-Total-Count": String(items.length) } };
  });
  r.add("POST", "/v1/leave", () => {
    d.leave();
    return { body: d.members() };
  });
  r.add("GET", "/v1/members", () => {
    const items = d.members();
    return { body: items, headers: { "X-Total-Count": String(items.length) } };
  });
  r.add("GET", "/v1/leader", () => {
    const name = d.leaderName();
    const m = name ? d.members().find((x) => x.Name === name) : undefined;
    if (!m) throw new DkronError("not_found", "no leader elected yet");
    return { body: m };
  });
  r.add("GET", "/v1/isleader", () =>
    d.isLeader() ? { body: "I am a leader" } : { status: 404, body: "I am a follower" });
  return r;
}
