// What a key press does, by mode (see keybindings.ts for the table). Pure.
import { resolveKey, type Command, type KeyPress, type Mode } from "../keybindings.js";
import type { Effect } from "./actions.js";
import { buildBody, editForm, focusedField, formCycle, formErase, formMove, formType, newForm } from "./form.js";
import { layout, listRows } from "./layout.js";
import { outputLines } from "./output.js";
import { childrenOf, executionsOf, isRunning, selectedIndex, selectedJob, SORT_DESC_FIRST, SORT_KEYS, visibleJobs } from "./select.js";
import type { State } from "./types.js";

interface Update {
  state: State;
  effects: Effect[];
}

export function modeOf(s: State): Mode {
  switch (s.overlay.kind) {
    case "help":
      return "help";
    case "confirmDelete":
      return "confirm";
    case "form":
      return "form";
    case "none":
      break;
  }
  if (s.filterDraft !== undefined) return "filter";
  if (s.view === "execution") return "execution";
  if (s.view === "members") return "members";
  return s.pane === "detail" ? "detail" : "table";
}

const none = (state: State): Update => ({ state, effects: [] });
const flash = (s: State, text: string, kind: "info" | "error" = "error"): Update =>
  none({ ...s, flash: { kind, text, at: s.now } });

/** Moves a cursor by `delta`, or to an end for ±Infinity. */
const moved = (cursor: number, delta: number, count: number): number =>
  count === 0 ? 0 : Math.max(0, Math.min(count - 1, delta === Infinity ? count - 1 : delta === -Infinity ? 0 : cursor + delta));

function moveDelta(command: Command, page: number): number | undefined {
  switch (command) {
    case "up": return -1;
    case "down": return 1;
    case "pageUp": return -Math.max(1, page - 1);
    case "pageDown": return Math.max(1, page - 1);
    case "top": return -Infinity;
    case "bottom": return Infinity;
    default: return undefined;
  }
}

/** Selects a job by name, clearing a filter that hides it. */
function selectJob(s: State, name: string): State {
  const next = { ...s, selected: name, execCursor: 0 };
  if (visibleJobs(next).some((j) => j.name === name)) return next;
  return { ...next, filter: "", flash: { kind: "info", text: `filter cleared to show ${name}`, at: s.now } };
}

function move(s: State, mode: Mode, delta: number): State {
  if (mode === "table") {
    const list = visibleJobs(s);
    const i = moved(selectedIndex(s, list), delta, list.length);
    return list[i] ? { ...s, selected: list[i]!.name, cursor: i, execCursor: 0 } : s;
  }
  if (mode === "detail") {
    return { ...s, execCursor: moved(s.execCursor, delta, s.selected ? executionsOf(s, s.selected).length : 0) };
  }
  if (mode === "members") return { ...s, memberCursor: moved(s.memberCursor, delta, s.members.length) };
  const v = s.execView;
  if (!v) return s;
  const height = listRows(s.size);
  const count = outputLines(v.output, s.size.columns).length;
  const last = Math.max(0, count - height);
  const from = v.follow ? last : v.scroll;
  const scroll = Math.max(0, Math.min(last, delta === Infinity ? last : delta === -Infinity ? 0 : from + delta));
  return { ...s, execView: { ...v, scroll, follow: scroll >= last && delta > 0 } };
}

/** The running execution `x` means: the open one, the one under the cursor, or the job's newest running one. */
function killTarget(s: State, mode: Mode): { job: string; id: string } | undefined {
  if (mode === "execution" && s.execView) {
    const e = s.execView.execution;
    return !e || isRunning(e) ? { job: s.execView.job, id: s.execView.id } : undefined;
  }
  const job = s.selected;
  if (!job) return undefined;
  if (mode === "detail") {
    const e = executionsOf(s, job)[s.execCursor];
    return e && isRunning(e) ? { job, id: e.id } : undefined;
  }
  const running = executionsOf(s, job).find(isRunning)?.id ?? s.running[job]?.[s.running[job]!.length - 1];
  return running ? { job, id: running } : undefined;
}

function jobCommand(s: State, command: Command, mode: Mode): Update | undefined {
  const job = selectedJob(s);
  const needJob = (f: (name: string) => Update): Update => (job ? f(job.name) : flash(s, "no job selected"));
  switch (command) {
    case "run":
      return needJob((name) => ({
        state: { ...s, flash: { kind: "info", text: `${name}: starting…`, at: s.now } },
        effects: [{ kind: "run", job: name }],
      }));
    case "toggle":
      return needJob((name) => ({ state: s, effects: [{ kind: "toggle", job: name }] }));
    case "delete":
      return needJob((name) => none({ ...s, overlay: { kind: "confirmDelete", job: name } }));
    case "kill": {
      const t = killTarget(s, mode);
      return t ? { state: s, effects: [{ kind: "kill", ...t }] } : flash(s, "nothing running to kill");
    }
    case "add":
      return none({ ...s, overlay: { kind: "form", form: newForm() } });
    case "edit":
      return job ? none({ ...s, overlay: { kind: "form", form: editForm(job) } }) : flash(s, "no job selected");
    case "parent":
      if (!job?.parent_job) return flash(s, job ? `${job.name} has no parent job` : "no job selected", "info");
      if (!s.jobs.has(job.parent_job)) return flash(s, `parent ${job.parent_job} does not exist`);
      return none(selectJob(s, job.parent_job));
    case "children": {
      if (!job) return flash(s, "no job selected");
      const kids = childrenOf(s.jobs, job.name);
      const jump = s.childJump;
      if (kids.length === 0 && jump && jump.child === job.name) {
        // On a leaf reached with `c`: go on to its next sibling.
        const sibs = childrenOf(s.jobs, jump.parent);
        const next = sibs[(sibs.indexOf(job.name) + 1) % sibs.length];
        if (next && next !== job.name) return none({ ...selectJob(s, next), childJump: { parent: jump.parent, child: next } });
      }
      if (kids.length === 0) return flash(s, `${job.name} has no child jobs`, "info");
      const state = { ...selectJob(s, kids[0]!), childJump: { parent: job.name, child: kids[0]! } };
      if (kids.length === 1) return none(state);
      const text = `child 1 of ${kids.length}: ${kids.join(", ")} (c again: next)`;
      return none({ ...state, flash: { kind: "info", text, at: s.now } });
    }
    default:
      return undefined;
  }
}

function openExecution(s: State): State {
  const job = s.selected;
  const e = job ? executionsOf(s, job)[s.execCursor] : undefined;
  if (!job || !e) return { ...s, flash: { kind: "info", text: "no execution selected", at: s.now } };
  return { ...s, view: "execution", execView: { job, id: e.id, execution: e, output: e.output, follow: true, scroll: 0, source: "loading" } };
}

function formKey(s: State, command: Command | undefined, text: string | undefined, key: KeyPress): Update {
  if (s.overlay.kind !== "form") return none(s);
  const form = s.overlay.form;
  const set = (f: typeof form): Update => none({ ...s, overlay: { kind: "form", form: f } });
  if (form.saving) return command === "cancel" ? none({ ...s, overlay: { kind: "none" } }) : none(s);
  if (text !== undefined) return set(formType(form, text));
  switch (command) {
    case "erase": return set(formErase(form));
    case "nextField": return set(formMove(form, 1));
    case "prevField": return set(formMove(form, -1));
    case "cycle":
      return set(key.text === " " && focusedField(form).kind === "text" ? formType(form, " ") : formCycle(form));
    case "cancel": return none({ ...s, overlay: { kind: "none" } });
    case "submit": {
      const built = buildBody(form);
      if ("errors" in built) return set({ ...form, errors: { ...form.errors, ...built.errors } });
      return {
        state: { ...s, overlay: { kind: "form", form: { ...form, saving: true, formError: undefined } } },
        effects: [{ kind: "save", body: built.body, mode: form.mode }],
      };
    }
    default: return none(s);
  }
}

export function handleKey(s: State, key: KeyPress): Update {
  const mode = modeOf(s);
  const r = resolveKey(mode, key);
  if (!r) return none(s);
  const command = "command" in r ? r.command : undefined;
  const text = "text" in r ? r.text : undefined;
  if (command === "quit") return { state: { ...s, quit: true }, effects: [{ kind: "quit" }] };
  if (mode === "form") return formKey(s, command, text, key);
  if (mode === "filter") {
    if (text !== undefined) return none({ ...s, filterDraft: s.filterDraft + text, filter: s.filterDraft + text });
    if (command === "erase") {
      const draft = [...(s.filterDraft ?? "")].slice(0, -1).join("");
      return none({ ...s, filterDraft: draft, filter: draft });
    }
    if (command === "apply") return none({ ...s, filterDraft: undefined, filter: (s.filterDraft ?? "").trim() });
    return none({ ...s, filterDraft: undefined, filter: "" });
  }
  if (mode === "confirm" && s.overlay.kind === "confirmDelete") {
    const job = s.overlay.job;
    const closed = { ...s, overlay: { kind: "none" } as const };
    return command === "confirm" ? { state: closed, effects: [{ kind: "delete", job }] } : none(closed);
  }
  if (!command) return none(s);
  const page = mode === "table" ? layout(s.size, s.pane).table.rows : mode === "detail" ? layout(s.size, s.pane).detail.lines : listRows(s.size);
  const delta = moveDelta(command, page);
  if (delta !== undefined) return none(move(s, mode, delta));
  const jobResult = jobCommand(s, command, mode);
  if (jobResult) return jobResult;
  switch (command) {
    case "open":
      return none(mode === "table" ? { ...s, pane: "detail" } : openExecution(s));
    case "switchPane":
      return none({ ...s, pane: s.pane === "table" ? "detail" : "table" });
    case "back":
      if (mode === "help") return none({ ...s, overlay: { kind: "none" } });
      if (mode === "execution") return none({ ...s, view: "jobs", pane: "detail", execView: undefined });
      return none({ ...s, view: "jobs", pane: "table" });
    case "filter":
      return none({ ...s, filterDraft: s.filter });
    case "sort": {
      const key = SORT_KEYS[(SORT_KEYS.indexOf(s.sort.key) + 1) % SORT_KEYS.length]!;
      return none({ ...s, sort: { key, desc: SORT_DESC_FIRST[key] } });
    }
    case "reverseSort":
      return none({ ...s, sort: { ...s.sort, desc: !s.sort.desc } });
    case "follow":
      return none(s.execView ? { ...s, execView: { ...s.execView, follow: true } } : s);
    case "jobsView":
      return none({ ...s, view: "jobs", execView: undefined });
    case "membersView":
      return none({ ...s, view: "members", execView: undefined });
    case "help":
      return none({ ...s, overlay: { kind: "help" } });
    default:
      return none(s);
  }
}
