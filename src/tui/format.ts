// Text of the dashboard's cells and columns. Pure (time is passed in).
import { formatDuration, relativeTime } from "../cli/output.js";
import type { Execution } from "../shared/execution.js";
import type { Job } from "../shared/job.js";
import type { Member } from "../shared/member.js";
import { isRunning, lastRun, timeOf } from "./state/select.js";
import type { Tone } from "./theme.js";

/** Cuts or pads to exactly `width` code points. */
export function fit(text: string, width: number, align: "left" | "right" = "left"): string {
  if (width <= 0) return "";
  const chars = [...text.replace(/[\r\n\t]+/g, " ")];
  if (chars.length > width) return width === 1 ? "…" : `${chars.slice(0, width - 1).join("")}…`;
  const pad = " ".repeat(width - chars.length);
  return align === "right" ? pad + text : text + pad;
}

export interface JobColumns {
  name: number;
  schedule: number;
}

/** Fixed columns: marker 2, NEXT 8, LAST 11, OK 5, ERR 4, STATE 8, RUN 3, and 7 one-space gaps. */
const FIXED = 2 + 8 + 11 + 5 + 4 + 8 + 3 + 7;

export function jobColumns(width: number): JobColumns {
  const free = Math.max(16, width - FIXED);
  const schedule = Math.max(8, Math.min(26, Math.round(free * 0.4)));
  return { name: Math.max(8, free - schedule), schedule };
}

export function jobHeader(c: JobColumns): string {
  return ["  " + fit("NAME", c.name), fit("SCHEDULE", c.schedule), fit("NEXT", 8), fit("LAST", 11), fit("OK", 5, "right"),
    fit("ERR", 4, "right"), fit("STATE", 8), "RUN"].join(" ");
}

export function statusMark(status: string): { mark: string; tone: Tone } {
  switch (status) {
    case "success":
      return { mark: "✓", tone: "ok" };
    case "failed":
      return { mark: "✗", tone: "err" };
    case "partially_failed":
      return { mark: "◐", tone: "warn" };
    default:
      return { mark: "·", tone: "muted" };
  }
}

export const scheduleText = (j: Job): string => j.schedule || (j.parent_job ? `after ${j.parent_job}` : "");

export function nextText(j: Job, now: number): string {
  if (j.disabled) return "—";
  const t = timeOf(j.next);
  return t === null ? "never" : relativeTime(t, now);
}

export function lastText(j: Job, now: number): string {
  const t = lastRun(j);
  return `${statusMark(j.status).mark} ${t === null ? "never" : relativeTime(t, now)}`;
}

export interface JobCells {
  name: string;
  schedule: string;
  next: string;
  last: string;
  lastTone: Tone;
  ok: string;
  err: string;
  state: string;
  run: string;
}

export function jobCells(j: Job, c: JobColumns, now: number, running: number): JobCells {
  return {
    name: fit(j.name, c.name),
    schedule: fit(scheduleText(j), c.schedule),
    next: fit(nextText(j, now), 8),
    last: fit(lastText(j, now), 11),
    lastTone: statusMark(j.status).tone,
    ok: fit(String(j.success_count ?? 0), 5, "right"),
    err: fit(String(j.error_count ?? 0), 4, "right"),
    state: fit(j.disabled ? "disabled" : "enabled", 8),
    run: running > 0 ? fit(`●${running > 9 ? "+" : running}`, 3) : "   ",
  };
}

export function executionStatus(e: Execution): { text: string; tone: Tone; mark: string } {
  if (isRunning(e)) return { text: "running", tone: "warn", mark: "●" };
  if (e.success) return { text: "ok", tone: "ok", mark: "✓" };
  const code = e.exit_code === null || e.exit_code === undefined ? "" : ` (${e.exit_code})`;
  return { text: `failed${code}`, tone: "err", mark: "✗" };
}

export function executionDuration(e: Execution, now: number): string {
  const start = timeOf(e.started_at);
  if (start === null) return "-";
  return formatDuration((timeOf(e.finished_at) ?? now) - start);
}

export const executionWhen = (e: Execution, now: number): string => relativeTime(timeOf(e.started_at), now);

export const memberStatus = (m: Member): { text: string; tone: Tone } => {
  const text = m.statusText ?? String(m.Status);
  return { text, tone: text === "alive" ? "ok" : text === "failed" ? "err" : "warn" };
};

export const tagsText = (tags: Record<string, string> | null | undefined): string =>
  Object.entries(tags ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");

/** A pane title as a rule: "─ title ───── right". */
export function rule(title: string, width: number, right = ""): string {
  const t = title ? `─ ${title} ` : "";
  const r = right ? ` ${right} ─` : "";
  const fill = width - [...t].length - [...r].length;
  if (fill < 1) return fit(t + r, width);
  return t + "─".repeat(fill) + r;
}
