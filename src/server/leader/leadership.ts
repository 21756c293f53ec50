// The leader's lifecycle (Dkron's leader.go: monitor → establish / revoke).
// establish(): fold finished executions into job status and act on them
// (retries, dependent jobs, ephemeral jobs, notifications), serve run-now,
// start the scheduler, reconcile executions of dead nodes, and move the
// store's stream leaders off this node. revoke(): stop all of it; executions
// keep running on the workers.
import type { JetStreamManager, NatsConnection, Subscription } from "nats";
import { DkronError, isDkronError } from "../../shared/errors.js";
import type { ExecutionRecord } from "../../shared/execution.js";
import type { JobSpec } from "../../shared/job.js";
import type { Logger } from "../logger.js";
import type { MemberTable } from "../cluster/members.js";
import type { JobCatalog } from "../jobs/catalog.js";
import { runnableAt } from "../jobs/next.js";
import type { ReadModelDb } from "../readmodel/db.js";
import type { RunNowReply, RunNowRequest } from "../runner/protocol.js";
import type { Dispatcher } from "../scheduler/dispatch.js";
import { Outcomes } from "../scheduler/outcomes.js";
import { findLost } from "../scheduler/reconcile.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { StatusWriter } from "../scheduler/status-writer.js";
import { decodeJson, encodeJson } from "../store/codec.js";
import { SUBJECT } from "../store/names.js";
import { stepDownStoreLeaders } from "./stepdown.js";

/** Failed attempts older than this are not retried by a new leader. */
const RESUME_RETRIES_WITHIN_MS = 10 * 60_000;

export interface LeadershipDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  node: string;
  /** Move stream leaders off this node (embedded, replicated store). */
  stepDownStore: boolean;
  catalog: JobCatalog;
  readModel: ReadModelDb;
  members: MemberTable;
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  statusWriter: StatusWriter;
  holdsLease(): boolean;
  isRunning(job: string): boolean;
  deleteJob(name: string): Promise<void>;
  notify?(spec: JobSpec, r: ExecutionRecord, group: ExecutionRecord[]): Promise<void>;
  failAfterMs: number;
  /** The job's last claimed scheduled instant, if known. */
  lastScheduled?(job: string): number | undefined;
  log: Logger;
}

export class Leadership {
  readonly outcomes: Outcomes;
  private subs: Subscription[] = [];
  /** Last manual group per job: two runs in one millisecond must not share a group (and its dedupe). */
  private readonly lastManual = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly d: LeadershipDeps) {
    this.outcomes = new Outcomes({
      spec: (name) => d.catalog.spec(name),
      children: (name) => d.catalog.childrenOf(name),
      select: (spec) => d.dispatcher.select(spec),
      alive: (node) => d.members.isAlive(node),
      dispatch: (spec, group, trigger, attempt, sel) => d.dispatcher.dispatch(spec, group, trigger, attempt, undefined, sel),
      isRunning: d.isRunning,
      runnable: runnableAt,
      notify: d.notify,
      deleteJob: d.deleteJob,
      log: d.log.child({ component: "outcomes" }),
    });
    d.statusWriter.onFinished((r) => {
      d.dispatcher.finished(r);
      this.outcomes.onFinished(r);
    });
  }

  async establish(epoch: number): Promise<void> {
    const d = this.d;
    this.outcomes.start();
    d.statusWriter.start();
    this.subs.push(d.nc.subscribe(SUBJECT.leaderRun, { callback: (err, msg) => {
      if (err) return;
      void (async () => {
        let reply: RunNowReply;
        try {
          reply = { ok: true, group_ms: await this.runNow(decodeJson<RunNowRequest>(msg.data).job) };
        } catch (e) {
          reply = { ok: false, error: { code: isDkronError(e) ? e.code : "internal", message: (e as Error).message } };
        }
        msg.respond(encodeJson(reply));
      })();
    } }));
    await d.scheduler.start(epoch);
    this.resumeRetries();
    this.every(2_000, () => this.reconcile());
    void this.reconcile();
    if (d.stepDownStore) {
      const stepDown = () => stepDownStoreLeaders(d.nc, d.jsm, d.node, d.log);
      void stepDown().catch(() => undefined);
      // Leadership of a stream can drift back (restarts, elections): check again now and then.
      this.every(30_000, stepDown);
    }
  }

  revoke(): void {
    this.d.scheduler.stop();
    this.d.statusWriter.stop();
    this.outcomes.stop();
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    const t = setInterval(() => void fn().catch((err) => this.d.log.debug({ err }, "periodic leader task failed")), ms);
    t.unref();
    this.timers.push(t);
  }

  /** Runs a job now (API run, ?runoncreate): a new group at this instant. */
  async runNow(job: string): Promise<number> {
    const spec = this.d.catalog.spec(job);
    if (!spec) throw new DkronError("not_found", `job ${JSON.stringify(job)} not found`);
    let group = Math.max(Date.now(), (this.lastManual.get(job) ?? 0) + 1);
    if (group === this.d.lastScheduled?.(job)) group += 1;
    this.lastManual.set(job, group);
    if (this.lastManual.size > 100_000) this.lastManual.clear();
    const nodes = await this.d.dispatcher.dispatch(spec, group, "manual");
    this.outcomes.launched(job, group, nodes);
    return group;
  }

  /**
   * Retries wait in the leader's memory: a failed attempt whose retry an earlier
   * leader had not launched yet (it died during the backoff) is retried again
   * here. A retry that did happen is refused by the runners' dedupe.
   */
  private resumeRetries(now = Date.now()): void {
    let resumed = 0;
    for (const { value: spec } of this.d.catalog.jobs.values()) {
      if (spec.retries <= 0) continue;
      const recent = this.d.readModel.query({ job: spec.name, incarnation: spec.incarnation, sort: "started_at", order: "DESC", start: 0, end: 50 }).items;
      for (const r of recent) {
        if (r.finished_at === null || r.success || r.attempt >= spec.retries + 1) continue;
        if (now - r.finished_at > RESUME_RETRIES_WITHIN_MS) continue;
        const followed = recent.some((x) => x.group_ms === r.group_ms && x.attempt > r.attempt);
        if (followed) continue;
        this.outcomes.onFinished(r);
        resumed++;
      }
    }
    if (resumed) this.d.log.info({ resumed }, "resumed retries a previous leader had pending");
  }

  /** Marks executions whose node died or restarted as failed, so nothing stays "running" forever. */
  private async reconcile(): Promise<void> {
    const d = this.d;
    if (!d.holdsLease()) return;
    const lost = findLost(d.readModel.running(), (name) => {
      const state = d.members.get(name);
      return state && { state, alive: d.members.isAlive(name) };
    }, Date.now(), d.failAfterMs);
    for (const l of lost) {
      d.log.warn({ job: l.record.job_name, id: l.record.id, reason: l.reason }, "marking lost execution failed");
      await d.dispatcher.recordLost(l.record, l.reason).catch((err) => d.log.warn({ err }, "could not mark lost execution"));
    }
  }
}
