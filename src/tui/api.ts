// What the dashboard needs from the server, as one small interface: the real
// one wraps DkronClient, tests pass a fake.
import type { DkronClient } from "../client/http.js";
import { request } from "../client/transport.js";
import { isDkronError } from "../shared/errors.js";
import type { Execution } from "../shared/execution.js";
import type { Job } from "../shared/job.js";
import type { Member } from "../shared/member.js";
import { API } from "../shared/paths.js";
import { VERSION } from "../shared/version.js";
import type { Snapshot } from "./state/actions.js";

export interface ClusterInfo {
  node: string;
  /** Dkron's `dc` tag of the node answering, when set. */
  dc?: string;
  /** Whether new runs are paused cluster-wide (GET /v1/pause); unknown on servers without it. */
  paused?: boolean;
}

export interface TuiApi {
  readonly address: string;
  readonly token?: string;
  listJobs(): Promise<Job[]>;
  getJob(name: string): Promise<Job>;
  members(): Promise<Member[]>;
  /** The leader's name, or "" while none is elected. */
  leader(): Promise<string>;
  info(): Promise<ClusterInfo>;
  executions(job: string, limit: number): Promise<Execution[]>;
  running(): Promise<Execution[]>;
  execution(job: string, id: string): Promise<Execution>;
  run(job: string): Promise<Job>;
  toggle(job: string): Promise<Job>;
  remove(job: string): Promise<Job>;
  save(body: Record<string, unknown>): Promise<Job>;
  kill(job: string, id: string): Promise<void>;
}

/** Bytes of output kept per execution in lists (the execution view fetches it whole). */
const LIST_OUTPUT = 200;

export function apiFromClient(client: DkronClient, opts: { token?: string; timeoutMs?: number } = {}): TuiApi {
  const transport = {
    base: client.address,
    timeoutMs: opts.timeoutMs ?? 10_000,
    userAgent: `dkron-tui/${VERSION}`,
    ...(opts.token ? { token: opts.token } : {}),
  };
  return {
    address: client.address,
    ...(opts.token ? { token: opts.token } : {}),
    listJobs: async () => (await client.listJobs()).items,
    getJob: (name) => client.getJob(name),
    members: () => client.members(),
    async leader() {
      try {
        return (await client.leader()).Name;
      } catch (err) {
        if (isDkronError(err, "not_found")) return "";
        throw err;
      }
    },
    async info() {
      const [i, pause] = await Promise.all([
        client.info(),
        // Not in DkronClient; older servers answer 404.
        request<{ paused?: unknown }>(transport, "GET", `${API.root}/pause`, { okStatuses: [404] }).catch(() => undefined),
      ]);
      const tags = (i.tags ?? {}) as Record<string, unknown>;
      const paused = pause?.status === 200 ? pause.body?.paused : undefined;
      return {
        node: i.agent?.name ?? "",
        ...(typeof tags.dc === "string" && tags.dc ? { dc: tags.dc } : {}),
        ...(typeof paused === "boolean" ? { paused } : {}),
      };
    },
    executions: async (job, limit) => (await client.listExecutions(job, { end: limit, outputSizeLimit: LIST_OUTPUT })).items,
    running: async () => (await client.listAllExecutions({ status: "running", end: 500, outputSizeLimit: LIST_OUTPUT })).items,
    execution: (job, id) => client.getExecution(job, id),
    run: (job) => client.runJob(job),
    toggle: (job) => client.toggleJob(job),
    remove: (job) => client.deleteJob(job),
    save: (body) => client.upsertJob(body),
    // Not in DkronClient yet: the route is new (and may 404 on older servers).
    async kill(job, id) {
      await request(transport, "POST", `${API.jobExecution(job, id)}/kill`, { ignoreBody: true });
    },
  };
}

/** Everything the screen shows, read in parallel. */
export async function fetchSnapshot(api: TuiApi): Promise<Snapshot> {
  const [jobs, members, leader, info, running] = await Promise.all([api.listJobs(), api.members(), api.leader(), api.info(), api.running()]);
  return { jobs, members, leader, info, running };
}
