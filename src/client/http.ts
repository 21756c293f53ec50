// Typed client of the Dkron-compatible REST API. Used by the CLI (and the TUI).
import { DkronError } from "../shared/errors.js";
import type { Execution } from "../shared/execution.js";
import type { Job } from "../shared/job.js";
import type { Member } from "../shared/member.js";
import { API, DEFAULT_ADDRESS } from "../shared/paths.js";
import { VERSION } from "../shared/version.js";
import { request, type QueryValue, type RequestInit2, type ResponseHeaders, type TransportOptions } from "./transport.js";

export interface DkronClientOptions {
  /** e.g. http://127.0.0.1:8080; a bare host:port gets http:// prepended. */
  address?: string;
  /** Per-request deadline (connect + response body). Default 10 s. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

export type SortOrder = "ASC" | "DESC";

export interface ListJobsQuery {
  start?: number;
  end?: number;
  sort?: string;
  order?: SortOrder;
  /** Substring of name or displayname. */
  q?: string;
  /** success | failed | partially_failed | untriggered */
  status?: string;
  disabled?: boolean;
  /** All pairs must match exactly. */
  metadata?: Record<string, string>;
}

export interface ListExecutionsQuery {
  start?: number;
  end?: number;
  sort?: string;
  order?: SortOrder;
  /** Keep only the last N bytes of each output. */
  outputSizeLimit?: number;
}

export interface ListAllExecutionsQuery {
  start?: number;
  end?: number;
  job?: string;
  /** running | success | failed */
  status?: string;
  outputSizeLimit?: number;
}

export interface Page<T> {
  items: T[];
  /** X-Total-Count: matches before paging (items.length when the header is absent). */
  total: number;
}

export interface ServerInfo {
  agent: { name: string; version: string };
  [key: string]: unknown;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Normalises a user-given address; throws invalid_argument when it cannot be a URL. */
export function normalizeAddress(address: string): string {
  const raw = address.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new DkronError("invalid_argument", `address: not a URL: ${JSON.stringify(address)}`, "address");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new DkronError("invalid_argument", `address: must be http:// or https://, got ${url.protocol}//`, "address");
  }
  if (url.search || url.hash) {
    throw new DkronError("invalid_argument", "address: must not contain a query or fragment", "address");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function pageOf<T>(res: { headers: ResponseHeaders; body: T[] | undefined }): Page<T> {
  const items = Array.isArray(res.body) ? res.body : [];
  const header = res.headers.get("x-total-count");
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : items.length;
  return { items, total };
}

export class DkronClient {
  readonly address: string;
  private readonly transport: TransportOptions;

  constructor(opts: DkronClientOptions = {}) {
    this.address = normalizeAddress(opts.address ?? DEFAULT_ADDRESS);
    this.transport = {
      base: this.address,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      userAgent: `dkron-cli/${VERSION}`,
      ...(opts.token ? { token: opts.token } : {}),
    };
  }

  private async call<T>(method: string, path: string, init?: RequestInit2) {
    return request<T>(this.transport, method, path, init);
  }

  async info(): Promise<ServerInfo> {
    return (await this.call<ServerInfo>("GET", API.root)).body;
  }

  async health(): Promise<{ status: string }> {
    return (await this.call<{ status: string }>("GET", API.health)).body;
  }

  async listJobs(query: ListJobsQuery = {}): Promise<Page<Job>> {
    const params: Record<string, QueryValue> = {
      _start: query.start,
      _end: query.end,
      _sort: query.sort,
      _order: query.order,
      q: query.q,
      status: query.status,
      disabled: query.disabled,
    };
    for (const [k, v] of Object.entries(query.metadata ?? {})) params[`metadata[${k}]`] = v;
    return pageOf(await this.call<Job[]>("GET", API.jobs, { query: params }));
  }

  async getJob(name: string): Promise<Job> {
    return (await this.call<Job>("GET", API.job(name))).body;
  }

  /** Creates or replaces a job (Dkron's POST /v1/jobs). */
  async upsertJob(body: Record<string, unknown>, opts: { runOnCreate?: boolean } = {}): Promise<Job> {
    const query = opts.runOnCreate ? { runoncreate: "true" } : undefined;
    return (await this.call<Job>("POST", API.jobs, { body, query })).body;
  }

  /** Returns the deleted job. */
  async deleteJob(name: string): Promise<Job> {
    return (await this.call<Job>("DELETE", API.job(name))).body;
  }

  /** Triggers a run now; the run itself is asynchronous. */
  async runJob(name: string): Promise<Job> {
    return (await this.call<Job>("POST", API.jobRun(name))).body;
  }

  /** Flips `disabled`; returns the job as it now is. */
  async toggleJob(name: string): Promise<Job> {
    return (await this.call<Job>("POST", API.jobToggle(name))).body;
  }

  /** Executions of one job, newest first. */
  async listExecutions(job: string, query: ListExecutionsQuery = {}): Promise<Page<Execution>> {
    const res = await this.call<Execution[]>("GET", API.jobExecutions(job), {
      query: {
        _start: query.start,
        _end: query.end,
        _sort: query.sort,
        _order: query.order,
        output_size_limit: query.outputSizeLimit,
      },
    });
    return pageOf(res);
  }

  /** Recent executions across all jobs, newest first. */
  async listAllExecutions(query: ListAllExecutionsQuery = {}): Promise<Page<Execution>> {
    const res = await this.call<Execution[]>("GET", API.executions, {
      query: {
        _start: query.start,
        _end: query.end,
        job: query.job,
        status: query.status,
        output_size_limit: query.outputSizeLimit,
      },
    });
    return pageOf(res);
  }

  async getExecution(job: string, id: string): Promise<Execution> {
    return (await this.call<Execution>("GET", API.jobExecution(job, id))).body;
  }

  /** Kills a running execution wherever it runs (POST /v1/executions/:id/kill). */
  async killExecution(id: string): Promise<Execution> {
    return (await this.call<Execution>("POST", API.executionKill(id))).body;
  }

  async members(): Promise<Member[]> {
    const body = (await this.call<Member[]>("GET", API.members)).body;
    return Array.isArray(body) ? body : [];
  }

  /** Asks the agent at `address` to leave the cluster and stop. */
  async leave(): Promise<Member[]> {
    const body = (await this.call<Member[]>("POST", API.leave)).body;
    return Array.isArray(body) ? body : [];
  }

  async leader(): Promise<Member> {
    return (await this.call<Member>("GET", API.leader)).body;
  }

  /** True when the node at `address` is the leader (200), false when it is a follower (404). */
  async isLeader(): Promise<boolean> {
    const res = await this.call<undefined>("GET", API.isLeader, { okStatuses: [404], ignoreBody: true });
    return res.status === 200;
  }
}
