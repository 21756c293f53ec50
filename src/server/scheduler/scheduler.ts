// The leader's scheduler: one timer queue for all jobs, and the launch
// protocol of DESIGN.md (Scheduling): claim the instant in KV `dkron-ticks`
// at the revision this leader last saw, dispatch, mark dispatched. A failed
// claim whose key carries a newer epoch means this leader is stale: it stops
// and dispatches nothing. Instants left `claimed` by a dead leader are
// re-dispatched; the runners' dedupe gate refuses launches that happened.
import type { JobSpec } from "../../shared/job.js";
import type { ExecutionRecord } from "../../shared/execution.js";
import type { Logger } from "../logger.js";
import type { JobCatalog } from "../jobs/catalog.js";
import { nextRun, runnableAt } from "../jobs/next.js";
import type { KvMirror, MirrorEvent } from "../store/kv-mirror.js";
import { decodeJson, encodeJson, isWrongLastSequence } from "../store/codec.js";
import { TimerQueue } from "./timer-queue.js";
import { missedInstants } from "./catchup.js";
import { loadBucket } from "./load-bucket.js";
import type { JobKv } from "../store/job-kv.js";
import type { Selection } from "./targets.js";

export interface TickClaim {
  instant: number;
  epoch: number;
  state: "claimed" | "dispatched" | "skipped";
  trigger: ExecutionRecord["trigger"];
  /** The nodes chosen for this instant: a re-dispatch goes to the same ones. */
  targets?: string[];
  /** Why no node was chosen, when none was. */
  reason?: string;
}

export interface SchedulerDeps {
  catalog: JobCatalog;
  ticks: JobKv;
  /**
   * Every server keeps the claims mirrored, so a new leader starts from memory
   * instead of creating a consumer — which fails for seconds while the
   * JetStream meta leader is being replaced (it may have died with the old leader).
   */
  ticksMirror?: KvMirror<TickClaim>;
  /** True while the lease is certainly ours. */
  holdsLease(): boolean;
  /** Choose the nodes for a launch of the job (before it is claimed). */
  selectTargets(spec: JobSpec): Selection;
  /** Launch one execution group of a job on the given nodes. */
  dispatch(spec: JobSpec, groupMs: number, trigger: ExecutionRecord["trigger"], targets: Selection): Promise<void>;
  /** Whether an execution of the job is running anywhere (for concurrency: forbid). */
  isRunning(job: string): boolean;
  /** concurrency "replace": stop the job's running executions before launching. */
  killRunning?(job: string): Promise<void>;
  /** This leader found a newer epoch on a claim: it must step down. */
  onStale(reason: string): void;
  log: Logger;
  now?: () => number;
  /** Fire this long before each instant: claim, dispatch and the runner's dedupe
   * gate happen ahead, and the runner starts the command at the instant itself. */
  leadMs?: number;
}

interface TickState {
  claim: TickClaim | null;
  revision: number;
}

export class Scheduler {
  private readonly queue: TimerQueue;
  private readonly ticks = new Map<string, TickState>();
  private readonly chains = new Map<string, Promise<void>>();
  private epoch = 0;
  private generation = 0;
  private active = false;
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => number;
  private readonly lead: number;
  /** Counters for observability and tests. */
  readonly stats = { fired: 0, skipped: 0, stale: 0, redispatched: 0, caughtUp: 0 };

  constructor(private readonly d: SchedulerDeps) {
    this.now = d.now ?? Date.now;
    this.lead = d.leadMs ?? 0;
    this.queue = new TimerQueue((key, at) => this.onDue(key, at), undefined, (err, key) =>
      d.log.error({ err, job: key }, "scheduling callback failed"));
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Next queued instant of a job (for tests and the API). */
  queued(job: string): number | undefined {
    const at = this.queue.get(job);
    return at === undefined ? undefined : at + this.lead;
  }

  /** establishLeadership's scheduling part: load claims, re-dispatch, catch up, arm. */
  async start(epoch: number): Promise<void> {
    const gen = ++this.generation;
    this.epoch = epoch;
    this.active = true;
    this.ticks.clear();
    if (this.d.ticksMirror) {
      await this.d.ticksMirror.ready();
      for (const [key, v] of this.d.ticksMirror.entries()) this.ticks.set(key, { claim: v.value, revision: v.revision });
    } else {
      const entries = await loadBucket(this.d.ticks);
      for (const [key, e] of entries) {
        this.ticks.set(key, { claim: e.value ? decodeJson<TickClaim>(e.value) : null, revision: e.revision });
      }
    }
    if (gen !== this.generation) return;
    this.unsubscribe = this.d.catalog.jobs.on((ev) => this.onJobEvent(ev));
    const now = this.now();
    for (const { value: spec } of this.d.catalog.jobs.values()) this.establishJob(spec, now);
    this.queue.start();
    this.d.log.info({ epoch, jobs: this.d.catalog.jobs.size, queued: this.queue.size }, "scheduler started");
  }

  /** revokeLeadership's scheduling part. Running executions are left alone. */
  stop(): void {
    this.generation++;
    this.active = false;
    this.queue.stop();
    this.queue.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private establishJob(spec: JobSpec, now: number): void {
    const schedule = this.d.catalog.schedule(spec);
    const t = this.ticks.get(spec.name);
    const claim = t?.claim;
    if (claim?.state === "claimed") {
      this.stats.redispatched++;
      this.enqueue(spec.name, () => this.redispatch(spec.name, claim));
    }
    if (schedule && claim && !spec.parent_job) {
      for (const instant of missedInstants(spec, schedule, claim.instant, now)) {
        this.stats.caughtUp++;
        this.enqueue(spec.name, () => this.fire(spec.name, instant, "catchup"));
      }
    }
    this.arm(spec, Math.max(now, claim?.instant ?? 0));
  }

  private arm(spec: JobSpec, afterMs: number): void {
    // Children run when their parent succeeds, not on their own schedule (Dkron).
    const next = spec.parent_job ? null : nextRun(spec, this.d.catalog.schedule(spec), afterMs);
    if (next === null) this.queue.delete(spec.name);
    else this.queue.set(spec.name, next - this.lead);
  }

  private onJobEvent(ev: MirrorEvent<JobSpec>): void {
    if (!this.active) return;
    if (ev.op === "delete") {
      this.queue.delete(ev.key);
      this.ticks.delete(ev.key);
      return;
    }
    const prev = ev.previous;
    if (prev && prev.schedule === ev.value.schedule && prev.timezone === ev.value.timezone &&
        prev.disabled === ev.value.disabled && prev.starts_at === ev.value.starts_at &&
        prev.expires_at === ev.value.expires_at && prev.parent_job === ev.value.parent_job && this.queue.has(ev.key)) {
      return;
    }
    this.arm(ev.value, Math.max(this.now(), this.ticks.get(ev.key)?.claim?.instant ?? 0));
  }

  private onDue(name: string, at: number): void {
    const spec = this.d.catalog.spec(name);
    if (!spec || !this.active) return;
    const instant = at + this.lead;
    this.arm(spec, instant); // the next tick must not wait for this one's claim
    this.enqueue(name, () => this.fire(name, instant, "schedule"));
  }

  /** Per-job chain: claims of one job are ordered (each CAS builds on the last). */
  private enqueue(name: string, fn: () => Promise<void>): void {
    const gen = this.generation;
    const prev = this.chains.get(name) ?? Promise.resolve();
    const next = prev
      .then(() => (gen === this.generation ? fn() : undefined))
      .catch((err) => this.d.log.error({ err, job: name }, "firing failed"));
    this.chains.set(name, next);
    void next.finally(() => {
      if (this.chains.get(name) === next) this.chains.delete(name);
    });
  }

  private async fire(name: string, instant: number, trigger: TickClaim["trigger"]): Promise<void> {
    const spec = this.d.catalog.spec(name);
    if (!spec || !this.active || !runnableAt(spec, instant)) return;
    if (!(await this.leaseConfirmed())) {
      this.d.log.warn({ job: name, instant }, "lease not confirmed; not launching (the next leader catches up)");
      return;
    }
    if (spec.concurrency === "replace" && this.d.isRunning(name)) {
      this.d.log.info({ job: name, instant }, "replacing the running execution (concurrency replace)");
      await this.d.killRunning?.(name).catch((err) => this.d.log.warn({ err, job: name }, "could not kill the running execution"));
    }
    if (spec.concurrency === "forbid" && this.d.isRunning(name)) {
      this.stats.skipped++;
      this.d.log.info({ job: name, instant }, "skipping tick: an execution is still running (concurrency forbid)");
      await this.claim(name, instant, "skipped", trigger);
      return;
    }
    const targets = this.d.selectTargets(spec);
    if (!(await this.claim(name, instant, "claimed", trigger, targets))) {
      this.d.log.debug({ job: name, instant }, "not claimed");
      return;
    }
    await this.d.dispatch(spec, instant, trigger, targets);
    this.d.log.debug({ job: name, instant, trigger, targets: targets.nodes }, "dispatched");
    this.stats.fired++;
    await this.markDispatched(name);
  }

  /**
   * The lease may be unconfirmed for a moment (a renew in flight while the
   * store stalls): wait for it rather than drop the tick, while still leader.
   */
  private async leaseConfirmed(maxWaitMs = 15_000): Promise<boolean> {
    const gen = this.generation;
    const deadline = this.now() + maxWaitMs;
    while (!this.d.holdsLease()) {
      if (gen !== this.generation || !this.active || this.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return gen === this.generation && this.active;
  }

  private async redispatch(name: string, claim: TickClaim): Promise<void> {
    const spec = this.d.catalog.spec(name);
    if (!spec || !this.active) return;
    this.d.log.info({ job: name, instant: claim.instant }, "re-dispatching an instant claimed by a previous leader");
    await this.d.dispatch(spec, claim.instant, claim.trigger,
      claim.targets ? { nodes: claim.targets, ...(claim.reason ? { reason: claim.reason } : {}) } : this.d.selectTargets(spec));
    await this.markDispatched(name);
  }

  /** Claims `instant` for this epoch; false if it must not be launched by us. */
  private async claim(name: string, instant: number, state: TickClaim["state"], trigger: TickClaim["trigger"],
    targets?: Selection): Promise<boolean> {
    const value: TickClaim = {
      instant, epoch: this.epoch, state, trigger,
      ...(targets ? { targets: targets.nodes, ...(targets.reason ? { reason: targets.reason } : {}) } : {}),
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = this.ticks.get(name);
      if (cur?.claim && cur.claim.epoch > this.epoch) {
        // A newer leader has claimed this job: whatever revision we hold now, we must not write.
        this.stats.stale++;
        this.d.onStale(`claim of ${name} carries newer epoch ${cur.claim.epoch}`);
        return false;
      }
      if (cur?.claim && cur.claim.instant >= instant) {
        // Our own earlier attempt may have landed although its answer was lost.
        const ours = attempt > 0 && cur.claim.epoch === this.epoch && cur.claim.instant === instant && cur.claim.state === state;
        return ours && state === "claimed";
      }
      try {
        const data = encodeJson(value);
        const rev = cur && cur.revision > 0 ? await this.d.ticks.update(name, data, cur.revision) : await this.d.ticks.create(name, data);
        this.ticks.set(name, { claim: value, revision: rev });
        return state === "claimed";
      } catch (err) {
        if (!isWrongLastSequence(err)) {
          // A timeout (the store restarting or failing over): the write may or
          // may not have happened. Re-read, and retry while still leader.
          if (!this.active || attempt >= 4) throw err;
          this.d.log.warn({ job: name, err: (err as Error).message, attempt }, "claim failed; retrying");
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        }
        const claim = await this.refresh(name);
        if (claim && claim.epoch > this.epoch) {
          this.stats.stale++;
          this.d.log.error({ job: name, mine: this.epoch, theirs: claim.epoch }, "a newer leader claimed this job: stepping down");
          this.d.onStale(`claim of ${name} carries newer epoch ${claim.epoch}`);
          return false;
        }
      }
    }
    return false;
  }

  private async refresh(name: string): Promise<TickClaim | null> {
    const e = await this.d.ticks.get(name);
    const claim = e?.operation === "PUT" ? decodeJson<TickClaim>(e.value) : null;
    this.ticks.set(name, { claim, revision: e?.revision ?? 0 });
    return claim;
  }

  private async markDispatched(name: string): Promise<void> {
    const cur = this.ticks.get(name);
    if (!cur?.claim || cur.claim.state !== "claimed" || cur.claim.epoch > this.epoch) return;
    const value: TickClaim = { ...cur.claim, state: "dispatched", epoch: this.epoch };
    try {
      const rev = await this.d.ticks.update(name, encodeJson(value), cur.revision);
      if (this.ticks.get(name) === cur) this.ticks.set(name, { claim: value, revision: rev });
    } catch (err) {
      // Left "claimed": a later leader re-dispatches, and the runners' dedupe refuses a repeat.
      this.d.log.warn({ err: (err as Error).message, job: name }, "could not mark the claim dispatched");
      await this.refresh(name).catch(() => undefined);
    }
  }
}
