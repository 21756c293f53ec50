// The dashboard's update function: (state, action) → (state, effects).
// Pure — time comes in on the actions; tested without rendering.
import { isDkronError } from "../../shared/errors.js";
import type { Action, ApiFailure, Effect } from "./actions.js";
import { applyEvents, applyExecution, applyExecutionList, applyJobs, applyOutput, applySnapshot, removeJob } from "./data.js";
import { withServerError } from "./form.js";
import { handleKey } from "./keys.js";
import { layout, listRows, scrollFor } from "./layout.js";
import { executionsOf, selectedIndex, visibleJobs } from "./select.js";
import type { ConnMode, State } from "./types.js";

export interface Update {
  state: State;
  effects: Effect[];
}

/** How long an info message stays; errors stay twice as long. */
export const FLASH_MS = 5000;

export function connMode(s: State): ConnMode {
  if (s.conn.link === "open") return "live";
  if (s.conn.httpError) return "offline";
  return s.loaded ? "polling" : "connecting";
}

/** Keeps the selection on a visible job and every cursor and scroll in range. */
export function normalize(s: State): State {
  const list = visibleJobs(s);
  const found = s.selected === undefined ? -1 : list.findIndex((j) => j.name === s.selected);
  const cursor = found >= 0 ? found : Math.min(s.cursor, list.length - 1);
  const selected = cursor >= 0 ? list[cursor]!.name : undefined;
  const rows = layout(s.size, s.pane).table.rows;
  const scroll = cursor >= 0 ? scrollFor(cursor, s.scroll, rows, list.length) : 0;
  const execs = selected ? executionsOf(s, selected).length : 0;
  const execCursor = Math.max(0, Math.min(selected === s.selected ? s.execCursor : 0, execs - 1));
  const memberCursor = Math.max(0, Math.min(s.memberCursor, s.members.length - 1));
  const memberScroll = scrollFor(memberCursor, s.memberScroll, listRows(s.size), s.members.length);
  if (
    selected === s.selected && cursor === s.cursor && scroll === s.scroll && execCursor === s.execCursor &&
    memberCursor === s.memberCursor && memberScroll === s.memberScroll
  ) {
    return s;
  }
  return { ...s, selected, cursor: Math.max(0, cursor), scroll, execCursor, memberCursor, memberScroll };
}

export const failureOf = (err: unknown): ApiFailure => {
  if (isDkronError(err)) return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
  return { code: "internal", message: err instanceof Error ? err.message : String(err) };
};

function effectDone(s: State, effect: Effect, now: number, job: Action & { type: "effectDone" }): State {
  const flash = (text: string): State => ({ ...s, flash: { kind: "info", text, at: now } });
  switch (effect.kind) {
    case "run":
      return { ...flash(`${effect.job}: started`), refreshSeq: s.refreshSeq + 1 };
    case "toggle": {
      const next = job.job ? applyJobs(s, [job.job]) : s;
      const disabled = job.job?.disabled;
      return { ...next, flash: { kind: "info", text: `${effect.job}: ${disabled ? "disabled" : "enabled"}`, at: now } };
    }
    case "delete":
      return { ...removeJob(s, effect.job), flash: { kind: "info", text: `${effect.job}: deleted`, at: now } };
    case "kill":
      return { ...flash(`${effect.job}: kill sent to ${effect.id}`), refreshSeq: s.refreshSeq + 1 };
    case "save": {
      const next = job.job ? applyJobs(s, [job.job]) : s;
      const name = job.job?.name ?? String(effect.body.name);
      // A filter that would hide the job just saved is cleared.
      const hidden = next.filter !== "" && !visibleJobs(next).some((j) => j.name === name);
      return {
        ...next,
        overlay: { kind: "none" },
        selected: name,
        filter: hidden ? "" : next.filter,
        flash: { kind: "info", text: `${name}: ${effect.mode === "add" ? "created" : "saved"}`, at: now },
      };
    }
    case "quit":
      return s;
  }
}

function effectFailed(s: State, effect: Effect, error: ApiFailure, now: number): State {
  if (effect.kind === "save" && s.overlay.kind === "form") {
    return { ...s, overlay: { kind: "form", form: withServerError(s.overlay.form, error) } };
  }
  let text = error.message;
  if (effect.kind === "kill" && error.code === "not_found") text = `kill: ${error.message} (the server may not support kill yet)`;
  return { ...s, flash: { kind: "error", text, at: now } };
}

function reduce(s: State, a: Action): Update {
  switch (a.type) {
    case "key":
      return handleKey(s, a.key);
    case "resize":
      return { state: { ...s, size: { columns: a.columns, rows: a.rows } }, effects: [] };
    case "tick": {
      const f = s.flash;
      const expired = f && a.now - f.at > (f.kind === "error" ? 2 * FLASH_MS : FLASH_MS);
      return { state: { ...s, now: a.now, ...(expired ? { flash: undefined } : {}) }, effects: [] };
    }
    case "snapshot":
      return { state: applySnapshot({ ...s, now: a.now }, a.snapshot), effects: [] };
    case "refreshFailed":
      return { state: { ...s, now: a.now, conn: { ...s.conn, httpError: a.message } }, effects: [] };
    case "events":
      return { state: applyEvents(s, a.events), effects: [] };
    case "link": {
      const { state, error, retryInMs } = a.status;
      const conn = { ...s.conn, link: state, socketError: state === "open" ? undefined : error ?? s.conn.socketError,
        retryAt: retryInMs === undefined ? undefined : a.now + retryInMs };
      return { state: { ...s, conn }, effects: [] };
    }
    case "jobs":
      return { state: applyJobs(s, a.jobs), effects: [] };
    case "executions":
      return { state: applyExecutionList(s, a.job, a.items), effects: [] };
    case "execution":
      return { state: applyExecution(s, a.execution), effects: [] };
    case "output":
      return { state: applyOutput(s, a), effects: [] };
    case "outputSource": {
      const v = s.execView;
      if (!v || v.job !== a.job || v.id !== a.id) return { state: s, effects: [] };
      return { state: { ...s, execView: { ...v, source: a.source } }, effects: [] };
    }
    case "effectDone":
      return { state: effectDone(s, a.effect, a.now, a), effects: [] };
    case "effectFailed":
      return { state: effectFailed(s, a.effect, a.error, a.now), effects: [] };
  }
}

export function update(s: State, a: Action): Update {
  const r = reduce(s, a);
  return { state: normalize(r.state), effects: r.effects };
}

/** The cursor row of the jobs table (for components). */
export const cursorRow = (s: State): number => selectedIndex(s);
