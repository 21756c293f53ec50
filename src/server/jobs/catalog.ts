// Jobs as the API sees them: definitions (KV dkron-jobs) + status (KV
// dkron-job-status) + computed `next` and `dependent_jobs`, with the writes
// the API makes (compare-and-set on the key's revision).
import { DkronError, invalid, notFound } from "../../shared/errors.js";
import { emptyStatus, toJobJson, type Job, type JobSpec, type JobStatus } from "../../shared/job.js";
import { parseSchedule, type Schedule } from "../../shared/cron/index.js";
import { encodeJson, isWrongLastSequence } from "../store/codec.js";
import type { KvMirror } from "../store/kv-mirror.js";
import { nextRun } from "./next.js";

/** A Job JSON built from these exact (immutable) inputs, reused until one changes. */
interface JsonCacheEntry {
  spec: JobSpec;
  status: JobStatus | undefined;
  next: number | null;
  kids: string;
  job: Job;
}

interface ScheduleCacheEntry {
  spec: string;
  tz: string;
  schedule: Schedule | null;
  next: number | null;
  computedAt: number;
}

export class JobCatalog {
  private readonly schedules = new Map<string, ScheduleCacheEntry>();
  private readonly json = new Map<string, JsonCacheEntry>();
  /** parent → children, derived from parent_job, so dependent_jobs is always consistent. */
  private readonly children = new Map<string, Set<string>>();

  constructor(
    readonly jobs: KvMirror<JobSpec>,
    readonly statuses: KvMirror<JobStatus>,
    private readonly now: () => number = Date.now,
  ) {
    for (const [name, v] of jobs.entries()) this.link(name, v.value.parent_job);
    jobs.on((ev) => {
      const prevParent = ev.previous?.parent_job;
      if (prevParent) this.children.get(prevParent)?.delete(ev.key);
      if (ev.op === "put") this.link(ev.key, ev.value.parent_job);
      else {
        this.schedules.delete(ev.key);
        this.json.delete(ev.key);
      }
    });
  }

  private link(child: string, parent: string): void {
    if (!parent) return;
    let set = this.children.get(parent);
    if (!set) this.children.set(parent, (set = new Set()));
    set.add(child);
  }

  spec(name: string): JobSpec | undefined {
    return this.jobs.get(name)?.value;
  }

  childrenOf(name: string): string[] {
    return [...(this.children.get(name) ?? [])].filter((c) => this.jobs.get(c)?.value.parent_job === name).sort();
  }

  schedule(spec: JobSpec): Schedule | null {
    return this.cacheEntry(spec).schedule;
  }

  private cacheEntry(spec: JobSpec): ScheduleCacheEntry {
    let e = this.schedules.get(spec.name);
    if (!e || e.spec !== spec.schedule || e.tz !== spec.timezone) {
      let schedule: Schedule | null = null;
      try {
        schedule = spec.schedule ? parseSchedule(spec.schedule, { jobName: spec.name, timezone: spec.timezone }) : null;
      } catch {
        schedule = null; // validated on write; an unparsable stored schedule never fires
      }
      e = { spec: spec.schedule, tz: spec.timezone, schedule, next: null, computedAt: -1 };
      this.schedules.set(spec.name, e);
    }
    return e;
  }

  nextOf(spec: JobSpec): number | null {
    const e = this.cacheEntry(spec);
    const now = this.now();
    if (e.computedAt < 0 || (e.next !== null && e.next <= now) || e.computedAt > now) {
      e.next = e.schedule ? e.schedule.next(now) : null;
      e.computedAt = now;
    }
    // starts_at/expires_at/disabled change without the schedule changing: apply them on top.
    if (e.next === null || spec.disabled || (spec.starts_at !== null && e.next < spec.starts_at) ||
        (spec.expires_at !== null && e.next > spec.expires_at)) {
      return nextRun(spec, e.schedule, now);
    }
    return e.next;
  }

  /** The API's Job JSON; cached per job, so listing 10,000 jobs builds only what changed. */
  toJson(spec: JobSpec): Job {
    const status = this.statuses.get(spec.name)?.value;
    const next = this.nextOf(spec);
    const kidSet = this.children.get(spec.name);
    const kids = kidSet?.size ? this.childrenOf(spec.name).join(",") : "";
    const hit = this.json.get(spec.name);
    if (hit && hit.spec === spec && hit.status === status && hit.next === next && hit.kids === kids) return hit.job;
    const job = toJobJson(spec, status, next);
    job.dependent_jobs = kids ? kids.split(",") : null;
    this.json.set(spec.name, { spec, status, next, kids, job });
    return job;
  }

  get(name: string): Job {
    const spec = this.spec(name);
    if (!spec) throw notFound(`job ${JSON.stringify(name)}`);
    return this.toJson(spec);
  }

  all(): Job[] {
    const out: Job[] = [];
    for (const v of this.jobs.values()) out.push(this.toJson(v.value));
    return out;
  }

  /** Creates or replaces a job (Dkron's POST/PUT semantics). */
  async upsert(spec: JobSpec): Promise<Job> {
    if (spec.parent_job) {
      if (!this.jobs.has(spec.parent_job)) {
        throw new DkronError("not_found", `parent_job: specified parent job ${JSON.stringify(spec.parent_job)} not found`, "parent_job");
      }
      for (let p: string | undefined = spec.parent_job, depth = 0; p; p = this.spec(p)?.parent_job, depth++) {
        if (p === spec.name || depth > 1000) throw invalid("parent_job", "would create a dependency cycle");
      }
    }
    await this.write(spec.name, (cur) => ({
      ...spec,
      incarnation: cur?.incarnation || `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    }));
    return this.get(spec.name);
  }

  /** Read-modify-write with compare-and-set; retried when another writer got in first. */
  async write(name: string, change: (cur: JobSpec | undefined) => JobSpec): Promise<JobSpec> {
    for (let attempt = 0; ; attempt++) {
      const cur = this.jobs.get(name);
      const next = change(cur?.value);
      try {
        const data = encodeJson(next);
        const revision = cur ? await this.jobs.kv.update(name, data, cur.revision) : await this.jobs.kv.create(name, data);
        this.jobs.applyLocal(name, next, revision);
        return next;
      } catch (err) {
        if (!isWrongLastSequence(err) || attempt >= 5) throw err;
        // Our copy is behind: read the key itself and try again.
        const e = await this.jobs.kv.get(name);
        if (e && e.operation === "PUT") this.jobs.applyLocal(name, JSON.parse(new TextDecoder().decode(e.value)), e.revision);
        else if (e) this.jobs.applyLocal(name, undefined, e.revision);
      }
    }
  }

  async toggle(name: string): Promise<Job> {
    if (!this.jobs.has(name)) throw notFound(`job ${JSON.stringify(name)}`);
    await this.write(name, (cur) => {
      if (!cur) throw notFound(`job ${JSON.stringify(name)}`);
      return { ...cur, disabled: !cur.disabled };
    });
    return this.get(name);
  }

  /** Deletes the definition; the caller cleans up executions, claims and status. */
  async delete(name: string): Promise<Job> {
    const job = this.get(name);
    const kids = this.childrenOf(name);
    if (kids.length) {
      throw new DkronError("conflict", `job ${JSON.stringify(name)} has dependent jobs (${kids.join(", ")}); delete or re-parent them first`);
    }
    const cur = this.jobs.get(name)!;
    await this.jobs.kv.delete(name);
    this.jobs.applyLocal(name, undefined, cur.revision + 1);
    return job;
  }

  status(name: string): JobStatus {
    return this.statuses.get(name)?.value ?? emptyStatus();
  }
}
