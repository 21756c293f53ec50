// Derived views of the state: the filtered, sorted job list, the selection,
// dependencies. Pure; the job list is memoised on its inputs.
import type { Execution } from "../../shared/execution.js";
import type { Job } from "../../shared/job.js";
import { parseTime } from "../../shared/time.js";
import { matches, parseFilter, statusText } from "./filter.js";
import type { SortKey, State } from "./types.js";

export const timeOf = (t: string | null | undefined): number | null => {
  const v = parseTime(t ?? null);
  return v === null || Number.isNaN(v) ? null : v;
};

export const isRunning = (e: Execution): boolean => timeOf(e.finished_at) === null;

export function lastRun(j: Job): number | null {
  const a = timeOf(j.last_success);
  const b = timeOf(j.last_error);
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/** Result of the most recent finished run: "success" | "failed" | "" (never ran). */
export function lastResult(j: Job): "success" | "failed" | "" {
  const a = timeOf(j.last_success);
  const b = timeOf(j.last_error);
  if (a === null && b === null) return "";
  return (b ?? -Infinity) > (a ?? -Infinity) ? "failed" : "success";
}

export const SORT_KEYS: readonly SortKey[] = ["name", "next", "last", "status", "success", "errors"];
/** The natural direction of each sort when it is picked. */
export const SORT_DESC_FIRST: Record<SortKey, boolean> = {
  name: false, next: false, last: true, status: false, success: true, errors: true,
};

/** Numeric sort value; null sorts last in both directions ("never"). */
function numeric(key: SortKey, j: Job): number | null {
  switch (key) {
    case "next":
      return j.disabled ? null : timeOf(j.next);
    case "last":
      return lastRun(j);
    case "success":
      return j.success_count ?? 0;
    case "errors":
      return j.error_count ?? 0;
    default:
      return 0;
  }
}

export function sortJobs(jobs: Iterable<Job>, key: SortKey, desc: boolean): Job[] {
  const dir = desc ? -1 : 1;
  const byName = (a: Job, b: Job) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...jobs].sort((a, b) => {
    if (key === "status") {
      const c = statusText(a).localeCompare(statusText(b));
      if (c !== 0) return dir * c;
    } else if (key !== "name") {
      const va = numeric(key, a);
      const vb = numeric(key, b);
      if (va === null || vb === null) {
        if (va !== vb) return va === null ? 1 : -1;
      } else if (va !== vb) return dir * (va - vb);
    }
    return (key === "name" ? dir : 1) * byName(a, b);
  });
}

let memo: { jobs: unknown; filter: string; key: SortKey; desc: boolean; running: unknown; out: Job[] } | undefined;

/** The jobs table's rows: filtered, then sorted. */
export function visibleJobs(s: Pick<State, "jobs" | "filter" | "sort" | "running">): Job[] {
  const m = memo;
  if (m && m.jobs === s.jobs && m.filter === s.filter && m.key === s.sort.key && m.desc === s.sort.desc && m.running === s.running) {
    return m.out;
  }
  const terms = parseFilter(s.filter);
  const kept = terms.length ? [...s.jobs.values()].filter((j) => matches(j, terms, s.running[j.name]?.length ?? 0)) : s.jobs.values();
  const out = sortJobs(kept, s.sort.key, s.sort.desc);
  memo = { jobs: s.jobs, filter: s.filter, key: s.sort.key, desc: s.sort.desc, running: s.running, out };
  return out;
}

export function selectedIndex(s: State, list: readonly Job[] = visibleJobs(s)): number {
  if (s.selected === undefined) return list.length ? 0 : -1;
  const i = list.findIndex((j) => j.name === s.selected);
  return i >= 0 ? i : list.length ? 0 : -1;
}

export function selectedJob(s: State): Job | undefined {
  const list = visibleJobs(s);
  const i = selectedIndex(s, list);
  return i >= 0 ? list[i] : undefined;
}

/** Children from the server's dependent_jobs, completed by scanning parent_job (events may race). */
export function childrenOf(jobs: ReadonlyMap<string, Job>, name: string): string[] {
  const set = new Set<string>((jobs.get(name)?.dependent_jobs ?? []).filter((c) => jobs.has(c)));
  for (const j of jobs.values()) if (j.parent_job === name) set.add(j.name);
  return [...set].sort();
}

/** The job between its parent and its children, as tree lines. */
export function dependencyTree(jobs: ReadonlyMap<string, Job>, job: Job): string[] {
  const kids = childrenOf(jobs, job.name);
  if (!job.parent_job && kids.length === 0) return [];
  const lines: string[] = [];
  let indent = "";
  if (job.parent_job) {
    lines.push(`${job.parent_job}${jobs.has(job.parent_job) ? "" : " (missing)"}`);
    lines.push(`└─ ${job.name} ◀`);
    indent = "   ";
  } else lines.push(`${job.name} ◀`);
  kids.forEach((k, i) => lines.push(`${indent}${i === kids.length - 1 ? "└─" : "├─"} ${k}`));
  return lines;
}

export const executionsOf = (s: State, job: string): readonly Execution[] => s.executions[job] ?? [];

export const runningCount = (s: State, job: string): number => s.running[job]?.length ?? 0;
