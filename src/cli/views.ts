// How jobs, executions and members look in a terminal. Pure: `now` and the style are passed in.
import type { Execution } from "../shared/execution.js";
import type { Job } from "../shared/job.js";
import type { Member } from "../shared/member.js";
import { parseTime } from "../shared/time.js";
import {
  formatDuration,
  formatMap,
  relativeTime,
  renderKeyValues,
  renderTable,
  truncateStart,
  type Column,
  type Style,
} from "./output.js";

const ms = (t: string | null | undefined): number | null => {
  const v = parseTime(t ?? null);
  return v === null || Number.isNaN(v) ? null : v;
};

const whenText = (t: string | null | undefined, now: number): string => {
  const v = ms(t);
  return v === null ? "never" : `${new Date(v).toISOString()} (${relativeTime(v, now)})`;
};

export const jobStatusText = (j: Job): string => j.status || "untriggered";

function lastRun(j: Job): number | null {
  const a = ms(j.last_success);
  const b = ms(j.last_error);
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function statusColor(style: Style, status: string, text: string): string {
  if (status === "success") return style.green(text);
  if (status === "failed") return style.red(text);
  if (status === "partially_failed" || status === "running") return style.yellow(text);
  return style.dim(text);
}

export function jobsTable(jobs: readonly Job[], now: number, style: Style): string {
  const columns: Column<Job>[] = [
    { header: "NAME", get: (j) => j.name, max: 40 },
    { header: "SCHEDULE", get: (j) => j.schedule || (j.parent_job ? `after ${j.parent_job}` : ""), max: 32 },
    { header: "NEXT", get: (j) => (j.disabled ? "never" : relativeTime(ms(j.next), now)) },
    { header: "LAST", get: (j) => relativeTime(lastRun(j), now) },
    { header: "STATUS", get: jobStatusText, color: (j, t) => statusColor(style, j.status, t) },
    { header: "OK", get: (j) => String(j.success_count ?? 0), align: "right" },
    { header: "ERR", get: (j) => String(j.error_count ?? 0), align: "right", color: (j, t) => (j.error_count ? style.red(t) : t) },
    { header: "ENABLED", get: (j) => (j.disabled ? "no" : "yes"), color: (j, t) => (j.disabled ? style.yellow(t) : t) },
  ];
  return renderTable(jobs, columns, style);
}

export function jobDetails(j: Job, now: number, style: Style): string {
  const pairs: Array<[string, string]> = [
    ["name", j.name],
    ["displayname", j.displayname],
    ["schedule", j.schedule],
    ["timezone", j.timezone],
    ["enabled", j.disabled ? "no" : "yes"],
    ["next", j.disabled ? "never" : whenText(j.next, now)],
    ["status", statusColor(style, j.status, jobStatusText(j))],
    ["runs", `${j.success_count ?? 0} ok, ${j.error_count ?? 0} failed`],
    ["last success", whenText(j.last_success, now)],
    ["last error", whenText(j.last_error, now)],
    ["executor", j.executor],
    ...Object.entries(j.executor_config ?? {}).map(([k, v]): [string, string] => [`  ${k}`, v]),
    ["concurrency", j.concurrency],
    ["retries", String(j.retries ?? 0)],
    ["tags", formatMap(j.tags)],
    ["metadata", formatMap(j.metadata)],
    ["parent job", j.parent_job],
    ["dependent jobs", (j.dependent_jobs ?? []).join(", ")],
    ["owner", [j.owner, j.owner_email ? `<${j.owner_email}>` : ""].filter(Boolean).join(" ")],
    ["catchup", j.catchup ? `${j.catchup}${j.catchup_window ? ` (window ${j.catchup_window})` : ""}` : ""],
    ["ephemeral", j.ephemeral ? "yes" : ""],
    ["starts at", j.starts_at ? whenText(j.starts_at, now) : ""],
    ["expires at", j.expires_at ? whenText(j.expires_at, now) : ""],
  ];
  return renderKeyValues(
    pairs.filter(([, v]) => v !== ""),
    style,
  );
}

export type ExecutionState = "running" | "success" | "failed";

export function executionState(e: Execution): ExecutionState {
  if (ms(e.finished_at) === null) return "running";
  return e.success ? "success" : "failed";
}

function executionDuration(e: Execution, now: number): string {
  const start = ms(e.started_at);
  if (start === null) return "-";
  return formatDuration((ms(e.finished_at) ?? now) - start);
}

const oneLine = (s: string): string => s.trim().replace(/\s*\n\s*/g, " ⏎ ");

export function executionsTable(execs: readonly Execution[], now: number, style: Style, withOutput = false): string {
  const columns: Column<Execution>[] = [
    { header: "ID", get: (e) => e.id, max: 0 },
    { header: "JOB", get: (e) => e.job_name, max: 32 },
    { header: "STARTED", get: (e) => relativeTime(ms(e.started_at), now) },
    { header: "DURATION", get: (e) => executionDuration(e, now), align: "right" },
    { header: "NODE", get: (e) => e.node_name ?? "", max: 24 },
    { header: "STATUS", get: executionState, color: (e, t) => statusColor(style, executionState(e), t) },
    { header: "ATTEMPT", get: (e) => String(e.attempt ?? 1), align: "right" },
  ];
  if (withOutput) {
    // The tail is where errors are; cut from the left.
    columns.push({ header: "OUTPUT", get: (e) => truncateStart(oneLine(e.output ?? ""), 60), max: 0 });
  }
  return renderTable(execs, columns, style);
}

export function executionDetails(e: Execution, now: number, style: Style): string {
  const state = executionState(e);
  const pairs: Array<[string, string]> = [
    ["id", e.id],
    ["job", e.job_name],
    ["status", statusColor(style, state, state)],
    ["node", e.node_name ?? ""],
    ["attempt", String(e.attempt ?? 1)],
    ["started", whenText(e.started_at, now)],
    ["finished", state === "running" ? "running" : whenText(e.finished_at, now)],
    ["duration", executionDuration(e, now)],
    ["exit code", e.exit_code === undefined || e.exit_code === null ? "" : String(e.exit_code)],
    ["trigger", e.trigger ?? ""],
    ["reason", e.reason ?? ""],
  ];
  let text = renderKeyValues(
    pairs.filter(([, v]) => v !== ""),
    style,
  );
  const output = e.output ?? "";
  text += `${style.dim(`output${e.output_truncated ? " (truncated: last bytes only)" : ""}:`)}\n`;
  text += output ? (output.endsWith("\n") ? output : `${output}\n`) : `${style.dim("(none)")}\n`;
  return text;
}

const memberAddr = (m: Member): string => (m.Port ? `${m.Addr}:${m.Port}` : m.Addr);

function memberStatusColor(style: Style, m: Member, t: string): string {
  if (m.statusText === "alive") return style.green(t);
  if (m.statusText === "failed") return style.red(t);
  return style.yellow(t);
}

export function membersTable(members: readonly Member[], now: number, style: Style): string {
  const columns: Column<Member>[] = [
    { header: "NAME", get: (m) => m.Name, max: 32 },
    { header: "ADDR", get: memberAddr },
    { header: "ROLE", get: (m) => m.role ?? (m.Tags?.server === "true" ? "server" : "worker") },
    { header: "STATUS", get: (m) => m.statusText ?? String(m.Status), color: (m, t) => memberStatusColor(style, m, t) },
    { header: "LEADER", get: (m) => (m.leader ? "yes" : ""), color: (_m, t) => style.cyan(t) },
    { header: "TAGS", get: (m) => formatMap(m.Tags), max: 40 },
    { header: "LAST SEEN", get: (m) => relativeTime(ms(m.last_seen), now) },
  ];
  return renderTable(members, columns, style);
}

export function memberDetails(m: Member, now: number, style: Style): string {
  const pairs: Array<[string, string]> = [
    ["name", m.Name],
    ["addr", memberAddr(m)],
    ["role", m.role ?? ""],
    ["status", memberStatusColor(style, m, m.statusText ?? String(m.Status))],
    ["version", m.version ?? ""],
    ["tags", formatMap(m.Tags)],
    ["last seen", m.last_seen ? whenText(m.last_seen, now) : ""],
  ];
  return renderKeyValues(
    pairs.filter(([, v]) => v !== ""),
    style,
  );
}
