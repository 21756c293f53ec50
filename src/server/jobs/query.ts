// Server-side filtering, sorting and paging of /v1/jobs (Dkron's query
// parameters). Pure: takes the full list, returns the page and the total.
import { invalid } from "../../shared/errors.js";
import type { Job } from "../../shared/job.js";

export interface JobQuery {
  q?: string;
  status?: string;
  disabled?: boolean;
  metadata: Record<string, string>;
  sort: keyof Job;
  order: "ASC" | "DESC";
  start: number;
  end: number | undefined;
}

const SORTABLE = new Set<string>([
  "name", "displayname", "schedule", "success_count", "error_count", "last_success", "last_error", "next",
  "status", "executor", "disabled",
]);

export function parseJobQuery(params: URLSearchParams): JobQuery {
  const metadata: Record<string, string> = {};
  for (const [k, v] of params) {
    const m = /^metadata\[(.+)\]$/.exec(k);
    if (m) metadata[m[1]!] = v;
  }
  let sort = params.get("_sort") ?? "name";
  if (sort === "id") sort = "name";
  if (!SORTABLE.has(sort)) throw invalid("_sort", `cannot sort by ${JSON.stringify(sort)} (one of: ${[...SORTABLE].join(", ")})`);
  const order = (params.get("_order") ?? "ASC").toUpperCase();
  if (order !== "ASC" && order !== "DESC") throw invalid("_order", "must be ASC or DESC");
  const disabledRaw = params.get("disabled");
  if (disabledRaw !== null && disabledRaw !== "" && disabledRaw !== "true" && disabledRaw !== "false") {
    throw invalid("disabled", "must be true or false");
  }
  const status = params.get("status") || undefined;
  if (status && !["success", "failed", "partially_failed", "untriggered"].includes(status)) {
    throw invalid("status", "must be one of success, failed, partially_failed, untriggered");
  }
  return {
    q: params.get("q") || undefined,
    status,
    disabled: disabledRaw === "true" ? true : disabledRaw === "false" ? false : undefined,
    metadata,
    sort: sort as keyof Job,
    order,
    start: parseIndex(params, "_start") ?? 0,
    end: parseIndex(params, "_end"),
  };
}

export function parseIndex(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw invalid(name, "must be a non-negative integer");
  return Number(raw);
}

export function applyJobQuery(jobs: Job[], q: JobQuery): { items: Job[]; total: number } {
  const needle = q.q?.toLowerCase();
  const meta = Object.entries(q.metadata);
  const filtered = jobs.filter((j) => {
    if (needle && !j.name.toLowerCase().includes(needle) && !j.displayname.toLowerCase().includes(needle)) return false;
    if (q.status && (q.status === "untriggered" ? j.status !== "" : j.status !== q.status)) return false;
    if (q.disabled !== undefined && j.disabled !== q.disabled) return false;
    for (const [k, v] of meta) if (j.metadata[k] !== v) return false;
    return true;
  });
  const dir = q.order === "DESC" ? -1 : 1;
  const key = q.sort;
  filtered.sort((a, b) => dir * compare(a[key], b[key]) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const end = q.end === undefined ? filtered.length : Math.min(q.end, filtered.length);
  return { items: filtered.slice(q.start, Math.max(q.start, end)), total: filtered.length };
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : 1;
}
