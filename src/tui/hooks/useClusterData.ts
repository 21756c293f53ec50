// Keeps the state fed: a full refresh at start, the event socket while it is
// up, polling every 2 s while it is down, executions of the selected job, and
// the clock.
import { useEffect, useRef } from "react";
import type { ClusterEvent, EventStreamOptions, OutputStreamOptions, Subscription } from "../../client/events.js";
import { fetchSnapshot, type TuiApi } from "../api.js";
import type { Snapshot } from "../state/actions.js";
import { failureOf } from "../state/reducer.js";
import { isRunning } from "../state/select.js";
import type { Store } from "./useStore.js";

export interface Streams {
  events(opts: EventStreamOptions): Subscription;
  output(opts: OutputStreamOptions): Subscription;
}

export interface DataOptions {
  /** Refresh period while the event socket is down. */
  pollMs: number;
  /** Full refresh period while it is up (events can be missed). */
  resyncMs: number;
  now(): number;
  /** A first snapshot already on its way (started while the UI was loading). */
  first?: Promise<Snapshot>;
}

export const DEFAULT_DATA_OPTIONS: DataOptions = { pollMs: 2000, resyncMs: 30_000, now: Date.now };

/** Executions listed per job in the detail pane. */
export const EXECUTIONS_SHOWN = 30;
/** Past this many jobs changed at once, one list beats many single GETs. */
const MAX_SINGLE_GETS = 20;

export function useClusterData(api: TuiApi, store: Store, streams: Streams | null, opts: DataOptions = DEFAULT_DATA_OPTIONS): void {
  const { dispatch, ref } = store;
  const refreshRef = useRef<() => void>(() => {});

  useEffect(() => {
    const now = opts.now;
    let stopped = false;
    let inflight = false;
    let lastRefresh = 0;
    const timers = new Set<NodeJS.Timeout>();
    const later = (fn: () => void, ms: number) => {
      const t = setTimeout(() => (timers.delete(t), fn()), ms);
      timers.add(t);
      return t;
    };

    const loadSelected = async () => {
      const job = ref.current.selected;
      if (!job) return;
      const items = await api.executions(job, EXECUTIONS_SHOWN);
      if (!stopped) dispatch({ type: "executions", job, items });
    };

    let first = opts.first;
    const refresh = async () => {
      if (inflight || stopped) return;
      inflight = true;
      try {
        const pending = first ?? fetchSnapshot(api);
        first = undefined;
        const snapshot = await pending;
        if (stopped) return;
        lastRefresh = now();
        dispatch({ type: "snapshot", snapshot, now: now() });
        await loadSelected();
      } catch (err) {
        if (!stopped) dispatch({ type: "refreshFailed", message: failureOf(err).message, now: now() });
      } finally {
        inflight = false;
      }
    };
    refreshRef.current = () => void refresh();

    // Events arrive in bursts: hand them over in batches, and re-read the jobs whose runs finished.
    let queue: ClusterEvent[] = [];
    let flushing: NodeJS.Timeout | undefined;
    let staleTimer: NodeJS.Timeout | undefined;
    const stale = new Set<string>();
    const refreshStale = async () => {
      staleTimer = undefined;
      const names = [...stale];
      stale.clear();
      if (names.length > MAX_SINGLE_GETS) return refresh();
      const got = await Promise.allSettled(names.map((n) => api.getJob(n)));
      const jobs = got.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      if (!stopped && jobs.length) dispatch({ type: "jobs", jobs });
    };
    const flush = () => {
      flushing = undefined;
      const events = queue;
      queue = [];
      if (events.length) dispatch({ type: "events", events });
      if (stale.size) staleTimer ??= later(() => void refreshStale(), 1000);
    };
    const sub = streams?.events({
      address: api.address,
      ...(api.token ? { token: api.token } : {}),
      onEvent(ev) {
        queue.push(ev);
        // A finished run changes its job's counts; a job event after it says so already.
        if (ev.type === "execution" && !isRunning(ev.execution)) stale.add(ev.execution.job_name);
        else if (ev.type === "job" && ev.op === "put") stale.delete(ev.job.name);
        flushing ??= later(flush, 50);
      },
      onStatus(status) {
        dispatch({ type: "link", status, now: now() });
        // Whatever happened while the socket was down is read afresh.
        if (status.state === "open") void refresh();
      },
    });

    const poll = setInterval(() => {
      if (ref.current.conn.link !== "open" || now() - lastRefresh >= opts.resyncMs) return void refresh();
      // Pausing is not an event: the small info call keeps it current while live.
      api.info().then((info) => !stopped && dispatch({ type: "snapshot", snapshot: { info }, now: now() }), () => {});
    }, opts.pollMs);
    const tick = setInterval(() => dispatch({ type: "tick", now: now() }), 1000);
    void refresh();
    return () => {
      stopped = true;
      sub?.close();
      clearInterval(poll);
      clearInterval(tick);
      for (const t of timers) clearTimeout(t);
      clearTimeout(flushing);
      clearTimeout(staleTimer);
    };
  }, [api, streams, dispatch, ref, opts]);

  // The selected job's executions, once the cursor rests on it.
  const selected = store.state.selected;
  useEffect(() => {
    if (!selected) return;
    let stopped = false;
    const t = setTimeout(() => {
      api.executions(selected, EXECUTIONS_SHOWN).then(
        (items) => !stopped && dispatch({ type: "executions", job: selected, items }),
        () => {},
      );
    }, 120);
    return () => {
      stopped = true;
      clearTimeout(t);
    };
  }, [api, selected, dispatch]);

  // A command asked for fresh data (after run, kill): now, and again once the run had time to start.
  const seq = store.state.refreshSeq;
  useEffect(() => {
    if (seq === 0) return;
    refreshRef.current();
    const t = setTimeout(() => refreshRef.current(), 1000);
    return () => clearTimeout(t);
  }, [seq]);
}
