// Merging what the server says (snapshots, events, lists) into the state. Pure.
import type { ClusterEvent } from "../../client/events.js";
import type { Execution } from "../../shared/execution.js";
import type { Job } from "../../shared/job.js";
import type { Member } from "../../shared/member.js";
import type { Snapshot } from "./actions.js";
import { appendOutput } from "./output.js";
import { isRunning } from "./select.js";
import type { State } from "./types.js";

/** Executions kept per job (the detail pane shows the newest). */
export const EXECUTIONS_KEPT = 50;

const newestFirst = (a: Execution, b: Execution) =>
  a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

export function upsertExecution(list: readonly Execution[], e: Execution): Execution[] {
  const i = list.findIndex((x) => x.id === e.id);
  const next = i >= 0 ? list.map((x, k) => (k === i ? { ...x, ...e } : x)) : [e, ...list];
  return next.sort(newestFirst).slice(0, EXECUTIONS_KEPT);
}

function setRunning(running: Record<string, readonly string[]>, e: Execution): void {
  const ids = running[e.job_name] ?? [];
  const has = ids.includes(e.id);
  if (isRunning(e) && !has) running[e.job_name] = [...ids, e.id];
  else if (!isRunning(e) && has) {
    const left = ids.filter((x) => x !== e.id);
    if (left.length) running[e.job_name] = left;
    else delete running[e.job_name];
  }
}

/** One execution record (event or poll) into executions, running and the open execution view. */
export function applyExecution(s: State, e: Execution): State {
  const running = { ...s.running };
  setRunning(running, e);
  const known = s.executions[e.job_name];
  const executions = known || e.job_name === s.selected ? { ...s.executions, [e.job_name]: upsertExecution(known ?? [], e) } : s.executions;
  let execView = s.execView;
  if (execView && execView.job === e.job_name && execView.id === e.id) {
    // A finished record carries the whole output; a running one, or a list's tail, may carry less than we have.
    const whole = e.output.length >= execView.output.length;
    const output = !isRunning(e) && whole ? e.output : execView.output;
    const truncated = whole ? e.output_truncated : execView.execution?.output_truncated;
    execView = { ...execView, execution: { ...execView.execution, ...e, output_truncated: truncated }, output };
  }
  return { ...s, running, executions, execView };
}

export function applySnapshot(s: State, snap: Snapshot): State {
  let next: State = { ...s, loaded: true, conn: { ...s.conn, httpError: undefined } };
  if (snap.jobs) next.jobs = new Map(snap.jobs.map((j) => [j.name, j]));
  if (snap.members) next.members = snap.members;
  if (snap.leader !== undefined) next.leader = snap.leader;
  if (snap.info) {
    next.node = snap.info.node;
    next.dc = snap.info.dc;
    next.paused = snap.info.paused;
  }
  if (snap.running) {
    const running: Record<string, string[]> = {};
    for (const e of snap.running) if (isRunning(e)) (running[e.job_name] ??= []).push(e.id);
    next.running = running;
    for (const e of snap.running) if (next.executions[e.job_name]) next = applyExecution(next, e);
  }
  return next;
}

function upsertMember(members: readonly Member[], m: Member): Member[] {
  const i = members.findIndex((x) => x.Name === m.Name);
  if (i < 0) return [...members, m].sort((a, b) => a.Name.localeCompare(b.Name));
  return members.map((x, k) => (k === i ? m : x));
}

export function applyEvents(s: State, events: readonly ClusterEvent[]): State {
  let jobs: Map<string, Job> | undefined;
  const jobsW = () => (jobs ??= new Map(s.jobs));
  let next = s;
  for (const ev of events) {
    switch (ev.type) {
      case "hello":
        next = { ...next, node: ev.node, leader: ev.leader || next.leader };
        break;
      case "leader":
        next = { ...next, leader: ev.leader };
        break;
      case "member":
        next = { ...next, members: upsertMember(next.members, ev.member) };
        break;
      case "job":
        if (ev.op === "put") jobsW().set(ev.job.name, ev.job);
        else {
          jobsW().delete(ev.name);
          const { [ev.name]: _e, ...executions } = next.executions;
          const { [ev.name]: _r, ...running } = next.running;
          next = { ...next, executions, running };
        }
        break;
      case "execution":
        next = applyExecution(next, ev.execution);
        break;
    }
  }
  return jobs ? { ...next, jobs } : next;
}

export function applyJobs(s: State, list: readonly Job[]): State {
  if (list.length === 0) return s;
  const jobs = new Map(s.jobs);
  for (const j of list) jobs.set(j.name, j);
  return { ...s, jobs };
}

/** A fresh list of one job's executions (newest first). */
export function applyExecutionList(s: State, job: string, items: readonly Execution[]): State {
  const running = { ...s.running };
  const ids = items.filter(isRunning).map((e) => e.id);
  // Runs that started after the list was read stay; those the list shows finished go.
  const finished = new Set(items.filter((e) => !isRunning(e)).map((e) => e.id));
  const merged = [...new Set([...(running[job] ?? []).filter((id) => !finished.has(id)), ...ids])];
  if (merged.length) running[job] = merged;
  else delete running[job];
  const list = [...items].sort(newestFirst).slice(0, EXECUTIONS_KEPT);
  let next: State = { ...s, running, executions: { ...s.executions, [job]: list } };
  const open = s.execView;
  const same = open && open.job === job ? items.find((e) => e.id === open.id) : undefined;
  if (same) next = applyExecution(next, same);
  return next;
}

export function applyOutput(s: State, a: { job: string; id: string; data: string; replace: boolean }): State {
  const v = s.execView;
  if (!v || v.job !== a.job || v.id !== a.id) return s;
  return { ...s, execView: { ...v, output: a.replace ? a.data : appendOutput(v.output, a.data) } };
}

export function removeJob(s: State, name: string): State {
  const jobs = new Map(s.jobs);
  jobs.delete(name);
  const { [name]: _e, ...executions } = s.executions;
  const { [name]: _r, ...running } = s.running;
  return { ...s, jobs, executions, running };
}
